package remotes

import (
	"context"
	"log/slog"

	"github.com/iceberg-remotes/iceberg-remotes/internal/config"
	"github.com/iceberg-remotes/iceberg-remotes/internal/selector"
)

// HookEvent is the part of a lakeFS webhook body that publications use.
type HookEvent struct {
	EventType    string
	RepositoryID string
	BranchID     string
	CommitID     string
	SourceRef    string
}

// lakeFS events publications act on (docs/design.md section 15).
const (
	EventPostCommit       = "post-commit"
	EventPostMerge        = "post-merge"
	EventPostCreateBranch = "post-create-branch"
	EventPostDeleteBranch = "post-delete-branch"
)

type serviceIdentityKey struct{}

// WithServiceIdentity marks ctx so that lakeFS calls made under it use the service's own
// lakeFS key, whatever lakefs.credentials says (events carry no user credential to
// forward).
func WithServiceIdentity(ctx context.Context) context.Context {
	return context.WithValue(ctx, serviceIdentityKey{}, true)
}

// IsServiceIdentity reports whether ctx asks for the service's own lakeFS key.
func IsServiceIdentity(ctx context.Context) bool {
	on, _ := ctx.Value(serviceIdentityKey{}).(bool)
	return on
}

// subscription is one remote's parsed auto_push entry.
type subscription struct {
	remote string
	config.Subscription
}

// parseSubscriptions parses every remote's auto_push (validated at start, so an error here
// is a configuration built without validation: logged and skipped).
func parseSubscriptions(remotes []*Remote, logger *slog.Logger) []subscription {
	var out []subscription
	for _, r := range remotes {
		for i, a := range r.Config.AutoPush {
			sub, err := a.Parse()
			if err != nil {
				logger.Error("invalid auto_push subscription skipped", "remote", r.Config.ID, "index", i, "error", err)
				continue
			}
			out = append(out, subscription{remote: r.Config.ID, Subscription: sub})
		}
	}
	return out
}

// subscriptionsFor returns the subscriptions of a repository's branch.
func (s *Service) subscriptionsFor(repository, branch string) []subscription {
	var out []subscription
	for _, sub := range s.subs {
		if sub.Repository == repository && sub.Branch.Match(branch) {
			out = append(out, sub)
		}
	}
	return out
}

// destination renders where a subscription publishes a table of a branch.
func (sub subscription) destination(repository, branch string, ns []string, table string) ([]string, string, error) {
	return sub.Destination.Render(selector.Vars{Repository: repository, Branch: branch, Namespace: ns, Table: table})
}
