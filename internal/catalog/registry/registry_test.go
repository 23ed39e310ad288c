package registry_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog"
	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog/catalogtest"
	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog/registry"
	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog/sqlcat"
	"github.com/iceberg-remotes/iceberg-remotes/internal/config"
)

// A remote that cannot start is reported, and the others still work, with their location
// maps applied.
func TestOneFailingRemoteDoesNotStopTheOthers(t *testing.T) {
	dir := t.TempDir()
	remotes := []config.Remote{
		{ID: "broken_rest", Type: "rest", Timeout: time.Second, MaxRetries: -1, REST: config.RESTRemote{URI: "http://127.0.0.1:1"}},
		{ID: "local", Type: "sql", Timeout: 10 * time.Second, MaxRetries: 1,
			SQL:         config.SQLRemote{Driver: "sqlite", DSN: "file:" + filepath.Join(dir, "remote.db"), CatalogName: "lakefs"},
			LocationMap: []config.LocationMap{{From: "file://", To: "local-scheme://"}}},
	}
	entries := registry.Open(context.Background(), remotes, registry.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	defer registry.Close(entries)
	require.Len(t, entries, 2)
	assert.Nil(t, entries[0].Adapter)
	require.Error(t, entries[0].Err, "an unreachable REST catalog fails at start")
	require.NotNil(t, entries[1].Adapter)
	require.NoError(t, entries[1].Err)

	ctx := context.Background()
	a := entries[1].Adapter
	loc := catalogtest.WriteMetadataFiles(t, dir, 1)[0]
	id := catalog.Ident{Namespace: []string{"ns"}, Table: "t"}
	require.NoError(t, a.CreateNamespace(ctx, id.Namespace))
	require.NoError(t, a.RegisterTable(ctx, id, loc, catalog.Provenance{}))
	got, err := a.LoadTable(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, loc, got, "callers see lakeFS-side locations")

	raw, err := sqlcat.New(ctx, remotes[1].SQL, sqlcat.Options{RemoteID: "raw"})
	require.NoError(t, err)
	defer raw.Close()
	stored, err := raw.LoadTable(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, "local-scheme://"+loc[len("file://"):], stored, "the remote sees the mapped location")
}
