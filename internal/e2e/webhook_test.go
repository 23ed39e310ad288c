package e2e

import (
	"database/sql"
	"encoding/base64"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/config"
)

const hookPath = "/api/v1/iceberg/remotes/hooks/lakefs"

// hookEvent is the body lakeFS's webhook hook sends (every field lakeFS sends, not only
// those the service uses: the real body must be accepted as it is).
func hookEvent(eventType, repository, branch, commitID string) map[string]any {
	return map[string]any{
		"event_type":      eventType,
		"event_time":      time.Now().UTC().Format(time.RFC3339),
		"action_name":     "push iceberg tables to the warehouse",
		"hook_id":         "iceberg_remotes",
		"repository_id":   repository,
		"branch_id":       branch,
		"source_ref":      branch,
		"commit_id":       commitID,
		"commit_message":  "nightly load",
		"committer":       "etl-bot",
		"commit_metadata": map[string]string{"job": "nightly"},
	}
}

func basicAuth(key, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(key+":"+secret))
}

// fastPublications are test-sized worker timings.
func fastPublications() config.Publications {
	return config.Publications{Workers: 2, PollInterval: 20 * time.Millisecond, InitialBackoff: 50 * time.Millisecond,
		MaxBackoff: 200 * time.Millisecond, Lease: 2 * time.Second, MaxAttempts: 3}
}

