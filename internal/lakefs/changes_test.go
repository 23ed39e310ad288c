package lakefs

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TableOfPath inverts the path rule for both layouts, escaped names included.
func TestTableOfPath(t *testing.T) {
	_, l := newLocatorEnv(t)
	for _, ref := range []TableRef{
		{Namespace: []string{"sales", "eu"}, Table: "orders"},
		{Namespace: []string{"a/b"}, Table: "../t"},
		{Namespace: []string{"db"}, Table: "metadata"},
	} {
		for _, repo := range []string{testRepo, hadoopRepo} {
			ref.Repository, ref.Reference = repo, "main"
			p, err := l.paths(ref)
			require.NoError(t, err)
			path := p.pointer
			if p.layout == LayoutHadoop {
				path = p.metadataDir + "v3.metadata.json"
			}
			ns, table, ok := l.TableOfPath(repo, path)
			require.True(t, ok, path)
			assert.Equal(t, ref.Namespace, ns, path)
			assert.Equal(t, ref.Table, table, path)
		}
	}
	for _, c := range []struct{ repo, path string }{
		{testRepo, "_lakefs_tables/iceberg/sales/_namespace.json"},
		{testRepo, "_lakefs_tables/iceberg/orders/metadata.json"}, // no namespace
		{testRepo, "other/sales/orders/metadata.json"},
		{testRepo, "_lakefs_tables/iceberg/sales/orders/data.parquet"},
		{hadoopRepo, "warehouse/sales/orders/data/f.parquet"},
		{hadoopRepo, "warehouse/orders/metadata/v1.metadata.json"},
		{hadoopRepo, "elsewhere/sales/orders/metadata/v1.metadata.json"},
	} {
		_, _, ok := l.TableOfPath(c.repo, c.path)
		assert.False(t, ok, c.path)
	}
}

// ChangedTables asks lakeFS for the diff between two commits and names each changed
// table once: added, changed and removed pointers; unrelated objects are ignored.
func TestChangedTables(t *testing.T) {
	e, l := newLocatorEnv(t)
	ctx := context.Background()
	put := func(path string) { e.link(t, "main", path, "s3://bucket/repo/"+path, []byte(path)) }
	put("_lakefs_tables/iceberg/sales/orders/metadata.json")
	put("_lakefs_tables/iceberg/sales/items/metadata.json")
	put("_lakefs_tables/iceberg/hr/people/metadata.json")
	base, err := e.c.Commit(ctx, testRepo, "main", "three tables", nil)
	require.NoError(t, err)

	e.link(t, "main", "_lakefs_tables/iceberg/sales/orders/metadata.json", "s3://bucket/repo/v2", []byte("v2"))
	put("_lakefs_tables/iceberg/sales/returns/metadata.json")
	put("_lakefs_tables/iceberg/sales/_namespace.json")
	put("readme.txt")
	e.srv.DeleteObject(testRepo, "main", "_lakefs_tables/iceberg/hr/people/metadata.json")
	head, err := e.c.Commit(ctx, testRepo, "main", "change", nil)
	require.NoError(t, err)

	got, err := l.ChangedTables(ctx, testRepo, base, head)
	require.NoError(t, err)
	assert.Equal(t, []TableChange{
		{Namespace: []string{"hr"}, Table: "people", Removed: true},
		{Namespace: []string{"sales"}, Table: "orders"},
		{Namespace: []string{"sales"}, Table: "returns"},
	}, got)
	none, err := l.ChangedTables(ctx, testRepo, head, head)
	require.NoError(t, err)
	assert.Empty(t, none)
	assert.Equal(t, 2, e.srv.Calls("diffRefs"))
}
