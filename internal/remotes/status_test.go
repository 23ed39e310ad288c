package remotes_test

import (
	"context"
	"fmt"
	"sort"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/apperr"
	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog"
	"github.com/iceberg-remotes/iceberg-remotes/internal/lakefs"
	"github.com/iceberg-remotes/iceberg-remotes/internal/remotes"
	"github.com/iceberg-remotes/iceberg-remotes/internal/remotes/remotestest"
	"github.com/iceberg-remotes/iceberg-remotes/internal/state"
)

// batchCatalog gives the in-memory catalog a batch read, counted.
type batchCatalog struct {
	*remotestest.Catalog
	batches, singles atomic.Int32
	fail             error
}

func (b *batchCatalog) LoadTable(ctx context.Context, id catalog.Ident) (string, error) {
	b.singles.Add(1)
	return b.Catalog.LoadTable(ctx, id)
}

func (b *batchCatalog) LoadTables(ctx context.Context, ns []string, tables []string) (map[string]string, error) {
	b.batches.Add(1)
	if b.fail != nil {
		return nil, b.fail
	}
	out := map[string]string{}
	for _, t := range tables {
		if loc, err := b.Catalog.LoadTable(ctx, catalog.Ident{Namespace: ns, Table: t}); err == nil {
			out[t] = loc
		}
	}
	return out, nil
}

// failingTable answers 503 for one table's LoadTable.
type failingTable struct {
	catalog.Adapter
	table string
}

func (f failingTable) LoadTable(ctx context.Context, id catalog.Ident) (string, error) {
	if id.Table == f.table {
		return "", apperr.New(503, "remote down for %s", id.Table)
	}
	return f.Adapter.LoadTable(ctx, id)
}

// listingFixture: tables accounting.t00..t(n-1) committed on main at fake locations (the
// listing never reads them), one sync record each (remote analytics.r00..), both sides at
// the same location, then two more commits on main.
type listingFixture struct {
	c      *core
	commit string // the commit the records were synced at
	locs   []string
}

func newListingFixture(t *testing.T, n int) *listingFixture {
	c := newCore(t, lakefs.LayoutPointer, nil)
	f := &listingFixture{c: c}
	for i := range n {
		loc := fmt.Sprintf("file:///data/t%02d/metadata/00001-x.metadata.json", i)
		f.locs = append(f.locs, loc)
		f.stage("main", i, loc)
	}
	var err error
	f.commit, err = c.client.Commit(ctxT(t), testRepo, "main", "tables", nil)
	require.NoError(t, err)
	for i := range n {
		c.cat.SetTable(f.remote(i), f.locs[i])
		rec := state.SyncRecord{TableKey: state.TableKey{Catalog: testRemote, Namespace: remoteNS, Table: f.remote(i).Table},
			Repository: testRepo, Reference: "main", LocalNamespace: localNS, LocalTable: fmt.Sprintf("t%02d", i),
			ResolvedCommit: f.commit, PushedLocation: f.locs[i], RemoteLocation: f.locs[i], LakeFSLocation: f.locs[i],
			Status: state.StatusSynced}
		require.NoError(t, c.store.CreateSyncRecord(ctxT(t), &rec))
	}
	for i := range 2 {
		c.lake.PutObject(testRepo, "main", fmt.Sprintf("other/file%d", i), []byte("x"))
		c.lake.CommitBranch(testRepo, "main", "unrelated")
	}
	return f
}

func (f *listingFixture) remote(i int) catalog.Ident {
	return catalog.Ident{Namespace: remoteNS, Table: fmt.Sprintf("r%02d", i)}
}

func (f *listingFixture) stage(branch string, i int, loc string) {
	_, err := f.c.client.StageObject(ctxT(f.c.t), testRepo, branch, fmt.Sprintf("_lakefs_tables/iceberg/accounting/t%02d/metadata.json", i),
		loc, 1, "00", "application/json")
	require.NoError(f.c.t, err)
}

func (f *listingFixture) update(i int, fn func(*state.SyncRecord)) {
	key := state.TableKey{Catalog: testRemote, Namespace: remoteNS, Table: f.remote(i).Table}
	rec, err := f.c.store.GetSyncRecord(ctxT(f.c.t), key)
	require.NoError(f.c.t, err)
	fn(&rec)
	require.NoError(f.c.t, f.c.store.UpdateSyncRecord(ctxT(f.c.t), &rec))
}

var lakeFSOps = []string{"getBranch", "getCommit", "statObject", "getObject", "listObjects", "logCommits", "diffBranch"}

func (f *listingFixture) lakeCalls() map[string]int {
	out := map[string]int{}
	for _, op := range lakeFSOps {
		out[op] = f.c.lake.Calls(op)
	}
	return out
}

func since(before, after map[string]int) map[string]int {
	out := map[string]int{}
	for op, n := range after {
		if d := n - before[op]; d > 0 {
			out[op] = d
		}
	}
	return out
}

