package httpclient_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/iceberg-remotes/iceberg-remotes/internal/httpclient"
)

func TestFailureRule(t *testing.T) {
	for status, want := range map[int]httpclient.Failure{
		200: httpclient.Final, 400: httpclient.Final, 404: httpclient.Final, 409: httpclient.Final, 412: httpclient.Final,
		408: httpclient.Refused, 429: httpclient.Refused, 503: httpclient.Refused,
		500: httpclient.Ambiguous, 502: httpclient.Ambiguous, 504: httpclient.Ambiguous,
		501: httpclient.Final,
	} {
		assert.Equal(t, want, httpclient.ClassifyStatus(status), "status %d", status)
	}
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: connection refused")}
	reset := &net.OpError{Op: "read", Net: "tcp", Err: errors.New("connection reset by peer")}
	for err, want := range map[error]httpclient.Failure{
		refused:                            httpclient.NotSent,
		fmt.Errorf("wrapped: %w", refused): httpclient.NotSent,
		&net.DNSError{Err: "no such host"}: httpclient.NotSent,
		reset:                              httpclient.Ambiguous,
		io.ErrUnexpectedEOF:                httpclient.Ambiguous,
		context.DeadlineExceeded:           httpclient.Ambiguous,
		context.Canceled:                   httpclient.Final,
		errors.New("unsupported protocol scheme"): httpclient.Final,
	} {
		assert.Equal(t, want, httpclient.ClassifyError(err), "%v", err)
	}
	for _, idempotent := range []bool{true, false} {
		assert.True(t, httpclient.NotSent.Retryable(idempotent))
		assert.True(t, httpclient.Refused.Retryable(idempotent))
		assert.False(t, httpclient.Final.Retryable(idempotent))
	}
	assert.True(t, httpclient.Ambiguous.Retryable(true))
	assert.False(t, httpclient.Ambiguous.Retryable(false))

	ctx := context.Background()
	assert.True(t, httpclient.IsIdempotent(ctx, http.MethodPut))
	assert.False(t, httpclient.IsIdempotent(ctx, http.MethodPost))
	assert.True(t, httpclient.IsIdempotent(httpclient.Idempotent(ctx), http.MethodPost))
}

func TestPolicy(t *testing.T) {
	var zero httpclient.Policy
	n := zero.Normalized()
	assert.Equal(t, httpclient.DefaultTimeout, n.Timeout, "no call waits forever")
	assert.Equal(t, 0, n.MaxRetries, "0 means no retries, not a default")
	assert.Equal(t, 1, zero.Attempts())
	assert.Equal(t, 1, httpclient.Policy{MaxRetries: -2}.Attempts())
	assert.Equal(t, 4, httpclient.Policy{MaxRetries: 3}.Attempts())

	p := httpclient.Policy{MinBackoff: 10 * time.Millisecond, MaxBackoff: 80 * time.Millisecond}
	for retry := 0; retry < 40; retry++ {
		d := min(10*time.Millisecond<<min(retry, 10), 80*time.Millisecond)
		for i := 0; i < 20; i++ {
			got := p.Backoff(retry)
			assert.GreaterOrEqual(t, got, d/2, "retry %d", retry)
			assert.LessOrEqual(t, got, d, "retry %d: capped", retry)
		}
	}
}
