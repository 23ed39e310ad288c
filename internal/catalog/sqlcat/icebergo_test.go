package sqlcat_test

import (
	"database/sql"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/iceberg-go"
	icecatalog "github.com/apache/iceberg-go/catalog"
	icesql "github.com/apache/iceberg-go/catalog/sql"
	"github.com/apache/iceberg-go/table"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog"
	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog/catalogtest"
	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog/sqlcat"
)

// newIcebergGoCatalog builds iceberg-go's own SQL catalog over db with its package constructor
// (not catalog.Load, which would read ~/.iceberg-go.yaml), as catalog_name "lakefs".
func newIcebergGoCatalog(t *testing.T, b backend, db *sql.DB, warehouse string) *icesql.Catalog {
	t.Helper()
	cat, err := icesql.NewCatalog("lakefs", db, icesql.SupportedDialect(b.dialect), iceberg.Properties{
		"warehouse": "file://" + warehouse,
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = cat.Close() })
	return cat
}

// TestIcebergGoLoadsWhatWeRegister: a table registered (and re-pointed) by the adapter loads
// in iceberg-go's SQL catalog, which also sees the namespaces, on both schema versions.
func TestIcebergGoLoadsWhatWeRegister(t *testing.T) {
	for _, b := range backends() {
		for _, v0 := range []bool{false, true} {
			name := b.name + "/V1"
			if v0 {
				name = b.name + "/V0"
			}
			t.Run(name, func(t *testing.T) {
				cfg := b.fresh(t)
				if v0 {
					createV0(t, b, cfg)
				}
				a := newAdapter(t, cfg, sqlcat.Options{})
				ctx := testCtx(t)
				locs := catalogtest.WriteMetadataFiles(t, t.TempDir(), 2)
				id := catalog.Ident{Namespace: []string{"lake", "inner"}, Table: "events"}
				require.NoError(t, a.CreateNamespace(ctx, id.Namespace))
				require.NoError(t, a.RegisterTable(ctx, id, locs[0], catalog.Provenance{Repository: "r"}))

				cat := newIcebergGoCatalog(t, b, openDB(t, b, cfg), t.TempDir())
				for _, ns := range []table.Identifier{{"lake"}, {"lake", "inner"}} {
					ok, err := cat.CheckNamespaceExists(ctx, ns)
					require.NoError(t, err)
					assert.True(t, ok, "iceberg-go sees namespace %v", ns)
				}
				top, err := cat.ListNamespaces(ctx, nil)
				require.NoError(t, err)
				assert.Contains(t, top, table.Identifier{"lake"})

				ident := table.Identifier{"lake", "inner", "events"}
				tbl, err := cat.LoadTable(ctx, ident)
				require.NoError(t, err)
				assert.Equal(t, locs[0], tbl.MetadataLocation())
				assert.NotEmpty(t, tbl.Metadata().TableUUID())
				assert.Equal(t, catalogtest.TestSchema.NumFields(), tbl.Schema().NumFields())

				var listed []table.Identifier
				for ti, err := range cat.ListTables(ctx, id.Namespace) {
					require.NoError(t, err)
					listed = append(listed, ti)
				}
				assert.Equal(t, []table.Identifier{ident}, listed)

				_, err = a.ReplaceTable(ctx, id, locs[0], locs[1], catalog.Provenance{})
				require.NoError(t, err)
				tbl, err = cat.LoadTable(ctx, ident)
				require.NoError(t, err)
				assert.Equal(t, locs[1], tbl.MetadataLocation(), "iceberg-go sees the re-pointed table")

				require.NoError(t, a.DropTable(ctx, id))
				_, err = cat.LoadTable(ctx, ident)
				assert.ErrorIs(t, err, icecatalog.ErrNoSuchTable)

				if v0 {
					assert.False(t, hasColumn(t, b, cfg, "iceberg_tables", "iceberg_type"),
						"neither we nor iceberg-go (without jdbc.schema-version) migrated V0")
				}
			})
		}
	}
}

