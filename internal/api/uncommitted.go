package api

import (
	"context"
	"net/http"

	"github.com/iceberg-remotes/iceberg-remotes/internal/api/apigen"
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
		on, set, err := queryBool(r, "allow_uncommitted")
		if err != nil {
			return nil, err
		}
		if set {
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
