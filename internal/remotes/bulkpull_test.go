package remotes_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog"
	"github.com/iceberg-remotes/iceberg-remotes/internal/lakefs"
	"github.com/iceberg-remotes/iceberg-remotes/internal/remotes"
	"github.com/iceberg-remotes/iceberg-remotes/internal/remotes/remotestest"
	"github.com/iceberg-remotes/iceberg-remotes/internal/state"
)

// bulkTable is one of the tables of a bulk test: accounting.<name> in lakeFS, pushed as
// analytics.<name>.
type bulkTable struct {
	name  string
	uuid  string
	m1    string // pushed
	m2    string // the external writer's commit (set by remoteCommit)
	files []string
}

func (b *bulkTable) ref(branch string) lakefs.TableRef {
	return lakefs.TableRef{Repository: testRepo, Reference: branch, Namespace: localNS, Table: b.name}
}

func (b *bulkTable) id() catalog.Ident { return catalog.Ident{Namespace: remoteNS, Table: b.name} }

func (c *core) tableVersion(b *bulkTable, n int, snaps int) string {
	var ids []int64
	for i := 1; i <= snaps; i++ {
		ids = append(ids, int64(i))
	}
	loc := remotestest.WriteMetadata(c.t, c.dir, "tables/"+b.name+"/metadata/"+pad(n)+"-"+uuid.NewString()+".metadata.json",
		remotestest.Version{TableUUID: b.uuid, Location: "file://" + filepath.Join(c.dir, "tables", b.name), Snapshots: ids, Previous: b.files})
	b.files = append(b.files, loc)
	return loc
}

// bulkTables commits n tables t0..t<n-1> on main and pushes each to the remote.
func (c *core) bulkTables(n int) []*bulkTable {
	c.t.Helper()
	var out []*bulkTable
	for i := range n {
		b := &bulkTable{name: fmt.Sprintf("t%d", i), uuid: uuid.NewString()}
		b.m1 = c.tableVersion(b, 1, 1)
		c.linkTable("main", b.name, b.m1, 1)
		out = append(out, b)
	}
	_, err := c.client.Commit(ctxT(c.t), testRepo, "main", "add tables", nil)
	require.NoError(c.t, err)
	for _, b := range out {
		_, err := c.svc.Push(ctxT(c.t), remotes.PushRequest{Catalog: testRemote, Source: b.ref("main"),
			Destination: b.id(), CreateNamespace: true})
		require.NoError(c.t, err)
	}
	return out
}

// remoteCommit is an external writer committing a new snapshot of b through the remote.
func (c *core) remoteCommit(b *bulkTable) {
	b.m2 = c.tableVersion(b, 2, 2)
	c.cat.SetTable(b.id(), b.m2)
}

func (c *core) bulkPull(force, dryRun bool) ([]remotes.BulkResult, remotes.BulkTotals) {
	c.t.Helper()
	var results []remotes.BulkResult
	totals, err := c.svc.BulkPull(ctxT(c.t), remotes.BulkPullRequest{Catalog: testRemote, Repository: testRepo, Branch: "main",
		ForceUpdate: force, DryRun: dryRun}, func(r remotes.BulkResult) { results = append(results, r) })
	require.NoError(c.t, err)
	return results, totals
}

func outcomes(results []remotes.BulkResult) map[string]string {
	out := map[string]string{}
	for _, r := range results {
		out[r.Source.Table] = r.Outcome
	}
	return out
}

