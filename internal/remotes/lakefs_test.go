package remotes

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/config"
	"github.com/iceberg-remotes/iceberg-remotes/internal/lakefs"
	"github.com/iceberg-remotes/iceberg-remotes/internal/lakefs/lakefstest"
)

// The table's own uncommitted paths are its pointer and its namespace's marker (a pull with
// create_namespace stages both); anything else on the branch is someone else's work, which
// is reported and never reset.
func TestTableChangesOwnAndUnrelated(t *testing.T) {
	lake := lakefstest.NewServer(t, lakefstest.Options{})
	lake.AddUser("svc", "AKIASVC", "svc-secret", lakefstest.FullAccess)
	lake.CreateRepository("example", "local://example", "main")
	client, err := lakefs.New(config.LakeFS{Endpoint: lake.URL(), Timeout: 10 * time.Second},
		lakefs.ServiceCredentials("AKIASVC", "svc-secret"), nil)
	require.NoError(t, err)
	loc := lakefs.NewLocator(client, func(string) config.TablesLayout {
		return config.TablesLayout{Layout: "pointer", PointerPrefix: "_lakefs_tables/iceberg"}
	})
	b := NewLakeFS(client, loc)
	ref := lakefs.TableRef{Repository: "example", Reference: "main", Namespace: []string{"accounting", "tax"}, Table: "events"}
	ctx := context.Background()

	staged, err := b.StagedTable(ctx, ref)
	require.NoError(t, err)
	assert.False(t, staged)

	lake.PutObject("example", "main", "_lakefs_tables/iceberg/accounting/tax/_namespace.json", []byte("{}"))
	lake.PutObject("example", "main", "_lakefs_tables/iceberg/accounting/tax/events/metadata.json", []byte("{}"))
	lake.PutObject("example", "main", "_lakefs_tables/iceberg/accounting/tax/events_v2/metadata.json", []byte("{}"))
	lake.PutObject("example", "main", "raw/data.csv", []byte("a,b"))

	staged, err = b.StagedTable(ctx, ref)
	require.NoError(t, err)
	assert.True(t, staged)
	other, err := b.UnrelatedChanges(ctx, ref)
	require.NoError(t, err)
	assert.Contains(t, []string{"_lakefs_tables/iceberg/accounting/tax/events_v2/metadata.json", "raw/data.csv"}, other)

	require.NoError(t, b.DiscardStagedTable(ctx, ref))
	assert.ElementsMatch(t, []string{"_lakefs_tables/iceberg/accounting/tax/events_v2/metadata.json", "raw/data.csv"},
		lake.Staged("example", "main"), "only the table's own paths are reset")
}
