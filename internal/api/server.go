// Package api is the HTTP surface of the service: the chi router mounted at /api/v1 with
// the lakeFS remotes operations (generated from api/openapi.yaml by oapi-codegen), request
// validation with lakeFS-style errors, and the operational endpoints /_health and /_ready.
//
// Order of the checks a request meets, matching lakeFS (docs/design.md sections 2 and 12):
// routing (unknown route 404, wrong method 405) → body size (413) → request validation
// against the spec (400) → authentication (401) → the handler (name checks 400, then the
// service).
package api

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/iceberg-remotes/iceberg-remotes/internal/api/apigen"
	"github.com/iceberg-remotes/iceberg-remotes/internal/apperr"
)

// BaseURL is where the API is mounted (the lakeFS server URL prefix).
const BaseURL = "/api/v1"

// DefaultMaxBodyBytes bounds request bodies (1 MiB).
const DefaultMaxBodyBytes = 1 << 20

// Service is what the handlers need from the push/pull service. Push and Pull return the
// plan of what was (or, with dryRun, would be) done; err is the operation's failure.
type Service interface {
	// Push, Pull and Unpublish return the plan of a dry run (the answer); otherwise only
	// the error counts.
	Push(ctx context.Context, catalog string, req apigen.IcebergPushRequest, dryRun bool) (*apigen.IcebergPlan, error)
	Pull(ctx context.Context, catalog string, req apigen.IcebergPullRequest, dryRun bool) (*apigen.IcebergPlan, error)
	Unpublish(ctx context.Context, catalog string, req apigen.IcebergUnpublishRequest, dryRun bool) (*apigen.IcebergPlan, error)
	ListRemotes(ctx context.Context) ([]apigen.IcebergRemote, error)
	// ListTables lists the synced tables; repository and state filter them ("" for all).
	ListTables(ctx context.Context, catalog, after string, amount int, repository, state string) (apigen.IcebergSyncedTableList, error)
	ListOperations(ctx context.Context, catalog, after string, amount int) (apigen.IcebergRemoteOperationList, error)
	// BulkPush pushes every selected table, calling emit with each table's result as it
	// finishes (one call at a time), and returns the totals; an error means no table was
	// touched.
	BulkPush(ctx context.Context, catalog string, req apigen.IcebergBulkPushRequest, dryRun bool, emit func(apigen.IcebergBulkResult)) (apigen.IcebergBulkTotals, error)
	// BulkPull checks every selected table and pulls the changed ones in one commit or none,
	// calling emit with each table's result once the outcome is known; the totals' status
	// is 200 or the first failure's. An error means no table was checked.
	BulkPull(ctx context.Context, catalog string, req apigen.IcebergBulkPullRequest, dryRun bool, emit func(apigen.IcebergBulkResult)) (apigen.IcebergBulkTotals, error)
	// RecordEvent records a lakeFS webhook event for the publication workers.
	RecordEvent(ctx context.Context, event apigen.LakeFSHookEvent) (apigen.IcebergHookAccepted, error)
	ListEvents(ctx context.Context, repository, state, after string, amount int) (apigen.IcebergEventList, error)
}

// ReadyCheck is one dependency /_ready reports on.
type ReadyCheck struct {
	Name  string
	Check func(ctx context.Context) error
}

// Options configure the handler.
type Options struct {
	Logger *slog.Logger
	// Authenticate is the authentication middleware run on every /api/v1 operation after
	// validation. Nil means every request is unauthenticated (401).
	Authenticate func(http.Handler) http.Handler
	Service      Service
	Ready        []ReadyCheck
	MaxBodyBytes int64
	// ReadyTimeout bounds each readiness check (default 2s).
	ReadyTimeout time.Duration
	// Instrument, if set, wraps every request (metrics); Metrics, if set, serves /metrics.
	Instrument func(http.Handler) http.Handler
	Metrics    http.Handler
}

