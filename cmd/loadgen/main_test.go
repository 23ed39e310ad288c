package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/pprof"
	"os"
	"path/filepath"
	rpprof "runtime/pprof"
	"strings"
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
	assert.Equal(t, Sample{At: res.Samples[0].At, RSSBytes: 15e6, Goroutines: 42, ServiceGoroutines: -1}, res.Samples[0], "no -profile-url: not read")
	assert.GreaterOrEqual(t, res.Samples[0].At, 200*time.Millisecond)
	assert.Zero(t, inFlightAtSample.Load(), "no request in flight while sampling")
	assert.Contains(t, res.String(), "sample=end")
}

// A goroutine profile in its debug=1 form: a record's count goes to the pools when one of
// its frames is a pooled connection's, to the service otherwise.
func TestGoroutineCountReadsTheProfile(t *testing.T) {
	const profile = "goroutine profile: total 9\n" +
		"3 @ 0x1 0x2\n#\t0x1\tnet/http.(*persistConn).readLoop+0x2c\t/go/src/net/http/transport.go:2300\n\n" +
		"2 @ 0x3\n#\t0x3\tnet/http.(*conn).serve+0x10\t/go/src/net/http/server.go:2000\n#\t0x4\tnet/http.(*Server).Serve.gowrap3+0x1\t/x.go:1\n\n" +
		"4 @ 0x5\n#\t0x5\tmain.worker+0x1\t/x.go:2\n#\t0x6\tdatabase/sql.(*DB).connectionOpener+0x1\t/x.go:3\n"
	g, err := countGoroutines(strings.NewReader(profile))
	require.NoError(t, err)
	assert.Equal(t, 4, g.service())
	assert.Equal(t, 9, g.total)
	_, err = countGoroutines(strings.NewReader("x @ 0x1\n"))
	assert.Error(t, err, "a record without a count")
}

// The goroutines of idle pooled connections are told apart in Go's own goroutine profile:
// an idle keep-alive connection adds its client's two loops and its server's connection
// goroutine to the pools, not to the service's count, which closing it leaves as it was.
// (Other tests' goroutines may end meanwhile in the same process: the check is retried
// until one open-and-close runs with nothing else changing.) Served by net/http/pprof as
// the admin listener serves it, -profile-url puts the count in each sample.
func TestServiceGoroutinesLeavePooledConnectionsOut(t *testing.T) {
	admin := httptest.NewServer(http.HandlerFunc(pprof.Index))
	defer admin.Close()
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/metrics" {
			_, _ = io.WriteString(w, "go_goroutines 1\nprocess_resident_memory_bytes 1\n")
		}
	}))
	defer api.Close()
	// count runs inside Eventually's goroutine, so it reports errors instead of failing.
	var countErr error
	count := func() goroutines {
		var buf bytes.Buffer
		if err := rpprof.Lookup("goroutine").WriteTo(&buf, 1); err != nil {
			countErr = err
		}
		g, err := countGoroutines(&buf)
		if err != nil {
			countErr = err
		}
		return g
	}
	client := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	var tries []string
	require.Eventually(t, func() bool {
		before := count()
		resp, err := client.Get(api.URL + "/x")
		if err != nil {
			tries = append(tries, err.Error())
			return false
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		time.Sleep(50 * time.Millisecond)
		open := count()
		client.CloseIdleConnections()
		time.Sleep(50 * time.Millisecond)
		closed := count()
		tries = append(tries, fmt.Sprintf("pooled %d→%d→%d total %d→%d→%d", before.pooled, open.pooled, closed.pooled, before.total, open.total, closed.total))
		// One idle connection: 2 client loops and 1 served connection, all pooled.
		return open.pooled == before.pooled+3 && closed.pooled == before.pooled &&
			open.total == before.total+3 && closed.total == before.total
	}, 10*time.Second, 10*time.Millisecond, "%v", tries)
	require.NoError(t, countErr)

	s, err := sample(client, api.URL, admin.URL)
	require.NoError(t, err)
	assert.Positive(t, s.ServiceGoroutines)
	assert.Contains(t, Result{Samples: []Sample{s}}.String(), fmt.Sprintf(" service_goroutines=%d", s.ServiceGoroutines))

	_, err = run(context.Background(), options{baseURL: api.URL, profileURL: "http://10.0.0.1:6060", op: "health", clients: 1, requests: 1, duration: time.Second}, http.DefaultTransport)
	require.ErrorContains(t, err, "loopback", "the admin listener is loopback only too")
}

// A sample's service count is the fewest of its profile reads: a goroutine there for a
// moment (a background job's) is left out, one there in every read is not.
func TestServiceGoroutinesAreTheFewestOfThreeReads(t *testing.T) {
	var reads atomic.Int64
	counts := []int{7, 5, 6}
	admin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, "/debug/pprof/goroutine", r.URL.Path)
		n := counts[int(reads.Add(1)-1)%len(counts)]
		fmt.Fprintf(w, "goroutine profile: total %d\n%d @ 0x1\n#\t0x1\tmain.worker+0x1\t/x.go:1\n", n, n)
	}))
	defer admin.Close()
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "go_goroutines 9\nprocess_resident_memory_bytes 1\n")
	}))
	defer api.Close()
	s, err := sample(api.Client(), api.URL, admin.URL)
	require.NoError(t, err)
	assert.Equal(t, 5, s.ServiceGoroutines)
	assert.EqualValues(t, profileReads, reads.Load())
}
