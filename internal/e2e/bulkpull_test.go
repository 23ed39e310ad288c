package e2e

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// bulkPullAnswer is a bulk pull's answer: the bulk answer, with lakeFS's message when it
// failed.
type bulkPullAnswer struct {
	Message string `json:"message"`
	bulkAnswer
}

func (e *env) bulkPull(dryRun, force bool) (resp, bulkPullAnswer) {
	e.t.Helper()
	path := "/api/v1/iceberg/remotes/" + remoteID + "/bulk/pull"
	if dryRun {
		path += "?dry_run=true"
	}
	r := e.call("POST", path, map[string]any{
		"source":       map[string]any{"namespace": "analytics", "table": "orders*"},
		"destination":  map[string]any{"repository_id": repo, "reference_id": "etl-42"},
		"force_update": force,
	})
	var a bulkPullAnswer
	require.NoError(e.t, json.Unmarshal([]byte(r.Body), &a), r.Body)
	return r, a
}

// TestBulkPull: five tables pushed from branch etl-42, each appended to by an external
// iceberg-go writer through the remote catalog (SQL, and REST), come back in ONE lakeFS
// commit whose metadata lists all five; the branch's tables read the remote rows. Then,
// with the lakeFS side of one table changed too (both sides changed), the bulk pull
// answers 409 with every table's result, commits nothing and leaves nothing staged.
func TestBulkPull(t *testing.T) {
	for _, kind := range []remoteKind{sqlSQLite(), restRemote()} {
		t.Run(kind.name, func(t *testing.T) {
			e := newEnv(t, kind, "pointer")
			var names []string
			for i := range 5 {
				name := fmt.Sprintf("orders%d", i)
				names = append(names, name)
				e.link("etl-42", localNS, name, e.authorTable(localNS, name, 3), 1)
			}
			_, err := e.client.Commit(ctx(t), repo, "etl-42", "add five tables", nil)
			require.NoError(t, err)
			for _, name := range names {
				r := e.push(pushOpts{srcTable: name, destTable: name, createNS: true})
				require.Equal(t, 204, r.Status, r.Body)
			}
			remote := map[string]string{}
			for _, name := range names {
				remote[name] = e.appendRemoteTo(name, 2)
			}
			commits := e.lake.Calls("commit")

			r, a := e.bulkPull(true, false)
			require.Equal(t, 200, r.Status, r.Body)
			assert.Equal(t, 5, a.Totals.Changed, "dry run: every table would be pulled")
			assert.Equal(t, commits, e.lake.Calls("commit"))

			r, a = e.bulkPull(false, false)
			require.Equal(t, 200, r.Status, r.Body)
			assert.Equal(t, 5, a.Totals.Changed)
			assert.Equal(t, commits+1, e.lake.Calls("commit"), "one commit for the five tables")
			head, ok := e.lake.GetCommit(repo, "etl-42")
			require.True(t, ok)
			assert.Equal(t, a.Totals.CommitID, head.ID)
			var listed []struct {
				Table            string `json:"table"`
				RemoteTable      string `json:"remote_table"`
				MetadataLocation string `json:"metadata_location"`
			}
			require.NoError(t, json.Unmarshal([]byte(head.Metadata["iceberg_tables"]), &listed))
			require.Len(t, listed, 5)
			for i, name := range names {
				assert.Equal(t, "accounting."+name, listed[i].Table)
				assert.Equal(t, "analytics."+name, listed[i].RemoteTable)
				assert.Equal(t, remote[name], listed[i].MetadataLocation)
				st := e.readLakeFS("etl-42", localNS, name)
				assert.Equal(t, remote[name], st.MetadataLocation)
				assert.EqualValues(t, 5, scanCount(t, st.MetadataLocation), "3 rows from lakeFS + 2 appended remotely")
				assert.Equal(t, "in_sync", e.tables()[name])
			}
			assert.Empty(t, e.lake.Staged(repo, "etl-42"))

			// Round two: every remote table moves again, and table orders2 moves in lakeFS too.
			for _, name := range names {
				e.appendRemoteTo(name, 1)
			}
			lakeLoc := e.advanceTable("etl-42", "orders2", 1, 2)
			commits, headID := e.lake.Calls("commit"), e.headOf("etl-42")
			r, a = e.bulkPull(false, false)
			assertError(t, r, 409, "both sides changed")
			require.Len(t, a.Results, 5)
			for _, res := range a.Results {
				want := "blocked"
				if res.Source.Table == "orders2" {
					want = "failed"
				}
				assert.Equal(t, want, res.Outcome, res.Source.Table)
			}
			assert.Equal(t, 4, a.Totals.Blocked)
			assert.Empty(t, a.Totals.CommitID)
			assert.Equal(t, commits, e.lake.Calls("commit"), "nothing committed")
			assert.Equal(t, headID, e.headOf("etl-42"))
			assert.Empty(t, e.lake.Staged(repo, "etl-42"), "nothing staged")
			assert.Equal(t, lakeLoc, e.readLakeFS("etl-42", localNS, "orders2").MetadataLocation)
			for _, name := range []string{"orders0", "orders1", "orders3", "orders4"} {
				assert.Equal(t, remote[name], e.readLakeFS("etl-42", localNS, name).MetadataLocation)
			}
		})
	}
}
