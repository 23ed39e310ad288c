package interop

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/apache/thrift/lib/go/thrift"
	"github.com/beltran/gohive/hive_metastore"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog"
	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog/catalogtest"
	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog/hivecat"
	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog/hivecat/hivetest"
	"github.com/iceberg-remotes/iceberg-remotes/internal/config"
	"github.com/iceberg-remotes/iceberg-remotes/internal/httpclient"
	"github.com/iceberg-remotes/iceberg-remotes/interop/peers"
)

// Hive Metastore 4 (standalone, Derby) and the Hive stand-in pass the same conformance suite
// through hivecat, with metadata files in the shared S3 (hivecat reads them to derive the
// Hive columns; the metastore creates the s3:// folders through S3A).
func TestHive(t *testing.T) {
	s3 := peers.StartS3(t, "interop")
	hms := peers.StartHMS(t, s3)
	t.Run("conformance", func(t *testing.T) {
		began := time.Now()
		hiveConformance(t, s3, func(t *testing.T) config.HiveRemote {
			emptyHMS(t, hms.URI)
			return config.HiveRemote{URI: hms.URI, Warehouse: hms.Warehouse}
		})
		peers.Logf(t, "conformance on hive-metastore %s took %s", hms.Version, time.Since(began).Round(10*time.Millisecond))
	})
	t.Run("state survives a restart", func(t *testing.T) {
		emptyHMS(t, hms.URI)
		a := hiveAdapter(t, s3, config.HiveRemote{URI: hms.URI, Warehouse: hms.Warehouse})
		c := testCtx(t)
		loc := s3MetadataFiles(s3, "restart/hms", false)(t, 1)[0]
		checkSurvivesRestart(t, c, a, hms.Proc, loc)
	})
	if t.Failed() {
		t.Log(hms.Proc.LogTail(150))
	}
	t.Run("stand-in conformance", func(t *testing.T) {
		hiveConformance(t, s3, func(t *testing.T) config.HiveRemote {
			return config.HiveRemote{URI: hivetest.New(t).URI(), Warehouse: s3.Warehouse("hive-standin")}
		})
	})
}

func hiveConformance(t *testing.T, s3 *peers.S3, newRemote func(t *testing.T) config.HiveRemote) {
	catalogtest.Run(t, catalogtest.Options{
		MetadataFiles: s3MetadataFiles(s3, "conformance/"+t.Name(), false),
		Exists:        s3Exists(s3),
		BatchRead:     true,
		New: func(t *testing.T) catalog.Adapter {
			return hiveAdapter(t, s3, newRemote(t))
		},
	})
}

func hiveAdapter(t *testing.T, s3 *peers.S3, cfg config.HiveRemote) *hivecat.Adapter {
	a, err := hivecat.New(context.Background(), cfg, hivecat.Options{
		Name: "interop", Policy: httpclient.Policy{Timeout: 20 * time.Second, MaxRetries: 1}, LockWait: 5 * time.Second, Properties: s3IOProps(s3),
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = a.Close() })
	return a
}

// emptyHMS drops every database but "default" (cascading to its tables, keeping data), so
// that each conformance subtest starts from an empty metastore without restarting it.
func emptyHMS(t *testing.T, uri string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conf := &thrift.TConfiguration{ConnectTimeout: 10 * time.Second, SocketTimeout: 30 * time.Second}
	sock := thrift.NewTSocketConf(strings.TrimPrefix(uri, "thrift://"), conf)
	trans := thrift.NewTBufferedTransport(sock, 4096)
	require.NoError(t, trans.Open())
	defer trans.Close()
	pf := thrift.NewTBinaryProtocolFactoryConf(conf)
	c := hive_metastore.NewThriftHiveMetastoreClient(thrift.NewTStandardClient(pf.GetProtocol(trans), pf.GetProtocol(trans)))
	dbs, err := c.GetAllDatabases(ctx)
	require.NoError(t, err)
	for _, db := range dbs {
		if db != "default" {
			require.NoError(t, c.DropDatabase(ctx, db, false, true), "drop database %s", db)
		}
	}
}
