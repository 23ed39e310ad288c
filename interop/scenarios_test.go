package interop

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/interop/peers"
)

var (
	localNS  = []string{"lake"}
	remoteNS = []string{"analytics"}
)

// scenario is one behaviour checked on every remote kind. run returns a note for the matrix
// (e.g. how a re-point happened), or "" .
type scenario struct {
	name string
	run  func(t *testing.T, e *env) string
}

var scenarios = []scenario{
	{"register", scRegister},
	{"idempotent re-push", scIdempotent},
	{"409 without force_update", scConflict},
	{"force_update re-point", scForce},
	{"create namespace", scCreateNamespace},
	{"isolated pipeline", scPipeline},
	{"both sides changed", scBothChanged},
	{"remote replaced by unrelated table", scUnrelated},
	{"remote unreachable", scUnreachable},
	{"unpublish", scUnpublish},
	{"bulk push and pull", scBulk},
}

// TestScenarios runs every scenario on every remote kind through the service over HTTP, with
// the lakeFS Python SDK as the client and pyiceberg reading and writing through the remote.
func TestScenarios(t *testing.T) {
	py := peers.Venv(t)
	res := newResults()
	for _, kind := range remoteKinds() {
		t.Run(kind.name, func(t *testing.T) {
			if kind.missing != "" {
				res.missing(kind.name, kind.missing)
				t.Skipf("MISSING: %s", kind.missing)
			}
			began := time.Now()
			e := newEnv(t, kind, py)
			res.peer(kind.name, e.peer)
			peers.Logf(t, "%s: environment up in %s", kind.name, time.Since(began).Round(10*time.Millisecond))
			for _, sc := range scenarios {
				ran := false // -run may filter the scenario out; t.Run then reports true
				ok := t.Run(sc.name, func(t *testing.T) {
					ran = true
					e.t = t
					note := sc.run(t, e)
					res.note(kind.name, sc.name, note)
				})
				if ran {
					res.outcome(kind.name, sc.name, ok)
				}
			}
			e.t = t
		})
	}
	res.check(t)
}

// prepare writes a table of 3 rows with pyiceberg, commits it on main and branches off
// s-<table> for the scenario; it returns the branch and the table's metadata location.
func prepare(e *env, table string) (branch, loc string) {
	loc = e.authorTable(localNS, table, 3)
	e.link("main", localNS, table, loc, true)
	branch = "s-" + table
	e.lake.CreateBranch(repoID, branch, "main")
	return branch, loc
}

// pushed is prepare plus a successful push (creating the remote namespace), after which
// pyiceberg reads the 3 rows through the remote catalog.
func pushed(t *testing.T, e *env, table string, a auth) (branch, loc string) {
	branch, loc = prepare(e, table)
	r := e.push(pushArgs{ref: branch, table: table, create: true, auth: a}, localNS, remoteNS)
	require.Equal(t, 204, r.Status, r.Body)
	assertRemote(t, e, table, loc, 3)
	return branch, loc
}

// assertRemote checks, with pyiceberg through the remote catalog, that the remote table
// points at loc and has rows rows.
func assertRemote(t *testing.T, e *env, table, loc string, rows int) {
	t.Helper()
	n, got := e.remoteScan(remoteNS, table)
	assert.Equal(t, loc, got, "remote metadata location of %s", table)
	assert.Equal(t, rows, n, "rows pyiceberg reads through the remote catalog")
}

func scRegister(t *testing.T, e *env) string {
	branch, _ := pushed(t, e, "registered", basicAuth)
	assert.Equal(t, "in_sync", e.synced()["registered"].State)
	if e.peer.provenance == nil {
		return ""
	}
	assert.Equal(t, map[string]string{"lakefs.repository": repoID, "lakefs.reference": branch, "lakefs.commit": e.head(branch),
		"lakefs.table": strings.Join(append(append([]string{}, localNS...), "registered"), "."), "lakefs.pushed_by": "alice"},
		e.peer.provenance(t, remoteNS, "registered"), "provenance parameters after register")
	return ""
}

func scIdempotent(t *testing.T, e *env) string {
	branch, loc := pushed(t, e, "again", jwtAuth)
	for _, a := range []auth{jwtAuth, basicAuth} {
		r := e.push(pushArgs{ref: branch, table: "again", auth: a}, localNS, remoteNS)
		require.Equal(t, 204, r.Status, r.Body)
		assertRemote(t, e, "again", loc, 3)
	}
	ops := e.operations("again")
	require.Len(t, ops, 3)
	for _, o := range ops {
		assert.Equal(t, "succeeded", o.Outcome)
	}
	return ""
}

