package lakefs

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/config"
)

func TestNameEscaping(t *testing.T) {
	e, l := newLocatorEnv(t)
	ctx := context.Background()

	for _, bad := range []TableRef{
		{Namespace: []string{".."}, Table: "t"},
		{Namespace: []string{"."}, Table: "t"},
		{Namespace: []string{""}, Table: "t"},
		{Namespace: []string{"db"}, Table: ".."},
		{Namespace: []string{"db"}, Table: ""},
		{Namespace: nil, Table: "t"},
	} {
		bad.Repository, bad.Reference = testRepo, "main"
		_, err := l.ReadTable(ctx, bad)
		requireStatus(t, err, http.StatusBadRequest)
		_, err = l.WriteTable(ctx, bad, TableWrite{PhysicalAddress: "s3://b/k", SizeBytes: 1})
		requireStatus(t, err, http.StatusBadRequest)
	}

	// Names with "/" or ".." inside stay one component inside their folder.
	for _, c := range []struct {
		ref  TableRef
		want string
	}{
		{TableRef{Namespace: []string{"../x"}, Table: "t"}, "_lakefs_tables/iceberg/..%2Fx/t/metadata.json"},
		{TableRef{Namespace: []string{"a/b"}, Table: "t"}, "_lakefs_tables/iceberg/a%2Fb/t/metadata.json"},
		{TableRef{Namespace: []string{"db"}, Table: "../../other/t"}, "_lakefs_tables/iceberg/db/..%2F..%2Fother%2Ft/metadata.json"},
		{TableRef{Namespace: []string{"db"}, Table: "%2F"}, "_lakefs_tables/iceberg/db/%252F/metadata.json"},
	} {
		c.ref.Repository, c.ref.Reference = testRepo, "main"
		p, err := l.paths(c.ref)
		require.NoError(t, err)
		assert.Equal(t, c.want, p.pointer)
	}
	hp, err := l.paths(TableRef{Repository: hadoopRepo, Reference: "main", Namespace: []string{"a/b", "c"}, Table: "t/.."})
	require.NoError(t, err)
	assert.Equal(t, "warehouse/a%2Fb/c/t%2F../metadata/", hp.metadataDir)

	// Namespace "a/b" is not namespace ["a","b"]: a table in one is not found in the other.
	loc, raw := metadataFile(t, e, "s3://bucket/w/ab", 0)
	e.link(t, "main", "_lakefs_tables/iceberg/a/b/t/metadata.json", loc, raw)
	_, err = l.ReadTable(ctx, TableRef{Repository: testRepo, Reference: "main", Namespace: []string{"a/b"}, Table: "t"})
	requireStatus(t, err, http.StatusNotFound)
	_, err = l.ReadTable(ctx, TableRef{Repository: testRepo, Reference: "main", Namespace: []string{"a", "b"}, Table: "t"})
	require.NoError(t, err)
}

// A table's paths under each layout and prefix, escaped levels included.
func TestPaths(t *testing.T) {
	layouts := map[string]config.TablesLayout{
		"default": {},
		"pointer": {Layout: LayoutPointer, PointerPrefix: "/tables/"},
		"hadoop":  {Layout: LayoutHadoop, WarehousePrefix: "warehouse"},
		"rooted":  {Layout: LayoutHadoop},
	}
	l := NewLocator(nil, func(repo string) config.TablesLayout { return layouts[repo] })
	ref := TableRef{Reference: "main", Namespace: []string{"sales", "e/u"}, Table: "orders"}
	for repo, want := range map[string]tablePaths{
		"default": {layout: LayoutPointer, pointer: "_lakefs_tables/iceberg/sales/e%2Fu/orders/" + pointerFile,
			nsMarker: "_lakefs_tables/iceberg/sales/e%2Fu/" + namespaceMarker},
		"pointer": {layout: LayoutPointer, pointer: "tables/sales/e%2Fu/orders/" + pointerFile,
			nsMarker: "tables/sales/e%2Fu/" + namespaceMarker},
		"hadoop": {layout: LayoutHadoop, metadataDir: "warehouse/sales/e%2Fu/orders/metadata/"},
		"rooted": {layout: LayoutHadoop, metadataDir: "sales/e%2Fu/orders/metadata/"},
	} {
		ref.Repository = repo
		got, err := l.paths(ref)
		require.NoError(t, err, repo)
		assert.Equal(t, want, got, repo)
	}
}