// NewHandler builds the service's root HTTP handler.
func NewHandler(o Options) (http.Handler, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if o.ReadyTimeout <= 0 {
		o.ReadyTimeout = 2 * time.Second
	}
	if o.Authenticate == nil {
		o.Authenticate = denyAll
	}
	validate, err := newValidator()
	if err != nil {
		return nil, err
	}

	root := chi.NewRouter()
	root.Use(requestID, accessLog(o.Logger))
	if o.Instrument != nil {
		root.Use(o.Instrument)
	}
	root.Use(recoverer(o.Logger))
	root.NotFound(notFound)
	root.MethodNotAllowed(methodNotAllowed(root))
	root.Get("/_health", health)
	root.Get("/_ready", ready(o.Ready, o.ReadyTimeout))
	if o.Metrics != nil {
		root.Method(http.MethodGet, "/metrics", o.Metrics)
	}

	root.Route(BaseURL, func(r chi.Router) {
		r.NotFound(notFound)
		r.MethodNotAllowed(methodNotAllowed(root))
		strict := apigen.NewStrictHandlerWithOptions(&handlers{svc: o.Service}, []apigen.StrictMiddlewareFunc{dryRunFlag, acceptFlag, allowUncommittedFlag}, apigen.StrictHTTPServerOptions{
			RequestErrorHandlerFunc: func(w http.ResponseWriter, _ *http.Request, err error) {
				apperr.WriteStatus(w, http.StatusBadRequest, err.Error())
			},
			ResponseErrorHandlerFunc: func(w http.ResponseWriter, r *http.Request, err error) {
				writeError(o.Logger, w, r, err)
			},
		})
		apigen.HandlerWithOptions(strict, apigen.ChiServerOptions{
			BaseRouter: r,
			// Generated code wraps the handler with each middleware in turn, so the last
			// one listed runs first: body limit, then validation, then authentication.
			Middlewares: []apigen.MiddlewareFunc{o.Authenticate, validate.middleware, limitBody(o.MaxBodyBytes)},
			ErrorHandlerFunc: func(w http.ResponseWriter, _ *http.Request, err error) {
				apperr.WriteStatus(w, http.StatusBadRequest, err.Error())
			},
		})
	})
	return root, nil
}

// denyAll is the authentication used when none is configured: nobody is authenticated.
func denyAll(http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		apperr.WriteStatus(w, http.StatusUnauthorized, apperr.MsgAuthenticationFailed)
	})
}

// writeError answers err lakeFS-style; internal errors are logged, never shown.
func writeError(logger *slog.Logger, w http.ResponseWriter, r *http.Request, err error) {
	status := apperr.StatusOf(err)
	if status >= 500 {
		logger.ErrorContext(r.Context(), "request failed", "error", err, "status", status)
	}
	apperr.Write(w, err)
}

func notFound(w http.ResponseWriter, _ *http.Request) {
	apperr.WriteStatus(w, http.StatusNotFound, apperr.MsgInvalidEndpoint)
}

// methodNotAllowed answers 405 with the Allow header listing the methods the path has.
func methodNotAllowed(root *chi.Mux) http.HandlerFunc {
	methods := []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut,
		http.MethodPatch, http.MethodDelete, http.MethodOptions}
	return func(w http.ResponseWriter, r *http.Request) {
		for _, m := range methods {
			if root.Match(chi.NewRouteContext(), m, r.URL.Path) {
				w.Header().Add("Allow", m)
			}
		}
		apperr.WriteStatus(w, http.StatusMethodNotAllowed, "method not allowed")
	}
}

func health(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{"status":"ok"}` + "\n"))
}

type readyBody struct {
	Status string            `json:"status"`
	Checks map[string]string `json:"checks"`
}

func ready(checks []ReadyCheck, timeout time.Duration) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body := readyBody{Status: "ok", Checks: map[string]string{}}
		status := http.StatusOK
		for _, c := range checks {
			ctx, cancel := context.WithTimeout(r.Context(), timeout)
			err := c.Check(ctx)
			cancel()
			if err != nil {
				// Only an *apperr.Error carries a message meant for callers.
				body.Checks[c.Name] = "unavailable"
				var public *apperr.Error
				if errors.As(err, &public) {
					body.Checks[c.Name] = public.Message
				}
				body.Status, status = "unavailable", http.StatusServiceUnavailable
				continue
			}
			body.Checks[c.Name] = "ok"
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(body)
	}
}
