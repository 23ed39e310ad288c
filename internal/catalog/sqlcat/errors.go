package sqlcat

import (
	"context"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"

	"github.com/iceberg-remotes/iceberg-remotes/internal/apperr"
	"github.com/iceberg-remotes/iceberg-remotes/internal/httpclient"
)

// opFunc is one attempt of an adapter call. ambiguous is true when an earlier attempt failed
// in a way that leaves open whether its statement was applied (the connection broke after the
// statement was sent), so the attempt can recognise its own earlier success.
type opFunc func(ctx context.Context, sv schemaVersion, ambiguous bool) error

// run makes the call under the adapter's policy: each attempt (schema check and statement)
// is bounded by the policy's timeout, and a failed attempt is repeated, at most max_retries
// times with the policy's backoff, when httpclient's Failure rule allows it. Every adapter
// call recognises its own earlier success (ambiguous), so all are repeatable: connection
// failures, busy databases, serialization failures and timed-out attempts are retried.
// Whatever is left becomes an *apperr.Error; errors fn returns as *apperr.Error (404, 409,
// ...) are decisions and pass through unchanged.
func (a *Adapter) run(ctx context.Context, op string, fn opFunc) error {
	ambiguous := false
	var err error
	for attempt := 0; ; attempt++ {
		actx, cancel := a.policy.Attempt(ctx)
		var sv schemaVersion
		sv, err = a.ensureSchema(actx)
		if err == nil {
			err = fn(actx, sv, ambiguous)
		}
		timedOut := errors.Is(actx.Err(), context.DeadlineExceeded) && ctx.Err() == nil
		cancel()
		if err == nil {
			return nil
		}
		var ae *apperr.Error
		if errors.As(err, &ae) {
			return err
		}
		kind := classify(err)
		if timedOut {
			kind = kindTimeout
		}
		if ctx.Err() != nil || attempt >= a.policy.MaxRetries || !failure(kind).Retryable(true) {
			if timedOut {
				return apperr.Wrap(http.StatusGatewayTimeout, err, "sql remote %q: %s timed out", a.remote, op)
			}
			break
		}
		if kind == kindTimeout || mayHaveApplied(err) {
			ambiguous = true
		}
		if !a.policy.Wait(ctx, attempt) {
			break
		}
	}
	return a.mapError(ctx, op, err)
}

// failure maps an error kind to httpclient's Failure (the one retry rule).
func failure(k errKind) httpclient.Failure {
	switch k {
	case kindTransient:
		return httpclient.Refused // the database did not apply it, or the call recognises its own success
	case kindTimeout:
		return httpclient.Ambiguous
	}
	return httpclient.Final
}

type errKind int

const (
	kindOther     errKind = iota // the database refused the statement: 502
	kindTransient                // worth retrying; 503 once retries are spent
	kindAuth                     // the configured credentials or grants were refused: 502
	kindTimeout                  // 504
)

func classify(err error) errKind {
	if errors.Is(err, context.DeadlineExceeded) || pgconn.Timeout(err) {
		return kindTimeout
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case pgErr.Code == "57014": // query_canceled: statement_timeout or our cancel request
			return kindTimeout
		case strings.HasPrefix(pgErr.Code, "28"), pgErr.Code == "42501": // invalid authorization, insufficient privilege
			return kindAuth
		case strings.HasPrefix(pgErr.Code, "08"), // connection exception
			pgErr.Code == "57P01", pgErr.Code == "57P02", pgErr.Code == "57P03", // shutdown, crash, cannot connect now
			pgErr.Code == "53300", // too many connections
			isSerialization(err):
			return kindTransient
		}
		return kindOther
	}
	if isBusy(err) {
		return kindTransient
	}
	var sqliteErr *sqlite.Error
	if errors.As(err, &sqliteErr) {
		if sqliteErr.Code()&0xff == sqliteCantOpen {
			return kindTransient
		}
		return kindOther
	}
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	if errors.As(err, &connectErr) || errors.As(err, &netErr) ||
		errors.Is(err, driver.ErrBadConn) || errors.Is(err, pgconn.ErrConnClosed) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		pgconn.SafeToRetry(err) {
		return kindTransient
	}
	return kindOther
}

// mayHaveApplied reports whether a transient failure leaves open whether the statement took
// effect. Only failures known to come before the statement reached the database are excluded:
// pgx's own SafeToRetry is not trusted here, because pgx reports a connection lost while
// waiting for the reply as "conn closed", safe to retry.
func mayHaveApplied(err error) bool {
	var connectErr *pgconn.ConnectError
	return !errors.As(err, &connectErr) && !isBusy(err) && !isSerialization(err) &&
		!errors.Is(err, syscall.ECONNREFUSED)
}

// SQLite primary result codes (the low byte of an extended code).
const (
	sqliteBusy     = 5
	sqliteLocked   = 6
	sqliteCantOpen = 14
)

// isBusy reports SQLite lock contention that outlasted the busy timeout; the statement was
// not applied.
func isBusy(err error) bool {
	var e *sqlite.Error
	if errors.As(err, &e) {
		c := e.Code() & 0xff
		return c == sqliteBusy || c == sqliteLocked
	}
	return false
}

// isSerialization reports a PostgreSQL serialization failure or deadlock; the transaction was
// rolled back.
func isSerialization(err error) bool {
	var e *pgconn.PgError
	return errors.As(err, &e) && (e.Code == "40001" || e.Code == "40P01")
}

// mapError turns a failure the adapter could not resolve into the status the caller sees. The
// message names the remote but never the DSN; the cause is kept for logs.
func (a *Adapter) mapError(ctx context.Context, op string, err error) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return apperr.Wrap(http.StatusGatewayTimeout, err, "sql remote %q: %s timed out", a.remote, op)
	}
	if errors.Is(err, context.Canceled) {
		return apperr.Wrap(http.StatusServiceUnavailable, err, "sql remote %q: %s was cancelled", a.remote, op)
	}
	switch classify(err) {
	case kindTimeout:
		return apperr.Wrap(http.StatusGatewayTimeout, err, "sql remote %q: %s timed out", a.remote, op)
	case kindTransient:
		return apperr.Wrap(http.StatusServiceUnavailable, err, "sql remote %q is unavailable (%s)", a.remote, op)
	case kindAuth:
		return apperr.Wrap(http.StatusBadGateway, err,
			"sql remote %q refused the configured credentials or lacks privileges (%s)", a.remote, op)
	default:
		return apperr.Wrap(http.StatusBadGateway, err, "sql remote %q failed to %s", a.remote, op)
	}
}
