package remotes

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/iceberg-remotes/iceberg-remotes/internal/apperr"
	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog"
	"github.com/iceberg-remotes/iceberg-remotes/internal/lakefs"
	"github.com/iceberg-remotes/iceberg-remotes/internal/requestctx"
	"github.com/iceberg-remotes/iceberg-remotes/internal/state"
)

// PullRequest brings remote table Source of Catalog back onto branch Destination.
type PullRequest struct {
	Catalog         string
	Source          catalog.Ident
	Destination     lakefs.TableRef
	ForceUpdate     bool
	CreateNamespace bool
	DryRun          bool
}

// Pull performs (or, with DryRun, plans) a pull.
func (s *Service) Pull(ctx context.Context, req PullRequest) (plan *Plan, err error) {
	plan = &Plan{Operation: "pull", DryRun: req.DryRun}
	defer func() { plan.finish(err) }()

	r, err := s.planRemote(ctx, plan, req.Catalog)
	if err != nil {
		return plan, err
	}

	dst := req.Destination
	key := state.TableKey{Catalog: req.Catalog, Namespace: req.Source.Namespace, Table: req.Source.Table}
	unlock, err := s.store.LockTable(ctx, key)
	if err != nil {
		return plan, storeError(err)
	}
	defer unlock()

	var op *state.Operation
	if !req.DryRun {
		op = s.startOperation(ctx, "pull", key, dst, req)
		defer func() { s.finishOperation(ctx, op, err) }()
	}

	// The destination is checked after the audit row is started, so that a pull refused
	// for its destination (a tag, an unknown branch, a lakeFS permission denial) is
	// audited like every other refused push or pull.
	head, err := s.checkBranch(ctx, plan, dst)
	if err != nil {
		return plan, err
	}
	rec, found, err := s.loadRecord(ctx, r, key, !req.DryRun)
	if err != nil {
		return plan, err
	}
	pc, err := s.checkPull(ctx, r, req, rec, found, head, plan)
	if err != nil || pc.inSync {
		return plan, err
	}
	if err := s.checkUncommitted(plan, pc.base, pc.w.StagePaths, dst); err != nil {
		return plan, err
	}
	plan.action("link %s (%d bytes) as table %s on branch %q (staging %s) and commit %q",
		pc.remoteLoc, pc.md.SizeBytes, dst, dst.Reference, strings.Join(pc.w.StagePaths, ", "), pc.w.Message)
	if req.DryRun {
		return plan, nil
	}
	commitID, err := s.commitPulls(ctx, r, []*pullCheck{pc}, "", pc.w.Message, pc.w.Metadata)
	if op != nil && commitID != "" {
		op.LakeFSCommit, op.MetadataLoc = commitID, pc.remoteLoc
	}
	return plan, err
}

// checkBranch refuses a destination that is not a branch (a pull commits onto one) and
// returns the commit its head resolved to: the tables are read there (checkPull).
func (s *Service) checkBranch(ctx context.Context, plan *Plan, dst lakefs.TableRef) (string, error) {
	resolved, err := s.lakefs.ResolveRef(ctx, dst.Repository, dst.Reference)
	if err != nil {
		return "", plan.fail("destination_branch", err)
	}
	if !resolved.IsBranch {
		return "", plan.fail("destination_branch", apperr.BadRequest(
			"reference_id %q is not a branch: pull commits onto a branch of repository %q", dst.Reference, dst.Repository))
	}
	plan.pass("destination_branch", "branch %q of %q (head %s)", dst.Reference, dst.Repository, resolved.CommitID)
	return resolved.CommitID, nil
}

// pullCheck is one table's pull after its checks passed (checkPull): what its write links
// and stages, and the record it completes.
type pullCheck struct {
	inSync    bool // nothing to pull
	dst       lakefs.TableRef
	rec       state.SyncRecord
	remoteLoc string             // lakeFS's form of the remote's metadata location: what is linked
	curLoc    string             // the table's location on the branch as checked ("" none)
	base      *lakefs.BranchBase // the branch as checked (LocateForWrite); the write's Base
	md        *RemoteMetadata
	snapshot  string
	w         lakefs.TableWrite // StagePaths and Plan set from its plan
	wp        *lakefs.WritePlan
}

