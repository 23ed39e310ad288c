package interop

import (
	"testing"

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

func hiveHMSKind() remoteKind {
	return remoteKind{name: "hive-hms", missing: "peers.StartHMS is not available on this branch yet"}
}
