package hivetest_test

import (
	"context"
	"testing"

	"github.com/beltran/gohive/hive_metastore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog/hivecat/hivetest"
)

// get_tables answers the database's table names, and an empty list (not a missing result,
// which clients read as "get_tables failed: unknown result") for a database without tables,
// as Hive Metastore does.
func TestGetTables(t *testing.T) {
	srv := hivetest.New(t)
	c := dial(t, srv)
	ctx := context.Background()
	require.NoError(t, c.CreateDatabase(ctx, &hive_metastore.Database{Name: "db", LocationUri: "file:///w/db.db"}))
	names, err := c.GetTables(ctx, "db", "*")
	require.NoError(t, err)
	assert.NotNil(t, names)
	assert.Empty(t, names)
	require.NoError(t, c.CreateTable(ctx, &hive_metastore.Table{DbName: "db", TableName: "t", TableType: "EXTERNAL_TABLE",
		Sd: &hive_metastore.StorageDescriptor{Location: "file:///w/db.db/t"}}))
	names, err = c.GetTables(ctx, "db", "*")
	require.NoError(t, err)
	assert.Equal(t, []string{"t"}, names)
	require.NoError(t, c.DropTable(ctx, "db", "t", false))
	names, err = c.GetTables(ctx, "db", "*")
	require.NoError(t, err)
	assert.NotNil(t, names)
	assert.Empty(t, names)
}
