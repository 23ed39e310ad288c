package peers

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/stretchr/testify/require"
)

// A real child process (Python's http.server) is started, answers, is stopped (and then
// refuses connections), and comes back on the same port after Restart.
func TestStartStopRestart(t *testing.T) {
	port := FreePort(t)
	url := fmt.Sprintf("http://127.0.0.1:%d/", port)
	p := Start(t, Spec{
		Name:         "python http.server",
		Command:      "python3",
		Args:         []string{"-m", "http.server", "--bind", "127.0.0.1", fmt.Sprint(port)},
		Ready:        HTTPReady(url, func(s int) bool { return s == http.StatusOK }),
		StartTimeout: 30 * time.Second,
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, HTTPReady(url, func(s int) bool { return s == 200 })(ctx))

	p.Stop()
	require.Error(t, TCPReady(fmt.Sprintf("127.0.0.1:%d", port))(ctx), "a stopped peer refuses connections")

	p.Restart()
	require.NoError(t, HTTPReady(url, func(s int) bool { return s == 200 })(ctx))
	require.Contains(t, p.LogTail(20), "GET /", "the peer's own log is kept")
}

// A peer that exits before it is ready is reported at once, not after the start timeout.
func TestStartReportsEarlyExit(t *testing.T) {
	p := &Process{t: t, spec: Spec{Name: "false", Command: "false", Dir: t.TempDir(),
		Ready: TCPReady("127.0.0.1:1"), StartTimeout: time.Minute}, logPath: t.TempDir() + "/log"}
	began := time.Now()
	err := p.start()
	require.ErrorContains(t, err, "exited before it was ready")
	require.Less(t, time.Since(began), 10*time.Second)
}

// The in-process S3 answers the real AWS protocol: an object put with Python's standard
// library over plain HTTP (path style) is listed back.
func TestS3ServesObjects(t *testing.T) {
	s := StartS3(t, "interop")
	req, err := http.NewRequest(http.MethodPut, s.Endpoint+"/interop/a/b.txt", strings.NewReader("hello"))
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode)
	list, err := s.Backend.ListBucket("interop", &gofakes3.Prefix{}, gofakes3.ListBucketPage{})
	require.NoError(t, err)
	require.Len(t, list.Contents, 1)
	require.Equal(t, "a/b.txt", list.Contents[0].Key)
}
