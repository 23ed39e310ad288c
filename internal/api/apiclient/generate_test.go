package apiclient_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestGeneratedFromTheCurrentSpec: apiclient.gen.go is what oapi-codegen generates from
// api/openapi.yaml now, so a spec change that was not regenerated (the command-line client
// would drift from the server) fails here. Fix: go generate ./internal/api/apiclient
func TestGeneratedFromTheCurrentSpec(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	// The same configuration, writing into a temporary directory (config.yaml's output wins
	// over -o, and a test must not write into the source tree).
	dir := t.TempDir()
	out := filepath.Join(dir, "apiclient.gen.go")
	cfg, err := os.ReadFile("config.yaml")
	require.NoError(t, err)
	cfg = []byte(strings.Replace(string(cfg), "output: apiclient.gen.go", "output: "+out, 1))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "config.yaml"), cfg, 0o644))
	cmd := exec.CommandContext(ctx, "go", "tool", "oapi-codegen", "-config", filepath.Join(dir, "config.yaml"), "../../../api/openapi.yaml")
	msg, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", msg)
	want, err := os.ReadFile(out)
	require.NoError(t, err)
	got, err := os.ReadFile("apiclient.gen.go")
	require.NoError(t, err)
	require.True(t, string(want) == string(got), "apiclient.gen.go is stale: run go generate ./internal/api/apiclient")
}
