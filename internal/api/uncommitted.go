package api

import (
	"context"
	"net/http"
	"strconv"

	"github.com/iceberg-remotes/iceberg-remotes/internal/api/apigen"
	"github.com/iceberg-remotes/iceberg-remotes/internal/apperr"
)

type allowUncommittedKey struct{}

// allowUncommittedFlag reads the allow_uncommitted query parameter onto the context. Like
// dry_run it is a query parameter because push's body must stay identical to lakeFS's
// spec; absent, the remote's allow_uncommitted setting decides (AllowUncommitted is nil).
// Only pushes read it.
func allowUncommittedFlag(next apigen.StrictHandlerFunc, operationID string) apigen.StrictHandlerFunc {
	if operationID != "PushIcebergTable" && operationID != "BulkPushIcebergTables" {
		return next
	}
	return func(ctx context.Context, w http.ResponseWriter, r *http.Request, req any) (any, error) {
		if v := r.URL.Query().Get("allow_uncommitted"); v != "" {
			on, err := strconv.ParseBool(v)
			if err != nil {
				return nil, apperr.BadRequest("allow_uncommitted: must be true or false (got %q)", v)
			}
			ctx = context.WithValue(ctx, allowUncommittedKey{}, on)
		}
		return next(ctx, w, r, req)
	}
}

// AllowUncommitted is the request's allow_uncommitted query parameter (nil when absent).
func AllowUncommitted(ctx context.Context) *bool {
	if on, ok := ctx.Value(allowUncommittedKey{}).(bool); ok {
		return &on
	}
	return nil
}
