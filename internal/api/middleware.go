package api

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/go-chi/chi/v5/middleware"
	"github.com/google/uuid"

	"github.com/iceberg-remotes/iceberg-remotes/internal/apperr"
	"github.com/iceberg-remotes/iceberg-remotes/internal/requestctx"
)

// RequestIDHeader carries the request id in both directions (X-Request-ID), spelled in Go's
// canonical form: Header.Get and Set take that form as is and convert any other, at one
// allocation per call. Header names are case-insensitive; Go sends this form either way.
const RequestIDHeader = "X-Request-Id"

// maxRequestIDLen bounds a caller-supplied request id (it lands in logs and audit rows).
const maxRequestIDLen = 128

// requestID accepts a sane caller-supplied X-Request-ID (printable ASCII, bounded) or
// generates one, echoes it on the response and puts it on the context.
func requestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(RequestIDHeader)
		if !validRequestID(id) {
			id = uuid.NewString()
		}
		w.Header().Set(RequestIDHeader, id)
		ctx, _ := requestctx.With(r.Context(), id)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

func validRequestID(id string) bool {
	if id == "" || len(id) > maxRequestIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < 0x21 || id[i] > 0x7e {
			return false
		}
	}
	return true
}

// accessLog writes one structured line per request, after it is served, naming the user
// that authentication (which runs later in the chain) recorded on the context. Query strings
// are not logged: they are not used by the API and could carry anything.
func accessLog(logger *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
			next.ServeHTTP(ww, r)
			status := ww.Status()
			if status == 0 {
				status = http.StatusOK
			}
			level := slog.LevelInfo
			if status >= 500 {
				level = slog.LevelError
			}
			logger.Log(r.Context(), level, "request",
				"request_id", requestctx.RequestID(r.Context()),
				"user", requestctx.User(r.Context()),
				"method", r.Method,
				"path", r.URL.Path,
				"status", status,
				"bytes", ww.BytesWritten(),
				"duration_ms", time.Since(start).Milliseconds(),
				"remote", r.RemoteAddr,
			)
		})
	}
}

// recoverer turns a panic into a 500 with a generic body; the stack goes to the log only.
func recoverer(logger *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defer func() {
				rec := recover()
				if rec == nil {
					return
				}
				if rec == http.ErrAbortHandler {
					panic(rec) // the server's own signal to abort the response
				}
				logger.ErrorContext(r.Context(), "panic while serving request",
					"request_id", requestctx.RequestID(r.Context()),
					"panic", fmt.Sprint(rec), "stack", string(debug.Stack()))
				apperr.WriteStatus(w, http.StatusInternalServerError, apperr.MsgInternal)
			}()
			next.ServeHTTP(w, r)
		})
	}
}

// limitBody reads at most limit bytes of the body up front: a larger body is a 413, and
// later stages get a body they can read (and re-read) freely.
func limitBody(limit int64) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.ContentLength > limit {
				apperr.WriteStatus(w, http.StatusRequestEntityTooLarge,
					fmt.Sprintf("request body is larger than %d bytes", limit))
				return
			}
			body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
			if err != nil {
				var tooLarge *http.MaxBytesError
				if errors.As(err, &tooLarge) {
					apperr.WriteStatus(w, http.StatusRequestEntityTooLarge,
						fmt.Sprintf("request body is larger than %d bytes", limit))
					return
				}
				apperr.WriteStatus(w, http.StatusBadRequest, "could not read request body")
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			r.ContentLength = int64(len(body))
			next.ServeHTTP(w, r)
		})
	}
}
