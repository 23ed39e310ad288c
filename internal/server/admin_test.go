package server_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/config"
	"github.com/iceberg-remotes/iceberg-remotes/internal/server"
	"github.com/iceberg-remotes/iceberg-remotes/internal/testutil/servertest"
	"github.com/iceberg-remotes/iceberg-remotes/internal/testutil/tcptest"
)

// run starts the server with cfg (state and the local remote under a temp dir) and returns
// the API's address; the server stops when the test ends.
func run(t *testing.T, mutate func(*config.Config)) string {
	dir := t.TempDir()
	cfg := config.Defaults()
	cfg.ListenAddress = "127.0.0.1:0"
	cfg.State.SQLite.Path = filepath.Join(dir, "state.db")
	cfg.IcebergCatalog.Remotes[0].SQL.DSN = "file:" + filepath.Join(dir, "local.db")
	mutate(&cfg)
	require.NoError(t, cfg.Validate())
	return servertest.Run(t, &cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), 30*time.Second)
}

func get(t *testing.T, url string) (int, string) {
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

// With admin_address set, the profiler answers there and only there: the API's port knows
// no /debug/pprof route.
func TestAdminListenerServesPprofOffTheAPIPort(t *testing.T) {
	admin := tcptest.FreeAddr(t)
	api := run(t, func(c *config.Config) { c.AdminAddress = admin })

	status, body := get(t, "http://"+admin+"/debug/pprof/")
	assert.Equal(t, http.StatusOK, status)
	assert.Contains(t, body, "goroutine")
	status, body = get(t, "http://"+admin+"/debug/pprof/goroutine?debug=1")
	assert.Equal(t, http.StatusOK, status)
	assert.Contains(t, body, "server.Run", "a real goroutine profile of this process")

	status, _ = get(t, "http://"+api+"/debug/pprof/")
	assert.Equal(t, http.StatusNotFound, status, "never on the API port")
	status, _ = get(t, "http://"+admin+"/_health")
	assert.Equal(t, http.StatusNotFound, status, "the admin listener serves the profiler only")
}

// Off by default: nothing listens besides the API.
func TestAdminListenerOffByDefault(t *testing.T) {
	assert.Empty(t, config.Defaults().AdminAddress)
	api := run(t, func(*config.Config) {})
	status, _ := get(t, "http://"+api+"/debug/pprof/")
	assert.Equal(t, http.StatusNotFound, status)
}

// A taken admin port fails start-up with the key named, before the API is announced, and
// the API's listener is closed again.
func TestAdminListenerBadAddress(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer taken.Close()
	dir := t.TempDir()
	cfg := config.Defaults()
	cfg.ListenAddress = tcptest.FreeAddr(t)
	cfg.AdminAddress = taken.Addr().String()
	cfg.State.SQLite.Path = filepath.Join(dir, "state.db")
	cfg.IcebergCatalog.Remotes[0].SQL.DSN = "file:" + filepath.Join(dir, "local.db")
	announced := false
	err = server.Run(context.Background(), &cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), func(string) { announced = true })
	require.Error(t, err)
	assert.True(t, strings.HasPrefix(err.Error(), "admin_address:"), err.Error())
	assert.False(t, announced, "the API is not announced when the admin listener cannot start")
	_, derr := net.DialTimeout("tcp", cfg.ListenAddress, time.Second)
	assert.Error(t, derr, fmt.Sprintf("the API listener %s is closed again", cfg.ListenAddress))
}
