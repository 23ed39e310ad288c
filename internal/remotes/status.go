package remotes

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"time"

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

// TableStatus is a sync record with its live state.
type TableStatus struct {
	Record                state.SyncRecord
	State                 string
	CurrentRemoteLocation string
	CurrentLakeFSLocation string
	Error                 string
	// PendingEvents counts the record's repository's events not yet processed.
	PendingEvents int
}

// statusParallelism bounds the backend calls one listing page makes at once.
const statusParallelism = 8

// ListTables lists a remote's sync records with their live state.
func (s *Service) ListTables(ctx context.Context, catalogID, after string, amount int) (state.Page[TableStatus], error) {
	r, err := s.remote(ctx, catalogID)
	if err != nil {
		return state.Page[TableStatus]{}, err
	}
	page, err := s.store.ListSyncRecords(ctx, catalogID, after, amount)
	if err != nil {
		return state.Page[TableStatus]{}, storeError(err)
	}
	out := state.Page[TableStatus]{HasMore: page.HasMore, NextOffset: page.NextOffset, Items: make([]TableStatus, len(page.Items))}
	sem := make(chan struct{}, statusParallelism)
	var wg sync.WaitGroup
	for i, rec := range page.Items {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			out.Items[i] = s.liveStatus(ctx, r, rec)
		}()
	}
	wg.Wait()
	s.fillPendingEvents(ctx, out.Items)
	return out, nil
}

func (s *Service) liveStatus(ctx context.Context, r *Remote, rec state.SyncRecord) TableStatus {
	ts := TableStatus{Record: rec}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	lakeRef := lakefs.TableRef{Repository: rec.Repository, Reference: rec.Reference,
		Namespace: rec.LocalNamespace, Table: rec.LocalTable}
	if rec.Pending != "" {
		rec, lakeRef = s.settledView(ctx, r, rec, lakeRef)
		ts.Record = rec
	}
	if rec.PushedLocation == "" {
		ts.State = Missing
		return ts
	}
	var remoteErr, lakeErr error
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		ts.CurrentRemoteLocation, remoteErr = r.Adapter.LoadTable(ctx, catalog.Ident{Namespace: rec.Namespace, Table: rec.Table})
	}()
	go func() {
		defer wg.Done()
		var st *lakefs.TableState
		st, lakeErr = s.lakefs.ReadTable(ctx, lakeRef)
		if lakeErr == nil {
			ts.CurrentLakeFSLocation = st.MetadataLocation
		}
	}()
	wg.Wait()
	for _, err := range []error{remoteErr, lakeErr} {
		switch {
		case err == nil:
		case apperr.Is(err, http.StatusNotFound):
			ts.State = Missing
			return ts
		default:
			ts.State, ts.Error = Unknown, apperr.PublicMessage(err)
			return ts
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
	return ts
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
