package remotes

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/iceberg-remotes/iceberg-remotes/internal/apperr"
	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog"
	"github.com/iceberg-remotes/iceberg-remotes/internal/lakefs"
	"github.com/iceberg-remotes/iceberg-remotes/internal/requestctx"
	"github.com/iceberg-remotes/iceberg-remotes/internal/selector"
	"github.com/iceberg-remotes/iceberg-remotes/internal/state"
)

// BulkPullRequest pulls every table of remote Catalog that was pushed from Repository and
// matches the globs back onto Branch, in one lakeFS commit (docs/design.md section 14).
type BulkPullRequest struct {
	Catalog string
	// Namespace and Table are the selector's globs over the remote names ("" selects all).
	Namespace, Table   string
	Repository, Branch string
	// ForceUpdate applies per table, as in a single pull.
	ForceUpdate bool
	// Message is the commit message ("" names every table).
	Message string
	DryRun  bool
}

// bulkPullListPage is the page size the sync records are listed with.
const bulkPullListPage = 1000

// bulkPullTable is one selected table during a bulk pull.
type bulkPullTable struct {
	listed state.SyncRecord // as listed, before it is locked and settled
	key    state.TableKey
	id     catalog.Ident
	op     *state.Operation
	check  *pullCheck // set when its checks passed
	result BulkResult
}

// BulkPull pulls (or, with DryRun, checks) every selected table atomically: each is checked
// exactly as a single pull checks it (checkPull), and only if every table passes are all the
// new metadata files linked and committed in one lakeFS commit whose metadata lists every
// table (commitPulls); tables already in sync are unchanged and not part of it. If any check
// fails, nothing is committed or left staged: the failing tables' results say why and those
// that passed are blocked. emit receives every table's result, in table order, once the
// outcome is known (after the commit: no result is final before it). Errors found before
// any table is checked (a bad glob, an unknown remote) are returned without results.
//
// Every selected table is locked for the whole operation (state.Store.LockTables: key
// order, so that two bulk pulls cannot deadlock; one PostgreSQL connection for them all).
func (s *Service) BulkPull(ctx context.Context, req BulkPullRequest, emit func(BulkResult)) (BulkTotals, error) {
	sel, err := selector.ParseTables(req.Namespace, req.Table)
	if err != nil {
		return BulkTotals{}, apperr.BadRequest("source: %s", err)
	}
	r, err := s.remote(ctx, req.Catalog)
	if err != nil {
		return BulkTotals{}, err
	}
	tables, err := s.bulkPullSelect(ctx, req, sel)
	if err != nil {
		return BulkTotals{}, err
	}
	if len(tables) == 0 {
		return BulkTotals{Status: http.StatusOK}, nil
	}
	keys := make([]state.TableKey, len(tables))
	for i, t := range tables {
		keys[i] = t.key
	}
	unlock, err := s.store.LockTables(ctx, keys)
	if err != nil {
		return BulkTotals{}, storeError(err)
	}
	defer unlock()

	dst := lakefs.TableRef{Repository: req.Repository, Reference: req.Branch}
	branchPlan := &Plan{}
	head, branchErr := s.checkBranch(ctx, branchPlan, dst)
	for _, t := range tables {
		if !req.DryRun {
			local := dst
			local.Namespace, local.Table = t.listed.LocalNamespace, t.listed.LocalTable
			t.op = s.startOperation(ctx, "pull", t.key, local, req)
		}
		if branchErr != nil {
			t.fail(branchErr)
			continue
		}
		s.bulkPullCheck(ctx, r, req, sel, head, t)
	}
	s.bulkPullDuplicates(tables)

	var passed []*pullCheck
	failed := false
	for _, t := range tables {
		switch {
		case t.result.Outcome == OutcomeFailed:
			failed = true
		case t.check != nil && !t.check.inSync:
			passed = append(passed, t.check)
		}
	}
	if !failed && len(passed) > 0 {
		// One check for the whole commit: no uncommitted change outside all its paths, on
		// the newest listing of them (the last table's base).
		var paths []string
		refs := make([]lakefs.TableRef, len(passed))
		for i, pc := range passed {
			paths, refs[i] = append(paths, pc.w.StagePaths...), pc.dst
		}
		if err := s.checkUncommitted(&Plan{}, passed[len(passed)-1].base, paths, refs...); err != nil {
			failed = true
			for _, t := range tables {
				if t.check != nil && !t.check.inSync {
					t.fail(err)
				}
			}
		}
	}

	commitID := ""
	switch {
	case failed:
		s.bulkPullBlock(tables)
	case req.DryRun || len(passed) == 0:
	default:
		id, err := s.commitPulls(ctx, r, passed, bulkID(ctx), bulkPullMessage(req, passed), bulkPullMetadata(ctx, r, req, passed))
		commitID = id
		for _, t := range tables {
			if t.check == nil || t.check.inSync {
				continue
			}
			switch {
			case id == "":
				t.fail(err) // nothing committed
			case err != nil:
				// Committed, but a record could not be completed: its intent stays, and
				// the next operation on the table settles it from the branch.
				t.result.Message = "committed; the sync record is settled by the next operation: " + apperr.PublicMessage(err)
			}
			if t.op != nil && id != "" {
				t.op.LakeFSCommit, t.op.MetadataLoc = id, t.check.remoteLoc
			}
		}
	}

	totals := BulkTotals{Status: http.StatusOK, CommitID: commitID}
	for _, t := range tables {
		if t.result.Outcome == "" {
			t.result.Status = http.StatusNoContent
			switch {
			case t.check.inSync:
				t.result.Outcome = OutcomeUnchanged
			case req.DryRun:
				t.result.Outcome = OutcomePlanned
			default:
				t.result.Outcome = OutcomePulled
			}
		}
		if t.op != nil {
			var err error
			if t.result.Outcome == OutcomeFailed || t.result.Outcome == OutcomeBlocked {
				err = apperr.New(t.result.Status, "%s", t.result.Message)
			}
			s.finishOperation(ctx, t.op, err)
		}
		totals.Add(t.result)
		if emit != nil {
			emit(t.result)
		}
	}
	return totals, nil
}

