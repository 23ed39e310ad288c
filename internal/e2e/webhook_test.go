package e2e

import (
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
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

type hookResults struct {
	Results []struct {
		Remote               string   `json:"remote"`
		Namespace            []string `json:"namespace"`
		Table                string   `json:"table"`
		DestinationNamespace []string `json:"destination_namespace"`
		DestinationTable     string   `json:"destination_table"`
		Status               int      `json:"status"`
		Message              string   `json:"message"`
	} `json:"results"`
}

// hook posts a webhook event as lakeFS does, authenticated with the header set in the
// action file's `headers` (here alice's lakeFS access key, HTTP basic).
func (e *env) hook(body any, authorization string) (int, hookResults) {
	e.t.Helper()
	raw, err := json.Marshal(body)
	require.NoError(e.t, err)
	req, err := http.NewRequest("POST", e.api.URL+hookPath, strings.NewReader(string(raw)))
	require.NoError(e.t, err)
	req.Header.Set("Content-Type", "application/json")
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	res, err := e.api.Client().Do(req)
	require.NoError(e.t, err)
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	var hr hookResults
	if res.StatusCode == 200 || res.StatusCode == 502 {
		require.NoError(e.t, json.Unmarshal(out, &hr), string(out))
	}
	return res.StatusCode, hr
}

func basicAuth(key, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(key+":"+secret))
}

