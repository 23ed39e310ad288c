package e2e

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestIsolatedPipeline is docs/design.md section 1's flow, end to end over HTTP, on every remote
// kind and both table layouts: branch → push → an external iceberg-go writer appends rows in
// the remote → pull → the branch's table has the new snapshot, the commit carries the
// provenance, the listing says in_sync; a repeated pull and push change nothing.
func TestIsolatedPipeline(t *testing.T) {
	for _, kind := range []remoteKind{sqlSQLite(), sqlPostgres(), restRemote()} {
		for _, layout := range []string{"pointer", "hadoop"} {
			t.Run(kind.name+"/"+layout, func(t *testing.T) {
				e := newEnv(t, kind, layout)
				commitsBefore := e.lake.Calls("commit")

				r := e.push(pushOpts{createNS: true})
				require.Equal(t, 204, r.Status, r.Body)
				assert.Empty(t, r.Body)
				assert.Equal(t, e.m1, e.remoteLocation(), "the remote table points at lakeFS's metadata file (no copy)")
				assert.Equal(t, map[string]string{tableName: "in_sync"}, e.tables())

				m2 := e.appendRemote(2)
				assert.NotEqual(t, e.m1, m2)
				assert.Equal(t, map[string]string{tableName: "remote_ahead"}, e.tables())

				r = e.pull(pullOpts{})
				require.Equal(t, 204, r.Status, r.Body)
				st := e.readLakeFS("etl-42", localNS, tableName)
				assert.Equal(t, m2, st.MetadataLocation, "the branch's table is the remote's new metadata")
				require.NotNil(t, st.CurrentSnapshotID)
				assert.Equal(t, st.Metadata.CurrentSnapshot().SnapshotID, *st.CurrentSnapshotID)
				assert.Len(t, st.Metadata.Snapshots(), 2, "the pushed snapshot and the remote writer's")
				assert.EqualValues(t, 5, scanCount(t, st.MetadataLocation), "3 rows from lakeFS + 2 appended remotely")

				commit, ok := e.lake.GetCommit(repo, "etl-42")
				require.True(t, ok)
				assert.Equal(t, "Pull iceberg table accounting.events from "+remoteID, commit.Message)
				assert.Equal(t, remoteID, commit.Metadata["iceberg_remote_catalog"])
				assert.Equal(t, "analytics.events", commit.Metadata["iceberg_remote_table"])
				assert.Equal(t, m2, commit.Metadata["iceberg_metadata_location"])
				assert.NotEmpty(t, commit.Metadata["iceberg_snapshot_id"])
				assert.Equal(t, "alice", commit.Metadata["iceberg_remotes_user"])
				assert.Equal(t, map[string]string{tableName: "in_sync"}, e.tables())
				assert.Equal(t, e.m1, e.readLakeFS("main", localNS, tableName).MetadataLocation, "main is untouched")

				commits := e.lake.Calls("commit")
				r = e.pull(pullOpts{})
				require.Equal(t, 204, r.Status, r.Body)
				assert.Equal(t, commits, e.lake.Calls("commit"), "a pull of an in-sync table commits nothing")
				r = e.push(pushOpts{})
				require.Equal(t, 204, r.Status, r.Body)
				assert.Equal(t, m2, e.remoteLocation(), "re-pushing the pulled state is a no-op")
				assert.Equal(t, commitsBefore+1, e.lake.Calls("commit"), "exactly one commit: the pull")

				ops := e.call("GET", "/api/v1/iceberg/remotes/"+remoteID+"/operations", nil)
				require.Equal(t, 200, ops.Status, ops.Body)
				var list struct {
					Results []struct {
						Operation, Outcome, User string
						StatusCode               int `json:"status_code"`
					}
				}
				require.NoError(t, json.Unmarshal([]byte(ops.Body), &list))
				require.Len(t, list.Results, 4)
				for i, want := range []string{"push", "pull", "pull", "push"} {
					got := list.Results[3-i]
					assert.Equal(t, want, got.Operation)
					assert.Equal(t, "succeeded", got.Outcome)
					assert.Equal(t, "alice", got.User)
					assert.Equal(t, 204, got.StatusCode)
				}
			})
		}
	}
}
