package interop

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/interop/peers"
)

// restProbe speaks the Iceberg REST protocol directly (no adapter) to record what a real
// server answers where servers differ; the README's compatibility matrix comes from these
// answers, and the stand-in modes copy them.
type restProbe struct {
	t    *testing.T
	base string // .../v1[/prefix]
	hc   *http.Client
}

func newRESTProbe(t *testing.T, uri string) *restProbe {
	p := &restProbe{t: t, hc: &http.Client{Timeout: 20 * time.Second}}
	status, body := p.do(http.MethodGet, uri+"/v1/config", nil)
	require.Equal(t, http.StatusOK, status, body)
	var cfg struct{ Defaults, Overrides map[string]string }
	require.NoError(t, json.Unmarshal([]byte(body), &cfg))
	prefix := cfg.Defaults["prefix"]
	if o, ok := cfg.Overrides["prefix"]; ok {
		prefix = o
	}
	p.base = uri + "/v1"
	if prefix != "" {
		p.base += "/" + url.PathEscape(prefix)
	}
	return p
}

func (p *restProbe) do(method, u string, body any) (int, string) {
	p.t.Helper()
	return sendJSON(p.t, p.hc, method, u, body)
}

// sendJSON sends body (nil: none) as JSON and returns the status and up to 1 MiB of the
// answer.
func sendJSON(t *testing.T, hc *http.Client, method, u string, body any) (int, string) {
	t.Helper()
	var rdr io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(t, err)
		rdr = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, u, rdr)
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	rsp, err := hc.Do(req)
	require.NoError(t, err)
	defer rsp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(rsp.Body, 1<<20))
	return rsp.StatusCode, string(b)
}

// errorType returns the "type" of an Iceberg error body.
func errorType(body string) string {
	var e struct {
		Error struct{ Type, Message string }
	}
	_ = json.Unmarshal([]byte(body), &e)
	return e.Error.Type
}

func (p *restProbe) register(ns, name, loc string, overwrite bool) (int, string) {
	b := map[string]any{"name": name, "metadata-location": loc}
	if overwrite {
		b["overwrite"] = true
	}
	return p.do(http.MethodPost, p.base+"/namespaces/"+url.PathEscape(ns)+"/register", b)
}

// restCapabilities records one server's answers to the questions the adapter's behaviour
// depends on.
type restCapabilities struct {
	RegisterInMissingNamespace int    // 404 = explicit namespaces; 200 = implicit ones
	OverwriteStatus            int    // 200 = atomic re-point; otherwise the fallback runs
	OverwriteErrorType         string // the error type of a refused overwrite
	NestedNamespace            int    // creating a.b once a exists
	NestedWithoutParent        int    // creating x.y when x does not exist
	DropWithoutPurgeKeepsFile  bool
	// RegisterSnapshotless is the answer to registering iceberg-go's metadata of a table
	// without snapshots (no current-snapshot-id field, which Java writers always write).
	RegisterSnapshotless int
}

func probeREST(t *testing.T, s3 *peers.S3, uri string, javaStyle bool) restCapabilities {
	t.Helper()
	p := newRESTProbe(t, uri)
	locs := s3MetadataFiles(s3, "probe/"+t.Name(), javaStyle)(t, 2)
	var c restCapabilities
	c.RegisterInMissingNamespace, _ = p.register("probe_missing", "t", locs[0], false)

	st, body := p.do(http.MethodPost, p.base+"/namespaces", map[string]any{"namespace": []string{"probe"}})
	require.Equal(t, http.StatusOK, st, body)
	st, body = p.register("probe", "t", locs[0], false)
	require.Equal(t, http.StatusOK, st, body)
	c.OverwriteStatus, body = p.register("probe", "t", locs[1], true)
	if c.OverwriteStatus != http.StatusOK {
		c.OverwriteErrorType = errorType(body)
	}
	c.NestedNamespace, _ = p.do(http.MethodPost, p.base+"/namespaces", map[string]any{"namespace": []string{"probe", "inner"}})
	c.NestedWithoutParent, _ = p.do(http.MethodPost, p.base+"/namespaces", map[string]any{"namespace": []string{"orphan", "child"}})

	plain := s3MetadataFiles(s3, "probe/"+t.Name(), false)(t, 1)
	c.RegisterSnapshotless, _ = p.register("probe", "plain", plain[0], false)

	st, body = p.do(http.MethodDelete, p.base+"/namespaces/probe/tables/t?purgeRequested=false", nil)
	require.Equal(t, http.StatusNoContent, st, body)
	c.DropWithoutPurgeKeepsFile = s3Exists(s3)(t, locs[0]) && s3Exists(s3)(t, locs[1])
	peers.Logf(t, "capabilities: %+v", c)
	return c
}