// TestAutoPushWebhook: lakeFS's post-commit / post-merge webhook pushes the subscribed
// tables at the event's commit with the service's own lakeFS key; repeats, other branches,
// other repositories and other events push nothing; a failing push answers 502 with one
// result per table.
func TestAutoPushWebhook(t *testing.T) {
	for _, layout := range []string{"pointer", "hadoop"} {
		t.Run(layout, func(t *testing.T) {
			e := newBackends(t, layout)
			rc, writer := sqlSQLite().setup(t, e.dir)
			e.writer = writer
			remoteDB := "file:" + filepath.Join(e.dir, "remote.db")
			rc.AutoPush = []config.AutoPush{
				{Repository: repo, Branch: "etl-*", Namespace: localNS, Table: tableName,
					DestinationNamespace: remoteNS, DestinationTable: tableName, CreateNamespace: true},
				// release branches publish the table under another name, and a table that
				// does not exist, whose push fails.
				{Repository: repo, Branch: "release-*", Namespace: localNS, Table: tableName,
					DestinationNamespace: remoteNS, DestinationTable: "events_release", CreateNamespace: true},
				{Repository: repo, Branch: "release-*", Namespace: localNS, Table: "missing", CreateNamespace: true},
			}
			cfg := e.baseConfig()
			cfg.IcebergCatalog.Remotes = []config.Remote{rc}
			e.start(&cfg)
			aliceKey := basicAuth("AKIAALICE", "alice-secret")
			svcKey := basicAuth("AKIASVC", "svc-secret")

			// A commit on etl-42 changes the table.
			m3 := e.appendOnBranch(e.m1, 4)
			head, ok := e.lake.GetCommit(repo, "etl-42")
			require.True(t, ok)
			ev := hookEvent("post-commit", repo, "etl-42", head.ID)

			// The webhook is an API call like any other: no credential, no push.
			status, _ := e.hook(ev, "")
			assert.Equal(t, 401, status)
			status, _ = e.hook(ev, basicAuth("AKIAALICE", "wrong"))
			assert.Equal(t, 401, status)
			assert.Empty(t, e.tables())

			// A user's own call forwards the user's credential to lakeFS...
			r := e.push(pushOpts{dryRun: true, createNS: true})
			require.Equal(t, 200, r.Status, r.Body)
			assert.Equal(t, "Bearer "+e.token, e.lake.LastRequestHeader("getObject").Get("Authorization"))

			// ...the webhook pushes with the service's key, at the event's commit.
			status, res := e.hook(ev, aliceKey)
			require.Equal(t, 200, status)
			require.Len(t, res.Results, 1)
			got := res.Results[0]
			assert.Equal(t, remoteID, got.Remote)
			assert.Equal(t, localNS, got.Namespace)
			assert.Equal(t, tableName, got.Table)
			assert.Equal(t, remoteNS, got.DestinationNamespace)
			assert.Equal(t, tableName, got.DestinationTable)
			assert.Equal(t, 204, got.Status, got.Message)
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
			assert.Equal(t, "alice", ops[0].User)
			prev := previousRemoteLocation(t, remoteDB)

			// A repeated event changes nothing.
			commits := e.lake.Calls("commit")
			status, res = e.hook(ev, aliceKey)
			require.Equal(t, 200, status)
			require.Len(t, res.Results, 1)
			assert.Equal(t, 204, res.Results[0].Status)
			assert.Equal(t, m3, e.remoteLocation())
			assert.Equal(t, prev, previousRemoteLocation(t, remoteDB), "the remote table was not re-committed")
			assert.Equal(t, commits, e.lake.Calls("commit"))
			assert.Equal(t, map[string]string{tableName: "in_sync"}, e.tables())

			// Other branches, other repositories and other events push nothing.
			mainHead, _ := e.lake.GetCommit(repo, "main")
			nOps := len(e.auditLog(remoteID, 100))
			for _, other := range []map[string]any{
				hookEvent("post-merge", repo, "main", mainHead.ID),
				hookEvent("post-commit", "other-repo", "etl-42", head.ID),
				hookEvent("pre-commit", repo, "etl-42", head.ID),
				hookEvent("post-create-branch", repo, "etl-43", head.ID),
				hookEvent("post-create-tag", repo, "etl-42", head.ID),
			} {
				status, res = e.hook(other, aliceKey)
				assert.Equal(t, 200, status, "%v", other)
				assert.Empty(t, res.Results, "%v", other)
			}
			assert.Len(t, e.auditLog(remoteID, 100), nOps, "nothing was attempted")
			assert.Equal(t, map[string]string{tableName: "in_sync"}, e.tables())

			// A later commit moves the table: the next event re-points the remote table.
			m4 := e.appendOnBranch(m3, 1)
			head2, _ := e.lake.GetCommit(repo, "etl-42")
			status, res = e.hook(hookEvent("post-commit", repo, "etl-42", head2.ID), aliceKey)
			require.Equal(t, 200, status)
			require.Len(t, res.Results, 1)
			assert.Equal(t, 204, res.Results[0].Status, res.Results[0].Message)
			assert.Equal(t, m4, e.remoteLocation())

			// The first commit's event, delivered late (lakeFS runs post-* hooks
			// asynchronously, so two quick commits' events may arrive in either order), must
			// not roll the remote table back to the older commit.
			nOps = len(e.auditLog(remoteID, 100))
			status, res = e.hook(ev, aliceKey)
			require.Equal(t, 200, status)
			require.Len(t, res.Results, 1)
			assert.Equal(t, 204, res.Results[0].Status)
			assert.Contains(t, res.Results[0].Message, "superseded")
			assert.Equal(t, m4, e.remoteLocation(), "a stale event does not roll the remote back")
			assert.Len(t, e.auditLog(remoteID, 100), nOps, "a stale event attempts no push")
			assert.Equal(t, map[string]string{tableName: "in_sync"}, e.tables())

			// A post-merge into a release branch: one table pushes, the other fails; the
			// answer is 502 with one result per subscribed table.
			e.lake.CreateBranch(repo, "release-1", "etl-42")
			status, res = e.hook(hookEvent("post-merge", repo, "release-1", head2.ID), aliceKey)
			require.Equal(t, 502, status)
			require.Len(t, res.Results, 2)
			byTable := map[string]int{}
			for _, x := range res.Results {
				byTable[x.DestinationTable] = x.Status
				if x.Status != 204 {
					assert.Contains(t, x.Message, "missing")
				}
			}
			assert.Equal(t, map[string]int{"events_release": 204, "missing": 404}, byTable)
			assert.Equal(t, map[string]string{tableName: "in_sync", "events_release": "in_sync"}, e.tables())
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
