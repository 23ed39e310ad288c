package main

import (
	"context"
	"net/http"
	"net/http/httptest"
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
