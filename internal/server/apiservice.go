package server

import (
	"context"

	"github.com/iceberg-remotes/iceberg-remotes/internal/api"
	"github.com/iceberg-remotes/iceberg-remotes/internal/api/apigen"
	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog"
	"github.com/iceberg-remotes/iceberg-remotes/internal/lakefs"
	"github.com/iceberg-remotes/iceberg-remotes/internal/remotes"
	"github.com/iceberg-remotes/iceberg-remotes/internal/state"
)

// apiService adapts the push/pull service to the API's generated types, so that the api
// package stays free of the service's (and iceberg-go's) types.
type apiService struct{ svc *remotes.Service }

var _ api.Service = apiService{}

func (a apiService) Push(ctx context.Context, catalogID string, req apigen.IcebergPushRequest, dryRun bool) (*apigen.IcebergPlan, error) {
	plan, err := a.svc.Push(ctx, remotes.PushRequest{
		Catalog: catalogID,
		Source: lakefs.TableRef{Repository: req.Source.RepositoryId, Reference: req.Source.ReferenceId,
			Namespace: req.Source.Namespace, Table: req.Source.Table},
		Destination:     catalog.Ident{Namespace: req.Destination.Namespace, Table: req.Destination.Table},
		ForceUpdate:     req.ForceUpdate,
		CreateNamespace: req.CreateNamespace,
		DryRun:          dryRun,
		// A query parameter, as dry_run: push's body stays lakeFS's.
		AllowUncommitted: api.AllowUncommitted(ctx),
	})
	return toAPIPlan(plan), err
}

func (a apiService) Pull(ctx context.Context, catalogID string, req apigen.IcebergPullRequest, dryRun bool) (*apigen.IcebergPlan, error) {
	plan, err := a.svc.Pull(ctx, remotes.PullRequest{
		Catalog: catalogID,
		Source:  catalog.Ident{Namespace: req.Source.Namespace, Table: req.Source.Table},
		Destination: lakefs.TableRef{Repository: req.Destination.RepositoryId, Reference: req.Destination.ReferenceId,
			Namespace: req.Destination.Namespace, Table: req.Destination.Table},
		ForceUpdate:     req.ForceUpdate,
		CreateNamespace: req.CreateNamespace,
		DryRun:          dryRun,
	})
	return toAPIPlan(plan), err
}

func (a apiService) Unpublish(ctx context.Context, catalogID string, req apigen.IcebergUnpublishRequest, dryRun bool) (*apigen.IcebergPlan, error) {
	plan, err := a.svc.Unpublish(ctx, remotes.UnpublishRequest{
		Catalog: catalogID,
		Table:   catalog.Ident{Namespace: req.Source.Namespace, Table: req.Source.Table},
		Force:   req.Force,
		DryRun:  dryRun,
	})
	return toAPIPlan(plan), err
}

func (a apiService) ListRemotes(context.Context) ([]apigen.IcebergRemote, error) {
	var out []apigen.IcebergRemote
	for _, r := range a.svc.ListRemotes() {
		out = append(out, apigen.IcebergRemote{Id: r.ID, Type: apigen.IcebergRemoteType(r.Type), Ready: r.Ready, Error: r.Error})
	}
	return out, nil
}

func (a apiService) ListTables(ctx context.Context, catalogID, after string, amount int, repository, liveState string) (apigen.IcebergSyncedTableList, error) {
	page, err := a.svc.ListTables(ctx, catalogID, after, amount, remotes.TableFilter{Repository: repository, State: liveState})
	if err != nil {
		return apigen.IcebergSyncedTableList{}, err
	}
	out := apigen.IcebergSyncedTableList{Pagination: pagination(page.HasMore, page.NextOffset, len(page.Items), amount),
		Results: make([]apigen.IcebergSyncedTable, 0, len(page.Items))}
	for _, ts := range page.Items {
		r := ts.Record
		out.Results = append(out.Results, apigen.IcebergSyncedTable{
			RemoteNamespace: r.Namespace, RemoteTable: r.Table,
			RepositoryId: r.Repository, ReferenceId: r.Reference, Namespace: r.LocalNamespace, Table: r.LocalTable,
			ResolvedCommit: r.ResolvedCommit,
			State:          apigen.IcebergSyncedTableState(ts.State),
			Status:         apigen.IcebergSyncedTableStatus(r.Status),
			PushedLocation: r.PushedLocation, SyncedRemoteLocation: r.RemoteLocation, SyncedLakefsLocation: r.LakeFSLocation,
			CurrentRemoteLocation: ts.CurrentRemoteLocation, CurrentLakefsLocation: ts.CurrentLakeFSLocation,
			TableUuid: r.TableUUID, SnapshotId: r.SnapshotID, Notes: r.Notes, Error: ts.Error,
			UpdatedBy: r.UpdatedBy, UpdatedAt: r.UpdatedAt, CommitsBehind: ts.CommitsBehind,
			PendingEvents: ts.PendingEvents,
		})
		withHealth(&out.Results[len(out.Results)-1], r)
	}
	return out, nil
}

