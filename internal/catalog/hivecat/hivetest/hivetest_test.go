package hivetest_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/apache/thrift/lib/go/thrift"
	"github.com/beltran/gohive/hive_metastore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog/hivecat/hivetest"
)

func dial(t *testing.T, srv *hivetest.Server) *hive_metastore.ThriftHiveMetastoreClient {
	conf := &thrift.TConfiguration{ConnectTimeout: 5 * time.Second, SocketTimeout: 5 * time.Second}
	sock := thrift.NewTSocketConf(strings.TrimPrefix(srv.URI(), "thrift://"), conf)
	require.NoError(t, sock.Open())
	tr := thrift.NewTBufferedTransport(sock, 4096)
	t.Cleanup(func() { _ = tr.Close() })
	pf := thrift.NewTBinaryProtocolFactoryConf(conf)
	return hive_metastore.NewThriftHiveMetastoreClient(thrift.NewTStandardClient(pf.GetProtocol(tr), pf.GetProtocol(tr)))
}

func TestUnimplementedCallsAreRefused(t *testing.T) {
	srv := hivetest.New(t)
	c := dial(t, srv)
	_, err := c.GetAllTables(context.Background(), "db")
	var ae thrift.TApplicationException
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, int32(thrift.UNKNOWN_METHOD), ae.TypeId())
	// The connection stays usable for implemented calls.
	_, err = c.GetAllDatabases(context.Background())
	require.NoError(t, err)
}

func TestMetastoreErrors(t *testing.T) {
	srv := hivetest.New(t)
	c := dial(t, srv)
	ctx := context.Background()
	_, err := c.GetDatabase(ctx, "nope")
	var nso *hive_metastore.NoSuchObjectException
	require.ErrorAs(t, err, &nso)
	var meta *hive_metastore.MetaException
	require.ErrorAs(t, c.CreateDatabase(ctx, &hive_metastore.Database{Name: "db"}), &meta, "a database needs a location")
	require.NoError(t, c.CreateDatabase(ctx, &hive_metastore.Database{Name: "DB", LocationUri: "file:///w/db.db"}))
	var exists *hive_metastore.AlreadyExistsException
	require.ErrorAs(t, c.CreateDatabase(ctx, &hive_metastore.Database{Name: "db", LocationUri: "file:///w/db.db"}), &exists)
	var invalid *hive_metastore.InvalidObjectException
	require.ErrorAs(t, c.CreateTable(ctx, &hive_metastore.Table{DbName: "db", TableName: "t"}), &invalid, "no storage descriptor")
}

func TestExclusiveTableLocks(t *testing.T) {
	srv := hivetest.New(t)
	c := dial(t, srv)
	ctx := context.Background()
	tbl := "t"
	req := func() *hive_metastore.LockRequest {
		return &hive_metastore.LockRequest{Component: []*hive_metastore.LockComponent{{
			Type: hive_metastore.LockType_EXCLUSIVE, Level: hive_metastore.LockLevel_TABLE, Dbname: "db", Tablename: &tbl,
		}}, User: "u", Hostname: "h"}
	}
	first, err := c.Lock(ctx, req())
	require.NoError(t, err)
	assert.Equal(t, hive_metastore.LockState_ACQUIRED, first.State)
	second, err := c.Lock(ctx, req())
	require.NoError(t, err)
	assert.Equal(t, hive_metastore.LockState_WAITING, second.State)
	st, err := c.CheckLock(ctx, &hive_metastore.CheckLockRequest{Lockid: second.Lockid})
	require.NoError(t, err)
	assert.Equal(t, hive_metastore.LockState_WAITING, st.State)
	require.NoError(t, c.Unlock(ctx, &hive_metastore.UnlockRequest{Lockid: first.Lockid}))
	st, err = c.CheckLock(ctx, &hive_metastore.CheckLockRequest{Lockid: second.Lockid})
	require.NoError(t, err)
	assert.Equal(t, hive_metastore.LockState_ACQUIRED, st.State)
	var nsl *hive_metastore.NoSuchLockException
	require.ErrorAs(t, c.Unlock(ctx, &hive_metastore.UnlockRequest{Lockid: first.Lockid}), &nsl)
}
