package e2e

import (
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/config"
)

// tagHookEvent is the body lakeFS posts for post-create-tag / post-delete-tag
// (pkg/actions/event.go): tag_id, the tagged commit as commit_id and source_ref, and an
// empty branch_id.
func tagHookEvent(eventType, repository, tag, commitID string) map[string]any {
	return map[string]any{
		"event_type":     eventType,
		"event_time":     time.Now().UTC().Format(time.RFC3339),
		"action_name":    "publish releases",
		"hook_id":        "iceberg_remotes",
		"repository_id":  repository,
		"branch_id":      "",
		"tag_id":         tag,
		"source_ref":     commitID,
		"commit_id":      commitID,
		"commit_message": "",
		"committer":      "",
	}
}

// tagsEnv starts the service with one tag subscription (v* tags, every table, into
// rel_{tag}_{namespace}) and commits a second table on main; it returns the env, the
// remote's DSN and the orders table's metadata location at that commit.
func tagsEnv(t *testing.T, onTagDelete string) (*env, string, string) {
	e := newBackends(t, "pointer")
	rc, writer := sqlSQLite().setup(t, e.dir)
	e.writer = writer
	rc.AutoPush = []config.AutoPush{{Repository: repo, Tag: "v*", Namespace: "*", Table: "*",
		DestinationNamespace: "rel_{tag}_{namespace}", CreateNamespace: true, OnTagDelete: onTagDelete}}
	cfg := e.baseConfig()
	cfg.IcebergCatalog.Remotes = []config.Remote{rc}
	cfg.IcebergCatalog.Publications = fastPublications()
	e.start(&cfg)
	orders := e.authorTable([]string{"sales"}, "orders", 2)
	e.link("main", []string{"sales"}, "orders", orders, 1)
	_, err := e.client.Commit(ctx(t), repo, "main", "orders", nil)
	require.NoError(t, err)
	return e, "file:" + filepath.Join(e.dir, "remote.db"), orders
}

// TestTagPublicationCreatedAndUnpublished: tag v1 created → its tables appear in rel_v1_*
// at the tag's commit (main moved on since does not matter); tag deleted with
// on_tag_delete: unpublish → gone from the remote, every file intact.
func TestTagPublicationCreatedAndUnpublished(t *testing.T) {
	e, remoteDSN, orders := tagsEnv(t, "unpublish")
	tagged := e.lake.CreateTag(repo, "v1", "main")
	// main moves on before the event is processed: the tag's commit is what is published.
	newer := e.authorTable([]string{"x"}, "newer", 2)
	e.link("main", []string{"sales"}, "orders", newer, 1)
	_, err := e.client.Commit(ctx(t), repo, "main", "orders moved on", nil)
	require.NoError(t, err)

	// An event naming another commit than the tag's (the tag was re-created since)
	// publishes nothing: the re-created tag's own event does.
	mainHead, _ := e.lake.GetCommit(repo, "main")
	status, stale := e.postHook(tagHookEvent("post-create-tag", repo, "v1", mainHead.ID), aliceHook)
	require.Equal(t, 202, status)
	e.waitEvents(time.Minute)
	superseded := e.event(stale)
	assert.Equal(t, "done", superseded.State)
	assert.Contains(t, superseded.LastError, "superseded")
	assert.Empty(t, superseded.Results)
	assert.Empty(t, remoteCatalog(t, "sqlite", remoteDSN))

	status, id := e.postHook(tagHookEvent("post-create-tag", repo, "v1", tagged), aliceHook)
	require.Equal(t, 202, status)
	status, ignored := e.postHook(tagHookEvent("post-create-tag", repo, "nightly", tagged), aliceHook)
	assert.Equal(t, 202, status)
	assert.Zero(t, ignored, "a tag no subscription selects is not recorded")
	e.waitEvents(time.Minute)
	created := e.event(id)
	require.Equal(t, "done", created.State, created.LastError)
	assert.Len(t, created.Results, 2)
	listed := e.events(url.Values{"repository": {repo}})
	require.Len(t, listed, 2)
	assert.Equal(t, "post-create-tag", listed[0].EventType)
	assert.Equal(t, "v1", listed[0].TagID)
	assert.Empty(t, listed[0].BranchID, "a tag event names no branch")
	assert.Equal(t, map[string]string{"rel_v1_accounting.events": e.m1, "rel_v1_sales.orders": orders},
		remoteCatalog(t, "sqlite", remoteDSN), "the tag's tables at the tag's commit")
	for _, op := range e.auditLog(remoteID, 100) {
		assert.Equal(t, "auto-push", op.Operation)
		assert.Equal(t, tagged, op.Commit)
	}

	before := e.files()
	e.lake.DeleteTag(repo, "v1")
	status, id = e.postHook(tagHookEvent("post-delete-tag", repo, "v1", tagged), aliceHook)
	require.Equal(t, 202, status)
	e.waitEvents(time.Minute)
	deleted := e.event(id)
	require.Equal(t, "done", deleted.State, deleted.LastError)
	require.Len(t, deleted.Results, 2)
	for _, r := range deleted.Results {
		assert.Equal(t, "un-published", r.Message)
	}
	assert.Empty(t, remoteCatalog(t, "sqlite", remoteDSN), "the tag's tables are un-published")
	e.requirePreserved(before)
	e.requireFilesExist(e.m1, orders)
	assert.Equal(t, newer, e.readLakeFS("main", []string{"sales"}, "orders").MetadataLocation, "lakeFS is untouched")
	e.requireAutoUnpublished(2)
}

