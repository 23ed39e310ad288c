package restcat_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog"
	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog/catalogtest"
	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog/restcat"
	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog/restcat/resttest"
	"github.com/iceberg-remotes/iceberg-remotes/internal/config"
)

// Defect 5 (issue 11): max_retries 0 is one attempt and N is 1+N.
func TestMaxRetriesCountsRetries(t *testing.T) {
	for _, retries := range []int{0, 1, 3} {
		var calls atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			calls.Add(1)
			w.WriteHeader(http.StatusServiceUnavailable)
		}))
		t.Cleanup(srv.Close)
		opts := fastOpts("unavailable")
		opts.Policy.MaxRetries = retries
		_, err := restcat.New(testCtx(t), config.RESTRemote{URI: srv.URL}, opts)
		require.Error(t, err)
		assert.EqualValues(t, retries+1, calls.Load(), "max_retries %d", retries)
	}
}

// gatewayTimeout stands for a proxy in front of the catalog: the next n POSTs whose path
// ends with suffix reach the catalog and are carried out, and the client hears 504.
type gatewayTimeout struct {
	suffix string
	left   atomic.Int32
}

func (g *gatewayTimeout) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err != nil || r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, g.suffix) || g.left.Add(-1) < 0 {
		return resp, err
	}
	_ = resp.Body.Close()
	return &http.Response{StatusCode: http.StatusGatewayTimeout, Status: "504 Gateway Timeout", Proto: "HTTP/1.1",
		ProtoMajor: 1, ProtoMinor: 1, Header: http.Header{"Content-Type": {"text/plain"}},
		Body: io.NopCloser(strings.NewReader("gateway timeout")), Request: r}, nil
}

// Defect 4 (issue 11): creating a namespace and registering a table are POSTs, but the
// adapter recognises its own earlier success (already exists, at the same location), so
// they are repeated after a 504; a re-point (register with overwrite) is not.
func TestPostsBehindAGatewayTimeout(t *testing.T) {
	s := resttest.New(t, resttest.Options{})
	gw := &gatewayTimeout{}
	opts := fastOpts("proxied")
	opts.Transport = gw
	a := newAdapter(t, config.RESTRemote{URI: s.URL}, opts)
	ctx := testCtx(t)
	locs := catalogtest.WriteMetadataFiles(t, t.TempDir(), 2)
	id := catalog.Ident{Namespace: []string{"db"}, Table: "t"}

	gw.suffix = "/namespaces"
	gw.left.Store(1)
	require.NoError(t, a.CreateNamespace(ctx, id.Namespace))
	gw.suffix = "/register"
	gw.left.Store(1)
	require.NoError(t, a.RegisterTable(ctx, id, locs[0], catalog.Provenance{}))
	got, err := a.LoadTable(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, locs[0], got)

	registers := func() (n int) {
		for _, c := range s.Calls() {
			if c.Method == http.MethodPost && strings.HasSuffix(c.Path, "/register") {
				n++
			}
		}
		return n
	}
	before := registers()
	gw.left.Store(1)
	_, err = a.ReplaceTable(ctx, id, locs[0], locs[1], catalog.Provenance{})
	require.Error(t, err, "the outcome of the re-point is unknown")
	assert.Equal(t, 1, registers()-before, "the re-point is sent once")
}
