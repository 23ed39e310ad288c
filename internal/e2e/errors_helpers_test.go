package e2e

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	icecatalog "github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// remoteIdent is the remote table the harness pushes to, or another name in its namespace.
func remoteIdent(name string) table.Identifier {
	return append(append(table.Identifier{}, remoteNS...), name)
}

// remoteLocationOf returns the remote table's metadata location, "" when it does not exist.
func (e *env) remoteLocationOf(name string) string {
	e.t.Helper()
	c := ctx(e.t)
	if ok, err := e.writer.CheckNamespaceExists(c, remoteNS); err != nil || !ok {
		require.NoError(e.t, err)
		return ""
	}
	tbl, err := e.writer.LoadTable(c, remoteIdent(name))
	if errors.Is(err, icecatalog.ErrNoSuchTable) {
		return ""
	}
	require.NoError(e.t, err)
	return tbl.MetadataLocation()
}

// world is everything an operation could change, to prove a failed (or dry) one changed
// nothing.
type world struct {
	RemoteNSExists bool
	RemoteTable    string // metadata location of the remote table, "" if absent
	Heads          map[string]string
	Staged         map[string][]string
	CommitCalls    int
	// Writes counts the lakeFS write calls other than commit (stage, upload, reset, create
	// branch, delete): a refused or dry operation makes none.
	Writes     int
	Operations int
	// Records are the sync records (without times), as listed.
	Records map[string]syncedTable
}

func (e *env) world() world {
	e.t.Helper()
	w := world{Heads: map[string]string{}, Staged: map[string][]string{}}
	ok, err := e.writer.CheckNamespaceExists(ctx(e.t), remoteNS)
	require.NoError(e.t, err)
	w.RemoteNSExists = ok
	w.RemoteTable = e.remoteLocationOf(tableName)
	for _, b := range []string{"main", "etl-42"} {
		c, found := e.lake.GetCommit(repo, b)
		require.True(e.t, found)
		w.Heads[b] = c.ID
		w.Staged[b] = e.lake.Staged(repo, b)
	}
	w.CommitCalls = e.lake.Calls("commit")
	for _, op := range []string{"stageObject", "uploadObject", "resetBranch", "createBranch", "deleteBranch", "deleteObject"} {
		w.Writes += e.lake.Calls(op)
	}
	w.Operations = -1 // the listing is refused (e.g. the caller may not use the remote)
	if r := e.call("GET", "/api/v1/iceberg/remotes/"+remoteID+"/operations?amount=1000", nil); r.Status == 200 {
		w.Operations = len(e.operations())
		w.Records = e.syncedTables()
	}
	return w
}

// unchanged asserts that nothing an operation could change did change since before.
func (e *env) unchanged(before world, why string) {
	e.t.Helper()
	assert.Equal(e.t, before, e.world(), "nothing may change: %s", why)
}

type operationRow struct {
	Operation, Outcome, User, Error string
	StatusCode                      int    `json:"status_code"`
	RemoteTable                     string `json:"remote_table"`
	ReferenceID                     string `json:"reference_id"`
}

// operations returns the remote's audit rows, newest first.
func (e *env) operations() []operationRow {
	e.t.Helper()
	r := e.call("GET", "/api/v1/iceberg/remotes/"+remoteID+"/operations?amount=1000", nil)
	require.Equal(e.t, 200, r.Status, r.Body)
	var list struct{ Results []operationRow }
	require.NoError(e.t, json.Unmarshal([]byte(r.Body), &list))
	return list.Results
}

type syncedTable struct {
	RemoteTable          string `json:"remote_table"`
	State                string `json:"state"`
	Status               string `json:"status"`
	ReferenceID          string `json:"reference_id"`
	ResolvedCommit       string `json:"resolved_commit"`
	PushedLocation       string `json:"pushed_location"`
	SyncedRemoteLocation string `json:"synced_remote_location"`
	SyncedLakeFSLocation string `json:"synced_lakefs_location"`
	TableUUID            string `json:"table_uuid"`
	SnapshotID           string `json:"snapshot_id"`
	UpdatedBy            string `json:"updated_by"`
}

