package sqlcat_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog/sqlcat"
)

// TestLoadTablesSkipsViewsAndSplitsLongLists: the batch read applies LoadTable's filter (a
// VIEW row is not a table, a row of another catalog or namespace is not this one) and
// reads more names than one query takes, on both databases.
func TestLoadTablesSkipsViewsAndSplitsLongLists(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			cfg := b.fresh(t)
			a := newAdapter(t, cfg, sqlcat.Options{})
			ctx := testCtx(t)
			require.NoError(t, a.CreateNamespace(ctx, []string{"ns"}))
			tx, err := openDB(t, b, cfg).BeginTx(ctx, nil)
			require.NoError(t, err)
			insert := func(catalogName, ns, name, loc, kind string) {
				q := `INSERT INTO iceberg_tables (catalog_name, table_namespace, table_name, metadata_location, iceberg_type) VALUES ($1, $2, $3, $4, $5)`
				if b.name == "sqlite" {
					q = `INSERT INTO iceberg_tables (catalog_name, table_namespace, table_name, metadata_location, iceberg_type) VALUES (?, ?, ?, ?, ?)`
				}
				_, err := tx.ExecContext(ctx, q, catalogName, ns, name, loc, kind)
				require.NoError(t, err)
			}
			const n = 1500
			var ask []string
			want := map[string]string{}
			for i := range n {
				name := fmt.Sprintf("t%04d", i)
				insert("lakefs", "ns", name, "file:///"+name+".json", "TABLE")
				ask = append(ask, name)
				want[name] = "file:///" + name + ".json"
			}
			insert("lakefs", "ns", "view", "file:///v.json", "VIEW")
			insert("other", "ns", "elsewhere", "file:///o.json", "TABLE")
			insert("lakefs", "ns2", "elsewhere", "file:///o.json", "TABLE")
			require.NoError(t, tx.Commit())
			ask = append(ask, "view", "elsewhere", "missing")
			got, err := a.LoadTables(ctx, []string{"ns"}, ask)
			require.NoError(t, err)
			assert.Equal(t, want, got)

			_, err = a.LoadTables(ctx, []string{"a.b"}, ask)
			require.Error(t, err, "a namespace level with a dot is refused as by LoadTable")
		})
	}
}
