package remotes

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/iceberg-remotes/iceberg-remotes/internal/apperr"
	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog"
	"github.com/iceberg-remotes/iceberg-remotes/internal/config"
	"github.com/iceberg-remotes/iceberg-remotes/internal/state"
)

// refDeleted applies on_branch_delete (on_tag_delete) to a deleted branch's (tag's)
// publications: unpublish removes each remote table the ref's events published (no file is
// deleted), keep leaves them. A remote table re-pushed since from elsewhere (its sync
// record no longer names the commit the ref published) is left alone. A branch's cursor
// goes either way: a branch created again under the name starts over. An un-published
// table's result has outcome "pushed" (the bulk outcomes name no un-publish) and message
// "un-published".
func (s *Service) refDeleted(ctx context.Context, ev state.Event) EventOutcome {
	ref, tag := EventRef(ev)
	unpublish := map[string]bool{}
	for _, sub := range s.subscriptionsFor(ev.Repository, ref, tag) {
		if sub.onDelete() == config.OnBranchDeleteUnpublish {
			unpublish[sub.remote] = true
		}
	}
	pubs, err := s.store.BranchPublications(ctx, ev.Repository, ev.Branch)
	if err != nil {
		return EventOutcome{Err: storeError(err), Retry: true}
	}
	var out EventOutcome
	var totals BulkTotals
	for _, p := range pubs {
		if !unpublish[p.Catalog] {
			continue
		}
		res := s.unpublishPublication(ctx, p)
		totals.Add(res)
		out.Results = append(out.Results, res)
		if res.Outcome == OutcomeFailed && (out.Err == nil || retryable(res.Status)) {
			out.Err, out.Retry = apperr.New(res.Status, "%s: %s", res.Destination, res.Message), retryable(res.Status)
		}
	}
	if out.Err != nil {
		out.Err = apperr.New(apperr.StatusOf(out.Err), "%d of %d tables failed; first: %s", totals.Failed, totals.Total, apperr.PublicMessage(out.Err))
		return out
	}
	if len(unpublish) == 0 {
		out.Note = fmt.Sprintf("on_%s_delete is keep: publications kept", refKind(tag))
	}
	if tag {
		return out
	}
	if err := s.store.SetBranchCursor(ctx, ev.Repository, ev.Branch, ""); err != nil {
		return EventOutcome{Results: out.Results, Err: storeError(err), Retry: true}
	}
	return out
}

func (s *Service) unpublishPublication(ctx context.Context, p state.Publication) BulkResult {
	dest := catalog.Ident{Namespace: p.Namespace, Table: p.Table}
	res := BulkResult{Destination: dest}
	rec, err := s.store.GetSyncRecord(ctx, p.TableKey)
	switch {
	case errors.Is(err, state.ErrNotFound):
		res.Status, res.Outcome, res.Message = 204, OutcomeUnchanged, "not published any more"
		return res
	case err != nil:
		err = storeError(err)
		res.Status, res.Outcome, res.Message = apperr.StatusOf(err), OutcomeFailed, apperr.PublicMessage(err)
		return res
	}
	res.Source = catalog.Ident{Namespace: rec.LocalNamespace, Table: rec.LocalTable}
	if rec.Repository != p.Repository || rec.ResolvedCommit != p.CommitID {
		res.Status, res.Outcome = 204, OutcomeUnchanged
		res.Message = fmt.Sprintf("kept: re-pushed since the branch published it (now from %s at %s)", rec.Repository, rec.ResolvedCommit)
	} else if _, err := s.Unpublish(ctx, UnpublishRequest{Catalog: p.Catalog, Table: dest, Operation: "auto-unpublish"}); apperr.Is(err, http.StatusConflict) {
		// Un-publish refuses a table that moved in the remote since (an engine committed
		// to it): that work is kept, and said so.
		res.Status, res.Outcome, res.Message = 204, OutcomeUnchanged, "kept: "+apperr.PublicMessage(err)
	} else if err != nil {
		res.Status, res.Outcome, res.Message = apperr.StatusOf(err), OutcomeFailed, apperr.PublicMessage(err)
		return res
	} else {
		res.Status, res.Outcome, res.Message = 204, OutcomePushed, "un-published"
	}
	if err := s.store.DeletePublication(ctx, p.TableKey); err != nil {
		err = storeError(err)
		res.Status, res.Outcome, res.Message = apperr.StatusOf(err), OutcomeFailed, apperr.PublicMessage(err)
	}
	return res
}