// bulkPullSelect lists the remote's sync records and keeps those pushed from the
// repository whose remote names the selector matches, in key order.
func (s *Service) bulkPullSelect(ctx context.Context, req BulkPullRequest, sel selector.Tables) ([]*bulkPullTable, error) {
	var out []*bulkPullTable
	after := ""
	for {
		page, err := s.store.ListSyncRecords(ctx, req.Catalog, state.SyncFilter{Repository: req.Repository}, after, bulkPullListPage)
		if err != nil {
			return nil, storeError(err)
		}
		for _, rec := range page.Items {
			if bulkPullSelected(rec, req, sel) {
				id := catalog.Ident{Namespace: rec.Namespace, Table: rec.Table}
				out = append(out, &bulkPullTable{listed: rec, key: rec.TableKey, id: id, result: BulkResult{Source: id,
					Destination: catalog.Ident{Namespace: rec.LocalNamespace, Table: rec.LocalTable}}})
			}
		}
		if !page.HasMore {
			break
		}
		after = page.NextOffset
	}
	slices.SortFunc(out, func(a, b *bulkPullTable) int { return strings.Compare(a.key.Key(), b.key.Key()) })
	return out, nil
}

// bulkPullSelected: a record of a table pushed from the repository (a pending one counts:
// it is settled under the lock and looked at again), not un-published, selected by name.
func bulkPullSelected(rec state.SyncRecord, req BulkPullRequest, sel selector.Tables) bool {
	return rec.Repository == req.Repository && rec.Status != state.StatusUnpublished &&
		(rec.PushedLocation != "" || rec.Pending != "") && sel.Match(rec.Namespace, rec.Table)
}