func (a apiService) ListOperations(ctx context.Context, catalogID, after string, amount int) (apigen.IcebergRemoteOperationList, error) {
	page, err := a.svc.ListOperations(ctx, catalogID, after, amount)
	if err != nil {
		return apigen.IcebergRemoteOperationList{}, err
	}
	out := apigen.IcebergRemoteOperationList{Pagination: pagination(page.HasMore, page.NextOffset, len(page.Items), amount),
		Results: make([]apigen.IcebergRemoteOperation, 0, len(page.Items))}
	for _, op := range page.Items {
		out.Results = append(out.Results, operation(op))
	}
	return out, nil
}

func operation(op state.Operation) apigen.IcebergRemoteOperation {
	return apigen.IcebergRemoteOperation{
		Id: op.ID, Operation: apigen.IcebergRemoteOperationOperation(op.Operation), User: op.User, RequestId: op.RequestID,
		RemoteNamespace: op.RemoteNS, RemoteTable: op.RemoteTable,
		RepositoryId: op.Repository, ReferenceId: op.Reference, Namespace: op.LocalNS, Table: op.LocalTable,
		StatusCode: op.StatusCode, Outcome: apigen.IcebergRemoteOperationOutcome(op.Outcome), Error: op.Error,
		LakefsCommit: op.LakeFSCommit, MetadataLocation: op.MetadataLoc,
		StartedAt: op.StartedAt, FinishedAt: op.FinishedAt, DurationMs: op.DurationMillis,
	}
}

func pagination(hasMore bool, next string, results, amount int) apigen.Pagination {
	return apigen.Pagination{HasMore: hasMore, NextOffset: next, Results: results, MaxPerPage: amount}
}

// toAPIPlan is the answer of a dry run; an operation carried out answers no plan, so its
// plan is not converted (which would format every check's message for nothing).
func toAPIPlan(p *remotes.Plan) *apigen.IcebergPlan {
	if p == nil || !p.DryRun {
		return nil
	}
	out := &apigen.IcebergPlan{Operation: p.Operation, DryRun: p.DryRun, Actions: p.Actions, Status: p.Status, Message: p.Message,
		Checks: make([]apigen.IcebergPlanCheck, 0, len(p.Checks))}
	if out.Actions == nil {
		out.Actions = []string{}
	}
	for _, c := range p.Checks {
		out.Checks = append(out.Checks, apigen.IcebergPlanCheck{Name: c.Name, Ok: c.OK, Message: c.Message()})
	}
	return out
}

func (a apiService) BulkPush(ctx context.Context, catalogID string, req apigen.IcebergBulkPushRequest, dryRun bool, emit func(apigen.IcebergBulkResult)) (apigen.IcebergBulkTotals, error) {
	t, err := a.svc.BulkPush(ctx, remotes.BulkPushRequest{
		Catalog: catalogID, Repository: req.Source.RepositoryId, Reference: req.Source.ReferenceId,
		Namespace: req.Source.Namespace, Table: req.Source.Table,
		DestinationNamespace: req.Destination.Namespace, DestinationTable: req.Destination.Table,
		ForceUpdate: req.ForceUpdate, CreateNamespace: req.CreateNamespace, DryRun: dryRun, Parallelism: req.Parallelism,
		AllowUncommitted: api.AllowUncommitted(ctx),
	}, func(r remotes.BulkResult) { emit(bulkResult(r)) })
	if err != nil {
		return apigen.IcebergBulkTotals{}, err
	}
	return bulkTotals(t), nil
}

func (a apiService) BulkPull(ctx context.Context, catalogID string, req apigen.IcebergBulkPullRequest, dryRun bool, emit func(apigen.IcebergBulkResult)) (apigen.IcebergBulkTotals, error) {
	t, err := a.svc.BulkPull(ctx, remotes.BulkPullRequest{
		Catalog: catalogID, Namespace: req.Source.Namespace, Table: req.Source.Table,
		Repository: req.Destination.RepositoryId, Branch: req.Destination.ReferenceId,
		ForceUpdate: req.ForceUpdate, Message: req.Message, DryRun: dryRun,
	}, func(r remotes.BulkResult) { emit(bulkResult(r)) })
	if err != nil {
		return apigen.IcebergBulkTotals{}, err
	}
	return bulkTotals(t), nil
}

// bulkResult is one table's line of a bulk answer (a namespace is a list, never null).
func bulkResult(r remotes.BulkResult) apigen.IcebergBulkResult {
	ns := func(n []string) []string {
		if n == nil {
			return []string{}
		}
		return n
	}
	return apigen.IcebergBulkResult{Type: "table",
		Source:      apigen.IcebergTableName{Namespace: ns(r.Source.Namespace), Table: r.Source.Table},
		Destination: apigen.IcebergTableName{Namespace: ns(r.Destination.Namespace), Table: r.Destination.Table},
		Status:      r.Status, Outcome: apigen.IcebergBulkResultOutcome(r.Outcome), Message: r.Message}
}

// bulkTotals is the totals line of a bulk answer.
func bulkTotals(t remotes.BulkTotals) apigen.IcebergBulkTotals {
	return apigen.IcebergBulkTotals{Type: "totals", Total: t.Total, Changed: t.Changed, Unchanged: t.Unchanged,
		Failed: t.Failed, Blocked: t.Blocked, Status: t.Status, Message: t.Message, CommitId: t.CommitID}
}
