package hivecat_test

import (
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/beltran/gohive/hive_metastore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/apperr"
	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog"
	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog/catalogtest"
	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog/hivecat"
	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog/hivecat/hivetest"
	"github.com/iceberg-remotes/iceberg-remotes/internal/config"
	"github.com/iceberg-remotes/iceberg-remotes/internal/httpclient"
)

func newAdapter(t *testing.T, cfg config.HiveRemote, mod ...func(*hivecat.Options)) *hivecat.Adapter {
	t.Helper()
	opts := hivecat.Options{Name: "hive_test", Policy: httpclient.Policy{Timeout: 5 * time.Second, MaxRetries: 3}, LockWait: 2 * time.Second}
	for _, m := range mod {
		m(&opts)
	}
	a, err := hivecat.New(context.Background(), cfg, opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = a.Close() })
	return a
}

func standIn(t *testing.T) (*hivetest.Server, config.HiveRemote) {
	srv := hivetest.New(t)
	return srv, config.HiveRemote{URI: srv.URI(), Warehouse: "file://" + t.TempDir()}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

func status(t *testing.T, err error) int {
	t.Helper()
	require.Error(t, err)
	return apperr.StatusOf(err)
}

var id = catalog.Ident{Namespace: []string{"db"}, Table: "events"}

func TestConformance(t *testing.T) {
	catalogtest.Run(t, catalogtest.Options{
		New: func(t *testing.T) catalog.Adapter {
			_, cfg := standIn(t)
			return newAdapter(t, cfg)
		},
		BatchRead: true,
	})
}

func registered(t *testing.T, a *hivecat.Adapter, n int) []string {
	t.Helper()
	locs := catalogtest.WriteMetadataFiles(t, t.TempDir(), n)
	require.NoError(t, a.CreateNamespace(ctx(t), id.Namespace))
	require.NoError(t, a.RegisterTable(ctx(t), id, locs[0], catalog.Provenance{}))
	return locs
}

func TestRegisterWritesIcebergHiveTable(t *testing.T) {
	srv, cfg := standIn(t)
	a := newAdapter(t, cfg)
	locs := registered(t, a, 1)
	tbl := srv.Table("db", "events")
	require.NotNil(t, tbl)
	assert.Equal(t, "ICEBERG", tbl.Parameters["table_type"])
	assert.Equal(t, locs[0], tbl.Parameters["metadata_location"])
	assert.Equal(t, "EXTERNAL_TABLE", tbl.TableType)
	require.NotNil(t, tbl.Sd)
	assert.Len(t, tbl.Sd.Cols, 2, "iceberg-go derived the Hive columns from the metadata's schema")
}

func TestReplaceUnderLockStoresPointersAndProvenance(t *testing.T) {
	srv, cfg := standIn(t)
	a := newAdapter(t, cfg)
	locs := registered(t, a, 2)
	atomic, err := a.ReplaceTable(ctx(t), id, locs[0], locs[1], catalog.Provenance{Repository: "repo", Reference: "main", Commit: "c1"})
	require.NoError(t, err)
	assert.True(t, atomic)
	tbl := srv.Table("db", "events")
	assert.Equal(t, locs[1], tbl.Parameters["metadata_location"])
	assert.Equal(t, locs[0], tbl.Parameters["previous_metadata_location"])
	assert.Equal(t, "c1", tbl.Parameters["lakefs.commit"])
	assert.Equal(t, "ICEBERG", tbl.Parameters["table_type"])
	assert.Zero(t, srv.HeldLocks(), "the lock is released")
}

func TestReplaceWaitsForAnotherWritersLock(t *testing.T) {
	srv, cfg := standIn(t)
	a := newAdapter(t, cfg)
	locs := registered(t, a, 2)
	release := srv.Lock("db", "events")
	go func() {
		time.Sleep(150 * time.Millisecond)
		release()
	}()
	start := time.Now()
	_, err := a.ReplaceTable(ctx(t), id, locs[0], locs[1], catalog.Provenance{})
	require.NoError(t, err)
	assert.GreaterOrEqual(t, time.Since(start), 100*time.Millisecond, "waited for the other writer")
	got, err := a.LoadTable(ctx(t), id)
	require.NoError(t, err)
	assert.Equal(t, locs[1], got)
	assert.Zero(t, srv.HeldLocks())
}

func TestReplaceOnLockedTableIs409(t *testing.T) {
	srv, cfg := standIn(t)
	a := newAdapter(t, cfg, func(o *hivecat.Options) { o.LockWait = 200 * time.Millisecond })
	locs := registered(t, a, 2)
	release := srv.Lock("db", "events")
	_, err := a.ReplaceTable(ctx(t), id, locs[0], locs[1], catalog.Provenance{})
	assert.Equal(t, 409, status(t, err))
	assert.Contains(t, err.Error(), "locked by another writer")
	release()
	assert.Zero(t, srv.HeldLocks(), "the abandoned lock request was withdrawn")
	got, err := a.LoadTable(ctx(t), id)
	require.NoError(t, err)
	assert.Equal(t, locs[0], got)
}

func TestDropNeverDeletesData(t *testing.T) {
	srv, cfg := standIn(t)
	a := newAdapter(t, cfg)
	registered(t, a, 1)
	require.NoError(t, a.DropTable(ctx(t), id))
	assert.Equal(t, []bool{false}, srv.Drops())
}

func TestNonIcebergTableIs409(t *testing.T) {
	srv, cfg := standIn(t)
	a := newAdapter(t, cfg)
	require.NoError(t, a.CreateNamespace(ctx(t), id.Namespace))
	srv.PutTable(&hive_metastore.Table{DbName: "db", TableName: "events", TableType: "MANAGED_TABLE",
		Sd: &hive_metastore.StorageDescriptor{}, Parameters: map[string]string{}})
	_, err := a.LoadTable(ctx(t), id)
	assert.Equal(t, 409, status(t, err))
	locs := catalogtest.WriteMetadataFiles(t, t.TempDir(), 1)
	_, err = a.ReplaceTable(ctx(t), id, locs[0], locs[0], catalog.Provenance{})
	assert.Equal(t, 409, status(t, err))
	assert.Equal(t, 409, status(t, a.DropTable(ctx(t), id)))
}

func TestMultiLevelNamespaceIs400(t *testing.T) {
	_, cfg := standIn(t)
	a := newAdapter(t, cfg)
	assert.Equal(t, 400, status(t, a.CreateNamespace(ctx(t), []string{"a", "b"})))
	_, err := a.NamespaceExists(ctx(t), []string{"a", "b"})
	assert.Equal(t, 400, status(t, err))
}

func TestUnreadableMetadataIs400(t *testing.T) {
	_, cfg := standIn(t)
	a := newAdapter(t, cfg)
	require.NoError(t, a.CreateNamespace(ctx(t), id.Namespace))
	err := a.RegisterTable(ctx(t), id, "file://"+t.TempDir()+"/missing.metadata.json", catalog.Provenance{})
	assert.Equal(t, 400, status(t, err))
}

func TestNamespaceWithoutWarehouseIsRefusedByTheMetastore(t *testing.T) {
	srv := hivetest.New(t)
	a := newAdapter(t, config.HiveRemote{URI: srv.URI()})
	err := a.CreateNamespace(ctx(t), id.Namespace)
	assert.Equal(t, 502, status(t, err))
	assert.Contains(t, err.Error(), "empty string")
}

func TestUnreachableIs502(t *testing.T) {
	a := newAdapter(t, config.HiveRemote{URI: "thrift://127.0.0.1:1"}, func(o *hivecat.Options) { o.Policy.MaxRetries = 1 })
	assert.Equal(t, 502, status(t, a.Ping(ctx(t))))
}

// stallingProxy forwards TCP connections to target, except the first one, which it accepts
// and never answers (a hung metastore).
func stallingProxy(t *testing.T, target string) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		first := true
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { _ = conn.Close() })
			if first {
				first = false
				continue
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				_ = conn.Close()
				continue
			}
			t.Cleanup(func() { _ = up.Close() })
			go func() { _, _ = io.Copy(up, conn) }()
			go func() { _, _ = io.Copy(conn, up) }()
		}
	}()
	return ln.Addr().String()
}