// Five tables an external writer changed come back in one lakeFS commit whose metadata
// lists all five; a table already in sync is unchanged and not part of it; a second bulk
// pull changes nothing.
func TestBulkPullOneCommit(t *testing.T) {
	for _, layout := range []string{lakefs.LayoutPointer, lakefs.LayoutHadoop} {
		t.Run(layout, func(t *testing.T) {
			c := newCore(t, layout, nil)
			tables := c.bulkTables(6)
			for _, b := range tables[:5] {
				c.remoteCommit(b)
			}
			commits := c.lake.Calls("commit")

			results, totals := c.bulkPull(false, false)
			require.Equal(t, http.StatusOK, totals.Status, "%+v", results)
			assert.Equal(t, remotes.BulkTotals{Total: 6, Changed: 5, Unchanged: 1, Status: 200, CommitID: totals.CommitID}, totals)
			assert.Equal(t, map[string]string{"t0": "pulled", "t1": "pulled", "t2": "pulled", "t3": "pulled", "t4": "pulled", "t5": "unchanged"}, outcomes(results))
			assert.Equal(t, commits+1, c.lake.Calls("commit"), "one commit")
			head, ok := c.lake.GetCommit(testRepo, "main")
			require.True(t, ok)
			assert.Equal(t, totals.CommitID, head.ID)
			assert.Equal(t, "Pull iceberg tables accounting.t0, accounting.t1, accounting.t2, accounting.t3, accounting.t4 from "+testRemote, head.Message)
			var listed []struct {
				Table            string `json:"table"`
				RemoteTable      string `json:"remote_table"`
				MetadataLocation string `json:"metadata_location"`
				SnapshotID       string `json:"snapshot_id"`
			}
			require.NoError(t, json.Unmarshal([]byte(head.Metadata["iceberg_tables"]), &listed))
			require.Len(t, listed, 5)
			for i, b := range tables[:5] {
				assert.Equal(t, "accounting."+b.name, listed[i].Table)
				assert.Equal(t, "analytics."+b.name, listed[i].RemoteTable)
				assert.Equal(t, b.m2, listed[i].MetadataLocation)
				assert.Equal(t, "2", listed[i].SnapshotID)
				assert.Equal(t, b.m2, c.tableAt("main", b), "the branch has the remote's commit")
				rec := c.recordOf(b)
				assert.Equal(t, state.StatusSynced, rec.Status)
				assert.Empty(t, rec.Pending)
				assert.Equal(t, b.m2, rec.RemoteLocation)
				assert.Equal(t, head.ID, rec.ResolvedCommit)
			}
			assert.Equal(t, tables[5].m1, c.tableAt("main", tables[5]))
			assert.Empty(t, c.lake.Staged(testRepo, "main"))

			page, err := c.store.ListOperations(ctxT(t), testRemote, "", 100)
			require.NoError(t, err)
			pulls := 0
			for _, op := range page.Items {
				if op.Operation == "pull" {
					pulls++
					assert.Equal(t, state.OutcomeSucceeded, op.Outcome)
					if op.RemoteTable != "t5" {
						assert.Equal(t, head.ID, op.LakeFSCommit)
					}
				}
			}
			assert.Equal(t, 6, pulls, "one audit row per table")

			results, totals = c.bulkPull(false, false)
			assert.Equal(t, 6, totals.Unchanged, "%+v", results)
			assert.Empty(t, totals.CommitID)
			assert.Equal(t, commits+1, c.lake.Calls("commit"), "nothing to pull: no commit")
		})
	}
}

func (c *core) tableAt(ref string, b *bulkTable) string {
	c.t.Helper()
	st, err := c.locator.ReadTable(ctxT(c.t), b.ref(ref))
	require.NoError(c.t, err)
	return st.MetadataLocation
}

func (c *core) recordOf(b *bulkTable) state.SyncRecord {
	c.t.Helper()
	rec, err := c.store.GetSyncRecord(ctxT(c.t), state.TableKey{Catalog: testRemote, Namespace: remoteNS, Table: b.name})
	require.NoError(c.t, err)
	return rec
}

// With one table in conflict (both sides changed), nothing is committed and nothing is
// left staged; the others are blocked. The dry run says the same; force_update (per table,
// as a single pull) lets the conflicting table overwrite the lakeFS side.
func TestBulkPullConflictCommitsNothing(t *testing.T) {
	c := newCore(t, lakefs.LayoutPointer, nil)
	tables := c.bulkTables(5)
	for _, b := range tables {
		c.remoteCommit(b)
	}
	// Someone commits t2 on main too: both sides changed.
	other := c.tableVersion(tables[2], 3, 3)
	c.linkTable("main", "t2", other, 2)
	_, err := c.client.Commit(ctxT(t), testRepo, "main", "someone else", nil)
	require.NoError(t, err)
	commits, head := c.lake.Calls("commit"), c.headID()

	for _, dry := range []bool{true, false} {
		results, totals := c.bulkPull(false, dry)
		assert.Equal(t, http.StatusConflict, totals.Status, "dry run %v", dry)
		assert.Contains(t, totals.Message, "both sides changed")
		assert.Equal(t, map[string]string{"t0": "blocked", "t1": "blocked", "t2": "failed", "t3": "blocked", "t4": "blocked"}, outcomes(results))
		assert.Equal(t, 1, totals.Failed)
		assert.Equal(t, 4, totals.Blocked)
		assert.Empty(t, totals.CommitID)
		assert.Equal(t, commits, c.lake.Calls("commit"), "nothing committed")
		assert.Equal(t, head, c.headID())
		assert.Empty(t, c.lake.Staged(testRepo, "main"), "nothing staged")
		for _, b := range tables {
			rec := c.recordOf(b)
			assert.Equal(t, b.m1, rec.RemoteLocation, "the record is unchanged")
			assert.Empty(t, rec.Pending)
		}
	}
	assert.Equal(t, tables[0].m1, c.tableAt("main", tables[0]))

	results, totals := c.bulkPull(true, false)
	require.Equal(t, http.StatusOK, totals.Status, "%+v", results)
	assert.Equal(t, 5, totals.Changed)
	assert.Equal(t, commits+1, c.lake.Calls("commit"))
	for _, b := range tables {
		assert.Equal(t, b.m2, c.tableAt("main", b))
	}
}

