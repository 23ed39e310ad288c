package remotes_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog"
	"github.com/iceberg-remotes/iceberg-remotes/internal/config"
	"github.com/iceberg-remotes/iceberg-remotes/internal/httpclient"
	"github.com/iceberg-remotes/iceberg-remotes/internal/lakefs"
	"github.com/iceberg-remotes/iceberg-remotes/internal/objstore"
	"github.com/iceberg-remotes/iceberg-remotes/internal/remotes"
	"github.com/iceberg-remotes/iceberg-remotes/internal/state"
	"github.com/iceberg-remotes/iceberg-remotes/internal/testutil/pgtest"
)

// named is remote table analytics.<name>.
func named(name string) catalog.Ident { return catalog.Ident{Namespace: remoteNS, Table: name} }

// pushAs publishes the table on branch as remote table name.
func (c *core) pushAs(branch, name string, force bool) error {
	_, err := c.svc.Push(ctxT(c.t), remotes.PushRequest{Catalog: testRemote, Source: c.ref(branch),
		Destination: named(name), CreateNamespace: true, ForceUpdate: force})
	return err
}

func (c *core) unpublishAs(name string) error {
	_, err := c.svc.Unpublish(ctxT(c.t), remotes.UnpublishRequest{Catalog: testRemote, Table: named(name)})
	return err
}

func (c *core) recordAs(name string) state.SyncRecord {
	c.t.Helper()
	rec, err := c.store.GetSyncRecord(ctxT(c.t), state.TableKey{Catalog: testRemote, Namespace: remoteNS, Table: name})
	require.NoError(c.t, err)
	return rec
}

func (c *core) hasBranch(name string) bool {
	_, _, ok := c.lake.Branch(testRepo, name)
	return ok
}

// Two tables published at one commit share its one protecting branch (one createBranch);
// un-publishing the first keeps it, and GC (the stand-in's model of lakeFS's rule) keeps
// the commit's files for the second after the source branch is deleted; un-publishing the
// second deletes it, and then GC collects them.
func TestTablesAtOneCommitShareOneBranch(t *testing.T) {
	c := newCore(t, lakefs.LayoutPointer, nil)
	c.lake.CreateBranch(testRepo, "etl", "main")
	v2 := c.storedVersion(2, nil)
	commit := c.commitVersion("etl", v2, 2)
	ref := remotes.ProtectedRefName(commit)
	assert.Equal(t, "iceberg-remotes-"+commit, ref)

	creates := c.lake.Calls("createBranch")
	require.NoError(t, c.pushAs("etl", "a", false))
	require.NoError(t, c.pushAs("etl", "b", false))
	assert.Equal(t, creates+1, c.lake.Calls("createBranch"), "one branch for the commit")
	assert.Equal(t, ref, c.recordAs("a").ProtectedRef)
	assert.Equal(t, ref, c.recordAs("b").ProtectedRef)
	head, hidden, ok := c.lake.Branch(testRepo, ref)
	require.True(t, ok)
	assert.Equal(t, commit, head)
	assert.True(t, hidden)

	require.NoError(t, c.unpublishAs("a"))
	assert.Empty(t, c.recordAs("a").ProtectedRef)
	assert.Equal(t, 0, c.lake.Calls("deleteBranch"), "b still uses the branch")
	require.True(t, c.hasBranch(ref))

	require.NoError(t, c.client.DeleteBranch(ctxT(t), testRepo, "etl"))
	assert.NotContains(t, c.lake.CollectGarbage(testRepo, 0), v2, "b's published files survive GC")
	require.NoError(t, c.readable(commit))

	require.NoError(t, c.unpublishAs("b"))
	assert.False(t, c.hasBranch(ref), "the last table released it")
	assert.Contains(t, c.lake.CollectGarbage(testRepo, 0), v2, "unprotected, the files are collected")
}

// A re-push of one table to a new commit keeps the old commit's branch while another table
// is still published at it; the other's re-push then deletes it.
func TestRepushKeepsABranchAnotherTableUses(t *testing.T) {
	c := newCore(t, lakefs.LayoutPointer, nil)
	c.lake.CreateBranch(testRepo, "etl", "main")
	v2 := c.storedVersion(2, nil)
	commit2 := c.commitVersion("etl", v2, 2)
	require.NoError(t, c.pushAs("etl", "a", false))
	require.NoError(t, c.pushAs("etl", "b", false))
	ref2 := remotes.ProtectedRefName(commit2)

	v3 := c.storedVersion(3, []string{v2})
	commit3 := c.commitVersion("etl", v3, 3)
	ref3 := remotes.ProtectedRefName(commit3)
	require.NoError(t, c.pushAs("etl", "a", true))
	assert.Equal(t, ref3, c.recordAs("a").ProtectedRef)
	assert.True(t, c.hasBranch(ref3))
	assert.True(t, c.hasBranch(ref2), "b is still published at the old commit")
	assert.Equal(t, 0, c.lake.Calls("deleteBranch"))

	require.NoError(t, c.client.DeleteBranch(ctxT(t), testRepo, "etl"))
	collected := c.lake.CollectGarbage(testRepo, 0)
	assert.NotContains(t, collected, v2, "b's published files survive GC")
	assert.NotContains(t, collected, v3, "a's published files survive GC")

	c.lake.CreateBranch(testRepo, "etl", commit3)
	creates := c.lake.Calls("createBranch")
	require.NoError(t, c.pushAs("etl", "b", true))
	assert.Equal(t, creates, c.lake.Calls("createBranch"), "the new commit's branch exists already")
	assert.False(t, c.hasBranch(ref2), "no table uses the old commit: its branch goes")
	assert.True(t, c.hasBranch(ref3))
	assert.Contains(t, c.lake.CollectGarbage(testRepo, 0), v2)
}