// TestAutoPushWebhook: lakeFS's webhook records the event (202) and a worker publishes the
// subscribed table at the event's commit with the service's own lakeFS key; repeats, late
// events, other branches, other repositories and other events publish nothing; a
// publication that cannot succeed leaves the event failed with its result.
func TestAutoPushWebhook(t *testing.T) {
	for _, layout := range []string{"pointer", "hadoop"} {
		t.Run(layout, func(t *testing.T) {
			e := newBackends(t, layout)
			rc, writer := sqlSQLite().setup(t, e.dir)
			e.writer = writer
			remoteDB := "file:" + filepath.Join(e.dir, "remote.db")
			// The single-table form of older configurations: literal namespace and table,
			// a fixed destination, any etl-* branch.
			rc.AutoPush = []config.AutoPush{
				{Repository: repo, Branch: "etl-*", Namespace: "accounting", Table: tableName,
					DestinationNamespace: "analytics", DestinationTable: tableName, CreateNamespace: true},
				// release branches publish into a namespace that does not exist.
				{Repository: repo, Branch: "release-*", Namespace: "accounting", Table: tableName,
					DestinationNamespace: "nowhere", DestinationTable: "events_release"},
			}
			cfg := e.baseConfig()
			cfg.IcebergCatalog.Remotes = []config.Remote{rc}
			cfg.IcebergCatalog.Publications = fastPublications()
			e.start(&cfg)
			aliceKey := basicAuth("AKIAALICE", "alice-secret")
			svcKey := basicAuth("AKIASVC", "svc-secret")

			// A commit on etl-42 changes the table.
			m3 := e.appendOnBranch(e.m1, 4)
			head, ok := e.lake.GetCommit(repo, "etl-42")
			require.True(t, ok)
			ev := hookEvent("post-commit", repo, "etl-42", head.ID)

			// The webhook is an API call like any other: no credential, nothing recorded.
			status, _ := e.postHook(ev, "")
			assert.Equal(t, 401, status)
			status, _ = e.postHook(ev, basicAuth("AKIAALICE", "wrong"))
			assert.Equal(t, 401, status)
			assert.Empty(t, e.events(nil))

			// A user's own call forwards the user's credential to lakeFS...
			r := e.push(pushOpts{dryRun: true, createNS: true})
			require.Equal(t, 200, r.Status, r.Body)
			assert.Equal(t, "Bearer "+e.token, e.lake.LastRequestHeader("getObject").Get("Authorization"))

			// ...the event is published with the service's key, at the event's commit.
			status, id := e.postHook(ev, aliceKey)
			require.Equal(t, 202, status)
			require.NotZero(t, id)
			e.waitEvents(30 * time.Second)
			got := e.event(id)
			assert.Equal(t, "done", got.State, got.LastError)
			assert.Equal(t, 1, got.Attempts)
			assert.Equal(t, head.ID, got.CommitID)
			require.Len(t, got.Results, 1)
			assert.Equal(t, localNS, got.Results[0].Source.Namespace)
			assert.Equal(t, tableName, got.Results[0].Source.Table)
			assert.Equal(t, remoteNS, got.Results[0].Destination.Namespace)
			assert.Equal(t, 204, got.Results[0].Status)
			assert.Equal(t, "pushed", got.Results[0].Outcome)
			assert.Equal(t, m3, e.remoteLocation(), "the remote points at the commit's metadata")
			assert.Equal(t, svcKey, e.lake.LastRequestHeader("getObject").Get("Authorization"), "lakeFS reads used the service key")
			assert.Equal(t, map[string]string{tableName: "in_sync"}, e.tables())

			ops := e.auditLog(remoteID, 100)
			require.Len(t, ops, 1, "a dry run writes no audit row")
			assert.Equal(t, "auto-push", ops[0].Operation)
			assert.Equal(t, "succeeded", ops[0].Outcome)
			assert.Equal(t, head.ID, ops[0].ReferenceID, "pushed at the event's commit, not the branch")
			assert.Equal(t, head.ID, ops[0].Commit)
			assert.Equal(t, m3, ops[0].Metadata)
			assert.Equal(t, "lakefs-events", ops[0].User)
			prev := previousRemoteLocation(t, remoteDB)

			// A repeated event is recorded and publishes nothing.
			commits := e.lake.Calls("commit")
			status, id = e.postHook(ev, aliceKey)
			require.Equal(t, 202, status)
			e.waitEvents(30 * time.Second)
			got = e.event(id)
			assert.Equal(t, "done", got.State)
			assert.Contains(t, got.LastError, "already published")
			assert.Empty(t, got.Results)
			assert.Equal(t, m3, e.remoteLocation())
			assert.Equal(t, prev, previousRemoteLocation(t, remoteDB), "the remote table was not re-committed")
			assert.Equal(t, commits, e.lake.Calls("commit"))
			assert.Len(t, e.auditLog(remoteID, 100), 1)

			// Other branches, other repositories and other events are not recorded.
			mainHead, _ := e.lake.GetCommit(repo, "main")
			nEvents := len(e.events(nil))
			for _, other := range []map[string]any{
				hookEvent("post-merge", repo, "main", mainHead.ID),
				hookEvent("post-commit", "other-repo", "etl-42", head.ID),
				hookEvent("pre-commit", repo, "etl-42", head.ID),
				hookEvent("post-create-branch", repo, "feature-1", head.ID),
				tagHookEvent("post-create-tag", repo, "etl-42", head.ID), // no subscription selects tags
			} {
				status, id = e.postHook(other, aliceKey)
				assert.Equal(t, 202, status, "%v", other)
				assert.Zero(t, id, "%v", other)
			}
			assert.Len(t, e.events(nil), nEvents, "nothing was recorded")
			assert.Len(t, e.auditLog(remoteID, 100), 1, "nothing was attempted")

			// A later commit moves the table: its event re-points the remote table, after
			// asking lakeFS what changed since the published commit.
			diffs := e.lake.Calls("diffRefs")
			m4 := e.appendOnBranch(m3, 1)
			head2, _ := e.lake.GetCommit(repo, "etl-42")
			status, id = e.postHook(hookEvent("post-commit", repo, "etl-42", head2.ID), aliceKey)
			require.Equal(t, 202, status)
			e.waitEvents(30 * time.Second)
			got = e.event(id)
			assert.Equal(t, "done", got.State, got.LastError)
			require.Len(t, got.Results, 1)
			assert.Equal(t, "pushed", got.Results[0].Outcome)
			assert.Equal(t, m4, e.remoteLocation())
			assert.Equal(t, diffs+1, e.lake.Calls("diffRefs"))

			// The first commit's event, delivered late (lakeFS runs post-* hooks
			// asynchronously, so two quick commits' events may arrive in either order), must
			// not roll the remote table back to the older commit.
			nOps := len(e.auditLog(remoteID, 100))
			status, id = e.postHook(ev, aliceKey)
			require.Equal(t, 202, status)
			e.waitEvents(30 * time.Second)
			got = e.event(id)
			assert.Equal(t, "done", got.State)
			assert.Contains(t, got.LastError, "superseded")
			assert.Equal(t, m4, e.remoteLocation(), "a stale event does not roll the remote back")
			assert.Len(t, e.auditLog(remoteID, 100), nOps, "a stale event attempts no push")
			assert.Equal(t, map[string]string{tableName: "in_sync"}, e.tables())

			// A merge into a release branch whose destination namespace is missing (and
			// not to be created): a failure no retry can fix fails the event at once.
			e.lake.CreateBranch(repo, "release-1", "etl-42")
			status, id = e.postHook(hookEvent("post-merge", repo, "release-1", head2.ID), aliceKey)
			require.Equal(t, 202, status)
			e.waitEvents(30 * time.Second)
			got = e.event(id)
			assert.Equal(t, "failed", got.State)
			assert.Equal(t, 1, got.Attempts)
			assert.Contains(t, got.LastError, "nowhere")
			require.Len(t, got.Results, 1)
			assert.Equal(t, 404, got.Results[0].Status)
			assert.Equal(t, "failed", got.Results[0].Outcome)
			failed := e.events(url.Values{"state": {"failed"}})
			require.Len(t, failed, 1)
			assert.Equal(t, id, failed[0].ID)
			last := e.auditLog(remoteID, 100)[0]
			assert.Equal(t, "auto-push", last.Operation)
			assert.Equal(t, "failed", last.Outcome)
			assert.Equal(t, 404, last.StatusCode)
		})
	}
}

// previousRemoteLocation reads the remote SQL catalog's previous_metadata_location of the
// table: it changes whenever the table is re-committed, even to the same location.
func previousRemoteLocation(t *testing.T, dsn string) string {
	db, err := sql.Open("sqlite", dsn)
	require.NoError(t, err)
	defer db.Close()
	var prev sql.NullString
	require.NoError(t, db.QueryRow(`SELECT previous_metadata_location FROM iceberg_tables
		WHERE table_namespace = ? AND table_name = ?`, strings.Join(remoteNS, "."), tableName).Scan(&prev))
	return prev.String + "|" + e2eValid(prev.Valid)
}

func e2eValid(v bool) string {
	if v {
		return "set"
	}
	return "null"
}
