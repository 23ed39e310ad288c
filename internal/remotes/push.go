package remotes

import (
	"context"
	"net/http"
	"strings"

	"github.com/iceberg-remotes/iceberg-remotes/internal/apperr"
	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog"
	"github.com/iceberg-remotes/iceberg-remotes/internal/lakefs"
	"github.com/iceberg-remotes/iceberg-remotes/internal/requestctx"
	"github.com/iceberg-remotes/iceberg-remotes/internal/state"
)

// PushRequest registers the lakeFS table Source in remote Catalog as Destination.
type PushRequest struct {
	Catalog         string
	Source          lakefs.TableRef
	Destination     catalog.Ident
	ForceUpdate     bool
	CreateNamespace bool
	DryRun          bool
	// Operation names the audit row ("push", or "auto-push" for webhooks).
	Operation string
	// EventBranch is set by automatic push: the branch whose post-commit/post-merge event
	// named the commit in Source.Reference. lakeFS runs post-* hooks asynchronously, so two
	// quick commits' events can arrive in either order; once the table's lock is held, a
	// branch that has moved past the event's commit makes the push a no-op (plan.Superseded)
	// instead of rolling the remote table back. The newer commit's own event pushes it.
	EventBranch string
	// AllowUncommitted publishes a table that is only staged on its branch (nil: the
	// remote's allow_uncommitted); see checkCommitted.
	AllowUncommitted *bool
}

