package peers

import (
	"fmt"
	"net/http"
	"path/filepath"
	"testing"
	"time"
)

// ApacheRESTVersion is the Apache Iceberg release whose reference REST server the suite runs
// (interop/java/apache-rest/pom.xml and docker-compose.yml's apache/iceberg-rest-fixture tag
// say the same; a test checks that they agree).
const ApacheRESTVersion = "1.11.0"

// REST is a running Iceberg REST catalog peer.
type REST struct {
	URI       string // base URI a REST client is configured with (without /v1)
	Warehouse string // the warehouse a client passes (Apache: its location; Nessie: its name)
	Location  string // the location the server creates new tables under
	Proc      *Process
	Version   string
	Name      string // "apache-rest" or "nessie"
}

// StartApacheREST starts Apache Iceberg's reference REST server (RESTCatalogServer from
// iceberg-open-api's test fixtures, the program the apache/iceberg-rest-fixture image runs)
// on a free loopback port: a JDBC catalog in a SQLite file, S3FileIO against s3 (path style,
// the fixed keys), warehouse s3://<bucket>/apache-rest. It is stopped when the test ends.
func StartApacheREST(t testing.TB, s3 *S3) *REST {
	t.Helper()
	cp := MavenClasspath(t, "apache-rest")
	java, jvm := JavaCommand(t)
	port := FreePort(t)
	dir := t.TempDir()
	warehouse := s3.Warehouse("apache-rest")
	// RESTCatalogServer turns CATALOG_* variables into catalog properties: the prefix goes,
	// "__" becomes "-", "_" becomes ".", and the rest is lower-cased.
	env := []string{
		fmt.Sprintf("CATALOG_REST_PORT=%d", port), // "rest.port"; the server listens on all interfaces
		"CATALOG_CATALOG__IMPL=org.apache.iceberg.jdbc.JdbcCatalog",
		"CATALOG_URI=jdbc:sqlite:file:" + filepath.Join(dir, "catalog.db"),
		"CATALOG_JDBC_SCHEMA__VERSION=V1",
		"CATALOG_WAREHOUSE=" + warehouse,
		"CATALOG_IO__IMPL=org.apache.iceberg.aws.s3.S3FileIO",
		"CATALOG_S3_ENDPOINT=" + s3.Endpoint,
		"CATALOG_S3_PATH__STYLE__ACCESS=true",
		"CATALOG_S3_ACCESS__KEY__ID=" + s3.AccessKeyID,
		"CATALOG_S3_SECRET__ACCESS__KEY=" + s3.SecretAccessKey,
		"CATALOG_CLIENT_REGION=" + s3.Region,
	}
	env = append(env, awsSDKEnv(s3)...)
	uri := fmt.Sprintf("http://127.0.0.1:%d", port)
	p := Start(t, Spec{
		Name:    "apache-rest " + ApacheRESTVersion,
		Command: java,
		Args:    append(jvm, "-cp", cp, "org.apache.iceberg.rest.RESTCatalogServer"),
		Env:     env,
		Dir:     dir,
		Ready:   HTTPReady(uri+"/v1/config", func(s int) bool { return s == http.StatusOK }),
		// A cold JVM on a busy two-core machine.
		StartTimeout: 3 * time.Minute,
	})
	return &REST{URI: uri, Warehouse: warehouse, Location: warehouse, Proc: p, Version: ApacheRESTVersion, Name: "apache-rest"}
}

// awsSDKEnv is the environment the AWS SDK for Java v2 inside a Java peer needs to talk to
// the in-process S3: region and keys, and checksums only when an operation requires them
// (the SDK's default since 2.30 sends chunked uploads with trailing CRC checksums, which
// gofakes3 does not decode).
func awsSDKEnv(s3 *S3) []string {
	return []string{
		"AWS_REGION=" + s3.Region,
		"AWS_ACCESS_KEY_ID=" + s3.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY=" + s3.SecretAccessKey,
		"AWS_REQUEST_CHECKSUM_CALCULATION=when_required",
		"AWS_RESPONSE_CHECKSUM_VALIDATION=when_required",
		"AWS_EC2_METADATA_DISABLED=true",
	}
}
