package remotes_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/apperr"
	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog"
	"github.com/iceberg-remotes/iceberg-remotes/internal/config"
	"github.com/iceberg-remotes/iceberg-remotes/internal/lakefs"
	"github.com/iceberg-remotes/iceberg-remotes/internal/remotes"
	"github.com/iceberg-remotes/iceberg-remotes/internal/remotes/remotestest"
	"github.com/iceberg-remotes/iceberg-remotes/internal/state"
)

// storedVersion writes metadata file n under the repository's storage namespace, where
// lakeFS's garbage collector (and the stand-in's model of it) may delete it.
func (c *core) storedVersion(n int, prev []string) string {
	return remotestest.WriteMetadata(c.t, c.dir, "repo/tables/events/metadata/"+pad(n)+"-"+c.uuid[:8]+"-0000-0000-0000-000000000000.metadata.json",
		remotestest.Version{TableUUID: c.uuid, Location: "file://" + filepath.Join(c.dir, "repo", "tables", "events"), Snapshots: []int64{int64(n)}, Previous: prev})
}

// commitVersion links loc as the table on branch and commits it, returning the commit.
func (c *core) commitVersion(branch, loc string, n int) string {
	c.link(branch, loc, n)
	id, err := c.client.Commit(ctxT(c.t), testRepo, branch, "table v"+pad(n), nil)
	require.NoError(c.t, err)
	return id
}

func (c *core) pushFrom(branch string, force bool, allowUncommitted *bool) (*remotes.Plan, error) {
	return c.svc.Push(ctxT(c.t), remotes.PushRequest{Catalog: testRemote, Source: c.ref(branch),
		Destination: c.remoteID(), CreateNamespace: true, ForceUpdate: force, AllowUncommitted: allowUncommitted})
}

// readable tells whether lakeFS still serves the table's metadata at ref (the GC model
// answers 410 for what it collected).
func (c *core) readable(ref string) error {
	_, err := c.locator.ReadTable(ctxT(c.t), c.ref(ref))
	return err
}

// A published commit is kept from lakeFS's garbage collector by a hidden branch that
// exists while it is published, moves (new branch first, then the old one goes) when a
// re-push publishes another commit, and keeps the commit's files after the source branch
// is deleted; once released (un-publish), GC collects them. Checked on the stand-in, whose
// GC model follows lakeFS's rule (branch heads are kept; dangling commits and tags are not).
func TestPublishedCommitIsProtectedFromGC(t *testing.T) {
	c := newCore(t, lakefs.LayoutPointer, nil)
	c.lake.CreateBranch(testRepo, "etl", "main")
	v2 := c.storedVersion(2, nil)
	commit2 := c.commitVersion("etl", v2, 2)

	_, err := c.pushFrom("etl", false, nil)
	require.NoError(t, err)
	ref2 := remotes.ProtectedRefName(commit2)
	head, hidden, ok := c.lake.Branch(testRepo, ref2)
	require.True(t, ok, "the published commit's protecting branch exists")
	assert.Equal(t, commit2, head)
	assert.True(t, hidden, "created hidden, out of default branch listings")
	assert.Equal(t, ref2, c.record().ProtectedRef)
	assert.Equal(t, 1, c.lake.Calls("createBranch"))

	// An unchanged re-push makes no branch call.
	_, err = c.pushFrom("etl", false, nil)
	require.NoError(t, err)
	assert.Equal(t, 1, c.lake.Calls("createBranch"))
	assert.Equal(t, 0, c.lake.Calls("deleteBranch"))

	v3 := c.storedVersion(3, []string{v2})
	commit3 := c.commitVersion("etl", v3, 3)
	_, err = c.pushFrom("etl", true, nil)
	require.NoError(t, err)
	ref3 := remotes.ProtectedRefName(commit3)
	require.NotEqual(t, ref2, ref3)
	head, _, ok = c.lake.Branch(testRepo, ref3)
	require.True(t, ok, "the re-push moved the protection to the new commit")
	assert.Equal(t, commit3, head)
	_, _, ok = c.lake.Branch(testRepo, ref2)
	assert.False(t, ok, "the previous commit's branch is gone")
	assert.Equal(t, ref3, c.record().ProtectedRef)

	// The source branch goes (over the API, contract-checked) and GC runs with no retention.
	require.NoError(t, c.client.DeleteBranch(ctxT(t), testRepo, "etl"))
	collected := c.lake.CollectGarbage(testRepo, 0)
	assert.Contains(t, collected, v2, "GC collects what no branch head keeps: the model does delete")
	assert.NotContains(t, collected, v3, "the published metadata is kept")
	require.NoError(t, c.readable(ref3), "the published commit stays readable through its protecting branch")
	require.NoError(t, c.readable(commit3), "and by its id")

	// Un-publish: the remote drops the table, then the protecting branch goes.
	plan, err := c.svc.Unpublish(ctxT(t), remotes.UnpublishRequest{Catalog: testRemote, Table: c.remoteID(), DryRun: true})
	require.NoError(t, err)
	assert.Contains(t, strings.Join(plan.Actions, "\n"), ref3, "the dry run names the branch it would delete")
	_, err = c.svc.Unpublish(ctxT(t), remotes.UnpublishRequest{Catalog: testRemote, Table: c.remoteID()})
	require.NoError(t, err)
	rec := c.record()
	assert.Equal(t, state.StatusUnpublished, rec.Status)
	assert.Empty(t, rec.ProtectedRef)
	_, _, ok = c.lake.Branch(testRepo, ref3)
	assert.False(t, ok, "un-published: the protecting branch is gone")
	collected = c.lake.CollectGarbage(testRepo, 0)
	assert.Contains(t, collected, v3, "unprotected, the commit's files are collected")
	err = c.readable(commit3)
	require.Error(t, err)
	assert.True(t, c.lake.Collected(v3))
}

