package restcat_test

import (
	"os"
	"strings"
	"testing"

	"github.com/apache/iceberg-go/catalog/rest"
	"github.com/apache/iceberg-go/table"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog"
	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog/catalogtest"
	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog/restcat/resttest"
	"github.com/iceberg-remotes/iceberg-remotes/internal/config"
)

// An Iceberg writer (iceberg-go's own REST client) appends rows to a table we registered,
// committing through the same REST stand-in; our LoadTable then sees the writer's new
// metadata, and a re-point back to the original location works from there.
func TestIcebergGoWriterCommitIsVisible(t *testing.T) {
	ctx := testCtx(t)
	s := resttest.New(t, resttest.Options{ClientID: "writer", ClientSecret: "w-secret", Prefix: "lake"})
	a := newAdapter(t, config.RESTRemote{URI: s.URL, Credential: "writer:w-secret"}, fastOpts("rest"))

	warehouse := t.TempDir()
	locs := catalogtest.WriteMetadataFiles(t, warehouse, 1)
	id := catalog.Ident{Namespace: []string{"analytics"}, Table: "events"}
	require.NoError(t, a.CreateNamespace(ctx, id.Namespace))
	require.NoError(t, a.RegisterTable(ctx, id, locs[0], catalog.Provenance{}))

	writer, err := rest.NewCatalog(ctx, "writer", s.URL, rest.WithCredential("writer:w-secret"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = writer.Close() })
	tbl, err := writer.LoadTable(ctx, table.Identifier{"analytics", "events"})
	require.NoError(t, err)
	require.Equal(t, locs[0], tbl.MetadataLocation())

	appended := catalogtest.AppendRows(ctx, t, tbl)
	newLoc := appended.MetadataLocation()
	require.NotEqual(t, locs[0], newLoc)

	got, err := a.LoadTable(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, newLoc, got, "our LoadTable sees the writer's commit")

	// The new metadata file is real: written next to the first, with a snapshot of 3 rows
	// whose data file exists on disk.
	p, ok := catalogtest.LocalPath(got)
	require.True(t, ok)
	f, err := os.Open(p)
	require.NoError(t, err)
	defer f.Close()
	md, err := table.ParseMetadata(f)
	require.NoError(t, err)
	snap := md.CurrentSnapshot()
	require.NotNil(t, snap)
	assert.Equal(t, "3", snap.Summary.Properties["added-records"])
	assert.True(t, strings.HasPrefix(got, "file://"+warehouse))

	// Compare-and-swap against the writer's location: a stale expectation is refused, the
	// current one succeeds.
	_, err = a.ReplaceTable(ctx, id, locs[0], locs[0], catalog.Provenance{})
	require.Error(t, err)
	atomic, err := a.ReplaceTable(ctx, id, newLoc, locs[0], catalog.Provenance{})
	require.NoError(t, err)
	assert.True(t, atomic)
	got, err = a.LoadTable(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, locs[0], got)
}