// bulkPullCheck settles the table's record and checks its pull as a single pull would.
func (s *Service) bulkPullCheck(ctx context.Context, r *Remote, req BulkPullRequest, sel selector.Tables, head string, t *bulkPullTable) {
	rec, found, err := s.loadRecord(ctx, r, t.key, !req.DryRun)
	if err != nil {
		t.fail(err)
		return
	}
	dst := lakefs.TableRef{Repository: req.Repository, Reference: req.Branch, Namespace: rec.LocalNamespace, Table: rec.LocalTable}
	t.result.Destination = catalog.Ident{Namespace: dst.Namespace, Table: dst.Table}
	if !found || !bulkPullSelected(rec, req, sel) {
		// Settling showed a push that never happened: no table to pull.
		t.check = &pullCheck{inSync: true}
		t.result.Message = "not pushed from repository " + req.Repository + ": nothing to pull"
		return
	}
	plan := &Plan{}
	pc, err := s.checkPull(ctx, r, PullRequest{Catalog: req.Catalog, Source: t.id, Destination: dst, ForceUpdate: req.ForceUpdate}, rec, found, head, plan)
	if err != nil {
		t.fail(err)
		return
	}
	t.check = pc
}

// bulkPullDuplicates fails a table whose lakeFS table another selected remote table is
// also pulled into (the same table pushed to two remote names): one commit cannot hold both.
func (s *Service) bulkPullDuplicates(tables []*bulkPullTable) {
	seen := map[string]*bulkPullTable{}
	for _, t := range tables {
		if t.check == nil || t.check.inSync {
			continue
		}
		k := identKey(t.check.dst.Namespace, t.check.dst.Table)
		if first, ok := seen[k]; ok {
			t.fail(apperr.Conflict("table %s is also pulled from remote table %s in this bulk pull: pull them one at a time",
				t.check.dst, first.id))
			continue
		}
		seen[k] = t
	}
}

// bulkPullBlock marks the tables that passed their checks as blocked: another table
// failed, so nothing is committed.
func (s *Service) bulkPullBlock(tables []*bulkPullTable) {
	var names []string
	for _, t := range tables {
		if t.result.Outcome == OutcomeFailed {
			names = append(names, t.id.String())
		}
	}
	for _, t := range tables {
		if t.result.Outcome == "" && t.check != nil && !t.check.inSync {
			t.result.Outcome, t.result.Status = OutcomeBlocked, http.StatusConflict
			t.result.Message = fmt.Sprintf("passed its checks, but nothing is committed: %s failed", strings.Join(names, ", "))
		}
	}
}

func (t *bulkPullTable) fail(err error) {
	t.result.Outcome, t.result.Status, t.result.Message = OutcomeFailed, apperr.StatusOf(err), apperr.PublicMessage(err)
}

// bulkID names a bulk operation in its intents: the request's id.
func bulkID(ctx context.Context) string {
	if id := requestctx.RequestID(ctx); id != "" {
		return id
	}
	return uuid.NewString()
}

// bulkPullMessage is the commit message: the caller's, or one naming every table.
func bulkPullMessage(req BulkPullRequest, pcs []*pullCheck) string {
	if req.Message != "" {
		return req.Message
	}
	names := make([]string, len(pcs))
	for i, pc := range pcs {
		names[i] = pc.dst.String()
	}
	return fmt.Sprintf("Pull iceberg tables %s from %s", strings.Join(names, ", "), req.Catalog)
}

// bulkPullTableMeta is one table in the commit metadata's iceberg_tables.
type bulkPullTableMeta struct {
	Table            string `json:"table"`
	RemoteTable      string `json:"remote_table"`
	MetadataLocation string `json:"metadata_location"`
	SnapshotID       string `json:"snapshot_id,omitempty"`
	TableUUID        string `json:"table_uuid"`
}

// bulkPullMetadata is the commit metadata: the remote and, under iceberg_tables, a JSON list
// of every table with the remote table, metadata location and snapshot it was pulled at.
func bulkPullMetadata(ctx context.Context, r *Remote, req BulkPullRequest, pcs []*pullCheck) map[string]string {
	list := make([]bulkPullTableMeta, len(pcs))
	for i, pc := range pcs {
		list[i] = bulkPullTableMeta{Table: pc.dst.String(), RemoteTable: dotted(pc.rec.Namespace, pc.rec.Table),
			MetadataLocation: pc.remoteLoc, SnapshotID: pc.snapshot, TableUUID: pc.md.Metadata.TableUUID().String()}
	}
	raw, _ := json.Marshal(list)
	return map[string]string{
		"iceberg_remote_catalog": req.Catalog,
		"iceberg_remote_type":    r.Config.Type,
		"iceberg_tables":         string(raw),
		"iceberg_remotes_user":   requestctx.User(ctx),
	}
}