// An un-publish whose branch deletion fails still un-publishes; the record keeps the branch
// and says so, and the next un-publish deletes it.
func TestUnpublishRetriesAFailedRelease(t *testing.T) {
	c := newCore(t, lakefs.LayoutPointer, nil)
	c.push()
	ref := c.record().ProtectedRef
	c.lake.FailNext("deleteBranch", 1, http.StatusForbidden)
	_, err := c.svc.Unpublish(ctxT(t), remotes.UnpublishRequest{Catalog: testRemote, Table: c.remoteID()})
	require.NoError(t, err)
	rec := c.record()
	assert.Equal(t, state.StatusUnpublished, rec.Status)
	assert.Equal(t, ref, rec.ProtectedRef)
	assert.Contains(t, rec.Notes, ref)
	_, _, ok := c.lake.Branch(testRepo, ref)
	assert.True(t, ok)

	_, err = c.svc.Unpublish(ctxT(t), remotes.UnpublishRequest{Catalog: testRemote, Table: c.remoteID()})
	require.NoError(t, err)
	assert.Empty(t, c.record().ProtectedRef)
	_, _, ok = c.lake.Branch(testRepo, ref)
	assert.False(t, ok)
}

// The same push without protection loses its files: the reason protection exists. A
// dangling commit (its branch deleted) is not kept with zero retention.
func TestUnprotectedCommitIsCollectedOnceItsBranchIsDeleted(t *testing.T) {
	c := newCore(t, lakefs.LayoutPointer, nil)
	c.lake.CreateBranch(testRepo, "etl", "main")
	v2 := c.storedVersion(2, nil)
	commit2 := c.commitVersion("etl", v2, 2)
	c.lake.CreateTag(testRepo, "v2-tag", commit2) // a tag does not protect it
	require.NoError(t, c.client.DeleteBranch(ctxT(t), testRepo, "etl"))
	assert.Contains(t, c.lake.CollectGarbage(testRepo, 0), v2)
	// Within the retention period the dangling commit is still kept.
	c2 := newCore(t, lakefs.LayoutPointer, nil)
	c2.lake.CreateBranch(testRepo, "etl", "main")
	v := c2.storedVersion(2, nil)
	c2.commitVersion("etl", v, 2)
	require.NoError(t, c2.client.DeleteBranch(ctxT(t), testRepo, "etl"))
	assert.NotContains(t, c2.lake.CollectGarbage(testRepo, time.Hour), v)
}

