package api

import (
	"context"

	"github.com/iceberg-remotes/iceberg-remotes/internal/api/apigen"
	"github.com/iceberg-remotes/iceberg-remotes/internal/apperr"
)

// Operations specified in api/openapi.yaml whose handlers are being built (issues 12 and
// 13). Each answers 501 until its handler replaces it here; this file must be empty of
// them before those issues are resolved.

func (h *handlers) BulkPushIcebergTables(ctx context.Context, req apigen.BulkPushIcebergTablesRequestObject) (apigen.BulkPushIcebergTablesResponseObject, error) {
	return nil, apperr.NotImplemented("bulk push is not implemented yet")
}

func (h *handlers) BulkPullIcebergTables(ctx context.Context, req apigen.BulkPullIcebergTablesRequestObject) (apigen.BulkPullIcebergTablesResponseObject, error) {
	return nil, apperr.NotImplemented("bulk pull is not implemented yet")
}
