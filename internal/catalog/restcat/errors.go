package restcat

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync/atomic"

	"github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/catalog/rest"
	"github.com/apache/iceberg-go/table"
	"golang.org/x/oauth2"

	"github.com/iceberg-remotes/iceberg-remotes/internal/apperr"
)

// statusBox receives the HTTP status of the last response a request context saw.
type statusBox struct{ status atomic.Int32 }

func (b *statusBox) get() int {
	if b == nil {
		return 0
	}
	return int(b.status.Load())
}

type statusKey struct{}

// track returns a context whose responses' statuses are recorded in the returned box.
func track(ctx context.Context) (context.Context, *statusBox) {
	b := &statusBox{}
	return context.WithValue(ctx, statusKey{}, b), b
}

// statusTransport records each response status in the request context's statusBox.
type statusTransport struct{ next http.RoundTripper }

func (t statusTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	rsp, err := t.next.RoundTrip(req)
	if b, ok := req.Context().Value(statusKey{}).(*statusBox); ok && rsp != nil {
		b.status.Store(int32(rsp.StatusCode))
	}
	return rsp, err
}

// httpStatusError is a non-2xx answer to one of this package's own requests.
type httpStatusError struct {
	status  int
	typ     string
	message string
}

func (e *httpStatusError) Error() string {
	return fmt.Sprintf("HTTP %d %s: %s", e.status, e.typ, e.message)
}

// remoteError decodes an Iceberg error body into an error mapErr understands.
func remoteError(status int, body []byte) error {
	var payload struct {
		Error struct {
			Message string `json:"message"`
			Type    string `json:"type"`
		} `json:"error"`
	}
	_ = json.Unmarshal(body, &payload)
	e := &httpStatusError{status: status, typ: payload.Error.Type, message: payload.Error.Message}
	switch {
	case status == http.StatusNotFound && payload.Error.Type == "NoSuchTableException":
		return fmt.Errorf("%w: %w", catalog.ErrNoSuchTable, e)
	case status == http.StatusNotFound:
		return fmt.Errorf("%w: %w", catalog.ErrNoSuchNamespace, e)
	}
	return e
}

// mapErr turns an error from iceberg-go or from this package's own requests into the
// *apperr.Error the service answers. Messages name the remote and the operation, never
// credentials; the cause is kept for logs. st (optional) carries the last HTTP status seen.
func (a *Adapter) mapErr(err error, st *statusBox, format string, args ...any) error {
	var ae *apperr.Error
	if errors.As(err, &ae) {
		return err
	}
	what := fmt.Sprintf(format, args...)
	status := st.get()
	var he *httpStatusError
	if errors.As(err, &he) {
		status = he.status
	}
	wrap := func(code int, msg string, margs ...any) error {
		return apperr.Wrap(code, err, "remote %q: %s: %s", a.name, what, fmt.Sprintf(msg, margs...))
	}
	var (
		authErr  *authError
		retrieve *oauth2.RetrieveError
		certErr  *tls.CertificateVerificationError
		unknown  x509.UnknownAuthorityError
		hostErr  x509.HostnameError
		netErr   net.Error
	)
	switch {
	case errors.Is(err, catalog.ErrNoSuchTable):
		return wrap(http.StatusNotFound, "table does not exist")
	case errors.Is(err, catalog.ErrNoSuchNamespace):
		return wrap(http.StatusNotFound, "namespace does not exist")
	case errors.Is(err, catalog.ErrTableAlreadyExists):
		return wrap(http.StatusConflict, "table already exists")
	case errors.Is(err, catalog.ErrNamespaceAlreadyExists):
		return wrap(http.StatusConflict, "namespace already exists")
	case errors.Is(err, table.ErrCommitFailed):
		return wrap(http.StatusConflict, "the remote refused the commit (concurrent change)")
	case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &netErr) && netErr.Timeout()):
		return wrap(http.StatusGatewayTimeout, "the remote did not answer in time")
	case errors.Is(err, context.Canceled):
		return wrap(http.StatusServiceUnavailable, "request cancelled")
	case errors.As(err, &authErr) || errors.As(err, &retrieve) || errors.Is(err, rest.ErrOAuthError):
		if retrieve != nil && retrieve.Response != nil && retrieve.Response.StatusCode >= 500 {
			return wrap(http.StatusBadGateway, "the remote's OAuth2 server failed (HTTP %d)", retrieve.Response.StatusCode)
		}
		return wrap(http.StatusBadGateway, "the remote rejected the configured credentials (OAuth2 token request failed)")
	case status == http.StatusUnauthorized || status == http.StatusForbidden || status == 419 ||
		errors.Is(err, rest.ErrUnauthorized) || errors.Is(err, rest.ErrForbidden) || errors.Is(err, rest.ErrAuthorizationExpired):
		return wrap(http.StatusBadGateway, "the remote rejected the configured credentials (HTTP %d)", status)
	case status == http.StatusTooManyRequests:
		return wrap(http.StatusTooManyRequests, "the remote is throttling requests")
	case status == http.StatusServiceUnavailable || errors.Is(err, rest.ErrServiceUnavailable):
		return wrap(http.StatusServiceUnavailable, "the remote is unavailable")
	case status == http.StatusGatewayTimeout:
		return wrap(http.StatusGatewayTimeout, "the remote timed out")
	case status >= 500 || errors.Is(err, rest.ErrServerError):
		return wrap(http.StatusBadGateway, "the remote failed (HTTP %d)", status)
	case errors.As(err, &certErr) || errors.As(err, &unknown) || errors.As(err, &hostErr):
		return wrap(http.StatusBadGateway, "TLS verification of the remote failed")
	case errors.Is(err, rest.ErrEndpointNotSupported):
		return wrap(http.StatusBadGateway, "the remote does not support this operation")
	case netErr != nil:
		return wrap(http.StatusBadGateway, "the remote is unreachable")
	case status >= 400:
		return wrap(http.StatusBadGateway, "the remote rejected the request (HTTP %d)", status)
	default:
		return wrap(http.StatusBadGateway, "the remote request failed")
	}
}
