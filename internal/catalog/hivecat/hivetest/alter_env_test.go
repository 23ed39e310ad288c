package hivetest_test

import (
	"context"
	"testing"

	"github.com/beltran/gohive/hive_metastore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog/hivecat/hivetest"
)

// pyiceberg's HiveCatalog commits with alter_table_with_environment_context (as Java's
// HiveTableOperations does), which Hive Metastore 4 serves; the stand-in refused it as an
// unknown function, so no external engine could commit through it.
func TestAlterTableWithEnvironmentContext(t *testing.T) {
	srv := hivetest.New(t)
	c := dial(t, srv)
	ctx := context.Background()
	require.NoError(t, c.CreateDatabase(ctx, &hive_metastore.Database{Name: "db", LocationUri: "file:///w/db.db"}))
	tbl := func(loc string) *hive_metastore.Table {
		return &hive_metastore.Table{DbName: "db", TableName: "t", TableType: "EXTERNAL_TABLE",
			Sd:         &hive_metastore.StorageDescriptor{Location: "file:///w/db.db/t"},
			Parameters: map[string]string{"table_type": "ICEBERG", "metadata_location": loc}}
	}
	require.NoError(t, c.CreateTable(ctx, tbl("file:///w/1.metadata.json")))
	envCtx := &hive_metastore.EnvironmentContext{Properties: map[string]string{"DO_NOT_UPDATE_STATS": "true"}}
	require.NoError(t, c.AlterTableWithEnvironmentContext(ctx, "db", "t", tbl("file:///w/2.metadata.json"), envCtx))
	assert.Equal(t, "file:///w/2.metadata.json", srv.Table("db", "t").Parameters["metadata_location"])

	var invalid *hive_metastore.InvalidOperationException
	require.ErrorAs(t, c.AlterTableWithEnvironmentContext(ctx, "db", "missing", tbl("x"), envCtx), &invalid,
		"altering a missing table fails as alter_table does")
}
