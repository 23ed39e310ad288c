package remotes

import (
	"context"
	"errors"

	"github.com/iceberg-remotes/iceberg-remotes/internal/apperr"
	"github.com/iceberg-remotes/iceberg-remotes/internal/state"
)

// RecordEvent stores a lakeFS event in the durable queue for the workers and returns its
// id; recorded is false (with a reason) when no subscription acts on it: another event
// type, or a repository and branch (or tag) nobody subscribes. The webhook answers once
// this returns, so lakeFS never waits for a remote. A tag event is recorded under
// tagRefPrefix+tag in the branch column.
func (s *Service) RecordEvent(ctx context.Context, ev HookEvent) (id int64, recorded bool, reason string, err error) {
	if ev.RepositoryID == "" {
		return 0, false, "", apperr.BadRequest("repository_id: must not be empty")
	}
	switch ev.EventType {
	case EventPostCommit, EventPostMerge, EventPostCreateBranch:
		if ev.BranchID == "" || ev.CommitID == "" {
			return 0, false, "", apperr.BadRequest("%s events need branch_id and commit_id", ev.EventType)
		}
	case EventPostDeleteBranch:
		if ev.BranchID == "" {
			return 0, false, "", apperr.BadRequest("%s events need branch_id", ev.EventType)
		}
	case EventPostCreateTag, EventPostDeleteTag:
		if ev.CommitID == "" {
			ev.CommitID = ev.SourceRef
		}
		if ev.TagID == "" || (ev.EventType == EventPostCreateTag && ev.CommitID == "") {
			return 0, false, "", apperr.BadRequest("%s events need tag_id and commit_id (or source_ref)", ev.EventType)
		}
	default:
		return 0, false, "event type " + ev.EventType + " is not acted on", nil
	}
	ref, tag := ev.BranchID, ev.EventType == EventPostCreateTag || ev.EventType == EventPostDeleteTag
	if tag {
		ref = ev.TagID
	}
	if len(s.subscriptionsFor(ev.RepositoryID, ref, tag)) == 0 {
		return 0, false, "no subscription for this repository and " + refKind(tag), nil
	}
	rec := state.Event{EventType: ev.EventType, Repository: ev.RepositoryID, Branch: ev.BranchID,
		CommitID: ev.CommitID, SourceRef: ev.SourceRef}
	if tag {
		rec.Branch = tagRefPrefix + ev.TagID
	}
	if err := s.store.EnqueueEvent(ctx, &rec); err != nil {
		return 0, false, "", storeError(err)
	}
	select {
	case s.wake <- struct{}{}:
	default:
	}
	return rec.ID, true, "", nil
}

// ListEvents lists recorded events, newest first.
func (s *Service) ListEvents(ctx context.Context, filter state.EventFilter, after string, amount int) (state.Page[state.Event], error) {
	page, err := s.store.ListEvents(ctx, filter, after, amount)
	if errors.Is(err, state.ErrNotFound) {
		return page, apperr.BadRequest("after: must be an event id from next_offset (got %q)", after)
	}
	return page, storeError(err)
}

// fillPendingEvents sets the tables listing's pending_events: the events of each record's
// repository recorded and not yet finished (one count per repository of the page).
func (s *Service) fillPendingEvents(ctx context.Context, items []TableStatus) {
	counts := map[string]int{}
	for i := range items {
		repo := items[i].Record.Repository
		n, ok := counts[repo]
		if !ok {
			var err error
			if n, err = s.store.PendingEvents(ctx, repo); err != nil {
				s.logger.WarnContext(ctx, "could not count pending events", "repository", repo, "error", err)
			}
			counts[repo] = n
		}
		items[i].PendingEvents = n
	}
}

// EventStats counts events by state (metrics).
func (s *Service) EventStats(ctx context.Context) (state.EventStats, error) {
	return s.store.EventStats(ctx)
}
