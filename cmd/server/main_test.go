package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestStartsWithDefaults runs the server as `go run ./cmd/server` would, with no config file
// (only the port moved to a free one), in an empty directory: it must serve /_health on
// 127.0.0.1, answer an unauthenticated push with 401 JSON, and stop cleanly on cancel.
func TestStartsWithDefaults(t *testing.T) {
	t.Chdir(t.TempDir())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addrCh := make(chan string, 1)
	done := make(chan error, 1)
	var logs bytes.Buffer // read only after the server goroutine has returned
	go func() {
		done <- run(ctx, nil, []string{"ICEBERG_REMOTES_LISTEN_ADDRESS=127.0.0.1:0", "ICEBERG_REMOTES_AUTH_ENCRYPT_SECRET_KEY=" + testSecret}, io.Discard, &logs, func(a string) { addrCh <- a })
	}()
	var addr string
	select {
	case addr = <-addrCh:
	case err := <-done:
		t.Fatalf("server stopped early: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("server did not start")
	}
	assert.True(t, strings.HasPrefix(addr, "127.0.0.1:"), "defaults listen on loopback only: %s", addr)
	base := "http://" + addr
	client := &http.Client{Timeout: 5 * time.Second}

	resp, err := client.Get(base + "/_health")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 200, resp.StatusCode)

	// Without a lakeFS beside it the server runs but is not ready; the state store and the
	// default local remote are.
	resp, err = client.Get(base + "/_ready")
	require.NoError(t, err)
	var ready struct {
		Status string
		Checks map[string]string
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&ready))
	resp.Body.Close()
	assert.Equal(t, 503, resp.StatusCode)
	assert.Equal(t, "ok", ready.Checks["state"])
	assert.Equal(t, "ok", ready.Checks["remotes"], "the default local SQL remote starts")
	assert.Contains(t, ready.Checks["lakefs"], "not reachable")

	body := `{"source":{"repository_id":"repo1","reference_id":"main","namespace":["a"],"table":"t"},"destination":{"namespace":["a"],"table":"t"}}`
	resp, err = client.Post(base+"/api/v1/iceberg/remotes/local/push", "application/json", strings.NewReader(body))
	require.NoError(t, err)
	var msg struct{ Message string }
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&msg))
	resp.Body.Close()
	assert.Equal(t, 401, resp.StatusCode)
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	assert.NotEmpty(t, msg.Message)

	// A lakeFS login token signed with the shared secret passes the authentication chain.
	token, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"sub": "alice", "aud": "login", "iss": "auth", "exp": time.Now().Add(time.Hour).Unix(),
	}).SignedString([]byte(testSecret))
	require.NoError(t, err)
	req, _ := http.NewRequest("POST", base+"/api/v1/iceberg/remotes/local/push", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err = client.Do(req)
	require.NoError(t, err)
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&msg))
	resp.Body.Close()
	assert.Equal(t, 503, resp.StatusCode, "a valid lakeFS token is accepted; then lakeFS is not there: %s", msg.Message)
	assert.Contains(t, msg.Message, "lakeFS")

	_, err = os.Stat("data/iceberg-remotes.db")
	assert.NoError(t, err, "default SQLite state file is created under ./data")

	// The container HEALTHCHECK: the binary checks the server its configuration describes.
	require.NoError(t, run(context.Background(), []string{"--healthcheck"}, []string{"ICEBERG_REMOTES_LISTEN_ADDRESS=" + addr}, io.Discard, io.Discard, nil))

	cancel()
	select {
	case err := <-done:
		require.NoError(t, err, "graceful shutdown")
	case <-time.After(30 * time.Second):
		t.Fatal("server did not stop")
	}
	assert.Contains(t, logs.String(), "effective configuration")
	assert.Contains(t, logs.String(), "stopped")
}

const testSecret = "shared-with-lakefs"

func TestVersionAndBadConfig(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"--version"}, nil, &out, io.Discard, nil))
	assert.Equal(t, "iceberg-remotes dev\n", out.String())

	err := run(context.Background(), nil, []string{"ICEBERG_REMOTES_STATE_TYPE=mysql"}, io.Discard, io.Discard, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "state.type")

	err = run(context.Background(), []string{"--healthcheck"}, []string{"ICEBERG_REMOTES_LISTEN_ADDRESS=127.0.0.1:1"}, io.Discard, io.Discard, nil)
	require.Error(t, err, "nothing listens there: unhealthy")

	err = run(context.Background(), []string{"--config", "/nonexistent/config.yaml"}, nil, io.Discard, io.Discard, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "config file")
}

// TestOneBinaryManyCommands: the server's flags keep working in both spellings Go's flag
// package accepted, "serve" is the same as no command, and the root help lists every
// client command.
func TestOneBinaryManyCommands(t *testing.T) {
	for _, args := range [][]string{{"-version"}, {"--version"}, {"serve", "--version"}, {"serve", "-version"}} {
		var out bytes.Buffer
		require.NoError(t, run(context.Background(), args, nil, &out, io.Discard, nil), "%v", args)
		assert.Equal(t, "iceberg-remotes dev\n", out.String(), "%v", args)
	}
	err := run(context.Background(), []string{"-config=/nonexistent/config.yaml"}, nil, io.Discard, io.Discard, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "config file")

	var help bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"--help"}, nil, &help, io.Discard, nil))
	for _, c := range []string{"serve", "push", "pull", "bulk-push", "bulk-pull", "unpublish", "status", "operations", "--config", "--healthcheck"} {
		assert.Contains(t, help.String(), c)
	}
	err = run(context.Background(), []string{"no-such-command"}, nil, io.Discard, io.Discard, nil)
	require.Error(t, err, "an unknown command is not silently the server")
}
