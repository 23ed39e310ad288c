package gluecat_test

import (
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog"
	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog/catalogtest"
	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog/gluecat"
	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog/gluecat/gluetest"
)

// gatewayTimeout stands for a proxy in front of Glue: it forwards the next n calls of one
// operation, lets Glue carry them out, and answers the client 504 instead of Glue's answer.
type gatewayTimeout struct {
	mu   sync.Mutex
	op   string // X-Amz-Target suffix, e.g. "UpdateTable"
	left int
	// brokenBody passes Glue's status on but breaks the connection after brokenAfter bytes
	// of the body (as seen against moto: a 200 whose body read failed with "use of closed
	// network connection"), instead of answering 504.
	brokenBody  bool
	brokenAfter int64
}

func (g *gatewayTimeout) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err != nil {
		return resp, err
	}
	g.mu.Lock()
	hit := g.left > 0 && strings.HasSuffix(r.Header.Get("X-Amz-Target"), "."+g.op)
	if hit {
		g.left--
	}
	g.mu.Unlock()
	if !hit {
		return resp, nil
	}
	if g.brokenBody {
		head := io.LimitReader(resp.Body, g.brokenAfter)
		resp.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(head, errReader{&net.OpError{Op: "read", Net: "tcp", Err: net.ErrClosed}}), resp.Body}
		return resp, nil
	}
	_ = resp.Body.Close()
	return &http.Response{StatusCode: http.StatusGatewayTimeout, Status: "504 Gateway Timeout", Proto: "HTTP/1.1",
		ProtoMajor: 1, ProtoMinor: 1, Header: http.Header{"Content-Type": {"text/html"}},
		Body: io.NopCloser(strings.NewReader("<html>gateway timeout</html>")), Request: r}, nil
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// Defect 4 (issue 11): UpdateTable is a compare-and-swap on VersionId; repeating one that
// went through behind a 504 loses against itself and reports a successful re-point as a
// concurrent modification (409). It must be sent once.
func TestUpdateTableBehindAGatewayTimeoutIsNotRepeated(t *testing.T) {
	isolateAWSEnv(t)
	srv := gluetest.New(t)
	proxy := &gatewayTimeout{op: "UpdateTable"}
	a := newAdapter(t, srv.Config(), func(o *gluecat.Options) { o.HTTPClient = &http.Client{Transport: proxy} })
	locs := registered(t, a, 2, catalog.Provenance{})
	proxy.mu.Lock()
	proxy.left = 1
	proxy.mu.Unlock()
	before := srv.Calls("UpdateTable")
	_, err := a.ReplaceTable(ctx(t), id, locs[0], locs[1], catalog.Provenance{})
	require.Error(t, err)
	assert.NotEqual(t, http.StatusConflict, status(t, err), "not a concurrent modification: %v", err)
	assert.Equal(t, 1, srv.Calls("UpdateTable")-before, "the update is sent once")
	got, err := a.LoadTable(ctx(t), id)
	require.NoError(t, err)
	assert.Equal(t, locs[1], got, "Glue did re-point the table")
}

// Reads, and creations whose repeat the adapter recognises as its own (AlreadyExists at the
// same location), are repeated after a 504.
func TestIdempotentCallsBehindAGatewayTimeoutAreRepeated(t *testing.T) {
	isolateAWSEnv(t)
	srv := gluetest.New(t)
	proxy := &gatewayTimeout{op: "GetTable", left: 1}
	a := newAdapter(t, srv.Config(), func(o *gluecat.Options) { o.HTTPClient = &http.Client{Transport: proxy} })
	locs := catalogtest.WriteMetadataFiles(t, t.TempDir(), 1)
	require.NoError(t, a.CreateNamespace(ctx(t), id.Namespace))

	proxy.mu.Lock()
	proxy.op, proxy.left = "CreateTable", 1
	proxy.mu.Unlock()
	require.NoError(t, a.RegisterTable(ctx(t), id, locs[0], catalog.Provenance{}))

	proxy.mu.Lock()
	proxy.op, proxy.left = "GetTable", 1
	proxy.mu.Unlock()
	before := srv.Calls("GetTable")
	got, err := a.LoadTable(ctx(t), id)
	require.NoError(t, err)
	assert.Equal(t, locs[0], got)
	assert.Equal(t, 2, srv.Calls("GetTable")-before)
}

// A success whose body breaks off mid-read is an ambiguous failure like a 504: a read is
// repeated (and succeeds), an UpdateTable is sent once. Found against moto, where the
// adapter reported such a GetTable as a final error.
func TestAnswerWithBrokenBody(t *testing.T) {
	isolateAWSEnv(t)
	srv := gluetest.New(t)
	proxy := &gatewayTimeout{brokenBody: true}
	a := newAdapter(t, srv.Config(), func(o *gluecat.Options) { o.HTTPClient = &http.Client{Transport: proxy} })
	locs := registered(t, a, 2, catalog.Provenance{})

	proxy.mu.Lock()
	proxy.op, proxy.left, proxy.brokenAfter = "GetTable", 1, 10
	proxy.mu.Unlock()
	before := srv.Calls("GetTable")
	got, err := a.LoadTable(ctx(t), id)
	require.NoError(t, err)
	assert.Equal(t, locs[0], got)
	assert.Equal(t, 2, srv.Calls("GetTable")-before, "the read is repeated")

	proxy.mu.Lock()
	proxy.op, proxy.left, proxy.brokenAfter = "UpdateTable", 1, 0 // its answer is only "{}"
	proxy.mu.Unlock()
	before = srv.Calls("UpdateTable")
	_, err = a.ReplaceTable(ctx(t), id, locs[0], locs[1], catalog.Provenance{})
	require.Error(t, err)
	assert.Equal(t, 1, srv.Calls("UpdateTable")-before, "the update is sent once")
}
