package httpclient_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/httpclient"
	"github.com/iceberg-remotes/iceberg-remotes/internal/requestctx"
)

// keyRecorder answers status to the first n requests (0: drops their connection instead),
// then 200, and records the Idempotency-Key of every request.
func keyRecorder(t *testing.T, n, status int) (*httptest.Server, func() []string) {
	var mu sync.Mutex
	var keys []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		keys = append(keys, r.Header.Get(httpclient.IdempotencyKeyHeader))
		k := len(keys)
		mu.Unlock()
		if k > n {
			return
		}
		if status == 0 {
			if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
				conn.Close()
			}
			return
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(srv.Close)
	return srv, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), keys...)
	}
}

// A POST carrying an idempotency key is repeated after an ambiguous failure (500, 502, 504,
// a dropped connection), every attempt with the same key; without a key it is not.
func TestIdempotencyKeyMakesAmbiguousPOSTRepeatable(t *testing.T) {
	for _, status := range []int{0, 500, 502, 504} {
		srv, keys := keyRecorder(t, 1, status)
		key := httpclient.NewIdempotencyKey()
		req, _ := http.NewRequestWithContext(httpclient.WithIdempotencyKey(context.Background(), key),
			http.MethodPost, srv.URL, strings.NewReader("{}"))
		resp, err := httpclient.New(fast(3)).Do(req)
		require.NoError(t, err, "status %d", status)
		resp.Body.Close()
		assert.Equal(t, 200, resp.StatusCode)
		assert.Equal(t, []string{key, key}, keys(), "after %d: repeated once, with the same key", status)

		srv, keys = keyRecorder(t, 1, status)
		resp, err = httpclient.New(fast(3)).Post(srv.URL, "application/json", strings.NewReader("{}"))
		if err == nil {
			resp.Body.Close()
		}
		assert.Equal(t, []string{""}, keys(), "after %d without a key: one attempt, no header", status)
	}
}

// The key goes on mutating requests only; a GET made under the same context carries none.
func TestIdempotencyKeyOnlyOnMutatingRequests(t *testing.T) {
	srv, keys := keyRecorder(t, 0, 0)
	ctx := httpclient.WithIdempotencyKey(context.Background(), httpclient.NewIdempotencyKey())
	for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodDelete, http.MethodPut} {
		req, _ := http.NewRequestWithContext(ctx, m, srv.URL, nil)
		resp, err := httpclient.New(fast(0)).Do(req)
		require.NoError(t, err)
		resp.Body.Close()
	}
	k := httpclient.IdempotencyKey(ctx)
	assert.Equal(t, []string{"", "", k, k}, keys())
}

func TestNewIdempotencyKeyIsAUUIDv7(t *testing.T) {
	a, b := httpclient.NewIdempotencyKey(), httpclient.NewIdempotencyKey()
	assert.NotEqual(t, a, b)
	u, err := uuid.Parse(a)
	require.NoError(t, err)
	assert.Equal(t, uuid.Version(7), u.Version())
	assert.Len(t, a, 36, "the spec's minLength and maxLength")
}

// StampHeaders sets what the transport would (the same rule), in place, and keeps what the
// caller already set.
func TestStampHeadersSetsRequestIDAndKeyInPlace(t *testing.T) {
	ctx, _ := requestctx.With(context.Background(), "req-1")
	ctx = httpclient.WithIdempotencyKey(ctx, "key-1")
	post, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://127.0.0.1/", nil)
	get, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://127.0.0.1/", nil)
	own, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://127.0.0.1/", nil)
	own.Header.Set(httpclient.RequestIDHeader, "mine")
	for _, r := range []*http.Request{post, get, own} {
		require.NoError(t, httpclient.StampHeaders(ctx, r))
	}
	assert.Equal(t, "req-1", post.Header.Get(httpclient.RequestIDHeader))
	assert.Equal(t, "key-1", post.Header.Get(httpclient.IdempotencyKeyHeader))
	assert.Equal(t, "req-1", get.Header.Get(httpclient.RequestIDHeader))
	assert.Empty(t, get.Header.Get(httpclient.IdempotencyKeyHeader), "GET carries no key")
	assert.Equal(t, "mine", own.Header.Get(httpclient.RequestIDHeader))
}

// The header names are spelled as net/http stores them, so that setting and reading them
// costs no conversion.
func TestHeaderNamesAreCanonical(t *testing.T) {
	for _, h := range []string{httpclient.RequestIDHeader, httpclient.IdempotencyKeyHeader} {
		assert.Equal(t, http.CanonicalHeaderKey(h), h)
	}
}
