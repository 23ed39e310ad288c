package api

import (
	"context"
	"net/http"

	"github.com/iceberg-remotes/iceberg-remotes/internal/api/apigen"
	"github.com/iceberg-remotes/iceberg-remotes/internal/apperr"
)

func (p planResponse) VisitUnpublishIcebergTableResponse(w http.ResponseWriter) error {
	return p.write(w)
}

// UnpublishIcebergTable removes a remote table's registration (no file is deleted): 204, or
// 200 with the plan on a dry run.
func (h *handlers) UnpublishIcebergTable(ctx context.Context, req apigen.UnpublishIcebergTableRequestObject) (apigen.UnpublishIcebergTableResponseObject, error) {
	if req.Body == nil {
		return nil, apperr.BadRequest("missing request body")
	}
	if err := validateRemote("source", req.Body.Source); err != nil {
		return nil, err
	}
	if h.svc == nil {
		return nil, apperr.NotImplemented("unpublish is not available: no service configured")
	}
	dry := isDryRun(ctx)
	plan, err := h.svc.Unpublish(ctx, req.Catalog, *req.Body, dry)
	if dry && plan != nil {
		return planResponse{plan}, nil
	}
	if err != nil {
		return nil, err
	}
	return apigen.UnpublishIcebergTable204Response{}, nil
}