// usePostgres rebuilds c's service over a PostgreSQL state store (its own schema).
func (c *core) usePostgres() {
	c.t.Helper()
	st, err := state.OpenPostgres(ctxT(c.t), config.Postgres{ConnectionString: pgtest.Schema(c.t)}, nil)
	require.NoError(c.t, err)
	c.t.Cleanup(func() { _ = st.Close() })
	objects, err := objstore.New(config.ObjectStore{}, objstore.Options{Policy: httpclient.Policy{Timeout: 30 * time.Second}})
	require.NoError(c.t, err)
	c.store = st
	c.svc = remotes.New(remotes.Options{Remotes: []*remotes.Remote{c.remote}, LakeFS: c.locator,
		Reader: hookedReader{c: c, next: remotes.NewMetadataReader(objects, nil)}, Store: st})
}

// Concurrent publishes and releases of one commit never leave a published table's commit
// without its branch: each goroutine owns a table and, in a loop, publishes it (at the one
// commit), checks the branch exists while its table is published, and un-publishes it.
// When all are done and nothing is published, the branch is gone. On SQLite and on
// PostgreSQL (advisory locks); run under -race.
func TestConcurrentPublishAndReleaseOfOneCommit(t *testing.T) {
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			c := newCore(t, lakefs.LayoutPointer, nil)
			if db == "postgres" {
				c.usePostgres()
			}
			head, _, _ := c.lake.Branch(testRepo, "main")
			ref := remotes.ProtectedRefName(head)
			const tables, rounds = 6, 4
			var wg sync.WaitGroup
			errs := make(chan error, tables*rounds*2)
			for i := range tables {
				wg.Add(1)
				go func() {
					defer wg.Done()
					name := fmt.Sprintf("t%d", i)
					for range rounds {
						if err := c.pushAs("main", name, false); err != nil {
							errs <- fmt.Errorf("push %s: %w", name, err)
							return
						}
						if !c.hasBranch(ref) {
							errs <- fmt.Errorf("%s is published at %s without its branch", name, head)
						}
						if err := c.unpublishAs(name); err != nil {
							errs <- fmt.Errorf("unpublish %s: %w", name, err)
							return
						}
					}
					// Leave the even tables published.
					if i%2 == 0 {
						if err := c.pushAs("main", name, false); err != nil {
							errs <- fmt.Errorf("push %s: %w", name, err)
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			require.True(t, c.hasBranch(ref), "published tables keep their commit's branch")
			for i := 0; i < tables; i += 2 {
				assert.Equal(t, ref, c.recordAs(fmt.Sprintf("t%d", i)).ProtectedRef)
			}
			for i := 0; i < tables; i += 2 {
				require.NoError(t, c.unpublishAs(fmt.Sprintf("t%d", i)))
			}
			assert.False(t, c.hasBranch(ref), "no table published: the branch is gone")
		})
	}
}

// Settling a crashed push (reconcile) releases the branches the record no longer uses
// only when no other table uses them: the branch of a push that did not happen stays while
// another table is published at its commit, and so does the previous commit's branch of a
// push that did happen; the new commit's branch, existing already, is not created again.
func TestSettlingACrashedPushKeepsSharedBranches(t *testing.T) {
	c := newCore(t, lakefs.LayoutPointer, nil)
	c.push()
	require.NoError(t, c.pushAs("main", "other", false)) // shares the first commit's branch
	rec := c.record()
	ref1 := rec.ProtectedRef
	v2 := c.version(2, []string{rec.PushedLocation}, 2)
	commit2 := c.commitVersion("main", v2, 2)
	ref2 := remotes.ProtectedRefName(commit2)
	require.NoError(t, c.pushAs("main", "b", false)) // published at commit2
	require.True(t, c.hasBranch(ref2))

	crashed := func(location string) {
		r := c.record()
		r.Pending = `{"op":"push","request_id":"r-crashed","location":"` + location + `","prev_remote":"` + r.PushedLocation +
			`","repository":"` + testRepo + `","reference":"main","local_namespace":["accounting"],"local_table":"events","commit":"` + commit2 +
			`","table_uuid":"` + c.uuid + `","snapshot_id":"2","protect_ref":"` + ref2 + `","prev_protect_ref":"` + ref1 +
			`","prev_protect_repo":"` + testRepo + `"}`
		r.Status = state.StatusPending
		require.NoError(t, c.store.UpdateSyncRecord(ctxT(t), &r))
	}

	// Did not happen (the remote still shows the old file).
	crashed("file:///nowhere/00002-x.metadata.json")
	_, err := c.pull(false, false)
	require.NoError(t, err)
	assert.Equal(t, ref1, c.record().ProtectedRef)
	assert.True(t, c.hasBranch(ref2), "b still uses the commit the crashed push meant to publish")
	assert.True(t, c.hasBranch(ref1))

	// Happened (the remote was re-pointed, then the process died).
	crashed(v2)
	c.cat.SetTable(c.remoteID(), v2)
	creates := c.lake.Calls("createBranch")
	_, err = c.pull(false, false)
	require.NoError(t, err)
	got := c.record()
	assert.Equal(t, v2, got.PushedLocation)
	assert.Equal(t, ref2, got.ProtectedRef)
	assert.Equal(t, creates, c.lake.Calls("createBranch"), "the new commit's branch exists already")
	assert.True(t, c.hasBranch(ref1), "other is still published at the previous commit")
	assert.Equal(t, 0, c.lake.Calls("deleteBranch"))

	require.NoError(t, c.unpublishAs("other"))
	assert.False(t, c.hasBranch(ref1), "the last user released it")
}
