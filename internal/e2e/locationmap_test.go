package e2e

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/config"
)

// TestPullWithLocationMap (defect 6): with the documented local set-up's location map
// (lakeFS's local:// block store ↔ the remote engines' file://), pull reads the metadata the
// remote names at the remote's address (file://) and links it into lakeFS at lakeFS's
// address (local://), which lakeFS then serves.
func TestPullWithLocationMap(t *testing.T) {
	var root string
	e := newEnvWith(t, sqlSQLite(), "pointer", func(cfg *config.Config) {
		root = strings.TrimSuffix(cfg.State.SQLite.Path, "state.db") // the env's directory, with "/"
		r := &cfg.IcebergCatalog.Remotes[0]
		r.LocationMap = []config.LocationMap{{From: "local://", To: "file://" + root}}
		// The local set-up of the docs: file:// allowed, and the folder the engines write
		// to trusted (given in the remote's form; it is compared in lakeFS's form).
		r.AllowFileLocations = true
		r.AllowedLocations = []string{"file://" + root + "author/"}
	})
	require.Equal(t, 204, e.push(pushOpts{createNS: true}).Status)
	m2 := e.appendRemote(2)
	require.True(t, strings.HasPrefix(m2, "file://"+root), m2)
	lakeSide := "local://" + strings.TrimPrefix(m2, "file://"+root)

	r := e.pull(pullOpts{})
	require.Equal(t, 204, r.Status, r.Body)
	st := e.readLakeFS("etl-42", localNS, tableName)
	assert.Equal(t, lakeSide, st.MetadataLocation, "lakeFS links the lakeFS-side address")
	require.NotNil(t, st.CurrentSnapshotID)
	commit, ok := e.lake.GetCommit(repo, "etl-42")
	require.True(t, ok)
	assert.Equal(t, lakeSide, commit.Metadata["iceberg_metadata_location"])
	assert.Empty(t, e.lake.Staged(repo, "etl-42"))
	assert.Equal(t, "in_sync", e.tables()[tableName])
}
