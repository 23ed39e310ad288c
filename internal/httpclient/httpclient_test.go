package httpclient_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/httpclient"
	"github.com/iceberg-remotes/iceberg-remotes/internal/requestctx"
)

func fast(retries int) httpclient.Options {
	return httpclient.Options{Policy: httpclient.Policy{Timeout: 2 * time.Second, MaxRetries: retries, MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond}}
}

// flaky answers status for the first n requests, then 200.
func flaky(t *testing.T, n int32, status int) (*httptest.Server, *atomic.Int32) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) <= n {
			w.WriteHeader(status)
			return
		}
		_, _ = w.Write([]byte("ok"))
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

func TestRetriesTransientStatuses(t *testing.T) {
	for _, status := range []int{429, 502, 503, 504} {
		srv, calls := flaky(t, 2, status)
		resp, err := httpclient.New(fast(3)).Get(srv.URL)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, 200, resp.StatusCode, "status %d retried until success", status)
		assert.EqualValues(t, 3, calls.Load())
	}
}

func TestGivesUpAfterMaxRetriesWithTheRealResponse(t *testing.T) {
	srv, calls := flaky(t, 100, 503)
	resp, err := httpclient.New(fast(2)).Get(srv.URL)
	require.NoError(t, err, "the last response is returned, not a generic error")
	resp.Body.Close()
	assert.Equal(t, 503, resp.StatusCode)
	assert.EqualValues(t, 3, calls.Load(), "one attempt plus two retries")
}

func TestDoesNotRetryOtherStatuses(t *testing.T) {
	for _, status := range []int{400, 401, 403, 404, 409, 412, 500} {
		srv, calls := flaky(t, 1, status)
		resp, err := httpclient.New(fast(3)).Post(srv.URL, "application/json", strings.NewReader("{}"))
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, status, resp.StatusCode)
		assert.EqualValues(t, 1, calls.Load(), "status %d is final", status)
	}
}

// dropper closes every connection without answering: a network error after the request
// was sent.
func dropper(t *testing.T) (*httptest.Server, *atomic.Int32) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

func TestNetworkErrorsRetryOnlyIdempotentRequests(t *testing.T) {
	srv, calls := dropper(t)
	_, err := httpclient.New(fast(2)).Get(srv.URL)
	require.Error(t, err)
	assert.EqualValues(t, 3, calls.Load(), "GET is retried after a network error")

	srv, calls = dropper(t)
	_, err = httpclient.New(fast(2)).Post(srv.URL, "application/json", strings.NewReader("{}"))
	require.Error(t, err)
	assert.EqualValues(t, 1, calls.Load(), "POST is not repeated: the server may have acted on it")

	srv, calls = dropper(t)
	req, _ := http.NewRequestWithContext(httpclient.Idempotent(context.Background()), http.MethodPost, srv.URL, strings.NewReader("{}"))
	_, err = httpclient.New(fast(2)).Do(req)
	require.Error(t, err)
	assert.EqualValues(t, 3, calls.Load(), "unless the caller marks it idempotent")
}

func TestTimeoutPerAttempt(t *testing.T) {
	release := make(chan struct{})
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	o := fast(1)
	o.Policy.Timeout = 100 * time.Millisecond
	start := time.Now()
	_, err := httpclient.New(o).Get(srv.URL)
	require.Error(t, err)
	assert.Less(t, time.Since(start), 5*time.Second)
	assert.EqualValues(t, 2, calls.Load(), "a timed-out attempt is retried once, then given up")
}

func TestCancelledContextStops(t *testing.T) {
	srv, calls := flaky(t, 100, 503)
	ctx, cancel := context.WithCancel(context.Background())
	o := fast(50)
	o.Policy.MinBackoff, o.Policy.MaxBackoff = 50*time.Millisecond, 50*time.Millisecond
	time.AfterFunc(120*time.Millisecond, cancel)
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL, nil)
	_, err := httpclient.New(o).Do(req)
	require.Error(t, err)
	assert.Less(t, calls.Load(), int32(10))
}

