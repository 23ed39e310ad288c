package interop

import (
	"context"
	"crypto/md5"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/iceberg-go"
	icecatalog "github.com/apache/iceberg-go/catalog"
	icesql "github.com/apache/iceberg-go/catalog/sql"
	"github.com/apache/iceberg-go/table"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite" // the "sqlite" database/sql driver

	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog/catalogtest"
	"github.com/iceberg-remotes/iceberg-remotes/internal/config"
	"github.com/iceberg-remotes/iceberg-remotes/internal/lakefs"
	"github.com/iceberg-remotes/iceberg-remotes/internal/lakefs/lakefstest"
	"github.com/iceberg-remotes/iceberg-remotes/internal/server"
	"github.com/iceberg-remotes/iceberg-remotes/interop/peers"
)

// The official lakeFS Java SDK is a client of the service: a push with basic auth and a pull
// with a lakeFS JWT go through it against the real server (lakeFS stand-in, SQLite remote,
// iceberg-go tables on file://), and the pulled state is the one the external writer made.
func TestJavaSDKPushAndPull(t *testing.T) {
	const (
		secret = "interop-shared-secret"
		repo   = "example"
		remote = "warehouse"
	)
	dir := t.TempDir()
	c, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	// lakeFS (the contract-checked stand-in) with a committed table on main and branch etl.
	lake := lakefstest.NewServer(t, lakefstest.Options{JWTSecret: []byte(secret), ReadPhysical: readLocal})
	lake.AddUser("alice", "AKIAALICE", "alice-secret", lakefstest.FullAccess)
	lake.AddUser("svc", "AKIASVC", "svc-secret", lakefstest.FullAccess)
	lake.CreateRepository(repo, "file://"+filepath.Join(dir, "repo"), "main")
	lfs, err := lakefs.New(config.LakeFS{Endpoint: lake.URL(), Timeout: 10 * time.Second}, lakefs.ServiceCredentials("AKIASVC", "svc-secret"), nil)
	require.NoError(t, err)
	author := sqliteCatalog(t, filepath.Join(dir, "author.db"), filepath.Join(dir, "author"))
	require.NoError(t, author.CreateNamespace(c, table.Identifier{"accounting"}, nil))
	tbl, err := author.CreateTable(c, table.Identifier{"accounting", "events"}, catalogtest.TestSchema)
	require.NoError(t, err)
	tbl = appendRows(t, tbl, 1, 3)
	raw, err := readLocal(c, tbl.MetadataLocation())
	require.NoError(t, err)
	sum := md5.Sum(raw)
	_, err = lfs.StageObject(c, repo, "main", "_lakefs_tables/iceberg/accounting/events/metadata.json",
		tbl.MetadataLocation(), int64(len(raw)), hex.EncodeToString(sum[:]), "application/json")
	require.NoError(t, err)
	_, err = lfs.Commit(c, repo, "main", "add table", nil)
	require.NoError(t, err)
	lake.CreateBranch(repo, "etl", "main")

	// The service, with one SQL remote (SQLite) that iceberg-go also writes to.
	remoteDB := filepath.Join(dir, "remote.db")
	cfg := config.Defaults()
	cfg.State.SQLite.Path = filepath.Join(dir, "state.db")
	cfg.LakeFS.Endpoint = lake.URL()
	cfg.LakeFS.AccessKeyID, cfg.LakeFS.SecretAccessKey = "AKIASVC", "svc-secret"
	cfg.Auth.Encrypt.SecretKey = secret
	cfg.IcebergCatalog.Remotes = []config.Remote{{ID: remote, Type: "sql", Timeout: 20 * time.Second, MaxRetries: 1,
		SQL: config.SQLRemote{Driver: "sqlite", DSN: "file:" + remoteDB, CatalogName: "lakefs"}}}
	require.NoError(t, cfg.Validate())
	app, err := server.New(c, &cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, err)
	t.Cleanup(func() { app.Close() })
	api := httptest.NewServer(app.Handler)
	t.Cleanup(api.Close)
	base := api.URL + "/api/v1"

	push, err := json.Marshal(map[string]any{
		"source":           map[string]any{"repository_id": repo, "reference_id": "etl", "namespace": []string{"accounting"}, "table": "events"},
		"destination":      map[string]any{"namespace": []string{"analytics"}, "table": "events"},
		"create_namespace": true,
	})
	require.NoError(t, err)
	status, body := peers.RunJavaSDK(t, base, peers.SDKAuth{AccessKeyID: "AKIAALICE", SecretAccessKey: "alice-secret"}, "push", remote, push)
	require.Equal(t, http.StatusNoContent, status, body)

	// An external engine appends through the remote catalog.
	writer := sqliteCatalog(t, remoteDB, filepath.Join(dir, "remote-warehouse"))
	rt, err := writer.LoadTable(c, table.Identifier{"analytics", "events"})
	require.NoError(t, err)
	assert.Equal(t, tbl.MetadataLocation(), rt.MetadataLocation(), "the push registered lakeFS's metadata file")
	rt = appendRows(t, rt, 100, 2)

	// The same push again is refused now that the remote moved on, with lakeFS's error body.
	status, body = peers.RunJavaSDK(t, base, peers.SDKAuth{Token: lake.Token("alice", time.Hour)}, "push", remote, push)
	assert.Equal(t, http.StatusConflict, status)
	var msg struct{ Message string }
	require.NoError(t, json.Unmarshal([]byte(body), &msg), body)
	assert.NotEmpty(t, msg.Message)

	pull, err := json.Marshal(map[string]any{
		"source":      map[string]any{"namespace": []string{"analytics"}, "table": "events"},
		"destination": map[string]any{"repository_id": repo, "reference_id": "etl", "namespace": []string{"accounting"}, "table": "events"},
	})
	require.NoError(t, err)
	status, body = peers.RunJavaSDK(t, base, peers.SDKAuth{Token: lake.Token("alice", time.Hour)}, "pull", remote, pull)
	require.Equal(t, http.StatusNoContent, status, body)

	loc := lakefs.NewLocator(lfs, nil)
	st, err := loc.ReadTable(c, lakefs.TableRef{Repository: repo, Reference: "etl", Namespace: []string{"accounting"}, Table: "events"})
	require.NoError(t, err)
	assert.Equal(t, rt.MetadataLocation(), st.MetadataLocation, "etl now points at the writer's metadata")
	main, err := loc.ReadTable(c, lakefs.TableRef{Repository: repo, Reference: "main", Namespace: []string{"accounting"}, Table: "events"})
	require.NoError(t, err)
	assert.Equal(t, tbl.MetadataLocation(), main.MetadataLocation, "main is untouched")
}