// TestTagPublicationKeptOnDelete: with the default on_tag_delete (keep) a deleted tag's
// publications stay; a branch event of the same name is not taken for the tag's.
func TestTagPublicationKeptOnDelete(t *testing.T) {
	e, remoteDSN, orders := tagsEnv(t, "")
	tagged := e.lake.CreateTag(repo, "v2", "main")
	status, id := e.postHook(tagHookEvent("post-create-tag", repo, "v2", tagged), aliceHook)
	require.Equal(t, 202, status)
	e.waitEvents(time.Minute)
	require.Equal(t, "done", e.event(id).State, e.event(id).LastError)
	want := map[string]string{"rel_v2_accounting.events": e.m1, "rel_v2_sales.orders": orders}
	require.Equal(t, want, remoteCatalog(t, "sqlite", remoteDSN))

	status, ignored := e.postHook(hookEvent("post-delete-branch", repo, "v2", ""), aliceHook)
	assert.Equal(t, 202, status)
	assert.Zero(t, ignored, "a tag subscription does not act on a branch named like the tag")

	noTag := tagHookEvent("post-create-tag", repo, "", tagged)
	status, _ = e.postHook(noTag, aliceHook)
	assert.Equal(t, 400, status, "a tag event without tag_id is refused")

	e.lake.DeleteTag(repo, "v2")
	// Older lakeFS versions send the tagged commit only as source_ref.
	older := tagHookEvent("post-delete-tag", repo, "v2", tagged)
	delete(older, "commit_id")
	status, id = e.postHook(older, aliceHook)
	require.Equal(t, 202, status)
	e.waitEvents(time.Minute)
	deleted := e.event(id)
	require.Equal(t, "done", deleted.State, deleted.LastError)
	assert.Equal(t, tagged, deleted.CommitID, "commit_id falls back to source_ref")
	assert.Equal(t, "v2", deleted.TagID)
	assert.Empty(t, deleted.Results)
	assert.Equal(t, want, remoteCatalog(t, "sqlite", remoteDSN), "on_tag_delete keep: still published")
	for _, op := range e.auditLog(remoteID, 100) {
		assert.NotEqual(t, "auto-unpublish", op.Operation)
	}
}
