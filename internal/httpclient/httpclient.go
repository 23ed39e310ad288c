// Package httpclient builds the *http.Client every outbound HTTP call of the service uses
// (lakeFS, REST catalogs, token endpoints): a timeout per attempt, bounded retries with
// jittered exponential backoff on network errors, 429 and 502/503/504 (honouring
// Retry-After), never on other statuses, and the caller's request id forwarded.
//
// Retrying is delegated to hashicorp/go-retryablehttp; this package only fixes the policy so
// that all backends behave alike.
package httpclient

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/iceberg-remotes/iceberg-remotes/internal/requestctx"
)

// Options configure a client.
type Options struct {
	// Timeout bounds one attempt (connect, send, wait for headers, read body).
	Timeout time.Duration
	// MaxRetries is the number of retries after the first attempt (0 = one attempt only).
	MaxRetries int
	// MinBackoff and MaxBackoff bound the wait between attempts (defaults 100ms and 2s).
	MinBackoff, MaxBackoff time.Duration
	// Transport is the underlying transport (default: a clone of http.DefaultTransport).
	Transport http.RoundTripper
	// Logger receives one debug line per retry; nil disables it. URLs are logged without
	// query strings or user info; headers are never logged.
	Logger *slog.Logger
	// RetryNonIdempotent allows retrying POST/PATCH after a network error. Retrying a
	// non-idempotent request after a 429/503 answer is always allowed: the server said it
	// did nothing.
	RetryNonIdempotent bool
}

// RequestIDHeader is the header that carries the request id to backends.
const RequestIDHeader = "X-Request-ID"

// New returns an *http.Client with the retry policy described in the package comment.
func New(o Options) *http.Client {
	if o.MinBackoff == 0 {
		o.MinBackoff = 100 * time.Millisecond
	}
	if o.MaxBackoff == 0 {
		o.MaxBackoff = 2 * time.Second
	}
	transport := o.Transport
	if transport == nil {
		transport = http.DefaultTransport.(*http.Transport).Clone()
	}
	rc := retryablehttp.NewClient()
	rc.HTTPClient = &http.Client{Timeout: o.Timeout, Transport: requestIDTransport{next: transport}}
	rc.RetryMax = o.MaxRetries
	rc.RetryWaitMin = o.MinBackoff
	rc.RetryWaitMax = o.MaxBackoff
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
	retryNonIdempotent := o.RetryNonIdempotent
	rc.CheckRetry = func(ctx context.Context, resp *http.Response, err error) (bool, error) {
		return ShouldRetry(ctx, resp, err, retryNonIdempotent)
	}
	std := rc.StandardClient()
	std.Transport = methodTransport{next: std.Transport}
	return std
}

// ShouldRetry is the retry policy: 429, 502, 503 and 504 answers, and network errors (but a
// network error on a non-idempotent request only when retryNonIdempotent: the server may have
// acted on it). TLS certificate and URL errors are final, and so is a cancelled context.
func ShouldRetry(ctx context.Context, resp *http.Response, err error, retryNonIdempotent bool) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	if err != nil {
		var certErr *tls.CertificateVerificationError
		var unknownAuthority x509.UnknownAuthorityError
		var hostnameErr x509.HostnameError
		if errors.As(err, &certErr) || errors.As(err, &unknownAuthority) || errors.As(err, &hostnameErr) {
			return false, nil
		}
		var nerr net.Error
		if !errors.As(err, &nerr) && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
			return false, nil
		}
		method, _ := ctx.Value(methodKey{}).(string)
		return retryNonIdempotent || idempotent(method), nil
	}
	switch resp.StatusCode {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true, nil
	}
	return false, nil
}

func idempotent(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodPut, http.MethodDelete:
		return true
	}
	return false
}

type methodKey struct{}

// methodTransport puts the request method on the context, where the retry policy (which
// only sees the context, response and error) can read it.
type methodTransport struct{ next http.RoundTripper }

func (t methodTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	return t.next.RoundTrip(req.WithContext(context.WithValue(req.Context(), methodKey{}, req.Method)))
}

type requestIDTransport struct{ next http.RoundTripper }

func (t requestIDTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if id := requestctx.RequestID(req.Context()); id != "" && req.Header.Get(RequestIDHeader) == "" {
		req = req.Clone(req.Context())
		req.Header.Set(RequestIDHeader, id)
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
