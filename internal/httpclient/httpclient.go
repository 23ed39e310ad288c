// Package httpclient holds the service's one timeout-and-retry policy (Policy: a timeout per
// attempt, max_retries retries after the first attempt, jittered exponential backoff with a
// cap), the one rule for which failures are retried (Failure), and the *http.Client every
// outbound HTTP call uses (lakeFS, REST catalogs, token endpoints), which applies both and
// forwards the caller's request id. The other backends (Glue through aws-sdk-go-v2, SQL,
// Hive thrift, object-store reads) apply the same Policy and Failure rule with their own
// transports.
//
// Retrying HTTP is delegated to hashicorp/go-retryablehttp; this package only fixes the
// policy so that all backends behave alike.
package httpclient

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/iceberg-remotes/iceberg-remotes/internal/requestctx"
)

// Options configure a client.
type Options struct {
	// Policy is the timeout per attempt, the number of retries and the backoff.
	Policy Policy
	// Transport is the underlying transport (default: a clone of http.DefaultTransport).
	Transport http.RoundTripper
	// Logger receives one debug line per retry; nil disables it. URLs are logged without
	// query strings or user info; headers are never logged.
	Logger *slog.Logger
}

// RequestIDHeader is the header that carries the request id to backends.
const RequestIDHeader = "X-Request-ID"

// New returns an *http.Client with o.Policy and the retry rule of Failure.
func New(o Options) *http.Client {
	p := o.Policy.Normalized()
	transport := o.Transport
	if transport == nil {
		transport = http.DefaultTransport.(*http.Transport).Clone()
	}
	rc := retryablehttp.NewClient()
	rc.HTTPClient = &http.Client{Timeout: p.Timeout, Transport: requestIDTransport{next: transport}}
	rc.RetryMax = p.MaxRetries
	rc.RetryWaitMin = p.MinBackoff
	rc.RetryWaitMax = p.MaxBackoff
	rc.Backoff = func(_, _ time.Duration, attemptNum int, resp *http.Response) time.Duration {
		return backoff(p, attemptNum, resp)
	}
	rc.Logger = nil
	if o.Logger != nil {
		lg := o.Logger
		rc.RequestLogHook = func(_ retryablehttp.Logger, req *http.Request, attempt int) {
			if attempt > 0 {
				lg.DebugContext(req.Context(), "retrying outbound request",
					"method", req.Method, "url", redactURL(req.URL), "attempt", attempt)
			}
		}
	}
	// After the last attempt, hand the caller the real response (or error) instead of
	// retryablehttp's generic "giving up" error, so that status mapping still works.
	rc.ErrorHandler = retryablehttp.PassthroughErrorHandler
	rc.CheckRetry = ShouldRetry
	std := rc.StandardClient()
	std.Transport = methodTransport{next: std.Transport}
	return std
}

// backoff is the policy's wait before retry number retry (retryablehttp counts from 0); a
// Retry-After on a 429 or 503 is honoured when longer, up to one attempt's timeout.
func backoff(p Policy, retry int, resp *http.Response) time.Duration {
	wait := p.Backoff(retry)
	if resp != nil && (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable) {
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
			wait = max(wait, min(time.Duration(s)*time.Second, p.Timeout))
		}
	}
	return wait
}

// ShouldRetry is retryablehttp's CheckRetry for the rule of Failure: a failure is retried
// when Failure.Retryable says so for the request's method (see IsIdempotent). A cancelled
// or expired caller context stops at once.
func ShouldRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	f := ClassifyError(err)
	if err == nil {
		f = ClassifyStatus(resp.StatusCode)
	}
	method, _ := ctx.Value(methodKey{}).(string)
	return f.Retryable(IsIdempotent(ctx, method)), nil
}

type methodKey struct{}

// methodTransport puts the request method on the context, where the retry policy (which
// only sees the context, response and error) can read it.
type methodTransport struct{ next http.RoundTripper }

func (t methodTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	return t.next.RoundTrip(req.WithContext(context.WithValue(req.Context(), methodKey{}, req.Method)))
}

type requestIDTransport struct{ next http.RoundTripper }

// RoundTrip also sets the idempotency key of ctx (WithIdempotencyKey) on mutating requests:
// it runs on every attempt, so each retry carries the same key.
func (t requestIDTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	id := requestctx.RequestID(req.Context())
	setID := id != "" && req.Header.Get(RequestIDHeader) == ""
	key := IdempotencyKey(req.Context())
	setKey := key != "" && mutating(req.Method) && req.Header.Get(IdempotencyKeyHeader) == ""
	if setID || setKey {
		// A RoundTripper must not change the caller's request: a shallow copy with its own
		// header map is enough (req.Clone would also copy the URL, trailers and more).
		r2 := new(http.Request)
		*r2 = *req
		r2.Header = req.Header.Clone()
		if setID {
			r2.Header.Set(RequestIDHeader, id)
		}
		if setKey {
			r2.Header.Set(IdempotencyKeyHeader, key)
		}
		req = r2
	}
	return t.next.RoundTrip(req)
}

// redactURL drops user info and query (which may carry tokens) for logging.
func redactURL(u *url.URL) string {
	c := *u
	c.User = nil
	c.RawQuery = ""
	return c.String()
}
