package remotes

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"

	"github.com/iceberg-remotes/iceberg-remotes/internal/apperr"
	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog"
	"github.com/iceberg-remotes/iceberg-remotes/internal/lakefs"
	"github.com/iceberg-remotes/iceberg-remotes/internal/state"
)

// Live states of a synced table (docs/design.md section 8).
const (
	InSync      = "in_sync"      // both sides are where the last sync left them
	RemoteAhead = "remote_ahead" // the remote moved: a pull would bring it back
	LakeFSAhead = "lakefs_ahead" // lakeFS moved: a push would publish it
	Diverged    = "diverged"     // both moved
	Missing     = "missing"      // the table is gone on one side (or was never pushed)
	Unknown     = "unknown"      // a side could not be asked
)

var liveStates = []string{InSync, RemoteAhead, LakeFSAhead, Diverged, Missing, Unknown}

// TableStatus is a sync record with its live state.
type TableStatus struct {
	Record                state.SyncRecord
	State                 string
	CurrentRemoteLocation string
	CurrentLakeFSLocation string
	Error                 string
	// CommitsBehind is how many commits the record's branch has gained since the commit it
	// was synced at; nil when the reference is not a branch or the count is unknown (not
	// within the last commitsBehindLimit commits).
	CommitsBehind *int
	// PendingEvents counts the record's repository's events not yet processed.
	PendingEvents int
}

// TableFilter narrows the live listing; zero fields select everything.
type TableFilter struct {
	Repository string // records published from this repository (filtered by the store)
	State      string // rows in this live state (known only once computed)
}

// stateScanPages bounds the store pages one state-filtered listing call reads (and asks the
// backends about): a rare state must not make one request walk every record. When it stops
// early the page is short (even empty) with has_more and the cursor where it stopped.
const stateScanPages = 10

// ListTables lists a remote's sync records with their live state, one store page at a
// time, each page read from the backends in groups (status_batch.go).
func (s *Service) ListTables(ctx context.Context, catalogID, after string, amount int, f TableFilter) (state.Page[TableStatus], error) {
	if f.State != "" && !slices.Contains(liveStates, f.State) {
		return state.Page[TableStatus]{}, apperr.BadRequest("state: must be one of %v (got %q)", liveStates, f.State)
	}
	r, err := s.remote(ctx, catalogID)
	if err != nil {
		return state.Page[TableStatus]{}, err
	}
	if amount <= 0 || amount > state.MaxPageSize {
		amount = state.MaxPageSize
	}
	filter := state.SyncFilter{Repository: f.Repository}
	var out state.Page[TableStatus]
	for pages := 0; ; pages++ {
		page, err := s.store.ListSyncRecords(ctx, catalogID, filter, after, amount)
		if err != nil {
			return state.Page[TableStatus]{}, storeError(err)
		}
		statuses := s.liveStatuses(ctx, r, page.Items)
		s.fillPendingEvents(ctx, statuses)
		if f.State == "" {
			return state.Page[TableStatus]{Items: statuses, HasMore: page.HasMore, NextOffset: page.NextOffset}, nil
		}
		for i, st := range statuses {
			if st.State != f.State {
				continue
			}
			out.Items = append(out.Items, st)
			if len(out.Items) == amount {
				if i < len(statuses)-1 || page.HasMore {
					out.HasMore, out.NextOffset = true, page.Items[i].Key()
				}
				return out, nil
			}
		}
		if !page.HasMore {
			return out, nil
		}
		after = page.NextOffset
		if pages+1 == stateScanPages {
			out.HasMore, out.NextOffset = true, after
			return out, nil
		}
	}
}

// liveState decides a row's state from what both sides answered. The remote is judged
// first, as the one-row read always did.
func liveState(ts *TableStatus, remoteErr, lakeErr error) {
	rec := ts.Record
	for _, err := range []error{remoteErr, lakeErr} {
		switch {
		case err == nil:
		case apperr.Is(err, http.StatusNotFound):
			ts.State = Missing
			return
		default:
			ts.State, ts.Error = Unknown, apperr.PublicMessage(err)
			return
		}
	}
	remoteMoved := ts.CurrentRemoteLocation != rec.RemoteLocation
	lakeMoved := ts.CurrentLakeFSLocation != rec.LakeFSLocation
	switch {
	case remoteMoved && lakeMoved:
		ts.State = Diverged
	case remoteMoved:
		ts.State = RemoteAhead
	case lakeMoved:
		ts.State = LakeFSAhead
	default:
		ts.State = InSync
	}
}

// settledView returns a pending record as the next operation will settle it (see
// reconcile), without writing anything: a listing must not show a crashed operation's
// half-finished record as "diverged" when both sides already agree, nor a staged,
// uncommitted pull (which settling discards) as lakeFS's state. For a pull intent the
// table is read at the branch's last commit, for the same reason. The record's Status stays
// "pending" until an operation settles it.
func (s *Service) settledView(ctx context.Context, r *Remote, rec state.SyncRecord, lakeRef lakefs.TableRef) (state.SyncRecord, lakefs.TableRef) {
	var in intent
	if err := json.Unmarshal([]byte(rec.Pending), &in); err != nil {
		return rec, lakeRef
	}
	switch in.Op {
	case "push":
		cur, err := r.Adapter.LoadTable(ctx, catalog.Ident{Namespace: rec.Namespace, Table: rec.Table})
		if err == nil && cur == in.Location {
			applyPush(&rec, in)
			lakeRef = lakefs.TableRef{Repository: in.Repository, Reference: in.Reference, Namespace: in.LocalNamespace, Table: in.LocalTable}
		}
	case "pull":
		head, err := s.lakefs.ResolveRef(ctx, rec.Repository, in.Branch)
		if err != nil {
			return rec, lakeRef
		}
		committed := lakeRef
		committed.Reference = head.CommitID
		st, err := s.lakefs.ReadTable(ctx, committed)
		if err == nil && st.MetadataLocation == in.Location {
			applyPull(&rec, in, st.ResolvedCommit, st.TableUUID, snapshotString(st.CurrentSnapshotID))
			lakeRef = committed
		} else if rec.Reference == in.Branch {
			lakeRef = committed
		}
	}
	return rec, lakeRef
}

// ListOperations lists a remote's audit log, newest first.
func (s *Service) ListOperations(ctx context.Context, catalogID, after string, amount int) (state.Page[state.Operation], error) {
	if _, err := s.remote(ctx, catalogID); err != nil && !apperr.Is(err, http.StatusServiceUnavailable) {
		return state.Page[state.Operation]{}, err
	}
	page, err := s.store.ListOperations(ctx, catalogID, after, amount)
	if err != nil {
		return page, storeError(err)
	}
	return page, nil
}
