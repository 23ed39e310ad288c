package interop

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/apache/thrift/lib/go/thrift"
	"github.com/beltran/gohive/hive_metastore"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog/hivecat/hivetest"
	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog/restcat/resttest"
	"github.com/iceberg-remotes/iceberg-remotes/internal/config"
	"github.com/iceberg-remotes/iceberg-remotes/interop/peers"
)

// The Java peers (Apache's REST server, Hive Metastore) come from interop/peers' Java side.

func restApacheKind() remoteKind {
	return remoteKind{name: "rest-apache", start: func(t *testing.T, s3 *peers.S3, _ string) remotePeer {
		r := peers.StartApacheREST(t, s3)
		return remotePeer{
			peer: "Apache Iceberg RESTCatalogServer (JDBC catalog on SQLite, S3FileIO)", version: r.Version,
			cfg:    config.Remote{Type: "rest", REST: config.RESTRemote{URI: r.URI}},
			pyName: "rest", pyProps: map[string]string{"type": "rest", "uri": r.URI},
			proc: r.Proc,
		}
	}}
}

// restNessieKind is the second REST implementation: Nessie's Iceberg REST endpoint.
func restNessieKind() remoteKind {
	return remoteKind{name: "rest-nessie", start: func(t *testing.T, s3 *peers.S3, _ string) remotePeer {
		r := peers.StartNessie(t, s3)
		return remotePeer{
			peer: "Nessie server (Iceberg REST endpoint, RocksDB store)", version: r.Version,
			// Nessie creates tables under its own warehouse location, outside the repository's
			// storage namespace; a deployment that pulls from it allows that prefix, so the
			// unrelated-table scenario reaches the lineage check instead of the location rule.
			cfg: config.Remote{Type: "rest", REST: config.RESTRemote{URI: r.URI, Warehouse: r.Warehouse},
				AllowedLocations: []string{r.Location}},
			pyName: "rest", pyProps: map[string]string{"type": "rest", "uri": r.URI, "warehouse": r.Warehouse},
			proc: r.Proc,
			notes: "Nessie rewrites the metadata on every commit with an empty metadata-log and only the new " +
				"snapshot: a pull proves descent from the synced state by Nessie's commit log (API v2); a re-point is " +
				"one Nessie commit conditional on the table's state (it keeps the content id)",
		}
	}}
}

// hiveHMSKind is Hive Metastore 4 (standalone, embedded Derby) with pyiceberg's HiveCatalog.
func hiveHMSKind() remoteKind {
	return remoteKind{name: "hive-hms", start: func(t *testing.T, s3 *peers.S3, _ string) remotePeer {
		h := peers.StartHMS(t, s3)
		return remotePeer{
			peer: "Hive Metastore (standalone, embedded Derby, S3A)", version: h.Version,
			cfg:    config.Remote{Type: "hive", Hive: config.HiveRemote{URI: h.URI, Warehouse: h.Warehouse}},
			pyName: "hive", pyProps: map[string]string{"type": "hive", "uri": h.URI, "warehouse": h.Warehouse},
			proc: h.Proc,
			notes: "single-level namespaces (databases); pyiceberg 0.12.0 calls get_table, which Hive 4 removed " +
				"(apache/iceberg-python#1222): the driver routes it to get_table_req",
			provenance: func(t *testing.T, ns []string, table string) map[string]string {
				return lakefsKeys(hmsTableParameters(t, h.URI, ns[0], table))
			},
			pyShim: "hive4-get-table-req",
			check: func(t *testing.T, e *env) {
				out := e.py.Call(t, map[string]any{"op": "hive_get_table_unshimmed", "uri": h.URI, "database": "default", "table": "none"})
				require.Contains(t, out["error"], "Invalid method name: 'get_table'",
					"pyiceberg's get_table works on this metastore now: drop the driver's hive4 shim")
			},
		}
	}}
}

// hiveStandInKind is the Hive stand-in (hivecat/hivetest) under the same scenarios, with
// pyiceberg's HiveCatalog (and its Thrift client) as a client it was not written against.
func hiveStandInKind() remoteKind {
	return remoteKind{name: "hive-standin", start: func(t *testing.T, s3 *peers.S3, _ string) remotePeer {
		s := hivetest.New(t)
		return remotePeer{
			peer: "hivetest (this repository's stand-in)", version: "-",
			cfg:    config.Remote{Type: "hive", Hive: config.HiveRemote{URI: s.URI(), Warehouse: s3.Warehouse("hive-standin")}},
			pyName: "hive", pyProps: map[string]string{"type": "hive", "uri": s.URI(), "warehouse": s3.Warehouse("hive-standin")},
			pyShim: "hive4-get-table-req",
			notes:  "stand-in, for comparison with hive-hms; no process to stop",
			provenance: func(t *testing.T, ns []string, table string) map[string]string {
				return lakefsKeys(hmsTableParameters(t, s.URI(), ns[0], table))
			},
		}
	}}
}

// hmsTableParameters reads a table's parameters from the metastore over Thrift.
func hmsTableParameters(t *testing.T, uri, db, table string) map[string]string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conf := &thrift.TConfiguration{ConnectTimeout: 10 * time.Second, SocketTimeout: 30 * time.Second}
	trans := thrift.NewTBufferedTransport(thrift.NewTSocketConf(strings.TrimPrefix(uri, "thrift://"), conf), 4096)
	require.NoError(t, trans.Open())
	defer trans.Close()
	pf := thrift.NewTBinaryProtocolFactoryConf(conf)
	c := hive_metastore.NewThriftHiveMetastoreClient(thrift.NewTStandardClient(pf.GetProtocol(trans), pf.GetProtocol(trans)))
	// get_table_req: Hive 4 no longer serves get_table.
	res, err := c.GetTableReq(ctx, &hive_metastore.GetTableRequest{DbName: db, TblName: table})
	require.NoError(t, err)
	return res.Table.Parameters
}

// restStandInKind is the REST stand-in (restcat/resttest, in the mode that answers like
// Apache's server) under the same scenarios, with pyiceberg's RestCatalog as a client it was
// not written against (OAuth2 client credentials, as pyiceberg does them).
func restStandInKind() remoteKind {
	return remoteKind{name: "rest-standin", start: func(t *testing.T, s3 *peers.S3, _ string) remotePeer {
		s := resttest.New(t, resttest.Options{IOProps: s3IOProps(s3), Overwrite: resttest.OverwriteUnsupported,
			ClientID: "svc", ClientSecret: "svc-secret"})
		return remotePeer{
			peer: "resttest (this repository's stand-in, as apache-rest)", version: "-",
			cfg:    config.Remote{Type: "rest", REST: config.RESTRemote{URI: s.URL, Credential: "svc:svc-secret"}},
			pyName: "rest", pyProps: map[string]string{"type": "rest", "uri": s.URL, "credential": "svc:svc-secret"},
			notes:    "stand-in, for comparison with apache-rest; no process to stop; no create-table endpoint",
			noCreate: true,
		}
	}}
}
