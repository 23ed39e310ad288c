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

	r, err := s.remote(ctx, req.Catalog)
	if err != nil {
		return plan, plan.fail("remote_catalog", err)
	}
	plan.pass("remote_catalog", "remote catalog %q (%s)", req.Catalog, r.Config.Type)

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
	resolved, err := s.lakefs.ResolveRef(ctx, dst.Repository, dst.Reference)
	if err != nil {
		return plan, plan.fail("destination_branch", err)
	}
	if !resolved.IsBranch {
		return plan, plan.fail("destination_branch", apperr.BadRequest(
			"reference_id %q is not a branch: pull commits onto a branch of repository %q", dst.Reference, dst.Repository))
	}
	plan.pass("destination_branch", "branch %q of %q (head %s)", dst.Reference, dst.Repository, resolved.CommitID)

	rec, found, err := s.loadRecord(ctx, r, key, !req.DryRun)
	if err != nil {
		return plan, err
	}
	if !found || rec.PushedLocation == "" {
		return plan, plan.fail("sync_record", apperr.NotFound(
			"table %s in remote catalog %q was never pushed from lakeFS: push it first", req.Source, req.Catalog))
	}
	if rec.Repository != dst.Repository || !slices.Equal(rec.LocalNamespace, dst.Namespace) || rec.LocalTable != dst.Table {
		return plan, plan.fail("sync_record", apperr.Conflict(
			"table %s in remote catalog %q was pushed from %s in repository %q: pull brings it back into its originating repository and table",
			req.Source, req.Catalog, dotted(rec.LocalNamespace, rec.LocalTable), rec.Repository))
	}
	plan.pass("sync_record", "pushed from %s/%s at %s; last synced remote metadata %s", rec.Repository, rec.Reference, rec.ResolvedCommit, rec.RemoteLocation)

	remoteLoc, err := r.Adapter.LoadTable(ctx, req.Source)
	if err != nil {
		if apperr.Is(err, http.StatusNotFound) {
			err = apperr.Wrap(http.StatusNotFound, err, "table %s not found in remote catalog %q", req.Source, req.Catalog)
		}
		return plan, plan.fail("remote_table", err)
	}
	// A remote still where the last sync left it has nothing to bring back, whatever the
	// branch holds: the branch's state matters only to a write, so it is not read (a pull in
	// sync costs the branch lookup above and the remote's load).
	if remoteLoc == rec.RemoteLocation {
		plan.pass("remote_table", "remote table is at %s, already synced: nothing to pull", remoteLoc)
		return plan, nil
	}

	// The table is read at the head commit resolved above (immutable, so it cannot move under
	// the checks), with the branch's uncommitted changes listed once; the write re-checks
	// the head and the uncommitted changes after staging, before it commits.
	base, err := s.lakefs.LocateForWrite(ctx, dst, resolved.CommitID)
	if err != nil {
		return plan, plan.fail("lakefs_table", err)
	}
	curLoc := base.CurrentLocation()
	if remoteLoc == curLoc {
		plan.pass("remote_table", "remote table is at %s, already synced: nothing to pull", remoteLoc)
		return plan, nil
	}
	plan.pass("remote_table", "remote table moved from %s to %s", rec.RemoteLocation, remoteLoc)

	// remoteLoc is lakeFS's form of the location (the adapter reversed the location map):
	// that is what gets linked. The file is read where the remote's engines wrote it, once
	// the location is known to lie inside the table's world.
	readLoc := catalog.LocationMap(r.Config.LocationMap).ToRemote(remoteLoc)
	repoInfo, err := s.lakefs.GetRepository(ctx, dst.Repository)
	if err != nil {
		return plan, plan.fail("remote_location", err)
	}
	if err := checkPulledLocation(r.Config, repoInfo.StorageNamespace, remoteLoc, readLoc); err != nil {
		return plan, plan.fail("remote_location", err)
	}
	plan.pass("remote_location", "metadata %s is inside the repository's storage namespace or the remote's allowed locations", readLoc)
	md, err := s.reader.ReadMetadata(ctx, readLoc)
	if err != nil {
		return plan, plan.fail("remote_metadata", err)
	}
	if err := s.checkLineage(r, rec, remoteLoc, md); err != nil {
		return plan, plan.fail("lineage", err)
	}
	newSnapshot := snapshotString(currentSnapshotID(md))
	plan.pass("lineage", "remote metadata descends from the synced state (table-uuid %s, snapshot %s)", md.Metadata.TableUUID(), newSnapshot)

	switch {
	case curLoc == rec.LakeFSLocation:
		plan.pass("lakefs_table", "table on branch %q is still at the synced state", dst.Reference)
	case !req.ForceUpdate:
		now := curLoc
		if now == "" {
			now = "missing"
		}
		return plan, plan.fail("lakefs_table", apperr.Conflict(
			"both sides changed: table %s on branch %q is now %s, not the synced %s (set force_update to overwrite the lakeFS side)",
			dst, dst.Reference, now, rec.LakeFSLocation))
	default:
		plan.pass("lakefs_table", "table on branch %q changed since the last sync; force_update overwrites it", dst.Reference)
	}
	if curLoc == "" {
		exists, err := s.lakefs.NamespaceExists(ctx, dst.Repository, dst.Reference, dst.Namespace)
		if err != nil {
			return plan, plan.fail("lakefs_namespace", err)
		}
		if !exists && !req.CreateNamespace {
			return plan, plan.fail("lakefs_namespace", apperr.NotFound(
				"namespace %s not found on branch %q (set create_namespace to create it)", strings.Join(dst.Namespace, "."), dst.Reference))
		}
		if !exists {
			plan.action("create namespace %s on branch %q", strings.Join(dst.Namespace, "."), dst.Reference)
		}
	}
	message := fmt.Sprintf("Pull iceberg table %s from %s", dotted(dst.Namespace, dst.Table), req.Catalog)
	// The write is conditional on the state the checks above saw, so that a commit landing
	// on the branch since is refused (409) rather than overwritten; force_update overwrites
	// whatever is there.
	ifLoc := curLoc
	if req.ForceUpdate {
		ifLoc = ""
	}
	user := requestctx.User(ctx)
	w := lakefs.TableWrite{
		IfMetadataLocation: ifLoc,
		PhysicalAddress:    remoteLoc,
		SizeBytes:          md.SizeBytes,
		Checksum:           md.Checksum,
		Message:            message,
		Metadata: map[string]string{
			"iceberg_remote_catalog":    req.Catalog,
			"iceberg_remote_type":       r.Config.Type,
			"iceberg_remote_table":      req.Source.String(),
			"iceberg_metadata_location": remoteLoc,
			"iceberg_snapshot_id":       newSnapshot,
			"iceberg_table_uuid":        md.Metadata.TableUUID().String(),
			"iceberg_remotes_user":      user,
		},
		CreateNamespace: req.CreateNamespace,
		Base:            base,
	}
	wp, err := s.lakefs.PlanWrite(ctx, dst, w)
	if err != nil {
		return plan, plan.fail("lakefs_table", err)
	}
	w.StagePaths, w.Plan = wp.Paths(), wp
	if path := base.StagedOutside(w.StagePaths); path != "" {
		return plan, plan.fail("uncommitted_changes", lakefs.UncommittedChangesError(dst, path))
	}
	plan.pass("uncommitted_changes", "no unrelated uncommitted changes on branch %q", dst.Reference)

	plan.action("link %s (%d bytes) as table %s on branch %q (staging %s) and commit %q",
		remoteLoc, md.SizeBytes, dst, dst.Reference, strings.Join(w.StagePaths, ", "), message)
	if req.DryRun {
		return plan, nil
	}

	in := intent{Op: "pull", RequestID: requestctx.RequestID(ctx), User: user,
		Location: remoteLoc, Branch: dst.Reference, PrevLakeFS: curLoc, Staged: wp.Objects(w)}
	prevStatus := rec.Status
	if err := s.writeIntent(ctx, &rec, true, in); err != nil {
		return plan, err
	}
	commitID, err := s.lakefs.WriteTable(ctx, dst, w)
	if err != nil {
		s.settleAfterFailure(ctx, r, rec, prevStatus)
		return plan, err
	}
	if op != nil {
		op.LakeFSCommit, op.MetadataLoc = commitID, remoteLoc
	}
	applyPull(&rec, in, commitID, md.Metadata.TableUUID().String(), newSnapshot)
	rec.Status, rec.Pending, rec.UpdatedBy = state.StatusSynced, "", user
	if err := s.store.UpdateSyncRecord(ctx, &rec); err != nil {
		return plan, storeError(err)
	}
	return plan, nil
}

