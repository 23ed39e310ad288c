package api

import (
	"context"

	"github.com/iceberg-remotes/iceberg-remotes/internal/api/apigen"
	"github.com/iceberg-remotes/iceberg-remotes/internal/apperr"
	"github.com/iceberg-remotes/iceberg-remotes/internal/names"
)

// handlers implements the generated strict server interface. Schema validation already
// ran; the handlers check what the schema cannot express (names) and call the service.
// Errors returned here are written by the strict server's ResponseErrorHandlerFunc.
type handlers struct {
	svc Service
}

var _ apigen.StrictServerInterface = (*handlers)(nil)

func (h *handlers) PushIcebergTable(ctx context.Context, req apigen.PushIcebergTableRequestObject) (apigen.PushIcebergTableResponseObject, error) {
	if req.Body == nil {
		return nil, apperr.BadRequest("missing request body")
	}
	if err := validatePush(req.Body); err != nil {
		return nil, err
	}
	if h.svc == nil {
		return nil, apperr.NotImplemented("push is not available: no service configured")
	}
	if err := h.svc.Push(ctx, req.Catalog, *req.Body); err != nil {
		return nil, err
	}
	return apigen.PushIcebergTable204Response{}, nil
}

func (h *handlers) PullIcebergTable(ctx context.Context, req apigen.PullIcebergTableRequestObject) (apigen.PullIcebergTableResponseObject, error) {
	if req.Body == nil {
		return nil, apperr.BadRequest("missing request body")
	}
	if err := validatePull(req.Body); err != nil {
		return nil, err
	}
	if h.svc == nil {
		return nil, apperr.NotImplemented("pull is not available: no service configured")
	}
	if err := h.svc.Pull(ctx, req.Catalog, *req.Body); err != nil {
		return nil, err
	}
	return apigen.PullIcebergTable204Response{}, nil
}

func validatePush(b *apigen.IcebergPushRequest) error {
	if err := validateLocal("source", b.Source); err != nil {
		return err
	}
	return validateRemote("destination", b.Destination)
}

func validatePull(b *apigen.IcebergPullRequest) error {
	if err := validateRemote("source", b.Source); err != nil {
		return err
	}
	return validateLocal("destination", b.Destination)
}

func validateLocal(field string, t apigen.IcebergLocalTable) error {
	if err := names.Repository(field+".repository_id", t.RepositoryId); err != nil {
		return err
	}
	if err := names.Reference(field+".reference_id", t.ReferenceId); err != nil {
		return err
	}
	if err := names.Namespace(field+".namespace", t.Namespace); err != nil {
		return err
	}
	return names.Name(field+".table", t.Table)
}

func validateRemote(field string, t apigen.IcebergRemoteTable) error {
	if err := names.Namespace(field+".namespace", t.Namespace); err != nil {
		return err
	}
	return names.Name(field+".table", t.Table)
}