func TestHungMetastoreIs504AndTheAdapterRecovers(t *testing.T) {
	srv, cfg := standIn(t)
	cfg.URI = "thrift://" + stallingProxy(t, strings.TrimPrefix(srv.URI(), "thrift://"))
	a := newAdapter(t, cfg, func(o *hivecat.Options) { o.Policy.Timeout = 300 * time.Millisecond; o.Policy.MaxRetries = 0 })
	start := time.Now()
	assert.Equal(t, 504, status(t, a.Ping(ctx(t))))
	assert.Less(t, time.Since(start), 3*time.Second)
	require.NoError(t, a.Ping(ctx(t)), "the broken connection was dropped and a new one dialled")
}

func TestIdempotentCallsAreRetriedAfterAHungConnection(t *testing.T) {
	srv, cfg := standIn(t)
	cfg.URI = "thrift://" + stallingProxy(t, strings.TrimPrefix(srv.URI(), "thrift://"))
	a := newAdapter(t, cfg, func(o *hivecat.Options) { o.Policy.Timeout = 300 * time.Millisecond; o.Policy.MaxRetries = 1 })
	require.NoError(t, a.Ping(ctx(t)), "the second attempt goes through a fresh connection")
}

func TestWritesAreNotRetriedAfterAConnectionFailure(t *testing.T) {
	srv, cfg := standIn(t)
	cfg.URI = "thrift://" + stallingProxy(t, strings.TrimPrefix(srv.URI(), "thrift://"))
	a := newAdapter(t, cfg, func(o *hivecat.Options) { o.Policy.Timeout = 300 * time.Millisecond; o.Policy.MaxRetries = 3 })
	// create_database may have reached the metastore: it is not blindly resent.
	assert.Equal(t, 504, status(t, a.CreateNamespace(ctx(t), []string{"db"})))
	ok, err := a.NamespaceExists(ctx(t), []string{"db"})
	require.NoError(t, err)
	assert.False(t, ok)
}

