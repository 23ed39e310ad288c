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
	plan, _, err = s.push(ctx, req, pushInputs{})
	return plan, err
}

// pushInputs is what the caller of the push core already knows about the table. A single
// push knows nothing; a bulk push knows where the listing located the table and where the
// remote's batch read found it, and shares one namespace check/creation per namespace.
type pushInputs struct {
	// source, when set, is the table as located at the reference (no content read).
	source *lakefs.TableState
	// remote, when set, is the remote table's location as read before the table's lock was
	// taken ("" = no such table); see remoteLocation for when it is trusted.
	remote *string
	// ns checks and creates remote namespaces (nil: ask the adapter each time).
	ns namespaces
	// committed gives the table's metadata location in a commit (nil: stat it; a bulk
	// push lists the selection at the commit once instead), for checkCommitted.
	committed committedLocation
}

// namespaces checks and creates remote namespaces for pushes.
type namespaces interface {
	exists(ctx context.Context, ns []string) (bool, error)
	create(ctx context.Context, ns []string) error
}

// adapterNamespaces asks the remote every time (a single push).
type adapterNamespaces struct{ a catalog.Adapter }

func (n adapterNamespaces) exists(ctx context.Context, ns []string) (bool, error) {
	return n.a.NamespaceExists(ctx, ns)
}
func (n adapterNamespaces) create(ctx context.Context, ns []string) error {
	return n.a.CreateNamespace(ctx, ns)
}

