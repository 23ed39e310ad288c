package remotes

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/iceberg-remotes/iceberg-remotes/internal/apperr"
	"github.com/iceberg-remotes/iceberg-remotes/internal/state"
)

// settleTimeout bounds the clean-up that runs after a failure, even when the caller's
// context is already done.
const settleTimeout = 30 * time.Second

// applyPush sets the synced state of rec to what the push described by in leaves: the one
// rule, used when the push finishes, when reconcile finds it happened, and when a listing
// shows a pending record as it will settle.
func applyPush(rec *state.SyncRecord, in intent) {
	rec.Repository, rec.Reference = in.Repository, in.Reference
	rec.LocalNamespace, rec.LocalTable = in.LocalNamespace, in.LocalTable
	rec.ResolvedCommit, rec.TableUUID, rec.SnapshotID = in.Commit, in.TableUUID, in.SnapshotID
	rec.PushedLocation, rec.RemoteLocation, rec.LakeFSLocation = in.Location, in.Location, in.Location
	rec.ProtectedRef = in.ProtectRef
}

// succeeded records a completed operation's health: the one rule for last_success_at and
// last_error (a success clears the last error).
func (s *Service) succeeded(rec *state.SyncRecord) {
	rec.LastSuccessAt, rec.LastError = s.now().UTC(), ""
}

// unfinished records, for an operation that reconcile found did not happen, that it did
// not finish, unless the record already holds why (settleAfterFailure's cause).
func unfinished(rec *state.SyncRecord, in intent) {
	if rec.LastError == "" {
		rec.LastError = fmt.Sprintf("%s (request %s) did not finish", in.Op, in.RequestID)
	}
}

// failed records the public message of an operation's failure after its intent (never the
// cause's detail, which may name internals or secrets).
func failed(rec *state.SyncRecord, cause error) {
	rec.LastError = apperr.PublicMessage(cause)
}

// applyPull sets the synced state of rec to what the pull described by in leaves, with the
// commit it made and the table-uuid and snapshot of the metadata it linked (same three uses
// as applyPush).
func applyPull(rec *state.SyncRecord, in intent, commit, tableUUID, snapshotID string) {
	rec.RemoteLocation, rec.LakeFSLocation = in.Location, in.Location
	rec.Reference, rec.ResolvedCommit = in.Branch, commit
	rec.TableUUID, rec.SnapshotID = tableUUID, snapshotID
}

// sameSyncState reports whether two versions of a record say the same (bookkeeping times
// and version aside), so that an operation that changes nothing writes nothing.
func sameSyncState(a, b state.SyncRecord) bool {
	return a.Repository == b.Repository && a.Reference == b.Reference && slices.Equal(a.LocalNamespace, b.LocalNamespace) &&
		a.LocalTable == b.LocalTable && a.ResolvedCommit == b.ResolvedCommit &&
		a.PushedLocation == b.PushedLocation && a.RemoteLocation == b.RemoteLocation && a.LakeFSLocation == b.LakeFSLocation &&
		a.TableUUID == b.TableUUID && a.SnapshotID == b.SnapshotID &&
		a.Status == b.Status && a.Pending == b.Pending && a.Notes == b.Notes && a.UpdatedBy == b.UpdatedBy
}

// loadRecord returns the table's sync record (settling a pending one when settle is true).
func (s *Service) loadRecord(ctx context.Context, r *Remote, key state.TableKey, settle bool) (state.SyncRecord, bool, error) {
	rec, err := s.store.GetSyncRecord(ctx, key)
	if errors.Is(err, state.ErrNotFound) {
		return state.SyncRecord{TableKey: key}, false, nil
	}
	if err != nil {
		return rec, false, storeError(err)
	}
	if settle && rec.Pending != "" {
		rec, err = s.reconcile(ctx, r, rec)
		if err != nil {
			return rec, true, err
		}
	}
	return rec, true, nil
}

// writeIntent records the intent before any backend is touched.
func (s *Service) writeIntent(ctx context.Context, rec *state.SyncRecord, found bool, in intent) error {
	rec.Pending, rec.Status = in.encode(), state.StatusPending
	rec.UpdatedBy = in.User
	if !found {
		rec.Repository, rec.Reference = in.Repository, in.Reference
		rec.LocalNamespace, rec.LocalTable = in.LocalNamespace, in.LocalTable
		return storeError(s.store.CreateSyncRecord(ctx, rec))
	}
	return storeError(s.store.UpdateSyncRecord(ctx, rec))
}

// settleAfterFailure tries to settle the record right away after a failed backend call:
// the call may or may not have taken effect (a timeout), so the backends are asked. When
// they cannot be asked either, the intent stays for the next operation to settle. Either
// way the record keeps cause as its last error (unless the backends show the operation
// took effect after all).
func (s *Service) settleAfterFailure(ctx context.Context, r *Remote, rec state.SyncRecord, prevStatus string, cause error) {
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), settleTimeout)
	defer cancel()
	failed(&rec, cause)
	if _, err := s.reconcile(sctx, r, rec); err != nil {
		s.logger.WarnContext(ctx, "operation failed and could not be settled yet; the next operation on the table will",
			"catalog", rec.Catalog, "table", dotted(rec.Namespace, rec.Table), "error", err, "previous_status", prevStatus)
		if uerr := s.store.UpdateSyncRecord(sctx, &rec); uerr != nil {
			s.logger.WarnContext(ctx, "could not record the operation's error", "catalog", rec.Catalog,
				"table", dotted(rec.Namespace, rec.Table), "error", uerr)
		}
	}
}

func joinNotes(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "; " + b
}

// storeError maps state-store failures to caller-visible errors.
func storeError(err error) error {
	if err == nil {
		return nil
	}
	var ae *apperr.Error
	if errors.As(err, &ae) {
		return err
	}
	if errors.Is(err, state.ErrVersionConflict) {
		return apperr.Wrap(http.StatusConflict, err, "the table's sync record changed concurrently; retry")
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return apperr.Wrap(http.StatusGatewayTimeout, err, "state store did not answer in time")
	}
	return apperr.Wrap(http.StatusInternalServerError, err, "state store failed")
}