// TestWeLoadWhatIcebergGoCommits: iceberg-go creates a namespace and a table and appends rows
// (a real commit: data file, manifest, new metadata file, compare-and-swap on the row); the
// adapter loads the current metadata location and its compare-and-swap interoperates with
// iceberg-go's commits.
func TestWeLoadWhatIcebergGoCommits(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			cfg := b.fresh(t)
			ctx := testCtx(t)
			cat := newIcebergGoCatalog(t, b, openDB(t, b, cfg), t.TempDir())
			ns := table.Identifier{"sales"}
			require.NoError(t, cat.CreateNamespace(ctx, ns, nil))
			ident := table.Identifier{"sales", "orders"}
			created, err := cat.CreateTable(ctx, ident, catalogtest.TestSchema)
			require.NoError(t, err)
			appended := appendRows(t, created, `[{"id": 1, "name": "a"}, {"id": 2, "name": "b"}]`)
			require.NotEqual(t, created.MetadataLocation(), appended.MetadataLocation())
			require.NotNil(t, appended.CurrentSnapshot())

			a := newAdapter(t, cfg, sqlcat.Options{})
			require.Equal(t, "V1", sqlcat.SchemaVersion(a), "iceberg-go created V1")
			id := catalog.Ident{Namespace: []string{"sales"}, Table: "orders"}
			ok, err := a.NamespaceExists(ctx, id.Namespace)
			require.NoError(t, err)
			assert.True(t, ok)
			loc, err := a.LoadTable(ctx, id)
			require.NoError(t, err)
			assert.Equal(t, appended.MetadataLocation(), loc)
			require.True(t, strings.HasPrefix(loc, "file://"), loc)

			// Stale expectation (the pre-append location): conflict, no change.
			_, err = a.ReplaceTable(ctx, id, created.MetadataLocation(), created.MetadataLocation(), catalog.Provenance{})
			assertStatus(t, err, http.StatusConflict)
			loc, err = a.LoadTable(ctx, id)
			require.NoError(t, err)
			assert.Equal(t, appended.MetadataLocation(), loc)

			// Right expectation: roll the table back to the pre-append metadata.
			atomic, err := a.ReplaceTable(ctx, id, appended.MetadataLocation(), created.MetadataLocation(), catalog.Provenance{})
			require.NoError(t, err)
			assert.True(t, atomic)
			reloaded, err := cat.LoadTable(ctx, ident)
			require.NoError(t, err)
			assert.Equal(t, created.MetadataLocation(), reloaded.MetadataLocation())
			assert.Nil(t, reloaded.CurrentSnapshot(), "iceberg-go sees the rolled-back (empty) table")

			// iceberg-go's own compare-and-swap now fails for a writer holding the old state...
			// (iceberg-go checks its requirements against the row's current metadata, which no
			// longer has the snapshot the writer based its append on.)
			_, err = appended.Append(ctx, recordReader(t, `[{"id": 3, "name": "c"}]`), nil)
			require.Error(t, err, "a writer holding the pre-swap state must not commit")
			assert.Contains(t, err.Error(), "requirement failed")
			loc, err = a.LoadTable(ctx, id)
			require.NoError(t, err)
			assert.Equal(t, created.MetadataLocation(), loc, "the refused iceberg-go commit changed nothing")
			// ...and succeeds for one that reloaded after our swap; we then see its commit.
			again := appendRows(t, reloaded, `[{"id": 3, "name": "c"}]`)
			loc, err = a.LoadTable(ctx, id)
			require.NoError(t, err)
			assert.Equal(t, again.MetadataLocation(), loc)
			assert.Equal(t, "1", again.CurrentSnapshot().Summary.Properties["added-records"])
		})
	}
}

var arrowSchema = arrow.NewSchema([]arrow.Field{
	{Name: "id", Type: arrow.PrimitiveTypes.Int64, Nullable: false},
	{Name: "name", Type: arrow.BinaryTypes.String, Nullable: true},
}, nil)

func recordReader(t *testing.T, rowsJSON string) array.RecordReader {
	t.Helper()
	rec, _, err := array.RecordFromJSON(memory.DefaultAllocator, arrowSchema, strings.NewReader(rowsJSON))
	require.NoError(t, err)
	rdr, err := array.NewRecordReader(arrowSchema, []arrow.RecordBatch{rec})
	require.NoError(t, err)
	rec.Release()
	t.Cleanup(rdr.Release)
	return rdr
}

func appendRows(t *testing.T, tbl *table.Table, rowsJSON string) *table.Table {
	t.Helper()
	out, err := tbl.Append(testCtx(t), recordReader(t, rowsJSON), nil)
	require.NoError(t, err)
	return out
}

// TestNamespaceExistenceMatchesIcebergGo: a namespace iceberg-go creates (with properties) is
// one the adapter sees, and one the adapter creates is one iceberg-go sees.
func TestNamespaceExistenceMatchesIcebergGo(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			cfg := b.fresh(t)
			ctx := testCtx(t)
			a := newAdapter(t, cfg, sqlcat.Options{})
			cat := newIcebergGoCatalog(t, b, openDB(t, b, cfg), t.TempDir())

			require.NoError(t, a.CreateNamespace(ctx, []string{"ours"}))
			require.NoError(t, cat.CreateNamespace(ctx, table.Identifier{"theirs"}, iceberg.Properties{"owner": "x"}))
			err := cat.CreateNamespace(ctx, table.Identifier{"ours"}, nil)
			assert.ErrorIs(t, err, icecatalog.ErrNamespaceAlreadyExists)
			ok, err := a.NamespaceExists(ctx, []string{"theirs"})
			require.NoError(t, err)
			assert.True(t, ok, "a namespace with only non-reserved properties exists")
			require.NoError(t, a.CreateNamespace(ctx, []string{"theirs"}), "no-op on an existing namespace")
			props, err := cat.LoadNamespaceProperties(ctx, table.Identifier{"theirs"})
			require.NoError(t, err)
			assert.Equal(t, iceberg.Properties{"owner": "x"}, props, "our no-op create left its properties alone")

			all, err := cat.ListNamespaces(ctx, nil)
			require.NoError(t, err)
			slices.SortFunc(all, func(x, y table.Identifier) int { return strings.Compare(x[0], y[0]) })
			assert.Equal(t, []table.Identifier{{"ours"}, {"theirs"}}, all)
		})
	}
}
