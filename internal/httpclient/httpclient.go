// Package httpclient holds the service's one timeout-and-retry policy (Policy: a timeout per
// attempt, max_retries retries after the first attempt, jittered exponential backoff with a
// cap), the one rule for which failures are retried (Failure), and the client every outbound
// HTTP call uses (lakeFS, REST catalogs, token endpoints), which applies both and forwards
// the caller's request id: Client for callers that take any Do method, New's *http.Client
// for those that need one. The other backends (Glue through aws-sdk-go-v2, SQL,
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

// RequestIDHeader is the header that carries the request id to backends (X-Request-ID),
// spelled in Go's canonical form: Header.Get and Set take that form as is and convert any
// other, at one allocation per call. Header names are case-insensitive; Go sends this form
// either way.
const RequestIDHeader = "X-Request-Id"

// Client is the policy's retrying client for callers that accept any Do method (e.g. the
// generated lakeFS client): Do hands the request to go-retryablehttp's retry loop directly,
// without the *http.Client layer that Standard (and New) put on top of it for APIs that
// need an *http.Client, which costs a header copy and several allocations per call.
type Client struct{ rc *retryablehttp.Client }

// New returns an *http.Client with o.Policy and the retry rule of Failure.
func New(o Options) *http.Client { return NewClient(o).Standard() }

// NewClient returns a Client with o.Policy and the retry rule of Failure.
func NewClient(o Options) *Client {
	p := o.Policy.Normalized()
	transport := o.Transport
	if transport == nil {
		transport = http.DefaultTransport.(*http.Transport).Clone()
	}
	rc := retryablehttp.NewClient()
	// The timeout per attempt is attemptTransport's, not http.Client.Timeout's (see there).
	rc.HTTPClient = &http.Client{Transport: attemptTransport{policy: p, next: requestIDTransport{next: transport}}}
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
	return &Client{rc: rc}
}

// Do sends req with the policy: like (*http.Client).Do, errors are *url.Error.
func (c *Client) Do(req *http.Request) (*http.Response, error) {
	r, err := retryablehttp.FromRequest(withMethod(req))
	if err != nil {
		return nil, err
	}
	return c.rc.Do(r)
}

// Standard returns c as an *http.Client (its transport runs c's retry loop).
func (c *Client) Standard() *http.Client {
	std := c.rc.StandardClient()
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
// only sees the context, response and error) can read it; Client.Do does the same itself.
type methodTransport struct{ next http.RoundTripper }

func (t methodTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	return t.next.RoundTrip(withMethod(req))
}

// withMethod is a shallow copy of req whose context carries its method (see ShouldRetry).
func withMethod(req *http.Request) *http.Request {
	return req.WithContext(context.WithValue(req.Context(), methodKey{}, req.Method))
}

type requestIDTransport struct{ next http.RoundTripper }

// stamps says which of the request id and the idempotency key of req's context (see
// WithIdempotencyKey: mutating requests only) req still lacks.
func stamps(req *http.Request) (id string, setID bool, key string, setKey bool) {
	id = requestctx.RequestID(req.Context())
	setID = id != "" && req.Header.Get(RequestIDHeader) == ""
	key = IdempotencyKey(req.Context())
	setKey = key != "" && mutating(req.Method) && req.Header.Get(IdempotencyKeyHeader) == ""
	return id, setID, key, setKey
}

func setStamps(h http.Header, id string, setID bool, key string, setKey bool) {
	if setID {
		h.Set(RequestIDHeader, id)
	}
	if setKey {
		h.Set(IdempotencyKeyHeader, key)
	}
}

// StampHeaders sets the request id and idempotency key on a request its caller has just
// built and owns (e.g. in a generated client's request editor), so that the transport
// below finds them set and need not copy the request's headers on every call.
func StampHeaders(_ context.Context, req *http.Request) error {
	id, setID, key, setKey := stamps(req)
	setStamps(req.Header, id, setID, key, setKey)
	return nil
}

// RoundTrip also sets the idempotency key of ctx (WithIdempotencyKey) on mutating requests:
// it runs on every attempt, so each retry carries the same key.
func (t requestIDTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	id, setID, key, setKey := stamps(req)
	if setID || setKey {
		// A RoundTripper must not change the caller's request: a shallow copy with its own
		// header map is enough (req.Clone would also copy the URL, trailers and more).
		r2 := new(http.Request)
		*r2 = *req
		r2.Header = req.Header.Clone()
		setStamps(r2.Header, id, setID, key, setKey)
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