func countLoads(calls []string) int {
	n := 0
	for _, c := range calls {
		if c == "LoadTable" {
			n++
		}
	}
	return n
}

func byTable(page state.Page[remotes.TableStatus]) map[string]remotes.TableStatus {
	out := map[string]remotes.TableStatus{}
	for _, ts := range page.Items {
		out[ts.Record.Table] = ts
	}
	return out
}

// TestListTablesMixedStatesInGroups: every live state in one page, read with one listing
// per (repository, reference) and the remote per namespace, with commits_behind for the
// branch records only.
func TestListTablesMixedStatesInGroups(t *testing.T) {
	f := newListingFixture(t, 8)
	c := f.c
	ctx := ctxT(t)
	c.cat.SetTable(f.remote(1), "file:///data/t01/metadata/00002-remote.metadata.json") // remote_ahead
	f.stage("main", 2, "file:///data/t02/metadata/00002-lake.metadata.json")            // lakefs_ahead
	c.cat.SetTable(f.remote(3), "file:///data/t03/metadata/00002-remote.metadata.json") // diverged
	f.stage("main", 3, "file:///data/t03/metadata/00002-lake.metadata.json")
	require.NoError(t, c.cat.DropTable(ctx, f.remote(4)))            // missing remotely
	f.update(5, func(r *state.SyncRecord) { r.LocalTable = "gone" }) // missing in lakeFS
	f.update(6, func(r *state.SyncRecord) { r.PushedLocation = "" }) // never pushed
	c.lake.CreateTag(testRepo, "v1", f.commit)                       // at a tag: no commits_behind
	f.update(7, func(r *state.SyncRecord) { r.Reference = "v1" })
	c.remote.Adapter = failingTable{Adapter: c.cat, table: "r00"} // the remote cannot say

	lake0, remote0 := f.lakeCalls(), countLoads(c.cat.Calls())
	page, err := c.svc.ListTables(ctx, testRemote, "", 100, remotes.TableFilter{})
	require.NoError(t, err)
	rows := byTable(page)
	want := map[string]string{"r00": remotes.Unknown, "r01": remotes.RemoteAhead, "r02": remotes.LakeFSAhead,
		"r03": remotes.Diverged, "r04": remotes.Missing, "r05": remotes.Missing, "r06": remotes.Missing, "r07": remotes.InSync}
	got := map[string]string{}
	for tb, ts := range rows {
		got[tb] = ts.State
	}
	assert.Equal(t, want, got)
	assert.Contains(t, rows["r00"].Error, "remote down")
	assert.Equal(t, "file:///data/t03/metadata/00002-lake.metadata.json", rows["r03"].CurrentLakeFSLocation)
	assert.Equal(t, "file:///data/t03/metadata/00002-remote.metadata.json", rows["r03"].CurrentRemoteLocation)
	for _, tb := range []string{"r01", "r02", "r03"} {
		require.NotNil(t, rows[tb].CommitsBehind, tb)
		assert.Equal(t, 2, *rows[tb].CommitsBehind, "%s: two commits on main since the sync", tb)
	}
	assert.Nil(t, rows["r07"].CommitsBehind, "a tag is not a branch")
	assert.Nil(t, rows["r06"].CommitsBehind, "never pushed: not read")

	// Two groups in lakeFS (main, the tag): main = getBranch + one listing + one log; the
	// tag = getBranch (404) + getCommit + one listing. No stat, no read.
	assert.Equal(t, map[string]int{"getBranch": 2, "getCommit": 1, "listObjects": 2, "logCommits": 1}, since(lake0, f.lakeCalls()))
	// The in-memory remote has no batch read: one LoadTable per live row (7; r06 is
	// skipped; r00's is answered by the failing wrapper, not the catalog).
	assert.Equal(t, 6, countLoads(c.cat.Calls())-remote0)
}

// TestListTablesUsesTheRemotesBatchRead: with a batch read, one call per remote namespace
// and no LoadTable; when the batch read fails, the namespace's rows are unknown.
func TestListTablesUsesTheRemotesBatchRead(t *testing.T) {
	f := newListingFixture(t, 5)
	c := f.c
	b := &batchCatalog{Catalog: c.cat}
	c.remote.Adapter = b
	c.cat.SetTable(f.remote(2), "file:///elsewhere.metadata.json")
	page, err := c.svc.ListTables(ctxT(t), testRemote, "", 100, remotes.TableFilter{})
	require.NoError(t, err)
	require.Len(t, page.Items, 5)
	for _, ts := range page.Items {
		want := remotes.InSync
		if ts.Record.Table == "r02" {
			want = remotes.RemoteAhead
		}
		assert.Equal(t, want, ts.State, ts.Record.Table)
	}
	assert.EqualValues(t, 1, b.batches.Load())
	assert.Zero(t, b.singles.Load(), "no one-by-one reads")

	b.fail = apperr.New(503, "glue throttled")
	page, err = c.svc.ListTables(ctxT(t), testRemote, "", 100, remotes.TableFilter{})
	require.NoError(t, err)
	for _, ts := range page.Items {
		assert.Equal(t, remotes.Unknown, ts.State)
		assert.Contains(t, ts.Error, "glue throttled")
	}
}