// push is the one per-table push, for the single and the bulk push: lock the remote
// table, settle a leftover intent, locate the table in lakeFS, load the remote table, read
// the metadata only when the remote does not already point at it (and the sync record
// does not already know it), check, write the intent, change the remote, finish the record.
// changed tells that the remote table was (or, in a dry run, would be) changed.
func (s *Service) push(ctx context.Context, req PushRequest, in pushInputs) (plan *Plan, changed bool, err error) {
	if req.Operation == "" {
		req.Operation = "push"
	}
	plan = &Plan{Operation: req.Operation, DryRun: req.DryRun}
	defer func() { plan.finish(err) }()

	r, err := s.planRemote(ctx, plan, req.Catalog)
	if err != nil {
		return plan, false, err
	}
	if in.ns == nil {
		in.ns = adapterNamespaces{r.Adapter}
	}

	key := state.TableKey{Catalog: req.Catalog, Namespace: req.Destination.Namespace, Table: req.Destination.Table}
	unlock, err := s.store.LockTable(ctx, key)
	if err != nil {
		return plan, false, storeError(err)
	}
	defer unlock()

	if req.EventBranch != "" {
		head, err := s.lakefs.ResolveRef(ctx, req.Source.Repository, req.EventBranch)
		if err != nil {
			return plan, false, plan.fail("event_commit", err)
		}
		if head.CommitID != req.Source.Reference {
			plan.Superseded = true
			plan.pass("event_commit", "superseded: branch %q has moved on from the event's commit %s to %s, whose event pushes the table",
				req.EventBranch, req.Source.Reference, head.CommitID)
			return plan, false, nil
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
		return plan, false, err
	}

	// knows tells that the record holds the table-uuid and snapshot of metadata file loc,
	// taken from a parse of this very file when it was pushed or pulled. A metadata file is
	// never changed in place (Iceberg writes a new file per commit; lakeFS gives every
	// upload its own address), so they still hold and the file need not be read again.
	knows := func(loc string) bool {
		return found && rec.Pending == "" && rec.RemoteLocation == loc && rec.LakeFSLocation == loc
	}
	st := in.source
	if st == nil {
		// Located with the check that a branch's table is committed, in the same calls.
		st, err = s.lakefs.LocateCommitted(ctx, req.Source, lastCommitted(rec, req.Source), func(loc string) bool { return !knows(loc) })
		if err != nil {
			return plan, false, plan.fail("lakefs_table", err)
		}
	}

	id := req.Destination
	cur, err := s.remoteLocation(ctx, r, id, rec, found, in.remote)
	if err != nil {
		return plan, false, plan.fail("remote_table", err)
	}

	var tableUUID, snapshotID string
	if st.Metadata == nil && knows(st.MetadataLocation) && cur == st.MetadataLocation {
		// The remote already points at this file and the record knows its contents: no read.
		tableUUID, snapshotID = rec.TableUUID, rec.SnapshotID
		plan.pass("lakefs_table", "table %s at %q (commit %s): metadata %s, already the remote table's (table-uuid %s per the sync record)",
			req.Source, req.Source.Reference, st.ResolvedCommit, st.MetadataLocation, tableUUID)
	} else {
		if st.Metadata == nil {
			// On a branch the table may move while it is read; LoadMetadata then locates it
			// again, so st (and the location compared below) always describes what was parsed.
			if err := s.lakefs.LoadMetadata(ctx, req.Source, st); err != nil {
				return plan, false, plan.fail("lakefs_table", err)
			}
		}
		tableUUID, snapshotID = st.TableUUID, snapshotString(st.CurrentSnapshotID)
		plan.pass("lakefs_table", "table %s at %q (commit %s): metadata %s, Iceberg format v%d, table-uuid %s",
			req.Source, req.Source.Reference, st.ResolvedCommit, st.MetadataLocation, st.FormatVersion, tableUUID)
	}
	loc := st.MetadataLocation
	if op != nil {
		op.MetadataLoc, op.LakeFSCommit = loc, st.ResolvedCommit
	}
	notes := ""
	if !icebergFileName(loc) {
		notes = "the metadata file's name is not an Iceberg writer's (NNNNN-<uuid>.metadata.json): remote writers may be unable to commit"
		plan.pass("metadata_file_name", "warning: %s", notes)
	}
	protect, note, err := s.checkCommitted(ctx, plan, r, req, rec, st, in.committed)
	if err != nil {
		return plan, false, err
	}
	notes = joinNotes(notes, note)

	createNS := false
	switch {
	case cur != "":
		plan.pass("remote_namespace", "namespace exists (the table loads)")
	case req.CreateNamespace && !req.DryRun:
		// Creating a namespace that exists is no error (catalog.Adapter), so a push that
		// may create it does not ask first.
		createNS = true
		plan.pass("remote_namespace", "namespace %s is created if missing", strings.Join(id.Namespace, "."))
	default:
		ok, err := in.ns.exists(ctx, id.Namespace)
		if err != nil {
			return plan, false, plan.fail("remote_namespace", err)
		}
		switch {
		case ok:
			plan.pass("remote_namespace", "namespace exists")
		case !req.CreateNamespace:
			return plan, false, plan.fail("remote_namespace", apperr.NotFound(
				"namespace %s not found in remote catalog %q (set create_namespace to create it)", strings.Join(id.Namespace, "."), req.Catalog))
		default:
			createNS = true
			plan.action("create namespace %s in %q", strings.Join(id.Namespace, "."), req.Catalog)
		}
	}

	switch {
	case cur == "":
		plan.pass("remote_table", "table %s does not exist in %q", id, req.Catalog)
		plan.action("register %s in %q at %s", id, req.Catalog, loc)
	case cur == loc:
		plan.pass("remote_table", "table %s already points at %s: nothing to change", id, loc)
	case !req.ForceUpdate:
		return plan, false, plan.fail("remote_table", apperr.Conflict(
			"table %s already exists in remote catalog %q (at %s); set force_update to re-point it", id, req.Catalog, cur))
	default:
		plan.pass("remote_table", "table %s exists at %s; force_update re-points it", id, cur)
		plan.action("re-point %s in %q from %s to %s", id, req.Catalog, cur, loc)
	}
	changed = cur != loc
	if req.DryRun {
		return plan, changed, nil
	}

	user := requestctx.User(ctx)
	it := intent{
		Op: "push", RequestID: requestctx.RequestID(ctx), User: user,
		Location: loc, PrevRemote: cur,
		Repository: req.Source.Repository, Reference: req.Source.Reference,
		LocalNamespace: req.Source.Namespace, LocalTable: req.Source.Table,
		Commit: st.ResolvedCommit, TableUUID: tableUUID, SnapshotID: snapshotID,
	}
	it.ProtectRef, it.PrevProtectRef, it.PrevProtectRepo = ProtectedRefName(protect), rec.ProtectedRef, rec.Repository
	if !changed && (protect == "" || (found && rec.ProtectedRef != "" && rec.Status != state.StatusUnpublished && rec.Repository == it.Repository && rec.PushedLocation == loc)) {
		// The remote is not touched, so there is nothing for an intent to protect (a crash
		// leaves the old record, which still describes the remote): the record takes the
		// push's state in one write, or none when it already has it. The branch that
		// protects the last pushed commit keeps protecting this metadata file (that commit
		// holds the same file), so no lakeFS branch call is needed; a table not yet
		// protected takes the intent path below, which protects it.
		next := rec
		applyPush(&next, it)
		next.ProtectedRef = rec.ProtectedRef
		next.Status, next.Pending, next.Notes, next.UpdatedBy = state.StatusSynced, "", notes, user
		var werr error
		switch {
		case !found:
			werr = s.store.CreateSyncRecord(ctx, &next)
		case !sameSyncState(rec, next):
			werr = s.store.UpdateSyncRecord(ctx, &next)
		}
		return plan, false, storeError(werr)
	}
	prevStatus := rec.Status
	if prevStatus == state.StatusUnpublished {
		// An un-published record's branch (one it could not delete) is no claim; with the
		// pending status it would read as one, so it moves to the intent (PrevProtectRef),
		// which releases it once the push is settled either way.
		rec.ProtectedRef = ""
	}
	if err := s.writeIntent(ctx, &rec, found, it); err != nil {
		return plan, false, err
	}
	if err := s.protect(ctx, rec, it, prevStatus); err != nil {
		s.settleAfterFailure(ctx, r, rec, prevStatus, err)
		return plan, false, plan.fail("gc_protection", err)
	}

	prov := pushProvenance(ctx, req, st.ResolvedCommit)
	atomic := true
	err = func() error {
		if createNS {
			if err := in.ns.create(ctx, id.Namespace); err != nil {
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
		return plan, false, err
	}
	if !atomic {
		notes = joinNotes(notes, "the last re-point was not atomic (the remote refused overwrite: dropped, then registered)")
	}

	applyPush(&rec, it)
	rec.Status, rec.Pending, rec.Notes, rec.UpdatedBy = state.StatusSynced, "", notes, user
	s.succeeded(&rec)
	if err := s.store.UpdateSyncRecord(ctx, &rec); err != nil {
		// The remote changed; the intent still says so and the next operation settles it.
		return plan, changed, storeError(err)
	}
	// The record no longer claims the previous commit's branch: release it.
	s.releaseStored(ctx, &rec, heldRef{it.PrevProtectRepo, it.PrevProtectRef})
	return plan, changed, nil
}

// remoteLocation returns where the remote table points ("" when it does not exist). A
// location read before the table's lock (a bulk push's batch read) is used only while the
// sync record, read under the lock, agrees with it: this service changes a remote table
// only under that lock and with its intent in the record first, so agreement means none of
// its operations changed the table since that read. Otherwise the table is loaded now.
func (s *Service) remoteLocation(ctx context.Context, r *Remote, id catalog.Ident, rec state.SyncRecord, found bool, pre *string) (string, error) {
	if pre != nil && rec.Pending == "" && ((found && rec.RemoteLocation == *pre) || (!found && *pre == "")) {
		return *pre, nil
	}
	cur, err := r.Adapter.LoadTable(ctx, id)
	if apperr.Is(err, http.StatusNotFound) {
		return "", nil
	}
	return cur, err
}
