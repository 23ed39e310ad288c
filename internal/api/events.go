package api

import (
	"context"
	"strconv"

	"github.com/iceberg-remotes/iceberg-remotes/internal/api/apigen"
	"github.com/iceberg-remotes/iceberg-remotes/internal/apperr"
)

// IcebergRemotesLakeFSHook records a lakeFS webhook event and answers 202 at once: the
// workers publish it (docs/design.md section 15).
func (h *handlers) IcebergRemotesLakeFSHook(ctx context.Context, req apigen.IcebergRemotesLakeFSHookRequestObject) (apigen.IcebergRemotesLakeFSHookResponseObject, error) {
	if req.Body == nil {
		return nil, apperr.BadRequest("missing request body")
	}
	if h.svc == nil {
		return nil, apperr.NotImplemented("no service configured")
	}
	accepted, err := h.svc.RecordEvent(ctx, *req.Body)
	if err != nil {
		return nil, err
	}
	return apigen.IcebergRemotesLakeFSHook202JSONResponse(accepted), nil
}

// ListIcebergRemoteEvents lists recorded events, newest first, with their state.
func (h *handlers) ListIcebergRemoteEvents(ctx context.Context, req apigen.ListIcebergRemoteEventsRequestObject) (apigen.ListIcebergRemoteEventsResponseObject, error) {
	if h.svc == nil {
		return nil, apperr.NotImplemented("no service configured")
	}
	if req.Params.After != "" {
		if _, err := strconv.ParseInt(req.Params.After, 10, 64); err != nil {
			return nil, apperr.BadRequest("after: must be an event id from next_offset (got %q)", req.Params.After)
		}
	}
	list, err := h.svc.ListEvents(ctx, req.Params.Repository, string(req.Params.State), req.Params.After, pageSize(req.Params.Amount))
	if err != nil {
		return nil, err
	}
	return apigen.ListIcebergRemoteEvents200JSONResponse(list), nil
}
