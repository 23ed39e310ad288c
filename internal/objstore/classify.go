package objstore

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"net"
	"net/http"
	"syscall"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"gocloud.dev/gcerrors"
	"google.golang.org/api/googleapi"

	"github.com/iceberg-remotes/iceberg-remotes/internal/apperr"
	"github.com/iceberg-remotes/iceberg-remotes/internal/httpclient"
)

// classify turns a failed step into a final *apperr.Error or a *transient. opening is true for
// errors from building the FileIO, which does no I/O: those are configuration problems.
func (s *Store) classify(ctx context.Context, location string, err error, opening bool) error {
	if ctx.Err() != nil {
		// This attempt's deadline passed, or the caller gave up (Read stops retrying then).
		return &transient{err: err, timedOut: errors.Is(ctx.Err(), context.DeadlineExceeded)}
	}
	if opening {
		// Error texts from the SDKs' configuration parsers name keys, never their values;
		// keep the cause for the log only.
		return apperr.Wrap(http.StatusInternalServerError, err,
			"object store access for %s is misconfigured", location)
	}
	if errors.Is(err, fs.ErrNotExist) {
		return apperr.Wrap(http.StatusNotFound, err, "object %s not found", location)
	}
	if errors.Is(err, fs.ErrPermission) {
		return deniedErr(location, err)
	}
	if status, ok := httpStatus(err); ok {
		switch {
		case status == http.StatusNotFound:
			return apperr.Wrap(http.StatusNotFound, err, "object %s not found", location)
		case status == http.StatusUnauthorized || status == http.StatusForbidden:
			return deniedErr(location, err)
		case httpclient.ClassifyStatus(status).Retryable(true): // reads are idempotent
			return &transient{err: err}
		default:
			return apperr.Wrap(http.StatusBadGateway, err,
				"object store rejected the read of %s (HTTP %d)", location, status)
		}
	}
	switch gcerrors.Code(err) {
	case gcerrors.NotFound:
		return apperr.Wrap(http.StatusNotFound, err, "object %s not found", location)
	case gcerrors.PermissionDenied:
		return deniedErr(location, err)
	case gcerrors.ResourceExhausted, gcerrors.Internal:
		return &transient{err: err}
	case gcerrors.DeadlineExceeded:
		return &transient{err: err, timedOut: true}
	}
	if isNetworkError(err) {
		return &transient{err: err, timedOut: isTimeout(err)}
	}
	return apperr.Wrap(http.StatusBadGateway, err, "object store failed reading %s", location)
}

func deniedErr(location string, err error) error {
	return apperr.Wrap(http.StatusBadGateway, err, "object store denied access to %s", location)
}

// httpStatus finds the HTTP status of an object-store answer in err, for each SDK.
func httpStatus(err error) (int, bool) {
	var smithyResp interface{ HTTPStatusCode() int } // AWS SDK v2
	if errors.As(err, &smithyResp) && smithyResp.HTTPStatusCode() != 0 {
		return smithyResp.HTTPStatusCode(), true
	}
	var azErr *azcore.ResponseError
	if errors.As(err, &azErr) && azErr.StatusCode != 0 {
		return azErr.StatusCode, true
	}
	var gErr *googleapi.Error
	if errors.As(err, &gErr) && gErr.Code != 0 {
		return gErr.Code, true
	}
	return 0, false
}

func isNetworkError(err error) bool {
	var nerr net.Error
	return errors.As(err, &nerr) ||
		errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.EPIPE)
}

func isTimeout(err error) bool {
	var nerr net.Error
	return errors.As(err, &nerr) && nerr.Timeout()
}
