package remotes

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/iceberg-remotes/iceberg-remotes/internal/apperr"
	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog"
	"github.com/iceberg-remotes/iceberg-remotes/internal/lakefs"
	"github.com/iceberg-remotes/iceberg-remotes/internal/state"
)

// intent is written into the sync record (Pending) before an operation touches the remote
// or lakeFS, and cleared when it finishes. If the process dies in between, the next
// operation on the table finds the intent and reconciles the record with what the remote
// and lakeFS actually show (docs/design.md section 7).
type intent struct {
	Op        string `json:"op"` // push | pull | unpublish
	RequestID string `json:"request_id,omitempty"`
	User      string `json:"user,omitempty"`
	// push: the remote went (or not) from PrevRemote ("" = no table) to Location.
	// unpublish: the remote went (or not) from Location to no table.
	Location   string `json:"location,omitempty"`
	PrevRemote string `json:"prev_remote,omitempty"`
	// push: what the record becomes once the push is known to have happened.
	Repository     string   `json:"repository,omitempty"`
	Reference      string   `json:"reference,omitempty"`
	LocalNamespace []string `json:"local_namespace,omitempty"`
	LocalTable     string   `json:"local_table,omitempty"`
	Commit         string   `json:"commit,omitempty"`
	TableUUID      string   `json:"table_uuid,omitempty"`
	SnapshotID     string   `json:"snapshot_id,omitempty"`
	// push: the branch that protects Commit from lakeFS's GC once published ("" for an
	// uncommitted table), and the one that protected the previous push, in its repository.
	ProtectRef      string `json:"protect_ref,omitempty"`
	PrevProtectRef  string `json:"prev_protect_ref,omitempty"`
	PrevProtectRepo string `json:"prev_protect_repo,omitempty"`
	// pull: lakeFS's table on Branch went (or not) from PrevLakeFS to Location.
	Branch     string `json:"branch,omitempty"`
	PrevLakeFS string `json:"prev_lakefs,omitempty"`
	// pull: exactly what the write stages on Branch (lakefs.WritePlan.Objects); reconcile
	// resets these, where they still hold what the pull staged, and nothing else.
	// A bulk pull's intents each name every object of its one commit, so that settling
	// any of its tables resets all of them.
	Staged []lakefs.StagedObject `json:"staged,omitempty"`
	// Bulk names the bulk operation (its request id) whose one commit the pull is part of.
	Bulk string `json:"bulk,omitempty"`
	// unpublish: the record's status before, kept when the drop did not happen.
	PrevStatus string `json:"prev_status,omitempty"`
}

func (in intent) encode() string {
	raw, _ := json.Marshal(in)
	return string(raw)
}

// reconcile settles a record left pending by an operation that did not finish. It returns
// the settled record. The rule is "whatever the backends show is the truth": if the
// remote (push) or the branch (pull) shows the intended new location, the operation
// happened and the record takes its new state; otherwise it did not, and the record keeps
// its old state. The paths a pull recorded it would stage are reset first, so lakeFS never
// keeps a half-written pull; another writer's staged work is never touched.
func (s *Service) reconcile(ctx context.Context, r *Remote, rec state.SyncRecord) (state.SyncRecord, error) {
	if rec.Pending == "" {
		return rec, nil
	}
	var in intent
	if err := json.Unmarshal([]byte(rec.Pending), &in); err != nil {
		s.logger.WarnContext(ctx, "discarding unreadable intent", "catalog", rec.Catalog, "table", dotted(rec.Namespace, rec.Table))
		rec.Pending = ""
		return rec, s.store.UpdateSyncRecord(ctx, &rec)
	}
	id := catalog.Ident{Namespace: rec.Namespace, Table: rec.Table}
	// Branches the settled record no longer uses are released once it is stored
	// (releaseStored); a pull's commit is claimed as the record is stored (storePulled).
	var release []heldRef
	pulled := ""
	switch in.Op {
	case "push":
		cur, err := r.Adapter.LoadTable(ctx, id)
		switch {
		case err == nil && cur == in.Location:
			if in.ProtectRef != "" {
				// The stored intent names the branch, so it is in use while this runs.
				if err := s.ensureProtected(ctx, rec.TableKey, in.Repository, in.ProtectRef, in.Commit, nil); err != nil {
					return rec, err // the published commit must be protected before the record says so
				}
			}
			release = append(release, heldRef{in.PrevProtectRepo, in.PrevProtectRef})
			applyPush(&rec, in)
			rec.Status = state.StatusSynced
			s.succeeded(&rec)
		case err == nil || apperr.Is(err, http.StatusNotFound):
			// Not applied (or replaced by someone else since): the record keeps its state,
			// and its own protecting branch; one the push may have created goes.
			release = append(release, heldRef{in.Repository, in.ProtectRef}, heldRef{in.PrevProtectRepo, in.PrevProtectRef})
			unfinished(&rec, in)
			if rec.PushedLocation == "" {
				rec.Status = state.StatusFailed
			} else {
				rec.Status = state.StatusSynced
			}
		default:
			return rec, err // remote unreachable: cannot tell yet
		}
	case "pull":
		ref := lakefs.TableRef{Repository: rec.Repository, Reference: in.Branch, Namespace: rec.LocalNamespace, Table: rec.LocalTable}
		if err := s.lakefs.ResetStaged(ctx, rec.Repository, in.Branch, in.Staged); err != nil {
			return rec, err
		}
		st, err := s.lakefs.ReadTable(ctx, ref)
		switch {
		case err == nil && st.MetadataLocation == in.Location:
			applyPull(&rec, in, st.ResolvedCommit, st.TableUUID, snapshotString(st.CurrentSnapshotID))
			pulled = st.ResolvedCommit
			s.succeeded(&rec)
		case err == nil || apperr.Is(err, http.StatusNotFound):
			unfinished(&rec, in)
		default:
			return rec, err
		}
		rec.Status = state.StatusSynced
	case "unpublish":
		status, err := s.settleUnpublish(ctx, r, id, in)
		if err != nil {
			return rec, err // remote unreachable: cannot tell yet
		}
		rec.Status = status
		if status == state.StatusUnpublished {
			release = append(release, heldRef{rec.Repository, rec.ProtectedRef})
			rec.ProtectedRef = ""
		}
	}
	s.logger.InfoContext(ctx, "reconciled an unfinished operation", "catalog", rec.Catalog,
		"table", dotted(rec.Namespace, rec.Table), "op", in.Op, "request_id", in.RequestID, "status", rec.Status)
	rec.Pending = ""
	if pulled != "" {
		prev, err := s.storePulled(ctx, &rec, pulled)
		if err != nil {
			return rec, err
		}
		release = append(release, prev)
	} else if err := s.store.UpdateSyncRecord(ctx, &rec); err != nil {
		return rec, err
	}
	for _, ref := range release {
		s.releaseStored(ctx, &rec, ref)
	}
	return rec, nil
}