// Push performs (or, with DryRun, plans) a push. The returned plan lists the checks and
// actions; err is the operation's failure (nil on success).
func (s *Service) Push(ctx context.Context, req PushRequest) (plan *Plan, err error) {
	if req.Operation == "" {
		req.Operation = "push"
	}
	plan = &Plan{Operation: req.Operation, DryRun: req.DryRun}
	defer func() { plan.finish(err) }()

	r, err := s.remote(ctx, req.Catalog)
	if err != nil {
		return plan, plan.fail("remote_catalog", err)
	}
	plan.pass("remote_catalog", "remote catalog %q (%s)", req.Catalog, r.Config.Type)

	key := state.TableKey{Catalog: req.Catalog, Namespace: req.Destination.Namespace, Table: req.Destination.Table}
	unlock, err := s.store.LockTable(ctx, key)
	if err != nil {
		return plan, storeError(err)
	}
	defer unlock()

	if req.EventBranch != "" {
		head, err := s.lakefs.ResolveRef(ctx, req.Source.Repository, req.EventBranch)
		if err != nil {
			return plan, plan.fail("event_commit", err)
		}
		if head.CommitID != req.Source.Reference {
			plan.Superseded = true
			plan.pass("event_commit", "superseded: branch %q has moved on from the event's commit %s to %s, whose event pushes the table",
				req.EventBranch, req.Source.Reference, head.CommitID)
			return plan, nil
		}
		plan.pass("event_commit", "commit %s is the head of branch %q", req.Source.Reference, req.EventBranch)
	}

	var op *state.Operation
	if !req.DryRun {
		op = s.startOperation(ctx, req.Operation, key, req.Source, req)
		defer func() { s.finishOperation(ctx, op, err) }()
	}

	rec, found, err := s.loadRecord(ctx, r, key, !req.DryRun)
	if err != nil {
		return plan, err
	}

	st, err := s.lakefs.ReadTable(ctx, req.Source)
	if err != nil {
		return plan, plan.fail("lakefs_table", err)
	}
	loc := st.MetadataLocation
	if op != nil {
		op.MetadataLoc, op.LakeFSCommit = loc, st.ResolvedCommit
	}
	plan.pass("lakefs_table", "table %s at %q (commit %s): metadata %s, Iceberg format v%d, table-uuid %s",
		req.Source, req.Source.Reference, st.ResolvedCommit, loc, st.FormatVersion, st.TableUUID)
	notes := ""
	if !icebergFileName(loc) {
		notes = "the metadata file's name is not an Iceberg writer's (NNNNN-<uuid>.metadata.json): remote writers may be unable to commit"
		plan.pass("metadata_file_name", "warning: %s", notes)
	}
	protect, note, err := s.checkCommitted(ctx, plan, r, req, key, st)
	if err != nil {
		return plan, err
	}
	notes = joinNotes(notes, note)

	id := req.Destination
	nsExists, err := r.Adapter.NamespaceExists(ctx, id.Namespace)
	if err != nil {
		return plan, plan.fail("remote_namespace", err)
	}
	if !nsExists {
		if !req.CreateNamespace {
			return plan, plan.fail("remote_namespace", apperr.NotFound(
				"namespace %s not found in remote catalog %q (set create_namespace to create it)", strings.Join(id.Namespace, "."), req.Catalog))
		}
		plan.action("create namespace %s in %q", strings.Join(id.Namespace, "."), req.Catalog)
	} else {
		plan.pass("remote_namespace", "namespace exists")
	}

	cur := ""
	if nsExists {
		cur, err = r.Adapter.LoadTable(ctx, id)
		if err != nil && !apperr.Is(err, http.StatusNotFound) {
			return plan, plan.fail("remote_table", err)
		}
	}
	switch {
	case cur == "":
		plan.pass("remote_table", "table %s does not exist in %q", id, req.Catalog)
		plan.action("register %s in %q at %s", id, req.Catalog, loc)
	case cur == loc:
		plan.pass("remote_table", "table %s already points at %s: nothing to change", id, loc)
	case !req.ForceUpdate:
		return plan, plan.fail("remote_table", apperr.Conflict(
			"table %s already exists in remote catalog %q (at %s); set force_update to re-point it", id, req.Catalog, cur))
	default:
		plan.pass("remote_table", "table %s exists at %s; force_update re-points it", id, cur)
		plan.action("re-point %s in %q from %s to %s", id, req.Catalog, cur, loc)
	}
	if req.DryRun {
		return plan, nil
	}

	user := requestctx.User(ctx)
	in := intent{
		Op: "push", RequestID: requestctx.RequestID(ctx), User: user,
		Location: loc, PrevRemote: cur,
		Repository: req.Source.Repository, Reference: req.Source.Reference,
		LocalNamespace: req.Source.Namespace, LocalTable: req.Source.Table,
		Commit: st.ResolvedCommit, TableUUID: st.TableUUID, SnapshotID: snapshotString(st.CurrentSnapshotID),
	}
	in.ProtectRef, in.PrevProtectRef, in.PrevProtectRepo = ProtectedRefName(key, protect), rec.ProtectedRef, rec.Repository
	prevStatus := rec.Status
	if err := s.writeIntent(ctx, &rec, found, in); err != nil {
		return plan, err
	}
	if err := s.protect(ctx, rec, in); err != nil {
		s.settleAfterFailure(ctx, r, rec, prevStatus, err)
		return plan, plan.fail("gc_protection", err)
	}

	prov := catalog.Provenance{Repository: req.Source.Repository, Reference: req.Source.Reference, Commit: st.ResolvedCommit}
	atomic := true
	err = func() error {
		if !nsExists {
			if err := r.Adapter.CreateNamespace(ctx, id.Namespace); err != nil {
				return err
			}
		}
		switch {
		case cur == "":
			return r.Adapter.RegisterTable(ctx, id, loc, prov)
		case cur != loc:
			var err error
			atomic, err = r.Adapter.ReplaceTable(ctx, id, cur, loc, prov)
			return err
		}
		return nil
	}()
	if err != nil {
		s.settleAfterFailure(ctx, r, rec, prevStatus, err)
		return plan, err
	}
	notes = joinNotes(notes, s.releasePrevious(ctx, in))
	if !atomic {
		notes = joinNotes(notes, "the last re-point was not atomic (the remote refused overwrite: dropped, then registered)")
	}

	applyPush(&rec, in)
	rec.Status, rec.Pending, rec.Notes, rec.UpdatedBy = state.StatusSynced, "", notes, user
	s.succeeded(&rec)
	if err := s.store.UpdateSyncRecord(ctx, &rec); err != nil {
		// The remote changed; the intent still says so and the next operation settles it.
		return plan, storeError(err)
	}
	return plan, nil
}
