// Package ci holds checks that run only in .ci/run, against the whole server.
package ci

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/config"
	"github.com/iceberg-remotes/iceberg-remotes/internal/lakefs/lakefstest"
	"github.com/iceberg-remotes/iceberg-remotes/internal/testutil/servertest"
)

// EnvSchemathesis names the schemathesis executable; the test skips without it (.ci/run
// installs schemathesis in a venv and sets it).
const EnvSchemathesis = "ICEBERG_REMOTES_SCHEMATHESIS"

// EnvExamples bounds the test cases per operation (default 60).
const EnvExamples = "ICEBERG_REMOTES_SCHEMATHESIS_EXAMPLES"

const (
	secret     = "schemathesis-shared-secret-0123456789"
	userKey    = "AKIASCHEMATHESIS"
	userSecret = "schemathesis-user-secret"
	serviceKey = "AKIASERVICE"
)

// TestSchemathesis runs schemathesis against api/openapi.yaml and the real server (every
// package wired as cmd/server wires it) on loopback, with the lakeFS stand-in behind it and
// a valid lakeFS access key for the caller. It fails on any 5xx and on any answer that does
// not match the spec (status, content type, body schema), and, through the stand-in, on any
// call the service makes to lakeFS that breaks lakeFS's own contract.
func TestSchemathesis(t *testing.T) {
	st := os.Getenv(EnvSchemathesis)
	if st == "" {
		t.Skipf("%s is not set (.ci/run sets it)", EnvSchemathesis)
	}
	examples := os.Getenv(EnvExamples)
	if examples == "" {
		examples = "60"
	}

	lakeFS := lakefstest.NewServer(t, lakefstest.Options{JWTSecret: []byte(secret)})
	lakeFS.AddUser("alice", userKey, userSecret, lakefstest.FullAccess)
	lakeFS.AddUser("iceberg-remotes", serviceKey, "service-secret", lakefstest.FullAccess)
	lakeFS.CreateRepository("example", "s3://bucket/example", "main")

	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "config.yaml")
	require.NoError(t, os.WriteFile(cfgFile, []byte(fmt.Sprintf(`
listen_address: "127.0.0.1:0"
logging: {format: text, level: warn}
lakefs:
  endpoint: %q
  access_key_id: %s
  secret_access_key: service-secret
  timeout: 10s
auth:
  encrypt: {secret_key: %q}
state:
  type: sqlite
  sqlite: {path: %q}
iceberg_catalog:
  remotes:
    - id: local
      type: sql
      sql: {driver: sqlite, dsn: %q}
      auto_push:
        - {repository: example, branch: "main", namespace: [accounting], table: events, create_namespace: true}
`, lakeFS.URL(), serviceKey, secret, filepath.Join(dir, "state.db"), "file:"+filepath.Join(dir, "catalog.db"))), 0o600))
	cfg, err := config.Load(cfgFile, nil)
	require.NoError(t, err)

	addr := servertest.Run(t, cfg, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})), 60*time.Second)

	spec, err := filepath.Abs("../../api/openapi.yaml")
	require.NoError(t, err)
	runCtx, stop := context.WithTimeout(context.Background(), 10*time.Minute)
	defer stop()
	// Path parameters name the configured remote, so that generated bodies reach the
	// service and, through it, lakeFS (unknown remotes are covered by the API's own tests).
	stConfig := filepath.Join(dir, "schemathesis.toml")
	require.NoError(t, os.WriteFile(stConfig, []byte("[parameters]\n\"path.catalog\" = \"local\"\n"), 0o600))
	cmd := exec.CommandContext(runCtx, st, "--config-file", stConfig, "run", spec,
		"--url", "http://"+addr+"/api/v1",
		"--auth", userKey+":"+userSecret,
		"--checks", "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
		"--max-examples", examples,
		"--seed", "20261130",
		"--workers", "1",
		"--request-timeout", "30",
		"--generation-database", "none",
		"--no-color",
	)
	cmd.Dir = t.TempDir() // reports and caches stay out of the tree
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), "SCHEMATHESIS_TELEMETRY=false")
	t.Logf("schemathesis: %s", strings.Join(cmd.Args, " "))
	if err := cmd.Run(); err != nil {
		t.Fatalf("schemathesis found answers that break the spec (output above): %v", err)
	}
}