// A branch whose table is only staged is refused (409) unless allow_uncommitted is set,
// per request or as the remote's default; such a push is recorded unprotected and releases
// the previous commit's branch.
func TestPushOfUncommittedTableNeedsOptIn(t *testing.T) {
	c := newCore(t, lakefs.LayoutPointer, nil)
	c.push()
	first := c.record()
	require.NotEmpty(t, first.ProtectedRef)
	c.link("main", c.version(2, nil, 2), 2) // staged, not committed

	plan, err := c.pushFrom("main", true, nil)
	require.Error(t, err)
	assert.Equal(t, http.StatusConflict, apperr.StatusOf(err))
	assert.Contains(t, apperr.PublicMessage(err), "allow_uncommitted")
	assert.Equal(t, first.Version, c.record().Version, "refused before any intent: the record is untouched")
	failedCheck := plan.Checks[len(plan.Checks)-1]
	assert.Equal(t, "committed", failedCheck.Name)
	assert.False(t, failedCheck.OK)

	no := false
	_, err = c.pushFrom("main", true, &no)
	require.Error(t, err, "an explicit false refuses too")

	yes := true
	_, err = c.pushFrom("main", true, &yes)
	require.NoError(t, err)
	rec := c.record()
	assert.Empty(t, rec.ProtectedRef, "staged objects cannot be protected by a ref")
	assert.Contains(t, rec.Notes, "allow_uncommitted")
	_, _, ok := c.lake.Branch(testRepo, first.ProtectedRef)
	assert.False(t, ok, "the previously published commit is no longer published, nor protected")

	// The remote's default allows it without the parameter.
	c2 := newCore(t, lakefs.LayoutHadoop, func(r *config.Remote) { r.AllowUncommitted = true })
	c2.link("main", c2.version(2, nil, 2), 2)
	_, err = c2.pushFrom("main", false, nil)
	require.NoError(t, err)
	_, err = c2.pushFrom("main", false, &no)
	require.Error(t, err, "the request's false overrides the remote's default")
}

// failingAdapter fails RegisterTable and ReplaceTable while fail is set.
type failingAdapter struct {
	catalog.Adapter
	fail *bool
}

func (f failingAdapter) RegisterTable(ctx context.Context, id catalog.Ident, loc string, p catalog.Provenance) error {
	if *f.fail {
		return apperr.Wrap(http.StatusServiceUnavailable, errors.New("dial tcp 10.0.0.1: secret-token-in-detail"), "remote catalog unavailable")
	}
	return f.Adapter.RegisterTable(ctx, id, loc, p)
}

func (f failingAdapter) ReplaceTable(ctx context.Context, id catalog.Ident, expected, loc string, p catalog.Provenance) (bool, error) {
	if *f.fail {
		return true, apperr.Wrap(http.StatusServiceUnavailable, errors.New("dial tcp 10.0.0.1: secret-token-in-detail"), "remote catalog unavailable")
	}
	return f.Adapter.ReplaceTable(ctx, id, expected, loc, p)
}

// last_success_at and last_error: a success sets the time and clears the error; a failure
// after the intent records the public message only, keeps the last success, and deletes
// the protecting branch it created for the commit it failed to publish.
func TestPublicationHealthTransitions(t *testing.T) {
	c := newCore(t, lakefs.LayoutPointer, nil)
	fail := true
	c.remote.Adapter = failingAdapter{Adapter: c.remote.Adapter, fail: &fail}

	err := c.pushWith(false)
	require.Error(t, err)
	rec := c.record()
	assert.Equal(t, state.StatusFailed, rec.Status)
	assert.Equal(t, "remote catalog unavailable", rec.LastError)
	assert.True(t, rec.LastSuccessAt.IsZero())
	assert.Empty(t, rec.ProtectedRef)
	assert.Equal(t, 1, c.lake.Calls("deleteBranch"), "the branch created for the failed push is deleted")
	mainHead, _, _ := c.lake.Branch(testRepo, "main")
	_, _, ok := c.lake.Branch(testRepo, remotes.ProtectedRefName(mainHead))
	assert.False(t, ok)

	fail = false
	before := time.Now().UTC()
	require.NoError(t, c.pushWith(false))
	rec = c.record()
	assert.Equal(t, state.StatusSynced, rec.Status)
	assert.Empty(t, rec.LastError)
	assert.False(t, rec.LastSuccessAt.Before(before.Truncate(time.Microsecond)))
	firstSuccess := rec.LastSuccessAt

	commit := c.commitVersion("main", c.version(2, nil, 2), 2)
	fail = true
	require.Error(t, c.pushWith(true))
	rec = c.record()
	assert.Equal(t, "remote catalog unavailable", rec.LastError)
	assert.NotContains(t, rec.LastError, "secret")
	assert.Equal(t, firstSuccess, rec.LastSuccessAt, "a failure keeps the last success")
	_, _, ok = c.lake.Branch(testRepo, remotes.ProtectedRefName(commit))
	assert.False(t, ok, "no branch protects the commit that was not published")
	_, _, ok = c.lake.Branch(testRepo, rec.ProtectedRef)
	assert.True(t, ok, "the published commit keeps its protection")

	fail = false
	require.NoError(t, c.pushWith(true))
	rec = c.record()
	assert.Empty(t, rec.LastError, "a success clears the error")
	assert.True(t, rec.LastSuccessAt.After(firstSuccess))
	assert.Equal(t, remotes.ProtectedRefName(commit), rec.ProtectedRef)
}

