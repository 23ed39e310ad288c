package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBoundedRunAgainstLoopback(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		assert.Equal(t, "/_health", r.URL.Path)
	}))
	defer srv.Close()
	res, err := run(context.Background(), options{baseURL: srv.URL, op: "health", clients: 4, requests: 100, duration: 10 * time.Second}, http.DefaultTransport)
	require.NoError(t, err)
	assert.Equal(t, 100, res.Requests, "stops at the request bound")
	assert.EqualValues(t, 100, hits.Load())
	assert.Equal(t, 100, res.Statuses[200])
	assert.LessOrEqual(t, res.P50, res.P99)

	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { time.Sleep(20 * time.Millisecond) }))
	defer slow.Close()
	start := time.Now()
	res, err = run(context.Background(), options{baseURL: slow.URL, op: "health", clients: 2, requests: 1_000_000, duration: 300 * time.Millisecond}, http.DefaultTransport)
	require.NoError(t, err)
	assert.Less(t, time.Since(start), 3*time.Second, "stops at the time bound")
	assert.Less(t, res.Requests, 1000)
}

func TestRefusesNonLoopbackAndUnboundedRuns(t *testing.T) {
	for _, u := range []string{"http://10.0.0.1:8001", "http://192.168.1.5", "http://example.com"} {
		_, err := run(context.Background(), options{baseURL: u, op: "health", clients: 1, requests: 1, duration: time.Second}, http.DefaultTransport)
		require.Error(t, err, u)
		assert.Contains(t, err.Error(), "loopback")
	}
	_, err := run(context.Background(), options{baseURL: "http://127.0.0.1:1", op: "health", clients: 1000, requests: 1, duration: time.Second}, http.DefaultTransport)
	require.Error(t, err)
	_, err = run(context.Background(), options{baseURL: "http://[::1]:1", op: "health", clients: 1, requests: 1, duration: time.Hour}, http.DefaultTransport)
	require.Error(t, err)
}

// -op mix sends push, pull and the listing in turn from each client, with the client's
// number in its bodies, and -sample-at reads the server's memory and goroutines from
// /metrics while no request is in flight, and again at the end.
func TestMixAndSamples(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]int{}
	bodies := map[string]bool{}
	var inFlight, inFlightAtSample atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/metrics" {
			inFlightAtSample.Add(inFlight.Load())
			_, _ = io.WriteString(w, "# HELP go_goroutines x\ngo_goroutines 42\nprocess_resident_memory_bytes 1.5e+07\n")
			return
		}
		inFlight.Add(1)
		defer inFlight.Add(-1)
		time.Sleep(2 * time.Millisecond)
		raw, _ := io.ReadAll(r.Body)
		mu.Lock()
		seen[r.Method+" "+r.URL.Path]++
		if len(raw) > 0 {
			bodies[string(raw)] = true
		}
		mu.Unlock()
	}))
	defer srv.Close()
	dir := t.TempDir()
	push, pull := filepath.Join(dir, "push.json"), filepath.Join(dir, "pull.json")
	require.NoError(t, os.WriteFile(push, []byte(`{"push":"t{{client}}"}`), 0o600))
	require.NoError(t, os.WriteFile(pull, []byte(`{"pull":"t{{client}}"}`), 0o600))
	res, err := run(context.Background(), options{baseURL: srv.URL, op: "mix", catalog: "local", pushBodyFile: push, pullBodyFile: pull,
		clients: 2, requests: 1_000_000, duration: 600 * time.Millisecond, sampleAt: 200 * time.Millisecond}, http.DefaultTransport)
	require.NoError(t, err)
	for _, k := range []string{"POST /api/v1/iceberg/remotes/local/push", "POST /api/v1/iceberg/remotes/local/pull", "GET /api/v1/iceberg/remotes/local/tables"} {
		assert.Greater(t, seen[k], 0, k)
	}
	assert.Equal(t, map[string]bool{`{"push":"t0"}`: true, `{"push":"t1"}`: true, `{"pull":"t0"}`: true, `{"pull":"t1"}`: true}, bodies)
	require.Len(t, res.Samples, 2)
	assert.Equal(t, Sample{At: res.Samples[0].At, RSSBytes: 15e6, Goroutines: 42}, res.Samples[0])
	assert.GreaterOrEqual(t, res.Samples[0].At, 200*time.Millisecond)
	assert.Zero(t, inFlightAtSample.Load(), "no request in flight while sampling")
	assert.Contains(t, res.String(), "sample=end")
}
