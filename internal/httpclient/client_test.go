package httpclient_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/httpclient"
	"github.com/iceberg-remotes/iceberg-remotes/internal/requestctx"
)

// Client.Do (the retry loop without the *http.Client layer on top) applies the same policy
// and rule as New: retries, the method's retry rule, the timeout per attempt, the request id
// and the idempotency key, and errors as *url.Error.
func TestClientDoAppliesThePolicy(t *testing.T) {
	do := func(o httpclient.Options, ctx context.Context, method, target string) (*http.Response, error) {
		var body io.Reader
		if method == http.MethodPost {
			body = strings.NewReader("{}")
		}
		req, err := http.NewRequestWithContext(ctx, method, target, body)
		require.NoError(t, err)
		return httpclient.NewClient(o).Do(req)
	}
	bg := context.Background()

	srv, calls := flaky(t, 2, 503)
	resp, err := do(fast(3), bg, http.MethodGet, srv.URL)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 200, resp.StatusCode)
	assert.EqualValues(t, 3, calls.Load(), "503 is retried until success")

	srv, calls = flaky(t, 100, 503)
	resp, err = do(fast(2), bg, http.MethodGet, srv.URL)
	require.NoError(t, err, "the last response is returned, not a generic error")
	resp.Body.Close()
	assert.Equal(t, 503, resp.StatusCode)
	assert.EqualValues(t, 3, calls.Load())

	srv, calls = flaky(t, 1, 502)
	resp, err = do(fast(3), bg, http.MethodPost, srv.URL)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 502, resp.StatusCode)
	assert.EqualValues(t, 1, calls.Load(), "POST after 502 is not repeated")

	drop, dropped := dropper(t)
	_, err = do(fast(2), httpclient.Idempotent(bg), http.MethodPost, drop.URL)
	require.Error(t, err)
	var uerr *url.Error
	assert.True(t, errors.As(err, &uerr), "errors are *url.Error, as from an *http.Client: %T", err)
	assert.EqualValues(t, 3, dropped.Load(), "a POST marked idempotent is repeated after a dropped connection")

	drop, dropped = dropper(t)
	_, err = do(fast(2), bg, http.MethodGet, drop.URL)
	require.Error(t, err)
	assert.EqualValues(t, 3, dropped.Load(), "so is a GET (the rule reads the method)")

	drop, dropped = dropper(t)
	_, err = do(fast(2), bg, http.MethodPost, drop.URL)
	require.Error(t, err)
	assert.EqualValues(t, 1, dropped.Load(), "an unmarked POST is not")

	var slowCalls atomic.Int32
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		slowCalls.Add(1)
		<-r.Context().Done()
	}))
	defer slow.Close()
	o := fast(1)
	o.Policy.Timeout = 100 * time.Millisecond
	start := time.Now()
	_, err = do(o, bg, http.MethodGet, slow.URL)
	require.Error(t, err)
	assert.Less(t, time.Since(start), 5*time.Second)
	assert.EqualValues(t, 2, slowCalls.Load(), "each attempt times out on its own")

	keys, recorded := keyRecorder(t, 1, 504)
	var gotID atomic.Value
	ids := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotID.Store(r.Header.Get(httpclient.RequestIDHeader))
	}))
	defer ids.Close()
	ctx, _ := requestctx.With(bg, "req-7")
	resp, err = do(fast(0), ctx, http.MethodGet, ids.URL)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, "req-7", gotID.Load())
	key := httpclient.NewIdempotencyKey()
	resp, err = do(fast(3), httpclient.WithIdempotencyKey(bg, key), http.MethodPost, keys.URL)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, []string{key, key}, recorded(), "repeated after 504 with the same key")
}