// A protecting branch that cannot be created (here: the caller may not create branches)
// fails the push before the remote is touched, and leaves no half state.
func TestProtectionFailureLeavesNothingHalfDone(t *testing.T) {
	c := newCore(t, lakefs.LayoutPointer, nil)
	c.lake.FailNext("createBranch", 1, http.StatusForbidden)
	plan, err := c.pushFrom("main", false, nil)
	require.Error(t, err)
	assert.Equal(t, http.StatusUnauthorized, apperr.StatusOf(err), "lakeFS's refusal, as lakeFS answers permission denials")
	assert.Equal(t, "gc_protection", plan.Checks[len(plan.Checks)-1].Name)
	assert.Empty(t, filter(c.cat.Calls(), "RegisterTable", "ReplaceTable", "CreateNamespace"), "the remote was not touched")
	rec := c.record()
	assert.Empty(t, rec.Pending)
	assert.Empty(t, rec.ProtectedRef)
	assert.Contains(t, rec.LastError, "protect")

	_, err = c.pushFrom("main", false, nil)
	require.NoError(t, err)
	assert.NotEmpty(t, c.record().ProtectedRef)
}

// A pull commits the remote's state onto the branch; that commit is what the remote now
// publishes, so the protection moves to it (the old branch goes after the new one exists).
func TestPullMovesProtectionToItsCommit(t *testing.T) {
	c := newCore(t, lakefs.LayoutPointer, nil)
	c.push()
	pushed := c.record()
	require.NotEmpty(t, pushed.ProtectedRef)

	c.cat.SetTable(c.remoteID(), c.version(2, []string{pushed.PushedLocation}, 2))
	_, err := c.pull(false, false)
	require.NoError(t, err)
	rec := c.record()
	head, _, _ := c.lake.Branch(testRepo, "main")
	assert.Equal(t, head, rec.ResolvedCommit, "the pull's commit")
	assert.Equal(t, remotes.ProtectedRefName(head), rec.ProtectedRef)
	got, hidden, ok := c.lake.Branch(testRepo, rec.ProtectedRef)
	require.True(t, ok)
	assert.True(t, hidden)
	assert.Equal(t, head, got)
	_, _, ok = c.lake.Branch(testRepo, pushed.ProtectedRef)
	assert.False(t, ok, "the pushed commit's branch is gone")
	assert.False(t, rec.LastSuccessAt.Before(pushed.LastSuccessAt))

	// The pulled file is the table's in the pull's commit, and the record proves it: a push
	// right after is unchanged, with one stat at the branch and no metadata read.
	before := c.lakeCalls()
	require.NoError(t, c.pushWith(false), "a pushed-back pull is committed, not staged")
	assert.Equal(t, map[string]int{"getBranch": 1, "statObject": 1}, diffCalls(c.lakeCalls(), before))
	assert.Equal(t, rec.ProtectedRef, c.record().ProtectedRef)
}

// A bulk push checks that its tables are committed with one listing at the head commit, not
// a stat per table, refuses the staged-only ones, and protects the published tables with
// one branch, shared by the four tables published at the one commit.
func TestBulkPushChecksCommittedWithOneListing(t *testing.T) {
	c := newCore(t, lakefs.LayoutPointer, nil)
	for i := 0; i < 4; i++ {
		c.linkAt("main", []string{"n"}, fmt.Sprintf("t%d", i), c.version(i+2, nil, 1))
	}
	_, err := c.client.Commit(ctxT(t), testRepo, "main", "four tables", nil)
	require.NoError(t, err)
	c.linkAt("main", []string{"n"}, "staged", c.version(7, nil, 1))

	stats, lists, creates := c.lake.Calls("statObject"), c.lake.Calls("listObjects"), c.lake.Calls("createBranch")
	res, totals, err := c.bulk(remotes.BulkPushRequest{Namespace: "n", DestinationNamespace: "r", CreateNamespace: true})
	require.NoError(t, err)
	assert.Equal(t, 4, totals.Changed)
	assert.Equal(t, 1, totals.Failed)
	for _, r := range res {
		if r.Source.Table == "staged" {
			assert.Equal(t, http.StatusConflict, r.Status)
			assert.Contains(t, r.Message, "allow_uncommitted")
		} else {
			assert.Equal(t, remotes.OutcomePushed, r.Outcome, r.Message)
		}
	}
	assert.Equal(t, stats, c.lake.Calls("statObject"), "no stat per table")
	assert.Equal(t, lists+2, c.lake.Calls("listObjects"), "the branch's listing and the commit's")
	assert.Equal(t, creates+1, c.lake.Calls("createBranch"), "one protecting branch for the commit")
	head, _, _ := c.lake.Branch(testRepo, "main")
	for i := 0; i < 4; i++ {
		rec, err := c.store.GetSyncRecord(ctxT(t), state.TableKey{Catalog: testRemote, Namespace: []string{"r"}, Table: fmt.Sprintf("t%d", i)})
		require.NoError(t, err)
		assert.Equal(t, remotes.ProtectedRefName(head), rec.ProtectedRef)
	}

	yes := true
	_, totals, err = c.bulk(remotes.BulkPushRequest{Namespace: "n", DestinationNamespace: "r", AllowUncommitted: &yes})
	require.NoError(t, err)
	assert.Equal(t, remotes.BulkTotals{Total: 5, Changed: 1, Unchanged: 4, Status: http.StatusOK}, totals)
}

