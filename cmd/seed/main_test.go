package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/config"
	"github.com/iceberg-remotes/iceberg-remotes/internal/lakefs"
	"github.com/iceberg-remotes/iceberg-remotes/internal/lakefs/lakefstest"
)

// TestSeed seeds a lakeFS stand-in with file:// storage and checks the table is a real
// Iceberg table at lakeFS's pointer; a second run changes nothing.
func TestSeed(t *testing.T) {
	dir := t.TempDir()
	lake := lakefstest.NewServer(t, lakefstest.Options{ReadPhysical: func(_ context.Context, addr string) ([]byte, error) {
		return os.ReadFile(strings.TrimPrefix(addr, "file://"))
	}})
	lake.AddUser("admin", "AKIASEED", "seed-secret", lakefstest.FullAccess)
	s := settings{Endpoint: lake.URL(), AccessKeyID: "AKIASEED", SecretAccessKey: "seed-secret",
		Repository: "example", StorageNamespace: "local://example", Warehouse: "file://" + filepath.Join(dir, "example")}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	require.NoError(t, seed(ctx, s, logger))
	commits := lake.Calls("commit")
	require.NoError(t, seed(ctx, s, logger), "seeding twice is harmless")
	assert.Equal(t, commits, lake.Calls("commit"), "the second run commits nothing")

	client, err := lakefs.New(config.LakeFS{Endpoint: lake.URL(), Timeout: 10 * time.Second}, lakefs.ServiceCredentials("AKIASEED", "seed-secret"), nil)
	require.NoError(t, err)
	loc := lakefs.NewLocator(client, func(string) config.TablesLayout {
		return config.TablesLayout{Layout: "pointer", PointerPrefix: "_lakefs_tables/iceberg"}
	})
	st, err := loc.ReadTable(ctx, lakefs.TableRef{Repository: "example", Reference: "main", Namespace: []string{"accounting"}, Table: "events"})
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(st.MetadataLocation, "file://"+filepath.Join(dir, "example")), st.MetadataLocation)
	require.NotNil(t, st.Metadata.CurrentSnapshot())
	assert.Equal(t, "3", st.Metadata.CurrentSnapshot().Summary.Properties["added-records"])
}
