package hivecat_test

import (
	"fmt"
	"testing"

	"github.com/apache/iceberg-go/catalog/hive"
	"github.com/beltran/gohive/hive_metastore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog/hivecat/hivetest"
	"github.com/iceberg-remotes/iceberg-remotes/internal/config"
)

// TestLoadTablesByName: one get_table_objects_by_name call per 1,000 names on old and new
// metastores; non-Iceberg tables skipped; names matched as the metastore does (lower case);
// a missing database is empty.
func TestLoadTablesByName(t *testing.T) {
	for name, opts := range map[string]hivetest.Options{"hive 4": {}, "before hive 2.1": {PreHive21: true}} {
		t.Run(name, func(t *testing.T) {
			srv := hivetest.New(t, opts)
			a := newAdapter(t, config.HiveRemote{URI: srv.URI(), Warehouse: "file://" + t.TempDir()})
			require.NoError(t, a.CreateNamespace(ctx(t), []string{"db"}))
			var ask []string
			want := map[string]string{}
			for i := range 1200 {
				n := fmt.Sprintf("t%04d", i)
				loc := "s3://b/" + n + "/metadata/00000-x.metadata.json"
				srv.PutTable(&hive_metastore.Table{DbName: "db", TableName: n, TableType: "EXTERNAL_TABLE",
					Sd: &hive_metastore.StorageDescriptor{}, Parameters: map[string]string{
						hive.TableTypeKey: hive.TableTypeIceberg, hive.MetadataLocationKey: loc}})
				ask = append(ask, n)
				want[n] = loc
			}
			srv.PutTable(&hive_metastore.Table{DbName: "db", TableName: "plain", TableType: "MANAGED_TABLE",
				Sd: &hive_metastore.StorageDescriptor{}, Parameters: map[string]string{}})
			ask = append(ask, "plain", "missing", "T0007")
			want["T0007"] = want["t0007"]

			before := srv.ByNameCalls()
			got, err := a.LoadTables(ctx(t), []string{"db"}, ask)
			require.NoError(t, err)
			assert.Equal(t, want, got)
			assert.Equal(t, 2, srv.ByNameCalls()-before, "⌈1203/1000⌉ calls")

			got, err = a.LoadTables(ctx(t), []string{"nodb"}, ask[:3])
			require.NoError(t, err)
			assert.Empty(t, got)
		})
	}
}
