package bench

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog/catalogtest"
	"github.com/iceberg-remotes/iceberg-remotes/internal/config"
	"github.com/iceberg-remotes/iceberg-remotes/internal/lakefs/lakefstest"
	"github.com/iceberg-remotes/iceberg-remotes/internal/testutil/servertest"
	"github.com/iceberg-remotes/iceberg-remotes/internal/testutil/tcptest"
)

// The load run (scripts/load.sh sets these; the test skips without them).
const (
	// EnvLoadDuration is the run's length, e.g. 10m (at most 10m: loadgen's bound).
	EnvLoadDuration = "ICEBERG_REMOTES_LOAD_DURATION"
	// EnvLoadgen is the path of a built cmd/loadgen.
	EnvLoadgen = "ICEBERG_REMOTES_LOADGEN"
	// EnvLoadOut, when set, receives loadgen's output (BENCHMARKS.md's load section).
	EnvLoadOut = "ICEBERG_REMOTES_LOAD_OUT"
	// EnvLoadSampleAt overrides when the first sample is taken (default 1m).
	EnvLoadSampleAt = "ICEBERG_REMOTES_LOAD_SAMPLE_AT"
)

const loadClients = 64

var sampleRE = regexp.MustCompile(`sample=(first|end) at=\S+ rss_bytes=(\d+) goroutines=(\d+) service_goroutines=(\d+)`)

// TestLoad runs the real server (server.Run, wired as cmd/server wires it) on loopback
// against the lakeFS stand-in (validation off, as in the benchmarks) and a SQL remote, and
// drives it with cmd/loadgen in a separate process: 64 clients, each pushing, pulling and
// listing its own table in turn. Memory must stay flat: the server's resident memory at
// the end within 50 MB of its value after the first minute, and the goroutine count the
// same. The count compared is the process's goroutines outside idle pooled connections
// (loadgen's service_goroutines, from the goroutine profile on the admin listener): the
// idle keep-alive connections to the lakeFS stand-in, 3 goroutines each, come and go with
// timing, a leak does not. The whole count may only shrink or grow by a few of those.
func TestLoad(t *testing.T) {
	durationText, loadgen := os.Getenv(EnvLoadDuration), os.Getenv(EnvLoadgen)
	if durationText == "" || loadgen == "" {
		t.Skipf("%s and %s are not set (scripts/load.sh sets them)", EnvLoadDuration, EnvLoadgen)
	}
	duration, err := time.ParseDuration(durationText)
	require.NoError(t, err)
	sampleAt := time.Minute
	if v := os.Getenv(EnvLoadSampleAt); v != "" {
		sampleAt, err = time.ParseDuration(v)
		require.NoError(t, err)
	}

	dir := t.TempDir()
	lake := lakefstest.NewServer(t, lakefstest.Options{JWTSecret: []byte(secret), SkipValidation: true,
		ReadPhysical: func(_ context.Context, a string) ([]byte, error) {
			return os.ReadFile(strings.TrimPrefix(a, "file://"))
		}})
	lake.AddUser("alice", "AKIAALICE", "alice-secret", lakefstest.FullAccess)
	lake.CreateRepository("example", "local://example", "main")
	e := &env{lake: lake, dir: dir}
	e.m1 = catalogtest.WriteMetadataFiles(t, dir, 1)[0]
	e.client = e.newLakeFSClient(t)
	for i := 0; i < loadClients; i++ {
		e.stage(t, fmt.Sprintf("t%d", i), e.m1)
	}
	_, err = e.client.Commit(context.Background(), "example", "main", "tables", nil)
	require.NoError(t, err)

	admin := tcptest.FreeAddr(t)
	cfgFile := filepath.Join(dir, "config.yaml")
	require.NoError(t, os.WriteFile(cfgFile, []byte(fmt.Sprintf(`
listen_address: "127.0.0.1:0"
admin_address: %q
logging: {format: text, level: warn}
lakefs: {endpoint: %q, timeout: 10s}
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
      allow_file_locations: true
      allowed_locations: [%q]
`, admin, lake.URL(), secret, filepath.Join(dir, "state.db"), "file:"+filepath.Join(dir, "remote.db"), "file://"+dir+"/")), 0o600))
	cfg, err := config.Load(cfgFile, nil)
	require.NoError(t, err)
	addr := servertest.Run(t, cfg, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})), 2*time.Minute)

	push, pull := filepath.Join(dir, "push.json"), filepath.Join(dir, "pull.json")
	require.NoError(t, os.WriteFile(push, []byte(`{"source":{"repository_id":"example","reference_id":"main","namespace":["accounting"],"table":"t{{client}}"},
		"destination":{"namespace":["analytics"],"table":"t{{client}}"},"create_namespace":true}`), 0o600))
	require.NoError(t, os.WriteFile(pull, []byte(`{"source":{"namespace":["analytics"],"table":"t{{client}}"},
		"destination":{"repository_id":"example","reference_id":"main","namespace":["accounting"],"table":"t{{client}}"}}`), 0o600))
	runCtx, stop := context.WithTimeout(context.Background(), duration+5*time.Minute)
	defer stop()
	cmd := exec.CommandContext(runCtx, loadgen, "-url", "http://"+addr, "-op", "mix", "-catalog", "local",
		"-push-body", push, "-pull-body", pull, "-clients", strconv.Itoa(loadClients), "-requests", "1000000",
		"-duration", duration.String(), "-sample-at", sampleAt.String(), "-profile-url", "http://"+admin, "-bearer", lake.Token("alice", duration+time.Hour))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, os.Stderr
	t.Logf("%s", strings.Join(cmd.Args[:len(cmd.Args)-2], " "))
	require.NoError(t, cmd.Run(), out.String())
	t.Logf("%s", out.String())
	if file := os.Getenv(EnvLoadOut); file != "" {
		require.NoError(t, os.WriteFile(file, out.Bytes(), 0o644))
	}

	m := sampleRE.FindAllStringSubmatch(out.String(), -1)
	require.Len(t, m, 2, "two samples (first, end): %s", out.String())
	rss1, _ := strconv.ParseFloat(m[0][2], 64)
	rss2, _ := strconv.ParseFloat(m[1][2], 64)
	g1, _ := strconv.Atoi(m[0][3])
	g2, _ := strconv.Atoi(m[1][3])
	s1, _ := strconv.Atoi(m[0][4])
	s2, _ := strconv.Atoi(m[1][4])
	require.LessOrEqual(t, rss2-rss1, 50e6, "resident memory grew by more than 50 MB")
	require.Equal(t, s1, s2, "goroutines outside pooled connections after the first minute and at the end")
	require.LessOrEqual(t, g2, g1+6, "all goroutines: at most two more idle connections at the end than after the first minute")
	require.Contains(t, out.String(), " errors=0 ", "no failed requests")
	require.NotRegexp(t, `statuses=map\[[^\]]*\b5[0-9][0-9]:`, out.String(), "no server errors")
}