func TestRequestIDForwarded(t *testing.T) {
	var got atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.Store(r.Header.Get("X-Request-ID"))
	}))
	defer srv.Close()
	ctx, _ := requestctx.With(context.Background(), "req-42")
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL, nil)
	resp, err := httpclient.New(fast(0)).Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, "req-42", got.Load())
}

// Defect 4 (issue 11): a non-idempotent request is repeated only when it provably did not
// reach the server, or the server said it did not process it (429, 503). 502 and 504 come
// from proxies that may have forwarded it; a timeout after sending is just as ambiguous.
func TestNonIdempotentRequestsAreNotRepeatedAfterAmbiguousFailures(t *testing.T) {
	for _, method := range []string{http.MethodPost, http.MethodPatch} {
		for _, status := range []int{502, 504} {
			srv, calls := flaky(t, 1, status)
			req, _ := http.NewRequest(method, srv.URL, strings.NewReader("{}"))
			resp, err := httpclient.New(fast(3)).Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, status, resp.StatusCode, "%s after %d: the answer is passed on", method, status)
			assert.EqualValues(t, 1, calls.Load(), "%s after %d is not repeated: the server may have acted on it", method, status)
		}
		for _, status := range []int{429, 503} {
			srv, calls := flaky(t, 1, status)
			req, _ := http.NewRequest(method, srv.URL, strings.NewReader("{}"))
			resp, err := httpclient.New(fast(3)).Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, 200, resp.StatusCode)
			assert.EqualValues(t, 2, calls.Load(), "%s after %d is repeated: the server did not process it", method, status)
		}
	}
	for _, method := range []string{http.MethodGet, http.MethodHead, http.MethodPut, http.MethodDelete} {
		srv, calls := flaky(t, 1, 504)
		req, _ := http.NewRequest(method, srv.URL, nil)
		resp, err := httpclient.New(fast(3)).Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.EqualValues(t, 2, calls.Load(), "idempotent %s is repeated after 504", method)
	}
}

func TestNonIdempotentRequestTimingOutAfterSendingIsNotRepeated(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		_, _ = io.Copy(io.Discard, r.Body) // a server notices a gone client only after the body
		<-r.Context().Done()
	}))
	defer srv.Close()
	o := fast(3)
	o.Policy.Timeout = 100 * time.Millisecond
	_, err := httpclient.New(o).Post(srv.URL, "application/json", strings.NewReader("{}"))
	require.Error(t, err)
	assert.EqualValues(t, 1, calls.Load())
}

// countingTransport counts round trips (attempts), including those that never connect.
type countingTransport struct {
	n    atomic.Int32
	next http.RoundTripper
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.next.RoundTrip(r)
}

func TestNonIdempotentRequestIsRepeatedWhenTheConnectionWasRefused(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there any more: dialing is refused, nothing is sent
	ct := &countingTransport{next: http.DefaultTransport.(*http.Transport).Clone()}
	o := fast(2)
	o.Transport = ct
	_, err := httpclient.New(o).Post(url, "application/json", strings.NewReader("{}"))
	require.Error(t, err)
	assert.EqualValues(t, 3, ct.n.Load(), "a refused connection proves the request never arrived")
}

// Reading the answer is part of the attempt: a body that stalls fails once the attempt's
// timeout is up, as with http.Client.Timeout.
func TestTimeoutPerAttemptCoversTheBody(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("partial"))
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	o := fast(0)
	o.Policy.Timeout = 200 * time.Millisecond
	resp, err := httpclient.New(o).Get(srv.URL)
	require.NoError(t, err, "the headers arrive in time")
	defer resp.Body.Close()
	start := time.Now()
	_, err = io.ReadAll(resp.Body)
	require.Error(t, err)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 5*time.Second)
}
