package server

import (
	"context"
	"encoding/json"

	"github.com/iceberg-remotes/iceberg-remotes/internal/api/apigen"
	"github.com/iceberg-remotes/iceberg-remotes/internal/remotes"
	"github.com/iceberg-remotes/iceberg-remotes/internal/state"
)

func (a apiService) RecordEvent(ctx context.Context, ev apigen.LakeFSHookEvent) (apigen.IcebergHookAccepted, error) {
	id, recorded, reason, err := a.svc.RecordEvent(ctx, remotes.HookEvent{EventType: ev.EventType, RepositoryID: ev.RepositoryId,
		BranchID: ev.BranchId, TagID: ev.TagId, CommitID: ev.CommitId, SourceRef: ev.SourceRef})
	if err != nil {
		return apigen.IcebergHookAccepted{}, err
	}
	if !recorded {
		return apigen.IcebergHookAccepted{Message: "not recorded: " + reason}, nil
	}
	return apigen.IcebergHookAccepted{Id: id, Message: "recorded"}, nil
}

func (a apiService) ListEvents(ctx context.Context, repository, st, after string, amount int) (apigen.IcebergEventList, error) {
	page, err := a.svc.ListEvents(ctx, state.EventFilter{Repository: repository, State: st}, after, amount)
	if err != nil {
		return apigen.IcebergEventList{}, err
	}
	out := apigen.IcebergEventList{Pagination: pagination(page.HasMore, page.NextOffset, len(page.Items), amount),
		Results: make([]apigen.IcebergEvent, 0, len(page.Items))}
	for _, ev := range page.Items {
		e := apigen.IcebergEvent{Id: ev.ID, EventType: ev.EventType, RepositoryId: ev.Repository,
			CommitId: ev.CommitID, State: apigen.IcebergEventState(ev.State), Attempts: ev.Attempts, LastError: ev.LastError,
			ReceivedAt: ev.ReceivedAt, FinishedAt: ev.FinishedAt}
		if ref, tag := remotes.EventRef(ev); tag {
			e.TagId = ref
		} else {
			e.BranchId = ref
		}
		if ev.State == state.EventPending {
			e.NextAttemptAt = ev.NextAttemptAt
		}
		var results []remotes.BulkResult
		if ev.Results != "" && json.Unmarshal([]byte(ev.Results), &results) == nil {
			for _, r := range results {
				e.Results = append(e.Results, bulkResult(r))
			}
		}
		out.Results = append(out.Results, e)
	}
	return out, nil
}