// advance makes the lakeFS side of table newer (2 rows appended by pyiceberg, committed on
// branch) and returns the new metadata location.
func advance(e *env, branch, table string) string {
	loc := e.advanceAuthor(localNS, table, 2)
	e.link(branch, localNS, table, loc, true)
	return loc
}

func scConflict(t *testing.T, e *env) string {
	branch, loc := pushed(t, e, "conflicted", basicAuth)
	advance(e, branch, "conflicted")
	r := e.push(pushArgs{ref: branch, table: "conflicted", auth: jwtAuth}, localNS, remoteNS)
	assert.Equal(t, 409, r.Status, r.Body)
	assertRemote(t, e, "conflicted", loc, 3)
	return ""
}

func scForce(t *testing.T, e *env) string {
	branch, _ := pushed(t, e, "forced", jwtAuth)
	loc2 := advance(e, branch, "forced")
	r := e.push(pushArgs{ref: branch, table: "forced", force: true, auth: basicAuth}, localNS, remoteNS)
	require.Equal(t, 204, r.Status, r.Body)
	assertRemote(t, e, "forced", loc2, 5)
	st := e.synced()["forced"]
	assert.Equal(t, "in_sync", st.State)
	if e.peer.provenance != nil {
		assert.Equal(t, e.head(branch), e.peer.provenance(t, remoteNS, "forced")["lakefs.commit"], "provenance follows the re-point")
	}
	if strings.Contains(st.Notes, "not atomic") {
		return "re-point: drop-and-register fallback"
	}
	return "re-point: atomic"
}

func scCreateNamespace(t *testing.T, e *env) string {
	branch, loc := prepare(e, "fresh")
	ns := []string{"fresh_ns"}
	r := e.push(pushArgs{ref: branch, table: "fresh", auth: basicAuth}, localNS, ns)
	assert.Equal(t, 404, r.Status, r.Body)
	r = e.push(pushArgs{ref: branch, table: "fresh", create: true, auth: jwtAuth}, localNS, ns)
	require.Equal(t, 204, r.Status, r.Body)
	n, got := e.remoteScan(ns, "fresh")
	assert.Equal(t, loc, got)
	assert.Equal(t, 3, n)
	return ""
}

func scPipeline(t *testing.T, e *env) string {
	branch, _ := pushed(t, e, "pipeline", jwtAuth)
	e.remoteAppend(remoteNS, "pipeline", 2)
	// The location the remote now serves (Nessie answers a commit with a URL of its own, and
	// serves the metadata file on load).
	n, m2 := e.remoteScan(remoteNS, "pipeline")
	require.Equal(t, 5, n)
	assert.Equal(t, "remote_ahead", e.synced()["pipeline"].State)
	r := e.pull(pushArgs{ref: branch, table: "pipeline", auth: basicAuth}, localNS, remoteNS)
	require.Equal(t, 204, r.Status, r.Body)
	got := e.lakeFSLocation(branch, localNS, "pipeline")
	assert.Equal(t, m2, got, "the branch points at the metadata pyiceberg committed through the remote")
	assert.Equal(t, 5, e.scanLocation(got), "3 rows from lakeFS + 2 appended through the remote catalog")
	c, ok := e.lake.GetCommit(repoID, branch)
	require.True(t, ok)
	assert.Equal(t, m2, c.Metadata["iceberg_metadata_location"])
	assert.Equal(t, "in_sync", e.synced()["pipeline"].State)
	return ""
}

func scBothChanged(t *testing.T, e *env) string {
	branch, _ := pushed(t, e, "diverged", basicAuth)
	e.remoteAppend(remoteNS, "diverged", 2)
	lakeLoc := advance(e, branch, "diverged")
	head := e.head(branch)
	r := e.pull(pushArgs{ref: branch, table: "diverged", auth: jwtAuth}, localNS, remoteNS)
	assert.Equal(t, 409, r.Status, r.Body)
	assert.Contains(t, r.Body, "both sides changed")
	assert.Equal(t, lakeLoc, e.lakeFSLocation(branch, localNS, "diverged"))
	assert.Equal(t, head, e.head(branch), "nothing committed")
	assert.Empty(t, e.lake.Staged(repoID, branch))
	return ""
}

