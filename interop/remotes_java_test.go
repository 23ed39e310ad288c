package interop

import (
	"testing"

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
			peer: "Nessie server (Iceberg REST endpoint, in-memory store)", version: r.Version,
			cfg:    config.Remote{Type: "rest", REST: config.RESTRemote{URI: r.URI, Warehouse: r.Warehouse}},
			pyName: "rest", pyProps: map[string]string{"type": "rest", "uri": r.URI, "warehouse": r.Warehouse},
			proc: r.Proc,
			limits: map[string]string{limitNoLineage: "pull after an external commit is refused (409): Nessie rewrites the " +
				"metadata with an empty metadata-log and only the new snapshot (no parent-snapshot-id), so descent " +
				"from the pushed state cannot be proven"},
		}
	}}
}

func hiveHMSKind() remoteKind {
	return remoteKind{name: "hive-hms", missing: "peers.StartHMS is not available on this branch yet"}
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
