package remotes

import (
	"context"
	"net/http"
	"path"

	"github.com/iceberg-remotes/iceberg-remotes/internal/apperr"
	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog"
	"github.com/iceberg-remotes/iceberg-remotes/internal/lakefs"
)

// HookEvent is the part of a lakeFS webhook body that automatic push uses.
type HookEvent struct {
	EventType    string
	RepositoryID string
	BranchID     string
	CommitID     string
}

// AutoPushResult is the outcome of one subscribed table.
type AutoPushResult struct {
	Remote               string
	Namespace            []string
	Table                string
	DestinationNamespace []string
	DestinationTable     string
	Status               int // 204 on success
	Message              string
}

// autoPushEvents are the lakeFS events that trigger automatic push.
var autoPushEvents = map[string]bool{"post-commit": true, "post-merge": true}

type serviceIdentityKey struct{}

// WithServiceIdentity marks ctx so that lakeFS calls made under it use the service's own
// lakeFS key, whatever lakefs.credentials says (webhooks carry no user credential to
// forward).
func WithServiceIdentity(ctx context.Context) context.Context {
	return context.WithValue(ctx, serviceIdentityKey{}, true)
}

// IsServiceIdentity reports whether ctx asks for the service's own lakeFS key.
func IsServiceIdentity(ctx context.Context) bool {
	on, _ := ctx.Value(serviceIdentityKey{}).(bool)
	return on
}

// AutoPush pushes, at the event's commit, every table the configuration subscribes for the
// event's repository and branch (iceberg_catalog.remotes[].auto_push). Existing remote
// tables are re-pointed (force_update); a table already at the commit's metadata is left
// alone, so a repeated event changes nothing; an event whose commit is no longer the
// branch's head is skipped (see PushRequest.EventBranch), so a late event cannot roll a
// table back. Events other than post-commit/post-merge
// are acknowledged with no result.
func (s *Service) AutoPush(ctx context.Context, ev HookEvent) ([]AutoPushResult, error) {
	if ev.RepositoryID == "" {
		return nil, apperr.BadRequest("repository_id: must not be empty")
	}
	if !autoPushEvents[ev.EventType] {
		return []AutoPushResult{}, nil
	}
	if ev.BranchID == "" || ev.CommitID == "" {
		return nil, apperr.BadRequest("%s events need branch_id and commit_id", ev.EventType)
	}
	ctx = WithServiceIdentity(ctx)
	results := []AutoPushResult{}
	for _, id := range s.order {
		r := s.remotes[id]
		for _, sub := range r.Config.AutoPush {
			if sub.Repository != ev.RepositoryID {
				continue
			}
			if ok, err := path.Match(sub.Branch, ev.BranchID); err != nil || !ok {
				continue
			}
			dstNS, dstTable := sub.DestinationNamespace, sub.DestinationTable
			if len(dstNS) == 0 {
				dstNS = sub.Namespace
			}
			if dstTable == "" {
				dstTable = sub.Table
			}
			res := AutoPushResult{Remote: id, Namespace: sub.Namespace, Table: sub.Table,
				DestinationNamespace: dstNS, DestinationTable: dstTable, Status: http.StatusNoContent}
			plan, err := s.Push(ctx, PushRequest{
				Catalog:         id,
				Source:          lakefs.TableRef{Repository: ev.RepositoryID, Reference: ev.CommitID, Namespace: sub.Namespace, Table: sub.Table},
				Destination:     catalog.Ident{Namespace: dstNS, Table: dstTable},
				ForceUpdate:     true,
				CreateNamespace: sub.CreateNamespace,
				Operation:       "auto-push",
				EventBranch:     ev.BranchID,
			})
			if err == nil && plan.Superseded {
				res.Message = plan.Checks[len(plan.Checks)-1].Message
			}
			if err != nil {
				res.Status, res.Message = apperr.StatusOf(err), apperr.PublicMessage(err)
				s.logger.WarnContext(ctx, "automatic push failed", "remote", id, "repository", ev.RepositoryID,
					"branch", ev.BranchID, "commit", ev.CommitID, "table", dotted(sub.Namespace, sub.Table), "error", err)
			}
			results = append(results, res)
		}
	}
	return results, nil
}