// checkPull runs every check of one table's pull except the branch's uncommitted changes
// (checkUncommitted, over every path of the commit), recording them in plan: the sync
// record, the remote table, the pull location rule, the remote metadata and its lineage,
// both sides changed, the lakeFS namespace, and the paths the write will stage. Nothing is
// changed. A single pull and each table of a bulk pull are checked by it alike, the table
// read at head (checkBranch's).
func (s *Service) checkPull(ctx context.Context, r *Remote, req PullRequest, rec state.SyncRecord, found bool, head string, plan *Plan) (*pullCheck, error) {
	dst := req.Destination
	if found && rec.Status == state.StatusUnpublished {
		return nil, plan.fail("sync_record", apperr.NotFound(
			"table %s in remote catalog %q was un-published: push it again first", req.Source, req.Catalog))
	}
	if !found || rec.PushedLocation == "" {
		return nil, plan.fail("sync_record", apperr.NotFound(
			"table %s in remote catalog %q was never pushed from lakeFS: push it first", req.Source, req.Catalog))
	}
	if rec.Repository != dst.Repository || !slices.Equal(rec.LocalNamespace, dst.Namespace) || rec.LocalTable != dst.Table {
		return nil, plan.fail("sync_record", apperr.Conflict(
			"table %s in remote catalog %q was pushed from %s in repository %q: pull brings it back into its originating repository and table",
			req.Source, req.Catalog, dotted(rec.LocalNamespace, rec.LocalTable), rec.Repository))
	}
	plan.pass("sync_record", "pushed from %s/%s at %s; last synced remote metadata %s", rec.Repository, rec.Reference, rec.ResolvedCommit, rec.RemoteLocation)

	remoteLoc, err := r.Adapter.LoadTable(ctx, req.Source)
	if err != nil {
		if apperr.Is(err, http.StatusNotFound) {
			err = apperr.Wrap(http.StatusNotFound, err, "table %s not found in remote catalog %q", req.Source, req.Catalog)
		}
		return nil, plan.fail("remote_table", err)
	}
	// A remote still where the last sync left it has nothing to bring back, whatever the
	// branch holds: the branch's state matters only to a write, so it is not read (a pull in
	// sync costs the branch lookup and the remote's load).
	pc := &pullCheck{dst: dst, rec: rec, remoteLoc: remoteLoc}
	if remoteLoc == rec.RemoteLocation {
		plan.pass("remote_table", "remote table is at %s, already synced: nothing to pull", remoteLoc)
		pc.inSync = true
		return pc, nil
	}

	// The table is read at the head commit checkBranch resolved (immutable, so it cannot
	// move under the checks), with the branch's uncommitted changes listed once; the write
	// re-checks the head and the uncommitted changes after staging, before it commits.
	base, err := s.lakefs.LocateForWrite(ctx, dst, head)
	if err != nil {
		return nil, plan.fail("lakefs_table", err)
	}
	curLoc := base.CurrentLocation()
	pc.base, pc.curLoc = base, curLoc
	if remoteLoc == curLoc {
		plan.pass("remote_table", "remote table is at %s, already synced: nothing to pull", remoteLoc)
		pc.inSync = true
		return pc, nil
	}
	plan.pass("remote_table", "remote table moved from %s to %s", rec.RemoteLocation, remoteLoc)

	// remoteLoc is lakeFS's form of the location (the adapter reversed the location map):
	// that is what gets linked. The file is read where the remote's engines wrote it, once
	// the location is known to lie inside the table's world.
	readLoc := catalog.LocationMap(r.Config.LocationMap).ToRemote(remoteLoc)
	repoInfo, err := s.lakefs.GetRepository(ctx, dst.Repository)
	if err != nil {
		return nil, plan.fail("remote_location", err)
	}
	if err := checkPulledLocation(r.Config, repoInfo.StorageNamespace, remoteLoc, readLoc); err != nil {
		return nil, plan.fail("remote_location", err)
	}
	plan.pass("remote_location", "metadata %s is inside the repository's storage namespace or the remote's allowed locations", readLoc)
	md, err := s.reader.ReadMetadata(ctx, readLoc)
	if err != nil {
		return nil, plan.fail("remote_metadata", err)
	}
	how, err := s.checkLineage(ctx, r, rec, req.Source, remoteLoc, md)
	if err != nil {
		return nil, plan.fail("lineage", err)
	}
	pc.md, pc.snapshot = md, snapshotString(currentSnapshotID(md))
	plan.pass("lineage", "remote metadata descends from the synced state by %s (table-uuid %s, snapshot %s)", how, md.Metadata.TableUUID(), pc.snapshot)

	switch {
	case curLoc == rec.LakeFSLocation:
		plan.pass("lakefs_table", "table on branch %q is still at the synced state", dst.Reference)
	case !req.ForceUpdate:
		now := curLoc
		if now == "" {
			now = "missing"
		}
		return nil, plan.fail("lakefs_table", apperr.Conflict(
			"both sides changed: table %s on branch %q is now %s, not the synced %s (set force_update to overwrite the lakeFS side)",
			dst, dst.Reference, now, rec.LakeFSLocation))
	default:
		plan.pass("lakefs_table", "table on branch %q changed since the last sync; force_update overwrites it", dst.Reference)
	}
	if curLoc == "" {
		exists, err := s.lakefs.NamespaceExists(ctx, dst.Repository, dst.Reference, dst.Namespace)
		if err != nil {
			return nil, plan.fail("lakefs_namespace", err)
		}
		if !exists && !req.CreateNamespace {
			return nil, plan.fail("lakefs_namespace", apperr.NotFound(
				"namespace %s not found on branch %q (set create_namespace to create it)", strings.Join(dst.Namespace, "."), dst.Reference))
		}
		if !exists {
			plan.action("create namespace %s on branch %q", strings.Join(dst.Namespace, "."), dst.Reference)
		}
	}
	// The write is conditional on the state the checks above saw, so that a commit landing
	// on the branch since is refused (409) rather than overwritten; force_update overwrites
	// whatever is there.
	ifLoc := curLoc
	if req.ForceUpdate {
		ifLoc = ""
	}
	pc.w = lakefs.TableWrite{
		IfMetadataLocation: ifLoc,
		PhysicalAddress:    remoteLoc,
		SizeBytes:          md.SizeBytes,
		Checksum:           md.Checksum,
		Message:            fmt.Sprintf("Pull iceberg table %s from %s", dotted(dst.Namespace, dst.Table), req.Catalog),
		Metadata:           pullMetadata(ctx, r, req.Catalog, req.Source.String(), remoteLoc, md, pc.snapshot),
		CreateNamespace:    req.CreateNamespace,
		Base:               base,
	}
	pc.wp, err = s.lakefs.PlanWrite(ctx, dst, pc.w)
	if err != nil {
		return nil, plan.fail("lakefs_table", err)
	}
	pc.w.StagePaths, pc.w.Plan = pc.wp.Paths(), pc.wp
	return pc, nil
}