// checkLineage refuses remote metadata that does not descend from the synced state: same
// table UUID, and either the synced metadata file is in its metadata log or the synced
// snapshot is among its snapshots (docs/design.md section 6, step 4).
func (s *Service) checkLineage(r *Remote, rec state.SyncRecord, remoteLoc string, md *RemoteMetadata) error {
	uuid := md.Metadata.TableUUID().String()
	if rec.TableUUID != "" && uuid != rec.TableUUID {
		return apperr.Conflict("remote table %s was replaced by an unrelated table (table-uuid %s, synced %s)",
			dotted(rec.Namespace, rec.Table), uuid, rec.TableUUID)
	}
	synced := []string{rec.RemoteLocation, catalog.LocationMap(r.Config.LocationMap).ToRemote(rec.RemoteLocation)}
	for entry := range md.Metadata.PreviousFiles() {
		if slices.Contains(synced, entry.MetadataFile) {
			return nil
		}
	}
	if rec.SnapshotID != "" {
		if id, err := strconv.ParseInt(rec.SnapshotID, 10, 64); err == nil && md.Metadata.SnapshotByID(id) != nil {
			return nil
		}
	}
	return apperr.Conflict("remote metadata %s does not descend from the synced state %s (neither its metadata log nor its snapshots contain it)",
		remoteLoc, rec.RemoteLocation)
}

func currentSnapshotID(md *RemoteMetadata) *int64 {
	if snap := md.Metadata.CurrentSnapshot(); snap != nil {
		id := snap.SnapshotID
		return &id
	}
	return nil
}