func TestUnreachableMetastoreIsRetried(t *testing.T) {
	// Reserve a port, free it, and start listening there only after the first dial failed.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	srv := hivetest.New(t)
	go func() {
		time.Sleep(150 * time.Millisecond)
		l2, err := net.Listen("tcp", addr)
		if err != nil {
			return
		}
		t.Cleanup(func() { _ = l2.Close() })
		for {
			conn, err := l2.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", strings.TrimPrefix(srv.URI(), "thrift://"))
			if err != nil {
				_ = conn.Close()
				continue
			}
			t.Cleanup(func() { _ = conn.Close(); _ = up.Close() })
			go func() { _, _ = io.Copy(up, conn) }()
			go func() { _, _ = io.Copy(conn, up) }()
		}
	}()
	a := newAdapter(t, config.HiveRemote{URI: "thrift://" + addr, Warehouse: "file:///w"},
		func(o *hivecat.Options) { o.Policy.MaxRetries = 5 })
	require.NoError(t, a.CreateNamespace(ctx(t), []string{"db"}), "a failed dial sent nothing, so even a write is retried")
}

func TestNewValidatesURI(t *testing.T) {
	for _, uri := range []string{"", "http://host:9083", "thrift://", "thrift://host:99999"} {
		_, err := hivecat.New(context.Background(), config.HiveRemote{URI: uri}, hivecat.Options{Name: "h"})
		assert.Equal(t, 400, status(t, err), uri)
	}
}

// Tables are read with get_table_req (Hive Metastore 4 no longer serves get_table), and with
// get_table from a metastore that predates get_table_req.
func TestReadsTablesFromOldAndNewMetastores(t *testing.T) {
	for name, opts := range map[string]hivetest.Options{"hive 4": {}, "before hive 2.1": {PreHive21: true}} {
		t.Run(name, func(t *testing.T) {
			srv := hivetest.New(t, opts)
			a := newAdapter(t, config.HiveRemote{URI: srv.URI(), Warehouse: "file://" + t.TempDir()})
			locs := catalogtest.WriteMetadataFiles(t, t.TempDir(), 1)
			require.NoError(t, a.CreateNamespace(ctx(t), id.Namespace))
			require.NoError(t, a.RegisterTable(ctx(t), id, locs[0], catalog.Provenance{}))
			got, err := a.LoadTable(ctx(t), id)
			require.NoError(t, err)
			assert.Equal(t, locs[0], got)
		})
	}
}