// pullMetadata is the commit metadata naming one pulled table.
func pullMetadata(ctx context.Context, r *Remote, catalogID, remoteTable, location string, md *RemoteMetadata, snapshot string) map[string]string {
	return map[string]string{
		"iceberg_remote_catalog":    catalogID,
		"iceberg_remote_type":       r.Config.Type,
		"iceberg_remote_table":      remoteTable,
		"iceberg_metadata_location": location,
		"iceberg_snapshot_id":       snapshot,
		"iceberg_table_uuid":        md.Metadata.TableUUID().String(),
		"iceberg_remotes_user":      requestctx.User(ctx),
	}
}

// checkUncommitted refuses a branch with uncommitted changes outside paths (the paths the
// commit itself stages): a pull never sweeps someone's staged work into its commit. It
// needs no call: base (LocateForWrite, read by checkPull) listed the changes, and the
// write re-checks them right before its commit.
func (s *Service) checkUncommitted(plan *Plan, base *lakefs.BranchBase, paths []string, tables ...lakefs.TableRef) error {
	if path := base.StagedOutside(paths); path != "" {
		return plan.fail("uncommitted_changes", lakefs.UncommittedChangesError(path, tables...))
	}
	plan.pass("uncommitted_changes", "no unrelated uncommitted changes on branch %q", tables[0].Reference)
	return nil
}