// syncedTables returns the remote's listing by remote table name.
func (e *env) syncedTables() map[string]syncedTable {
	e.t.Helper()
	r := e.call("GET", "/api/v1/iceberg/remotes/"+remoteID+"/tables", nil)
	require.Equal(e.t, 200, r.Status, r.Body)
	var list struct{ Results []syncedTable }
	require.NoError(e.t, json.Unmarshal([]byte(r.Body), &list))
	out := map[string]syncedTable{}
	for _, x := range list.Results {
		out[x.RemoteTable] = x
	}
	return out
}

type plan struct {
	Operation string
	DryRun    bool `json:"dry_run"`
	Status    int
	Message   string
	Checks    []struct {
		Name    string
		OK      bool `json:"ok"`
		Message string
	}
	Actions []string
}

func decodePlan(t *testing.T, r resp) plan {
	t.Helper()
	require.Equal(t, 200, r.Status, r.Body)
	var p plan
	require.NoError(t, json.Unmarshal([]byte(r.Body), &p))
	require.True(t, p.DryRun, r.Body)
	return p
}

// failedCheck returns the name of the plan's failed check ("" if none).
func (p plan) failedCheck() string {
	for _, c := range p.Checks {
		if !c.OK {
			return c.Name
		}
	}
	return ""
}

// callWithAuth is a raw request to the service with an explicit Authorization header value ("" for
// none).
func (e *env) callWithAuth(method, path, authorization string, body any) resp {
	e.t.Helper()
	raw, err := json.Marshal(body)
	require.NoError(e.t, err)
	req, err := http.NewRequest(method, e.api.URL+path, strings.NewReader(string(raw)))
	require.NoError(e.t, err)
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := e.api.Client().Do(req)
	require.NoError(e.t, err)
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	return resp{Status: res.StatusCode, Body: string(out)}
}

// pushBody is a push request body with every field explicit.
func pushBody(repository, ref string, srcNS []string, srcTable, destTable string, force, createNS bool) map[string]any {
	return map[string]any{
		"source":           map[string]any{"repository_id": repository, "reference_id": ref, "namespace": srcNS, "table": srcTable},
		"destination":      map[string]any{"namespace": remoteNS, "table": destTable},
		"force_update":     force,
		"create_namespace": createNS,
	}
}

// advanceLakeFS appends n rows to the table as authored (a descendant of m1), links the new
// metadata onto branch as the table's version `version` and commits it directly (as a
// lakeFS user's engine would), returning the new location.
func (e *env) advanceLakeFS(branch string, n, version int) string {
	return e.advanceTable(branch, tableName, n, version)
}

// advanceTable is advanceLakeFS for table accounting.<name> (authored by authorTable).
func (e *env) advanceTable(branch, name string, n, version int) string {
	t := e.t
	cat := sqlWriter(t, "sqlite", "file:"+filepath.Join(e.dir, "author-"+name+".db"), filepath.Join(e.dir, "author"))
	c := ctx(t)
	tbl, err := cat.LoadTable(c, append(append(table.Identifier{}, localNS...), name))
	require.NoError(t, err)
	data := rows(500, n)
	defer data.Release()
	tbl, err = tbl.AppendTable(c, data, 1024, nil)
	require.NoError(t, err)
	loc := tbl.MetadataLocation()
	e.link(branch, localNS, name, loc, version)
	_, err = e.client.Commit(c, repo, branch, "engine appends to "+name, nil)
	require.NoError(t, err)
	return loc
}

// replaceRemote has the remote's writer drop the table and create an unrelated one with the
// same name (with a row, so it has a snapshot), returning its location.
func (e *env) replaceRemote() string {
	c := ctx(e.t)
	require.NoError(e.t, e.writer.DropTable(c, remoteIdent(tableName)))
	tbl, err := e.writer.CreateTable(c, remoteIdent(tableName), icebergSchema)
	require.NoError(e.t, err)
	data := rows(9000, 1)
	defer data.Release()
	tbl, err = tbl.AppendTable(c, data, 1024, nil)
	require.NoError(e.t, err)
	return tbl.MetadataLocation()
}

// headOf returns a branch's (or reference's) commit id in lakeFS.
func (e *env) headOf(ref string) string {
	c, ok := e.lake.GetCommit(repo, ref)
	require.True(e.t, ok, ref)
	return c.ID
}