func scUnrelated(t *testing.T, e *env) string {
	branch, loc := pushed(t, e, "replaced", jwtAuth)
	req := map[string]any{"op": "replace_unrelated", "catalog": remoteCatalog, "namespace": remoteNS, "table": "replaced",
		"location": "s3://" + bucket + "/" + repoID + "/unrelated/replaced"}
	if e.peer.noCreate {
		req["register_from"] = authorCatalog
	}
	stranger := e.py.Call(t, req)
	out := e.py.Call(t, map[string]any{"op": "scan", "catalog": remoteCatalog, "namespace": remoteNS, "table": "replaced"})
	require.Equal(t, stranger["table_uuid"], out["table_uuid"], "the remote now holds the unrelated table")
	require.EqualValues(t, 1, out["rows"])
	head := e.head(branch)
	for _, force := range []bool{false, true} {
		r := e.pull(pushArgs{ref: branch, table: "replaced", force: force, auth: basicAuth}, localNS, remoteNS)
		assert.Equal(t, 409, r.Status, "force=%v: %s", force, r.Body)
		assert.Contains(t, r.Body, "unrelated table")
	}
	assert.Equal(t, loc, e.lakeFSLocation(branch, localNS, "replaced"))
	assert.Equal(t, head, e.head(branch))
	return ""
}

// unavailable are the statuses the service answers when a remote does not answer.
var unavailable = []int{502, 503, 504}

func scUnreachable(t *testing.T, e *env) string {
	if e.peer.proc == nil {
		return "unreachable: n/a (no peer process to stop)"
	}
	branch, _ := pushed(t, e, "outage", basicAuth)
	e.remoteAppend(remoteNS, "outage", 2)
	head := e.head(branch)
	before := e.synced()["outage"]

	e.peer.proc.Stop()
	r := e.pull(pushArgs{ref: branch, table: "outage", auth: jwtAuth}, localNS, remoteNS)
	assert.Contains(t, unavailable, r.Status, r.Body)
	assert.Equal(t, head, e.head(branch), "a failed pull commits nothing")
	assert.Empty(t, e.lake.Staged(repoID, branch), "and leaves nothing staged")
	ops := e.operations("outage")
	require.NotEmpty(t, ops)
	assert.Equal(t, "failed", ops[0].Outcome)
	assert.Equal(t, r.Status, ops[0].StatusCode)
	after := e.synced()["outage"]
	assert.Equal(t, before.Status, after.Status, "the sync record is as before the failed pull")

	branch2, loc2 := prepare(e, "outage2")
	r = e.push(pushArgs{ref: branch2, table: "outage2", create: true, auth: basicAuth}, localNS, remoteNS)
	assert.Contains(t, unavailable, r.Status, r.Body)
	ops = e.operations("outage2")
	require.Len(t, ops, 1)
	assert.Equal(t, "failed", ops[0].Outcome)
	if st, ok := e.synced()["outage2"]; ok {
		assert.NotEqual(t, "synced", st.Status, "a push that never reached the remote is not recorded as synced")
	}

	e.peer.proc.Restart()
	r = e.push(pushArgs{ref: branch2, table: "outage2", create: true, auth: jwtAuth}, localNS, remoteNS)
	require.Equal(t, 204, r.Status, r.Body)
	assertRemote(t, e, "outage2", loc2, 3)
	assert.Equal(t, "in_sync", e.synced()["outage2"].State)

	// The peer goes away while a push runs: after the service has read the table from lakeFS
	// (its getObject of the metadata file) and before it talks to the remote.
	branch3, loc3 := prepare(e, "outage3")
	var once sync.Once
	e.lake.TamperResponse("getObject", func(status int, _ http.Header, body []byte) (int, []byte) {
		once.Do(e.peer.proc.Stop)
		return status, body
	})
	r = e.push(pushArgs{ref: branch3, table: "outage3", create: true, auth: basicAuth}, localNS, remoteNS)
	e.lake.TamperResponse("getObject", nil)
	assert.Contains(t, unavailable, r.Status, r.Body)
	ops = e.operations("outage3")
	require.Len(t, ops, 1)
	assert.Equal(t, "failed", ops[0].Outcome)
	assert.Equal(t, r.Status, ops[0].StatusCode)
	e.peer.proc.Restart()
	r = e.push(pushArgs{ref: branch3, table: "outage3", create: true, auth: jwtAuth}, localNS, remoteNS)
	require.Equal(t, 204, r.Status, r.Body)
	assertRemote(t, e, "outage3", loc3, 3)
	assert.Equal(t, "in_sync", e.synced()["outage3"].State)
	return ""
}
