package hivetest

import (
	"context"

	"github.com/beltran/gohive/hive_metastore"
)

// AlterTableWithEnvironmentContext is alter_table with an environment context, the call
// pyiceberg's HiveCatalog and Java's HiveTableOperations commit with. The context's
// properties (DO_NOT_UPDATE_STATS, ...) only steer statistics the stand-in does not keep.
func (h *handler) AlterTableWithEnvironmentContext(ctx context.Context, dbname, name string, t *hive_metastore.Table, _ *hive_metastore.EnvironmentContext) error {
	return h.AlterTable(ctx, dbname, name, t)
}
