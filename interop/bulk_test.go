package interop

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// bulkAnswer is the JSON answer of bulk/push and bulk/pull.
type bulkAnswer struct {
	Results []struct {
		Source struct {
			Table string `json:"table"`
		} `json:"source"`
		Status  int    `json:"status"`
		Outcome string `json:"outcome"`
	} `json:"results"`
	Totals struct {
		Total    int    `json:"total"`
		Changed  int    `json:"changed"`
		Failed   int    `json:"failed"`
		Status   int    `json:"status"`
		CommitID string `json:"commit_id"`
	} `json:"totals"`
}

func decodeBulk(t *testing.T, r sdkResult) bulkAnswer {
	t.Helper()
	require.Equal(t, 200, r.Status, r.Body)
	var out bulkAnswer
	require.NoError(t, json.Unmarshal([]byte(r.Body), &out), r.Body)
	return out
}

// scBulk: two tables of one branch are pushed with one bulk push (each registered, read by
// pyiceberg through the remote); pyiceberg commits to both through the remote; one bulk pull
// brings both back in one lakeFS commit, whose metadata names both, and pyiceberg reads each
// pulled metadata file from S3.
func scBulk(t *testing.T, e *env) string {
	tables := []string{"bulk_a", "bulk_b"}
	locs := map[string]string{}
	for _, tb := range tables {
		locs[tb] = e.authorTable(localNS, tb, 3)
		e.link("main", localNS, tb, locs[tb], true)
	}
	branch := "s-bulk"
	e.lake.CreateBranch(repoID, branch, "main")

	pushed := decodeBulk(t, e.extension("/bulk/push", map[string]any{
		"source":           map[string]any{"repository_id": repoID, "reference_id": branch, "namespace": "lake", "table": "bulk_*"},
		"destination":      map[string]any{"namespace": "analytics", "table": "{table}"},
		"create_namespace": true,
	}, basicAuth))
	assert.Equal(t, 2, pushed.Totals.Total, "the glob selects the two tables")
	assert.Equal(t, 2, pushed.Totals.Changed)
	assert.Zero(t, pushed.Totals.Failed, "%+v", pushed.Results)
	for _, tb := range tables {
		assertRemote(t, e, tb, locs[tb], 3)
	}

	remote := map[string]string{}
	for _, tb := range tables {
		e.remoteAppend(remoteNS, tb, 2)
		_, remote[tb] = e.remoteScan(remoteNS, tb)
	}
	head := e.head(branch)
	pulled := decodeBulk(t, e.extension("/bulk/pull", map[string]any{
		"source":      map[string]any{"namespace": "analytics", "table": "bulk_*"},
		"destination": map[string]any{"repository_id": repoID, "reference_id": branch},
	}, jwtAuth))
	assert.Equal(t, 2, pulled.Totals.Changed, "%+v", pulled.Results)
	require.NotEmpty(t, pulled.Totals.CommitID)
	c, ok := e.lake.GetCommit(repoID, branch)
	require.True(t, ok)
	assert.Equal(t, pulled.Totals.CommitID, c.ID, "one commit")
	assert.Equal(t, []string{head}, c.Parents, "on top of the branch as it was")
	var listed []struct {
		Table            string `json:"table"`
		MetadataLocation string `json:"metadata_location"`
	}
	require.NoError(t, json.Unmarshal([]byte(c.Metadata["iceberg_tables"]), &listed), c.Metadata["iceberg_tables"])
	require.Len(t, listed, 2)
	for _, tb := range tables {
		got := e.lakeFSLocation(branch, localNS, tb)
		assert.Equal(t, remote[tb], got, "the branch points at the metadata pyiceberg committed through the remote")
		assert.Equal(t, 5, e.scanLocation(got))
		assert.Contains(t, []string{listed[0].MetadataLocation, listed[1].MetadataLocation}, got)
		assert.Equal(t, "in_sync", e.synced()[tb].State)
	}
	return ""
}