// An operation that died after its intent (the process crashed) and did not happen is
// recorded by the next operation that settles it as "did not finish", and the branch it may
// have created for the commit it meant to publish is deleted.
func TestCrashedPushIsRecordedAsUnfinished(t *testing.T) {
	c := newCore(t, lakefs.LayoutPointer, nil)
	c.push()
	rec := c.record()
	commit := c.commitVersion("main", c.version(2, nil, 2), 2)
	stray := remotes.ProtectedRefName(commit)
	c.lake.CreateBranch(testRepo, stray, commit) // the crashed push had protected its commit
	rec.Pending = `{"op":"push","request_id":"r-crashed","location":"file:///nowhere/00002-x.metadata.json","repository":"` + testRepo +
		`","commit":"` + commit + `","protect_ref":"` + stray + `","prev_protect_ref":"` + rec.ProtectedRef + `","prev_protect_repo":"` + testRepo + `"}`
	rec.Status = state.StatusPending
	require.NoError(t, c.store.UpdateSyncRecord(ctxT(t), &rec))

	_, err := c.pull(false, false) // in sync: settles the record and changes nothing else
	require.NoError(t, err)
	got := c.record()
	assert.Empty(t, got.Pending)
	assert.Equal(t, state.StatusSynced, got.Status)
	assert.Equal(t, "push (request r-crashed) did not finish", got.LastError)
	assert.Equal(t, rec.ProtectedRef, got.ProtectedRef, "the published commit keeps its protection")
	_, _, ok := c.lake.Branch(testRepo, stray)
	assert.False(t, ok, "the crashed push's branch is deleted")
	_, _, ok = c.lake.Branch(testRepo, rec.ProtectedRef)
	assert.True(t, ok)
}

// A push that died after the remote changed is settled as done: its commit's branch is
// created if the crash came first, the previous one deleted, and the record says so.
func TestCrashedPushThatHappenedIsProtected(t *testing.T) {
	c := newCore(t, lakefs.LayoutPointer, nil)
	c.push()
	rec := c.record()
	v2 := c.version(2, []string{rec.PushedLocation}, 2)
	commit := c.commitVersion("main", v2, 2)
	ref := remotes.ProtectedRefName(commit)
	c.cat.SetTable(c.remoteID(), v2) // the remote was re-pointed, then the process died
	rec.Pending = `{"op":"push","request_id":"r-crashed","location":"` + v2 + `","prev_remote":"` + rec.PushedLocation +
		`","repository":"` + testRepo + `","reference":"main","local_namespace":["accounting"],"local_table":"events","commit":"` + commit +
		`","table_uuid":"` + c.uuid + `","snapshot_id":"2","protect_ref":"` + ref + `","prev_protect_ref":"` + rec.ProtectedRef +
		`","prev_protect_repo":"` + testRepo + `"}`
	rec.Status = state.StatusPending
	require.NoError(t, c.store.UpdateSyncRecord(ctxT(t), &rec))

	_, err := c.pull(false, false)
	require.NoError(t, err)
	got := c.record()
	assert.Equal(t, state.StatusSynced, got.Status)
	assert.Equal(t, v2, got.PushedLocation)
	assert.Equal(t, ref, got.ProtectedRef)
	assert.Empty(t, got.LastError)
	head, _, ok := c.lake.Branch(testRepo, ref)
	require.True(t, ok, "created by the settling")
	assert.Equal(t, commit, head)
	_, _, ok = c.lake.Branch(testRepo, rec.ProtectedRef)
	assert.False(t, ok, "the previous commit's branch is deleted")
}
