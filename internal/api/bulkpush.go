package api

import (
	"context"
	"net/http"

	"github.com/iceberg-remotes/iceberg-remotes/internal/api/apigen"
	"github.com/iceberg-remotes/iceberg-remotes/internal/apperr"
	"github.com/iceberg-remotes/iceberg-remotes/internal/names"
)

// BulkPushIcebergTables pushes every selected table (docs/design.md section 14): 200 with
// every result and the totals, or, with Accept: application/x-ndjson, one line per table as
// it finishes and a totals line.
func (h *handlers) BulkPushIcebergTables(ctx context.Context, req apigen.BulkPushIcebergTablesRequestObject) (apigen.BulkPushIcebergTablesResponseObject, error) {
	if req.Body == nil {
		return nil, apperr.BadRequest("missing request body")
	}
	b := req.Body
	if err := names.Repository("source.repository_id", b.Source.RepositoryId); err != nil {
		return nil, err
	}
	if err := names.Reference("source.reference_id", b.Source.ReferenceId); err != nil {
		return nil, err
	}
	if h.svc == nil {
		return nil, apperr.NotImplemented("bulk push is not available: no service configured")
	}
	dry := isDryRun(ctx)
	if wantsNDJSON(ctx) {
		return bulkPushStream{ndjsonResponse{ctx: ctx, run: func(ctx context.Context, out *NDJSONWriter) error {
			totals, err := h.svc.BulkPush(ctx, req.Catalog, *b, dry, func(r apigen.IcebergBulkResult) {
				_ = out.Line(r) // a client gone away stops reading; the pushes still finish and are audited
			})
			if err != nil {
				return err
			}
			return out.Line(totals)
		}}}, nil
	}
	results := []apigen.IcebergBulkResult{}
	totals, err := h.svc.BulkPush(ctx, req.Catalog, *b, dry, func(r apigen.IcebergBulkResult) {
		results = append(results, r)
	})
	if err != nil {
		return nil, err
	}
	return apigen.BulkPushIcebergTables200JSONResponse{Results: results, Totals: totals}, nil
}

type bulkPushStream struct{ ndjsonResponse }

func (b bulkPushStream) VisitBulkPushIcebergTablesResponse(w http.ResponseWriter) error {
	return b.visit(w)
}
