package remotes

import (
	"context"
	"net/http"

	"github.com/iceberg-remotes/iceberg-remotes/internal/apperr"
	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog"
	"github.com/iceberg-remotes/iceberg-remotes/internal/lakefs"
	"github.com/iceberg-remotes/iceberg-remotes/internal/requestctx"
	"github.com/iceberg-remotes/iceberg-remotes/internal/state"
)

// Unpublish performs (or, with DryRun, plans) an un-publish: the remote table's registration
// is removed through the adapter's DropTable, which never deletes or purges a file (the
// metadata and data belong to lakeFS), and the sync record is retired with status
// "unpublished", keeping its history, so that a later push registers the table again.
//
// Refused with 409 unless Force: a table this service did not push (no active sync record),
// and one whose remote location is no longer the one last synced (someone re-pointed it, or
// an engine committed to it and un-publishing would orphan that unpulled commit).
func (s *Service) Unpublish(ctx context.Context, req UnpublishRequest) (plan *Plan, err error) {
	if req.Operation == "" {
		req.Operation = "unpublish"
	}
	plan = &Plan{Operation: req.Operation, DryRun: req.DryRun}
	defer func() { plan.finish(err) }()

	r, err := s.planRemote(ctx, plan, req.Catalog)
	if err != nil {
		return plan, err
	}

	id := req.Table
	key := state.TableKey{Catalog: req.Catalog, Namespace: id.Namespace, Table: id.Table}
	unlock, err := s.store.LockTable(ctx, key)
	if err != nil {
		return plan, storeError(err)
	}
	defer unlock()

	var op *state.Operation
	if !req.DryRun {
		// The audit row names the lakeFS table the record came from, when there is one.
		var local lakefs.TableRef
		if prev, gerr := s.store.GetSyncRecord(ctx, key); gerr == nil {
			local = lakefs.TableRef{Repository: prev.Repository, Reference: prev.Reference, Namespace: prev.LocalNamespace, Table: prev.LocalTable}
		}
		op = s.startOperation(ctx, req.Operation, key, local, req)
		defer func() { s.finishOperation(ctx, op, err) }()
	}

	rec, found, err := s.loadRecord(ctx, r, key, !req.DryRun)
	if err != nil {
		return plan, err
	}
	ours := found && rec.PushedLocation != "" && rec.Status != state.StatusUnpublished

	cur, err := r.Adapter.LoadTable(ctx, id)
	switch {
	case err == nil:
	case !apperr.Is(err, http.StatusNotFound):
		return plan, plan.fail("remote_table", err)
	case found && rec.Status == state.StatusUnpublished:
		plan.pass("remote_table", "table %s is not in remote catalog %q: already un-published", id, req.Catalog)
		if rec.ProtectedRef != "" && !req.DryRun {
			// An earlier un-publish could not delete the protecting branch: try again.
			ref := heldRef{rec.Repository, rec.ProtectedRef}
			rec.ProtectedRef, rec.Notes = "", ""
			if err := s.store.UpdateSyncRecord(ctx, &rec); err != nil {
				return plan, storeError(err)
			}
			s.releaseStored(ctx, &rec, ref)
			return plan, nil
		}
		return plan, nil
	case !ours:
		return plan, plan.fail("remote_table", apperr.Wrap(http.StatusNotFound, err, "table %s not found in remote catalog %q", id, req.Catalog))
	default:
		// Someone else dropped it: only the record is left to retire.
		plan.pass("remote_table", "table %s is no longer in remote catalog %q", id, req.Catalog)
		plan.action("retire the sync record of %s (status unpublished)", id)
		if req.DryRun {
			return plan, nil
		}
		rec.Status, rec.UpdatedBy = state.StatusUnpublished, requestctx.User(ctx)
		ref := heldRef{rec.Repository, rec.ProtectedRef}
		rec.ProtectedRef = ""
		if err := s.store.UpdateSyncRecord(ctx, &rec); err != nil {
			return plan, storeError(err)
		}
		s.releaseStored(ctx, &rec, ref)
		return plan, nil
	}
	plan.pass("remote_table", "table %s is in remote catalog %q at %s", id, req.Catalog, cur)
	if op != nil {
		op.MetadataLoc = cur
	}

	switch {
	case !ours && !req.Force:
		return plan, plan.fail("sync_record", apperr.Conflict(
			"table %s in remote catalog %q was not pushed by this service: set force to un-publish it anyway", id, req.Catalog))
	case !ours:
		plan.pass("sync_record", "not pushed by this service; force un-publishes it")
	case cur != rec.RemoteLocation && !req.Force:
		return plan, plan.fail("sync_record", apperr.Conflict(
			"table %s in remote catalog %q is at %s, not the %s this service last synced: someone re-pointed it or committed to it since (pull it first, or set force to un-publish it anyway)",
			id, req.Catalog, cur, rec.RemoteLocation))
	case cur != rec.RemoteLocation:
		plan.pass("sync_record", "the remote moved from the synced %s; force un-publishes it", rec.RemoteLocation)
	default:
		plan.pass("sync_record", "pushed from %s/%s; the remote still points at the synced metadata", rec.Repository, dotted(rec.LocalNamespace, rec.LocalTable))
	}
	plan.action("remove %s from remote catalog %q without deleting or purging any file", id, req.Catalog)
	if found {
		plan.action("retire the sync record of %s (status unpublished)", id)
	}
	if rec.ProtectedRef != "" {
		plan.action("release branch %q, which kept the published commit from lakeFS's garbage collector (deleted unless another table is published at that commit)", rec.ProtectedRef)
	}
	if req.DryRun {
		return plan, nil
	}

	user := requestctx.User(ctx)
	prevStatus := rec.Status
	if found {
		in := intent{Op: "unpublish", RequestID: requestctx.RequestID(ctx), User: user, Location: cur, PrevStatus: prevStatus}
		if err := s.writeIntent(ctx, &rec, true, in); err != nil {
			return plan, err
		}
	}
	// DropTable is not conditional on cur (no remote offers a conditional drop): a commit
	// that lands in between is dropped from the catalog too, its files kept like every other.
	if err := r.Adapter.DropTable(ctx, id); err != nil && !apperr.Is(err, http.StatusNotFound) {
		if found {
			s.settleAfterFailure(ctx, r, rec, prevStatus, err)
		}
		return plan, err
	}
	if !found {
		// No record to retire: nothing of this service's state named the table.
		return plan, nil
	}
	rec.Status, rec.Pending, rec.UpdatedBy = state.StatusUnpublished, "", user
	// Only now that the remote no longer lists the table may its files be collected: the
	// record withdraws its claim, then the branch is released.
	ref := heldRef{rec.Repository, rec.ProtectedRef}
	rec.ProtectedRef = ""
	s.succeeded(&rec)
	if err := s.store.UpdateSyncRecord(ctx, &rec); err != nil {
		// The remote changed; the intent still says so and the next operation settles it.
		return plan, storeError(err)
	}
	s.releaseStored(ctx, &rec, ref)
	return plan, nil
}

// settleUnpublish decides the status of a record left with an un-publish intent: the table
// gone from the remote means the drop happened; still there, it did not (or someone
// registered it again since), and the record keeps its previous status.
func (s *Service) settleUnpublish(ctx context.Context, r *Remote, id catalog.Ident, in intent) (string, error) {
	_, err := r.Adapter.LoadTable(ctx, id)
	switch {
	case apperr.Is(err, http.StatusNotFound):
		return state.StatusUnpublished, nil
	case err != nil:
		return "", err
	case in.PrevStatus == "":
		return state.StatusSynced, nil
	}
	return in.PrevStatus, nil
}
