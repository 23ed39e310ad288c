package httpclient

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"syscall"

	"github.com/google/uuid"
)

// Failure is what a failed attempt proves about whether the server acted on the request.
// It is the one home of the rule "which failures are retried", for every backend:
//
//   - NotSent: the request provably never reached the server (the connection was refused,
//     the name did not resolve, dialing failed). Any request may be repeated.
//   - Refused: the server answered that it did not process the request: 408 Request
//     Timeout (RFC 9110 §15.5.9: it did not receive the whole request), 429 Too Many
//     Requests (RFC 6585: refused for rate limiting), 503 Service Unavailable (RFC 9110
//     §15.6.4: unable to handle it), a throttling error. Any request may be repeated.
//   - Ambiguous: the server may have acted on it: 500 (it failed at an unknown point), 502
//     and 504 (a proxy may have forwarded it before giving up), a timeout or a connection
//     lost after sending. Only idempotent
//     requests (GET, HEAD, OPTIONS, PUT, DELETE, ones the caller marks with Idempotent, and
//     ones carrying an idempotency key: WithIdempotencyKey) are repeated; a POST or PATCH is not, because its repeat can fail ("no changes",
//     "already exists", a lost compare-and-swap) and turn a success into a reported failure.
//   - Final: an answer or error no repeat can change (other statuses, TLS verification,
//     malformed URLs, a cancelled call).
type Failure int

const (
	Final Failure = iota
	NotSent
	Refused
	Ambiguous
)

// Retryable applies the rule to a request that is (or is not) idempotent.
func (f Failure) Retryable(idempotent bool) bool {
	switch f {
	case NotSent, Refused:
		return true
	case Ambiguous:
		return idempotent
	}
	return false
}

func (f Failure) String() string {
	switch f {
	case NotSent:
		return "not sent"
	case Refused:
		return "refused"
	case Ambiguous:
		return "ambiguous"
	}
	return "final"
}

// ClassifyStatus classifies an HTTP answer.
func ClassifyStatus(status int) Failure {
	switch status {
	case http.StatusRequestTimeout, http.StatusTooManyRequests, http.StatusServiceUnavailable:
		return Refused
	case http.StatusInternalServerError, http.StatusBadGateway, http.StatusGatewayTimeout:
		return Ambiguous
	}
	return Final
}

// ClassifyError classifies an error returned instead of an answer (any transport: HTTP,
// thrift, database drivers). A cancelled context is Final; a deadline is Ambiguous.
func ClassifyError(err error) Failure {
	if err == nil {
		return Final
	}
	var certErr *tls.CertificateVerificationError
	var unknownAuthority x509.UnknownAuthorityError
	var hostnameErr x509.HostnameError
	switch {
	case errors.Is(err, context.Canceled),
		errors.As(err, &certErr), errors.As(err, &unknownAuthority), errors.As(err, &hostnameErr):
		return Final
	case notSent(err):
		return NotSent
	case errors.Is(err, context.DeadlineExceeded):
		return Ambiguous
	}
	var nerr net.Error
	if errors.As(err, &nerr) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) {
		return Ambiguous
	}
	return Final
}

// notSent reports errors that happen before a connection exists: no byte of the request
// can have reached the server.
func notSent(err error) bool {
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return true
	}
	if errors.Is(err, syscall.ECONNREFUSED) {
		return true
	}
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

type idempotentKey struct{}

// Idempotent marks the requests made with ctx as safe to repeat after an ambiguous failure
// although their method is not idempotent (e.g. an OAuth token request, or an upload that
// writes the same bytes to the same path).
func Idempotent(ctx context.Context) context.Context {
	return context.WithValue(ctx, idempotentKey{}, true)
}

// IdempotencyKeyHeader is the header that carries an idempotency key (the Iceberg REST
// spec's Idempotency-Key, after the IETF draft of the same name).
const IdempotencyKeyHeader = "Idempotency-Key"

type idempotencyKeyKey struct{}

// WithIdempotencyKey makes every attempt of the mutating requests (POST, PUT, PATCH, DELETE)
// made with ctx carry key in the Idempotency-Key header, and marks them safe to repeat after
// an ambiguous failure: a server that honours keys answers a repeat with the first answer
// instead of applying it again. Callers set it only where the server advertised that it
// honours keys, and scope ctx to one logical call: the same key on every retry of that call,
// a new key (NewIdempotencyKey) for the next one.
func WithIdempotencyKey(ctx context.Context, key string) context.Context {
	return context.WithValue(ctx, idempotencyKeyKey{}, key)
}

// IdempotencyKey returns the key set by WithIdempotencyKey, or "".
func IdempotencyKey(ctx context.Context) string {
	k, _ := ctx.Value(idempotencyKeyKey{}).(string)
	return k
}

// NewIdempotencyKey returns a new key: a UUIDv7 (RFC 9562), the form the Iceberg REST spec
// asks for; its time prefix lets a server expire keys in order.
func NewIdempotencyKey() string {
	return uuid.Must(uuid.NewV7()).String()
}

// mutating reports whether a request with this method changes the server's state, i.e.
// whether an idempotency key means anything for it.
func mutating(method string) bool {
	switch method {
	case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		return true
	}
	return false
}

// IsIdempotent reports whether a request with this method and context may be repeated
// after an ambiguous failure: idempotent methods, requests the caller marked Idempotent, and
// mutating requests that carry an idempotency key (WithIdempotencyKey).
func IsIdempotent(ctx context.Context, method string) bool {
	if marked, _ := ctx.Value(idempotentKey{}).(bool); marked {
		return true
	}
	if IdempotencyKey(ctx) != "" && mutating(method) {
		return true
	}
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodPut, http.MethodDelete, http.MethodTrace:
		return true
	}
	return false
}
