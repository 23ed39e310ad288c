package remotes

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/iceberg-remotes/iceberg-remotes/internal/apperr"
	"github.com/iceberg-remotes/iceberg-remotes/internal/lakefs"
	"github.com/iceberg-remotes/iceberg-remotes/internal/requestctx"
	"github.com/iceberg-remotes/iceberg-remotes/internal/state"
)

// startOperation appends the running audit row. A failure to write it is logged, not
// fatal: the audit log must not make the service unavailable.
func (s *Service) startOperation(ctx context.Context, name string, key state.TableKey, local lakefs.TableRef, req any) *state.Operation {
	raw, _ := json.Marshal(req)
	op := &state.Operation{
		Catalog: key.Catalog, Operation: name, User: requestctx.User(ctx), RequestID: requestctx.RequestID(ctx),
		RemoteNS: key.Namespace, RemoteTable: key.Table,
		Repository: local.Repository, Reference: local.Reference, LocalNS: local.Namespace, LocalTable: local.Table,
		Request: string(raw), StartedAt: s.now().UTC(),
	}
	if err := s.store.StartOperation(ctx, op); err != nil {
		s.logger.ErrorContext(ctx, "could not write audit row", "error", err)
		return nil
	}
	return op
}

func (s *Service) finishOperation(ctx context.Context, op *state.Operation, err error) {
	if op == nil {
		return
	}
	op.FinishedAt = s.now().UTC()
	if err != nil {
		op.StatusCode, op.Outcome, op.Error = apperr.StatusOf(err), state.OutcomeFailed, apperr.PublicMessage(err)
	} else {
		op.StatusCode, op.Outcome = http.StatusNoContent, state.OutcomeSucceeded
	}
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), settleTimeout)
	defer cancel()
	if ferr := s.store.FinishOperation(fctx, op); ferr != nil {
		s.logger.ErrorContext(ctx, "could not finish audit row", "error", ferr, "operation_id", op.ID)
	}
}