func readLocal(_ context.Context, physicalAddress string) ([]byte, error) {
	p, ok := strings.CutPrefix(physicalAddress, "file://")
	if !ok {
		return nil, os.ErrNotExist
	}
	return os.ReadFile(p)
}

// sqliteCatalog is iceberg-go's SQL catalog "lakefs" on a SQLite file, warehouse on file://.
func sqliteCatalog(t *testing.T, path, warehouse string) icecatalog.Catalog {
	db, err := sql.Open("sqlite", "file:"+path)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	cat, err := icesql.NewCatalog("lakefs", db, icesql.SQLite, iceberg.Properties{"warehouse": "file://" + warehouse})
	require.NoError(t, err)
	return cat
}

// appendRows appends n rows (ids first..first+n-1) with iceberg-go.
func appendRows(t *testing.T, tbl *table.Table, first, n int) *table.Table {
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "name", Type: arrow.BinaryTypes.String, Nullable: true},
	}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	for i := range n {
		b.Field(0).(*array.Int64Builder).Append(int64(first + i))
		b.Field(1).(*array.StringBuilder).Append("row")
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	data := array.NewTableFromRecords(schema, []arrow.RecordBatch{rec})
	defer data.Release()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := tbl.AppendTable(ctx, data, 1024, nil)
	require.NoError(t, err)
	return out
}
