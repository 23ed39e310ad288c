package interop

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/catalog/rest"
	"github.com/apache/iceberg-go/table"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/apperr"
	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog"
	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog/catalogtest"
	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog/restcat"
	"github.com/iceberg-remotes/iceberg-remotes/internal/config"
	"github.com/iceberg-remotes/iceberg-remotes/internal/httpclient"
	"github.com/iceberg-remotes/iceberg-remotes/interop/peers"
)

// checkNessieHistory proves restcat's History against a real Nessie: a table registered by
// the adapter and then committed to by an engine (iceberg-go, through Nessie's Iceberg REST
// endpoint, which rewrites the metadata without its log) descends from each of its earlier
// states, not the other way round; the walk pages and stops at its bound; a table dropped
// and registered again, or another table, does not descend from what came before; and the
// adapter's re-point through Nessie's API keeps the chain.
func checkNessieHistory(t *testing.T, s3 *peers.S3, real *peers.REST, a *restcat.Adapter) {
	c := testCtx(t)
	h := a.History()
	require.NotNil(t, h, "Nessie's /v1/config advertises its API")
	ns := []string{"hist"}
	id := catalog.Ident{Namespace: ns, Table: "events"}
	require.NoError(t, a.CreateNamespace(c, ns))
	files := s3MetadataFiles(s3, "history", true)
	require.NoError(t, a.RegisterTable(c, id, files(t, 1)[0], catalog.Provenance{}))

	engine, err := rest.NewCatalog(c, "engine", real.URI, rest.WithAdditionalProps(s3IOProps(s3)))
	require.NoError(t, err)
	t.Cleanup(func() { _ = engine.Close() })
	commit := func(id catalog.Ident, n int) string {
		tbl, err := engine.LoadTable(c, table.Identifier(append(append([]string{}, id.Namespace...), id.Table)))
		require.NoError(t, err)
		tx := tbl.NewTransaction()
		require.NoError(t, tx.SetProperties(iceberg.Properties{"commit": fmt.Sprint(n)}))
		_, err = tx.Commit(c)
		require.NoError(t, err)
		loc, err := a.LoadTable(c, id)
		require.NoError(t, err)
		return loc
	}
	// appendRows appends 3 rows to table id through the engine (a snapshot, data and
	// manifests in S3, metadata written by Nessie) and returns its new location.
	appendRows := func(id catalog.Ident) string {
		tbl, err := engine.LoadTable(c, table.Identifier(append(append([]string{}, id.Namespace...), id.Table)))
		require.NoError(t, err)
		catalogtest.AppendRows(c, t, tbl)
		loc, err := a.LoadTable(c, id)
		require.NoError(t, err)
		return loc
	}
	load := func(id catalog.Ident) string {
		loc, err := a.LoadTable(c, id)
		require.NoError(t, err)
		return loc
	}
	descends := func(h catalog.History, id catalog.Ident, from, current string) bool {
		ok, err := h.Descends(c, id, from, current)
		require.NoError(t, err)
		return ok
	}

	l0 := load(id)
	l1 := commit(id, 1)
	l2 := commit(id, 2)
	require.NotEqual(t, l0, l1)
	require.NotEqual(t, l1, l2)
	// Another table's commits interleave in the branch's log.
	other := catalog.Ident{Namespace: ns, Table: "other"}
	require.NoError(t, a.RegisterTable(c, other, files(t, 1)[0], catalog.Provenance{}))
	o1 := commit(other, 1)

	assert.True(t, descends(h, id, l0, l2), "registered state → two engine commits")
	assert.True(t, descends(h, id, l1, l2))
	assert.True(t, descends(h, id, l2, l2))
	assert.False(t, descends(h, id, l2, l0), "an older state does not descend from a newer one")
	assert.False(t, descends(h, other, l0, o1), "another table's history")
	assert.False(t, descends(h, id, "s3://warehouse/nowhere/00000.metadata.json", l2), "a location never in the table's history")

	// One entry per page: the walk follows Nessie's page token; the bound stops it.
	bounded := func(limit int) catalog.History {
		b, err := restcat.New(c, config.RESTRemote{URI: real.URI}, restcat.Options{Name: "bounded",
			Policy:          httpclient.Policy{Timeout: 20 * time.Second, MaxRetries: 1},
			HistoryPageSize: 1, HistoryLimit: limit})
		require.NoError(t, err)
		t.Cleanup(func() { _ = b.Close() })
		return b.History()
	}
	assert.True(t, descends(bounded(3), id, l0, l2), "l2, l1, l0: three entries of the table")
	assert.False(t, descends(bounded(2), id, l0, l2), "l0 is beyond the bound")

	// Dropped and registered again at its last state: Nessie gives it a new content id, so
	// the states before the drop are not ancestors of what follows; the re-registered one is.
	require.NoError(t, a.DropTable(c, id))
	require.NoError(t, a.RegisterTable(c, id, l2, catalog.Provenance{}))
	l3 := commit(id, 3)
	assert.True(t, descends(h, id, l2, l3), "the state it was registered at")
	assert.False(t, descends(h, id, l1, l3), "a state from before the drop")
	assert.False(t, descends(h, id, l0, l3))

	// A re-point (ReplaceTable: one conditional Nessie commit) keeps the content id, so the
	// table's history goes on through it, and an engine can commit on top of it. Its target
	// is metadata with a snapshot (another table's, which Nessie does not mind). It costs
	// the content read and the commit; a history walk of a recent state costs one page.
	rec := &recorder{next: http.DefaultTransport}
	ra, err := restcat.New(c, config.RESTRemote{URI: real.URI}, restcat.Options{Name: "recorded",
		Policy: httpclient.Policy{Timeout: 20 * time.Second, MaxRetries: 1}, Transport: rec, ReadMetadata: s3ReadMetadata(t, s3)})
	require.NoError(t, err)
	t.Cleanup(func() { _ = ra.Close() })
	l4 := appendRows(other)
	rec.reset()
	atomic, err := ra.ReplaceTable(c, id, l3, l4, catalog.Provenance{})
	require.NoError(t, err)
	assert.True(t, atomic, "Nessie re-points through its own API")
	assert.Equal(t, []string{"GET /api/v2/trees/main/contents/hist.events", "POST /api/v2/trees/main@*/history/commit"}, rec.reset())
	require.Equal(t, l4, load(id))
	l5 := commit(id, 5)
	rec.reset()
	assert.True(t, descends(ra.History(), id, l3, l5), "through the re-point")
	assert.Equal(t, []string{"GET /api/v2/trees/main/history"}, rec.reset())
	assert.True(t, descends(h, id, l2, l5))
	_, err = a.ReplaceTable(c, id, l4, files(t, 1)[0], catalog.Provenance{})
	assert.Equal(t, http.StatusConflict, apperr.StatusOf(err), "a stale expected location: %v", err)
	require.Equal(t, l5, load(id))

	// The re-point's commit reaches Nessie but its answer is lost: the retry is refused (the
	// table changed since the hash it is based on), and finding the table at the new
	// location makes that a success.
	l6 := appendRows(other)
	rec.reset()
	rec.loseNext("/history/commit")
	atomic, err = ra.ReplaceTable(c, id, l5, l6, catalog.Provenance{})
	require.NoError(t, err, "the lost answer's commit is recognised")
	assert.True(t, atomic)
	assert.Equal(t, []string{"GET /api/v2/trees/main/contents/hist.events", "POST /api/v2/trees/main@*/history/commit",
		"POST /api/v2/trees/main@*/history/commit", "GET /api/v2/trees/main/contents/hist.events"}, rec.reset(),
		"the commit sent again after its lost answer, refused, and the table read")
	require.Equal(t, l6, load(id))
	assert.True(t, descends(h, id, l5, l6), "one commit, the same table")

	// Metadata without a current snapshot, worded as pyiceberg and iceberg-go word it (no
	// current-snapshot-id): Nessie cannot read it, so the adapter does not commit it as the
	// table's content (the table would no longer load); Nessie's register refuses it and the
	// table is put back where it was, still loadable.
	snapshotless := s3MetadataFiles(s3, "history-plain", false)(t, 1)[0]
	rec.reset()
	_, err = ra.ReplaceTable(c, id, l6, snapshotless, catalog.Provenance{})
	for _, r := range rec.reset() {
		assert.NotContains(t, r, "/api/v2/", "a declined file asks nothing of Nessie's own API")
	}
	require.Error(t, err)
	assert.Equal(t, http.StatusBadGateway, apperr.StatusOf(err), "%v", err)
	assert.Contains(t, err.Error(), "Nessie cannot read metadata without current-snapshot-id", "a message that says what to do")
	require.Equal(t, l6, load(id), "restored")
	_, err = engine.LoadTable(c, table.Identifier{"hist", "events"})
	require.NoError(t, err, "the table still loads through Nessie's REST endpoint")
	// Worded as Java writes it (current-snapshot-id -1), Nessie reads it: the register path
	// re-points (not atomically, as on a REST server without overwrite).
	javaEmpty := files(t, 1)[0]
	atomic, err = a.ReplaceTable(c, id, l6, javaEmpty, catalog.Provenance{})
	require.NoError(t, err)
	assert.False(t, atomic, "no snapshot: dropped and registered again")
	require.Equal(t, javaEmpty, load(id))

	// Dropped and created again on another branch, then merged: the merge commit puts the
	// new table (a new content id) over the old one without a delete in between.
	merged := catalog.Ident{Namespace: ns, Table: "merged"}
	require.NoError(t, a.RegisterTable(c, merged, files(t, 1)[0], catalog.Provenance{}))
	m1 := commit(merged, 1)
	api := nessieAPI{t: t, base: strings.TrimSuffix(real.URI, "/iceberg") + "/api/v2"}
	key := []string{"hist", "merged"}
	api.call("POST", "/trees?name=dev&type=BRANCH", map[string]any{"type": "BRANCH", "name": "main", "hash": api.head("main")})
	api.call("POST", "/trees/dev@"+api.head("dev")+"/history/commit", map[string]any{
		"commitMeta": map[string]any{"message": "drop"},
		"operations": []any{map[string]any{"type": "DELETE", "key": map[string]any{"elements": key}}}})
	fresh := files(t, 1)[0]
	api.call("POST", "/trees/dev@"+api.head("dev")+"/history/commit", map[string]any{
		"commitMeta": map[string]any{"message": "create again"},
		"operations": []any{map[string]any{"type": "PUT", "key": map[string]any{"elements": key}, "content": map[string]any{
			"type": "ICEBERG_TABLE", "metadataLocation": fresh, "snapshotId": -1, "schemaId": 0, "specId": 0, "sortOrderId": 0}}}})
	api.call("POST", "/trees/main@"+api.head("main")+"/history/merge", map[string]any{"fromRefName": "dev", "fromHash": api.head("dev")})
	require.Equal(t, fresh, load(merged))
	assert.True(t, descends(h, merged, fresh, fresh))
	assert.False(t, descends(h, merged, m1, fresh), "the merged table is another table than the one at m1")
}

