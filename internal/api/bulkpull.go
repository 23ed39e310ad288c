package api

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/iceberg-remotes/iceberg-remotes/internal/api/apigen"
	"github.com/iceberg-remotes/iceberg-remotes/internal/apperr"
	"github.com/iceberg-remotes/iceberg-remotes/internal/names"
)

// BulkPullIcebergTables pulls every selected table back onto one branch in one commit
// (docs/design.md section 14): 200 with every result and the totals (commit_id set); when a
// table fails its checks nothing is committed, and the answer is that failure's status with
// lakeFS's {"message": ...} plus the results and totals. With Accept: application/x-ndjson
// a successful answer is one line per table and a totals line: an atomic pull knows no
// table's outcome before its commit, so the lines come together at the end.
func (h *handlers) BulkPullIcebergTables(ctx context.Context, req apigen.BulkPullIcebergTablesRequestObject) (apigen.BulkPullIcebergTablesResponseObject, error) {
	if req.Body == nil {
		return nil, apperr.BadRequest("missing request body")
	}
	b := req.Body
	if err := names.Repository("destination.repository_id", b.Destination.RepositoryId); err != nil {
		return nil, err
	}
	if err := names.Reference("destination.reference_id", b.Destination.ReferenceId); err != nil {
		return nil, err
	}
	if h.svc == nil {
		return nil, apperr.NotImplemented("bulk pull is not available: no service configured")
	}
	dry := isDryRun(ctx)
	results := []apigen.IcebergBulkResult{}
	totals, err := h.svc.BulkPull(ctx, req.Catalog, *b, dry, func(r apigen.IcebergBulkResult) {
		results = append(results, r)
	})
	if err != nil {
		return nil, err
	}
	if !dry && totals.Status != http.StatusOK {
		return bulkPullFailure{Message: totals.Message, Results: results, Totals: totals}, nil
	}
	if wantsNDJSON(ctx) {
		return bulkPullStream{ndjsonResponse{ctx: ctx, run: func(_ context.Context, out *NDJSONWriter) error {
			for _, r := range results {
				if err := out.Line(r); err != nil {
					return err
				}
			}
			return out.Line(totals)
		}}}, nil
	}
	return apigen.BulkPullIcebergTables200JSONResponse{Results: results, Totals: totals}, nil
}

type bulkPullStream struct{ ndjsonResponse }

func (b bulkPullStream) VisitBulkPullIcebergTablesResponse(w http.ResponseWriter) error {
	return b.visit(w)
}

// bulkPullFailure answers a bulk pull that committed nothing: the first failure's status,
// lakeFS's error body, and the per-table results (blocked: passed, not committed).
type bulkPullFailure struct {
	Message string                     `json:"message"`
	Results []apigen.IcebergBulkResult `json:"results"`
	Totals  apigen.IcebergBulkTotals   `json:"totals"`
}

func (f bulkPullFailure) VisitBulkPullIcebergTablesResponse(w http.ResponseWriter) error {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(f.Totals.Status)
	return json.NewEncoder(w).Encode(f)
}
