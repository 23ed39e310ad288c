package interop

// The Java peers (Apache's REST server, Hive Metastore) come from interop/peers' Java side
// (branch interop-java). Until they are merged here these kinds are reported as missing.

func restApacheKind() remoteKind {
	return remoteKind{name: "rest-apache", missing: "peers.StartApacheREST is not available on this branch yet"}
}

func hiveHMSKind() remoteKind {
	return remoteKind{name: "hive-hms", missing: "peers.StartHMS is not available on this branch yet"}
}