// recorder forwards every request and records it as "METHOD path" (a commit hash after
// "@" written as *); loseNext makes it lose the answer to the next request whose path ends
// in a suffix, as a connection that breaks after the server acted would.
type recorder struct {
	next http.RoundTripper
	mu   sync.Mutex
	seen []string
	lose string
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	rsp, err := r.next.RoundTrip(req)
	path := req.URL.Path
	if at := strings.Index(path, "@"); at >= 0 {
		if end := strings.Index(path[at:], "/"); end > 0 {
			path = path[:at+1] + "*" + path[at+end:]
		}
	}
	r.mu.Lock()
	r.seen = append(r.seen, req.Method+" "+path)
	lose := r.lose != "" && strings.HasSuffix(req.URL.Path, r.lose)
	if lose {
		r.lose = ""
	}
	r.mu.Unlock()
	if lose && err == nil {
		rsp.Body.Close()
		return nil, io.ErrUnexpectedEOF
	}
	return rsp, err
}

func (r *recorder) loseNext(suffix string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lose = suffix
}

// reset returns the requests recorded since the last reset.
func (r *recorder) reset() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.seen
	r.seen = nil
	return out
}

// nessieAPI makes requests to Nessie's own API (v2), as a Nessie user would.
type nessieAPI struct {
	t    *testing.T
	base string
}

func (n nessieAPI) call(method, path string, body any) map[string]any {
	n.t.Helper()
	st, raw := sendJSON(n.t, &http.Client{Timeout: 20 * time.Second}, method, n.base+path, body)
	require.Equal(n.t, http.StatusOK, st, "%s %s: %s", method, path, raw)
	var out map[string]any
	require.NoError(n.t, json.Unmarshal([]byte(raw), &out))
	return out
}

// head returns the hash of branch's head.
func (n nessieAPI) head(branch string) string {
	n.t.Helper()
	ref, ok := n.call("GET", "/trees/"+branch, nil)["reference"].(map[string]any)
	require.True(n.t, ok)
	return ref["hash"].(string)
}