func (c *core) headID() string {
	h, ok := c.lake.GetCommit(testRepo, "main")
	require.True(c.t, ok)
	return h.ID
}

// The dry run checks every table and changes nothing; selectors narrow the tables; records
// of another repository are never pulled onto this one.
func TestBulkPullDryRunAndSelectors(t *testing.T) {
	c := newCore(t, lakefs.LayoutPointer, nil)
	tables := c.bulkTables(3)
	for _, b := range tables {
		c.remoteCommit(b)
	}
	commits := c.lake.Calls("commit")
	results, totals := c.bulkPull(false, true)
	assert.Equal(t, http.StatusOK, totals.Status)
	assert.Equal(t, map[string]string{"t0": "planned", "t1": "planned", "t2": "planned"}, outcomes(results))
	assert.Equal(t, commits, c.lake.Calls("commit"))
	assert.Empty(t, c.lake.Staged(testRepo, "main"))

	var got []remotes.BulkResult
	totals, err := c.svc.BulkPull(ctxT(t), remotes.BulkPullRequest{Catalog: testRemote, Repository: testRepo, Branch: "main",
		Namespace: "analytics", Table: "t[02]"}, func(r remotes.BulkResult) { got = append(got, r) })
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"t0": "pulled", "t2": "pulled"}, outcomes(got))
	assert.Equal(t, tables[1].m1, c.tableAt("main", tables[1]), "not selected")

	_, totals = func() ([]remotes.BulkResult, remotes.BulkTotals) {
		totals, err := c.svc.BulkPull(ctxT(t), remotes.BulkPullRequest{Catalog: testRemote, Repository: "other-repo", Branch: "main"}, nil)
		require.NoError(t, err)
		return nil, totals
	}()
	assert.Zero(t, totals.Total, "nothing was pushed from another repository")

	_, err = c.svc.BulkPull(ctxT(t), remotes.BulkPullRequest{Catalog: testRemote, Repository: testRepo, Branch: "main", Table: "[bad"}, nil)
	require.Error(t, err)
	_, err = c.svc.BulkPull(ctxT(t), remotes.BulkPullRequest{Catalog: "nope", Repository: testRepo, Branch: "main"}, nil)
	require.Error(t, err)
}

// Someone's uncommitted work on the branch blocks the whole commit, and stays staged.
func TestBulkPullUncommittedChanges(t *testing.T) {
	c := newCore(t, lakefs.LayoutPointer, nil)
	tables := c.bulkTables(3)
	for _, b := range tables {
		c.remoteCommit(b)
	}
	c.lake.PutObject(testRepo, "main", "data/someone.csv", []byte("x"))
	commits := c.lake.Calls("commit")
	results, totals := c.bulkPull(false, false)
	assert.Equal(t, http.StatusConflict, totals.Status, "%+v", results)
	assert.Contains(t, totals.Message, "uncommitted changes")
	assert.Equal(t, 3, totals.Failed)
	assert.Equal(t, commits, c.lake.Calls("commit"))
	assert.Equal(t, []string{"data/someone.csv"}, c.lake.Staged(testRepo, "main"))
}

// A bulk pull's tables are read at the head its branch check resolved, and its write
// re-checks the head after staging: a commit that changes one of the tables while the
// others are still being checked makes the whole bulk pull 409, with nothing committed or
// left staged and the concurrent commit kept.
func TestBulkPullRefusesConcurrentLakeFSCommit(t *testing.T) {
	for _, layout := range []string{lakefs.LayoutPointer, lakefs.LayoutHadoop} {
		t.Run(layout, func(t *testing.T) {
			c := newCore(t, layout, nil)
			tables := c.bulkTables(3)
			for _, b := range tables {
				c.remoteCommit(b)
			}
			other := c.tableVersion(tables[0], 3, 3)
			c.before = func(location string) { // someone commits t0 while t2 is checked
				if location != tables[2].m2 {
					return
				}
				c.before = nil
				c.linkTable("main", "t0", other, 2)
				_, err := c.client.Commit(ctxT(t), testRepo, "main", "someone else", nil)
				require.NoError(t, err)
			}
			commits := c.lake.Calls("commit")
			results, totals := c.bulkPull(false, false)
			assert.Equal(t, http.StatusConflict, totals.Status, "%+v", results)
			assert.Contains(t, totals.Message, "a commit since the checks")
			assert.Empty(t, totals.CommitID)
			assert.Equal(t, commits+1, c.lake.Calls("commit"), "only the concurrent commit")
			assert.Equal(t, other, c.tableAt("main", tables[0]), "the concurrent commit is kept")
			assert.Equal(t, tables[1].m1, c.tableAt("main", tables[1]))
			assert.Empty(t, c.lake.Staged(testRepo, "main"), "nothing staged")
		})
	}
}
