package peers

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// NessieVersion is the Nessie server (org.projectnessie.nessie:nessie-quarkus, classifier
// runner) the suite runs: the newest release Maven Central serves here. It needs Java 21 or
// newer (its classes are Java 21 bytecode); the only other release served, 0.60.1, predates
// Nessie's Iceberg REST endpoint. So it runs on the newest JDK the machine has.
const NessieVersion = "0.99.0"

// StartNessie starts the Nessie server from its Quarkus runner jar on a free loopback port,
// with a RocksDB version store in the test's temporary folder (so the catalog survives
// Restart) and its Iceberg REST endpoint serving one warehouse, s3://<bucket>/nessie, in the
// in-process S3. URI is the Iceberg REST base
// (http://127.0.0.1:port/iceberg); Warehouse is the warehouse name a client may pass.
func StartNessie(t testing.TB, s3 *S3) *REST {
	t.Helper()
	jar := nessieJar(t)
	java, jvm := JavaAtLeast(t, 21)
	port, mgmt := FreePort(t), FreePort(t)
	dir := t.TempDir()
	location := s3.Warehouse("nessie")
	props := map[string]string{
		"quarkus.http.host":         "127.0.0.1",
		"quarkus.http.port":         fmt.Sprint(port),
		"quarkus.management.host":   "127.0.0.1",
		"quarkus.management.port":   fmt.Sprint(mgmt),
		"quarkus.otel.sdk.disabled": "true",
		"quarkus.log.console.json":  "false",
		"quarkus.banner.enabled":    "false",
		// RocksDB in the test's folder rather than IN_MEMORY, so that Restart (the
		// "remote unreachable" scenarios) finds the catalog as it was.
		"nessie.version.store.type":                                   "ROCKSDB",
		"nessie.version.store.persist.rocks.database-path":            filepath.Join(dir, "rocksdb"),
		"nessie.server.authentication.enabled":                        "false",
		"nessie.catalog.default-warehouse":                            "warehouse",
		"nessie.catalog.warehouses.warehouse.location":                location,
		"nessie.catalog.service.s3.default-options.endpoint":          s3.Endpoint,
		"nessie.catalog.service.s3.default-options.path-style-access": "true",
		"nessie.catalog.service.s3.default-options.region":            s3.Region,
		"nessie.catalog.service.s3.default-options.access-key":        "urn:nessie-secret:quarkus:interop.s3",
		"interop.s3.name":   s3.AccessKeyID,
		"interop.s3.secret": s3.SecretAccessKey,
	}
	args := append([]string{}, jvm...)
	for k, v := range props {
		args = append(args, "-D"+k+"="+v)
	}
	args = append(args, "-jar", jar)
	uri := fmt.Sprintf("http://127.0.0.1:%d/iceberg", port)
	p := Start(t, Spec{
		Name:         "nessie " + NessieVersion,
		Command:      java,
		Args:         args,
		Env:          awsSDKEnv(s3),
		Dir:          dir,
		Ready:        HTTPReady(uri+"/v1/config", func(s int) bool { return s == http.StatusOK }),
		StartTimeout: 3 * time.Minute,
	})
	return &REST{URI: uri, Warehouse: "warehouse", Location: location, Proc: p, Version: NessieVersion, Name: "nessie"}
}

// nessieJar returns the runner jar, fetched into ~/.m2 by Maven on first use.
func nessieJar(t testing.TB) string {
	t.Helper()
	coords := "org.projectnessie.nessie:nessie-quarkus:" + NessieVersion + ":jar:runner"
	jar := mavenArtifact(t, "org.projectnessie.nessie", "nessie-quarkus", NessieVersion, "runner", "jar")
	WithInstallLock(t, "nessie", func() {
		if _, err := os.Stat(jar); err == nil {
			return
		}
		began := time.Now()
		Maven(t, CacheDir(t, "nessie"), "dependency:get", "-Dartifact="+coords, "-Dtransitive=false")
		if _, err := os.Stat(jar); err != nil {
			t.Fatalf("peers: maven fetched %s but %s is missing", coords, jar)
		}
		Logf(t, "installed %s with maven in %s", strings.TrimSuffix(coords, ":jar:runner"), time.Since(began).Round(100*time.Millisecond))
	})
	return jar
}
