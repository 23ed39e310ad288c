package interop

import (
	"context"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog/gluecat/gluetest"
	"github.com/iceberg-remotes/iceberg-remotes/internal/config"
	"github.com/iceberg-remotes/iceberg-remotes/internal/testutil/pgtest"
	"github.com/iceberg-remotes/iceberg-remotes/internal/testutil/tcptest"
	"github.com/iceberg-remotes/iceberg-remotes/interop/peers"
)

// remoteKind is one kind of remote the scenarios run on.
type remoteKind struct {
	name string // row name in the compatibility matrix: "sql-sqlite", "glue-moto", ...
	// missing, when set, says why this kind cannot run here (its peer is not available); the
	// scenarios are then reported as missing, never faked.
	missing string
	start   func(t *testing.T, s3 *peers.S3, dir string) remotePeer
}

// remotePeer is a started remote: the service's configuration for it, pyiceberg's catalog
// properties for it, its process (nil when it has none the suite can stop) and version.
type remotePeer struct {
	peer    string // "moto_server", "SQLite", ...
	version string
	cfg     config.Remote
	pyName  string // the pyiceberg catalog's name
	pyProps map[string]string
	proc    stoppable
	notes   string // for the matrix
	// noCreate: the remote has no create-table endpoint; an unrelated table is registered.
	noCreate bool
	// provenance returns the lakefs.* parameters the remote stores for a table; nil when the
	// remote has no place for them.
	provenance func(t *testing.T, ns []string, table string) map[string]string
	// pyShim names a workaround the driver applies to pyiceberg for this remote ("" none).
	pyShim string
	// check, when set, runs once the environment is up (e.g. proving a shim is still needed).
	check func(t *testing.T, e *env)
}

// stoppable is what the unreachable scenario stops and restarts: a peer process, or the
// proxy in front of a server the suite does not own.
type stoppable interface {
	Stop()
	Restart()
}

// catalogName is the SQL catalogs' catalog_name, shared by the service and pyiceberg.
const catalogName = "lakefs"

func remoteKinds() []remoteKind {
	return []remoteKind{
		{name: "sql-sqlite", start: startSQLite},
		{name: "sql-postgres", start: startPostgres},
		{name: "glue-moto", start: startGlueMoto},
		{name: "glue-standin", start: startGlueStandIn},
		restApacheKind(),
		restStandInKind(),
		restNessieKind(),
		hiveHMSKind(),
		hiveStandInKind(),
	}
}

func startSQLite(t *testing.T, _ *peers.S3, dir string) remotePeer {
	path := filepath.Join(dir, "remote-catalog.db")
	return remotePeer{
		peer: "SQLite (SQL catalog schema)", version: "pyiceberg " + peers.Venv(t).Pinned(t, "pyiceberg"),
		cfg:    config.Remote{Type: "sql", SQL: config.SQLRemote{Driver: "sqlite", DSN: "file:" + path, CatalogName: catalogName}},
		pyName: catalogName, pyProps: map[string]string{"type": "sql", "uri": "sqlite:///" + path},
	}
}

// startPostgres is a fresh schema on the shared PostgreSQL. The service reaches it through a
// loopback proxy (the suite cannot stop the server itself, but can cut the service off it);
// pyiceberg connects directly.
func startPostgres(t *testing.T, _ *peers.S3, _ string) remotePeer {
	dsn := pgtest.Schema(t)
	u, err := url.Parse(dsn)
	require.NoError(t, err)
	schema := u.Query().Get("search_path")
	pyURI := "postgresql+psycopg2://" + u.User.String() + "@" + u.Host + u.Path + "?options=" + url.QueryEscape("-csearch_path="+schema)
	proxy := tcptest.StartProxy(t, u.Host)
	viaProxy := *u
	viaProxy.Host = proxy.Addr
	q := viaProxy.Query()
	q.Set("connect_timeout", "5")
	viaProxy.RawQuery = q.Encode()
	return remotePeer{
		peer: "PostgreSQL (SQL catalog schema)", version: "pyiceberg " + peers.Venv(t).Pinned(t, "pyiceberg"),
		cfg:    config.Remote{Type: "sql", SQL: config.SQLRemote{Driver: "postgres", DSN: viaProxy.String(), CatalogName: catalogName}},
		pyName: catalogName, pyProps: map[string]string{"type": "sql", "uri": pyURI},
		proc:  proxy,
		notes: "unreachable: the service is cut off by stopping a loopback proxy in front of the shared server",
	}
}

func startGlueMoto(t *testing.T, _ *peers.S3, _ string) remotePeer {
	m := peers.StartMoto(t)
	gcfg := config.GlueRemote{Region: m.Region, AccessKeyID: m.AccessKeyID, SecretAccessKey: m.SecretAccessKey, Endpoint: m.Endpoint}
	return remotePeer{
		peer: "moto_server (AWS Glue)", version: m.Version,
		cfg:    config.Remote{Type: "glue", Glue: gcfg},
		pyName: "glue",
		pyProps: map[string]string{"type": "glue", "glue.endpoint": m.Endpoint, "glue.region": m.Region,
			"glue.access-key-id": m.AccessKeyID, "glue.secret-access-key": m.SecretAccessKey},
		proc:  m.Proc,
		notes: "single-level namespaces (Glue databases); moto ignores UpdateTable VersionId, so the optimistic lock is proven only on the stand-in",
		provenance: func(t *testing.T, ns []string, table string) map[string]string {
			c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			out, err := rawGlue(gcfg).GetTable(c, &glue.GetTableInput{DatabaseName: aws.String(ns[0]), Name: aws.String(table)})
			require.NoError(t, err)
			return lakefsKeys(out.Table.Parameters)
		},
	}
}

// startGlueStandIn is the Glue stand-in (gluecat/gluetest) under the same scenarios as moto,
// with pyiceberg's GlueCatalog (boto3) as a client it was not written against.
func startGlueStandIn(t *testing.T, _ *peers.S3, _ string) remotePeer {
	s := gluetest.New(t)
	gcfg := s.Config()
	return remotePeer{
		peer: "gluetest (this repository's stand-in)", version: "-",
		cfg:    config.Remote{Type: "glue", Glue: gcfg},
		pyName: "glue",
		pyProps: map[string]string{"type": "glue", "glue.endpoint": gcfg.Endpoint, "glue.region": gcfg.Region,
			"glue.access-key-id": gcfg.AccessKeyID, "glue.secret-access-key": gcfg.SecretAccessKey},
		notes: "stand-in, for comparison with moto; no process to stop",
		provenance: func(t *testing.T, ns []string, table string) map[string]string {
			st, ok := s.Table(ns[0], table)
			require.True(t, ok)
			return lakefsKeys(st.Parameters)
		},
	}
}

// lakefsKeys keeps the lakefs.* provenance keys of a parameter map.
func lakefsKeys(params map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range params {
		if len(k) > 7 && k[:7] == "lakefs." {
			out[k] = v
		}
	}
	return out
}