// commitPulls links every checked table's remote metadata on its branch in one lakeFS commit
// with message and metadata, crash-consistently: each table's record first gets its intent
// (naming the objects the whole commit stages, so that settling any one of them resets all,
// and bulk, the operation they belong to), then the one commit, then the records are
// completed. After a crash at any step the branch has the commit (every table) or not (no
// table), and reconcile settles each record from the branch. It returns the commit id.
func (s *Service) commitPulls(ctx context.Context, r *Remote, pcs []*pullCheck, bulk, message string, metadata map[string]string) (string, error) {
	user := requestctx.User(ctx)
	var staged []lakefs.StagedObject
	writes := make([]lakefs.TableWriteAt, len(pcs))
	for i, pc := range pcs {
		staged = append(staged, pc.wp.Objects(pc.w)...)
		writes[i] = lakefs.TableWriteAt{Ref: pc.dst, Write: pc.w}
	}
	intents := make([]intent, len(pcs))
	prevStatus := make([]string, len(pcs))
	written := 0
	settle := func(cause error) {
		for i, pc := range pcs[:written] {
			s.settleAfterFailure(ctx, r, pc.rec, prevStatus[i], cause)
		}
	}
	for i, pc := range pcs {
		intents[i] = intent{Op: "pull", RequestID: requestctx.RequestID(ctx), User: user, Bulk: bulk,
			Location: pc.remoteLoc, Branch: pc.dst.Reference, PrevLakeFS: pc.curLoc, Staged: staged}
		prevStatus[i] = pc.rec.Status
		if err := s.writeIntent(ctx, &pc.rec, true, intents[i]); err != nil {
			settle(err)
			return "", err
		}
		written++
	}
	commitID, err := s.lakefs.WriteTables(ctx, writes, message, metadata)
	if err != nil {
		settle(err)
		return "", err
	}
	var firstErr error
	for i, pc := range pcs {
		applyPull(&pc.rec, intents[i], commitID, pc.md.Metadata.TableUUID().String(), pc.snapshot)
		pc.rec.Status, pc.rec.Pending, pc.rec.UpdatedBy = state.StatusSynced, "", user
		s.succeeded(&pc.rec)
		// The commit now published is protected (its branch claimed as the record is
		// stored); then the branch of the earlier commit is released. A record not
		// completed here keeps its intent: the next operation settles it.
		prev, err := s.storePulled(ctx, &pc.rec, commitID)
		if err != nil {
			if firstErr == nil {
				firstErr = storeError(err)
			}
			continue
		}
		s.releaseStored(ctx, &pc.rec, prev)
	}
	return commitID, firstErr
}

// checkLineage refuses remote metadata that does not descend from the synced state: same
// table UUID, and either the synced metadata file is in its metadata log, or the synced
// snapshot is among its snapshots (docs/design.md section 6, step 4), or, where the remote
// keeps a history of its own (Nessie, which rewrites the metadata on every commit without
// either), that history shows the table moving from the synced location to remoteLoc. It
// returns which of them proved it.
func (s *Service) checkLineage(ctx context.Context, r *Remote, rec state.SyncRecord, id catalog.Ident, remoteLoc string, md *RemoteMetadata) (string, error) {
	uuid := md.Metadata.TableUUID().String()
	if rec.TableUUID != "" && uuid != rec.TableUUID {
		return "", apperr.Conflict("remote table %s was replaced by an unrelated table (table-uuid %s, synced %s)",
			dotted(rec.Namespace, rec.Table), uuid, rec.TableUUID)
	}
	synced := []string{rec.RemoteLocation, catalog.LocationMap(r.Config.LocationMap).ToRemote(rec.RemoteLocation)}
	for entry := range md.Metadata.PreviousFiles() {
		if slices.Contains(synced, entry.MetadataFile) {
			return "its metadata log", nil
		}
	}
	if rec.SnapshotID != "" {
		if id, err := strconv.ParseInt(rec.SnapshotID, 10, 64); err == nil && md.Metadata.SnapshotByID(id) != nil {
			return "its snapshots", nil
		}
	}
	if r.History == nil {
		return "", apperr.Conflict("remote metadata %s does not descend from the synced state %s (neither its metadata log nor its snapshots contain it)",
			remoteLoc, rec.RemoteLocation)
	}
	ok, err := r.History.Descends(ctx, id, rec.RemoteLocation, remoteLoc)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", apperr.Conflict("remote metadata %s does not descend from the synced state %s (neither its metadata log, nor its snapshots, nor the remote's history of the table contain it)",
			remoteLoc, rec.RemoteLocation)
	}
	return "the remote's history", nil
}

func currentSnapshotID(md *RemoteMetadata) *int64 {
	if snap := md.Metadata.CurrentSnapshot(); snap != nil {
		id := snap.SnapshotID
		return &id
	}
	return nil
}
