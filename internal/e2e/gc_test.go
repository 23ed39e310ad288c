package e2e

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/remotes"
)

// publications reads the publications gauge from the running server's registry.
func (e *env) publications() map[string]float64 {
	e.t.Helper()
	mfs, err := e.app.Metrics.Registry.Gather()
	require.NoError(e.t, err)
	out := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != "iceberg_remotes_publications" {
			continue
		}
		for _, m := range mf.GetMetric() {
			out[m.GetLabel()[0].GetValue()] = m.GetGauge().GetValue()
		}
	}
	return out
}

// GC safety and health over the HTTP API: a staged-only table is refused unless
// ?allow_uncommitted=true; a committed push creates the hidden branch that protects its
// commit, which keeps the table readable after the source branch is deleted; the listing
// shows last_success_at; un-publish deletes the branch; the gauge counts by status.
func TestGCProtectionOverHTTP(t *testing.T) {
	e := newEnv(t, sqlSQLite(), "pointer")
	head, _, _ := e.lake.Branch(repo, "etl-42")

	// A second table, staged only.
	e.link("etl-42", localNS, "staged", e.m1, 1)
	body := map[string]any{
		"source":           map[string]any{"repository_id": repo, "reference_id": "etl-42", "namespace": localNS, "table": "staged"},
		"destination":      map[string]any{"namespace": remoteNS, "table": "staged"},
		"create_namespace": true,
	}
	r := e.call("POST", "/api/v1/iceberg/remotes/"+remoteID+"/push", body)
	assertError(t, r, 409, "uncommitted", "allow_uncommitted")
	r = e.call("POST", "/api/v1/iceberg/remotes/"+remoteID+"/push?allow_uncommitted=maybe", body)
	assertError(t, r, 400, "allow_uncommitted")
	r = e.call("POST", "/api/v1/iceberg/remotes/"+remoteID+"/push?allow_uncommitted=true", body)
	require.Equal(t, 204, r.Status, r.Body)
	// One branch per commit (shared by the tables published at it): none yet.
	ref := remotes.ProtectedRefName(head)
	assert.Equal(t, "iceberg-remotes-"+head, ref)
	_, _, ok := e.lake.Branch(repo, ref)
	assert.False(t, ok, "the uncommitted publication has no protecting branch")

	r = e.push(pushOpts{createNS: true})
	require.Equal(t, 204, r.Status, r.Body)
	got, hidden, ok := e.lake.Branch(repo, ref)
	require.True(t, ok, "the published commit is protected")
	assert.Equal(t, head, got)
	assert.True(t, hidden)

	list := e.call("GET", "/api/v1/iceberg/remotes/"+remoteID+"/tables", nil)
	require.Equal(t, 200, list.Status)
	var rows struct {
		Results []struct {
			RemoteTable   string  `json:"remote_table"`
			LastSuccessAt *string `json:"last_success_at"`
			LastError     string  `json:"last_error"`
			Notes         string  `json:"notes"`
		}
	}
	require.NoError(t, json.Unmarshal([]byte(list.Body), &rows))
	require.Len(t, rows.Results, 2)
	for _, row := range rows.Results {
		assert.NotNil(t, row.LastSuccessAt, row.RemoteTable)
		assert.Empty(t, row.LastError, row.RemoteTable)
	}
	assert.Equal(t, map[string]float64{"synced": 2, "pending": 0, "failed": 0, "unpublished": 0}, e.publications())

	// The source branch goes; the published commit stays readable through its branch.
	require.NoError(t, e.client.DeleteBranch(ctx(t), repo, "etl-42"))
	assert.Equal(t, e.m1, e.readLakeFS(ref, localNS, tableName).MetadataLocation)

	r = e.unpublish(false, false)
	require.Equal(t, 204, r.Status, r.Body)
	_, _, ok = e.lake.Branch(repo, ref)
	assert.False(t, ok, "un-published: the protecting branch is gone")
}