// TestListTablesFilters: ?repository= in the store, ?state= over the live state, with
// pagination that returns at most amount rows and reaches every matching row once.
func TestListTablesFilters(t *testing.T) {
	f := newListingFixture(t, 12)
	c := f.c
	ctx := ctxT(t)
	// Records 3, 7 and 11 are remote_ahead; record 11 alone comes from another repository.
	for _, i := range []int{3, 7, 11} {
		c.cat.SetTable(f.remote(i), "file:///moved.metadata.json")
	}
	c.lake.CreateRepository("other", "file:///other", "main")
	_, err := c.client.StageObject(ctx, "other", "main", "_lakefs_tables/iceberg/accounting/t11/metadata.json", f.locs[11], 1, "00", "")
	require.NoError(t, err)
	c.lake.CommitBranch("other", "main", "t11")
	f.update(11, func(r *state.SyncRecord) { r.Repository = "other" })

	collect := func(filter remotes.TableFilter, amount int) (tables []string, calls int) {
		after := ""
		for {
			page, err := c.svc.ListTables(ctx, testRemote, after, amount, filter)
			require.NoError(t, err)
			calls++
			require.LessOrEqual(t, len(page.Items), amount)
			for _, ts := range page.Items {
				if filter.State != "" {
					assert.Equal(t, filter.State, ts.State)
				}
				if filter.Repository != "" {
					assert.Equal(t, filter.Repository, ts.Record.Repository)
				}
				tables = append(tables, ts.Record.Table)
			}
			if !page.HasMore {
				assert.Empty(t, page.NextOffset)
				return tables, calls
			}
			require.NotEmpty(t, page.NextOffset)
			after = page.NextOffset
			require.Less(t, calls, 30, "pagination must end")
		}
	}
	got, _ := collect(remotes.TableFilter{State: remotes.RemoteAhead}, 2)
	assert.Equal(t, []string{"r03", "r07", "r11"}, got)
	got, _ = collect(remotes.TableFilter{Repository: "other"}, 5)
	assert.Equal(t, []string{"r11"}, got)
	got, _ = collect(remotes.TableFilter{Repository: testRepo, State: remotes.RemoteAhead}, 1)
	assert.Equal(t, []string{"r03", "r07"}, got)
	var all []string
	for i := range 12 {
		if i != 3 && i != 7 && i != 11 {
			all = append(all, f.remote(i).Table)
		}
	}
	got, _ = collect(remotes.TableFilter{State: remotes.InSync}, 4)
	sort.Strings(got)
	assert.Equal(t, all, got)

	// A state no row is in: each call reads at most 10 store pages, then hands back a
	// cursor (an empty page with has_more), so one request never walks everything.
	got, calls := collect(remotes.TableFilter{State: remotes.Diverged}, 1)
	assert.Empty(t, got)
	assert.Equal(t, 2, calls, "12 records, one per store page: 10 then 2")

	_, err = c.svc.ListTables(ctx, testRemote, "", 10, remotes.TableFilter{State: "lost"})
	assert.Equal(t, 400, apperr.StatusOf(err))
}

// TestListTablesLakeFSFailures: a group whose lakeFS listing fails is unknown (with the
// reason), without making another group unknown; a repository that no longer exists is
// missing.
func TestListTablesLakeFSFailures(t *testing.T) {
	f := newListingFixture(t, 4)
	c := f.c
	f.update(1, func(r *state.SyncRecord) { r.Repository = "deleted" })
	// The only listing (main's group) fails; the deleted repository's group never lists.
	before := c.lake.Calls("listObjects")
	c.lake.FailNext("listObjects", 1, 400)
	page, err := c.svc.ListTables(ctxT(t), testRemote, "", 100, remotes.TableFilter{})
	require.NoError(t, err)
	assert.Equal(t, 1, c.lake.Calls("listObjects")-before)
	rows := byTable(page)
	assert.Equal(t, remotes.Missing, rows["r01"].State, "repository gone")
	for _, tb := range []string{"r00", "r02", "r03"} {
		assert.Equal(t, remotes.Unknown, rows[tb].State, tb)
		assert.NotEmpty(t, rows[tb].Error, tb)
	}
	page, err = c.svc.ListTables(ctxT(t), testRemote, "", 100, remotes.TableFilter{})
	require.NoError(t, err)
	assert.Equal(t, remotes.InSync, byTable(page)["r00"].State, "the next listing reads again")
}
