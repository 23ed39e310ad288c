package remotes

import (
	"context"
	"log/slog"
	"strings"

	"github.com/iceberg-remotes/iceberg-remotes/internal/config"
	"github.com/iceberg-remotes/iceberg-remotes/internal/selector"
	"github.com/iceberg-remotes/iceberg-remotes/internal/state"
)

// HookEvent is the part of a lakeFS webhook body that publications use.
type HookEvent struct {
	EventType    string
	RepositoryID string
	BranchID     string
	TagID        string
	CommitID     string
	SourceRef    string
}

// lakeFS events publications act on (docs/design.md section 15). lakeFS's tag events
// (pkg/actions/event.go, graveler's CreateTag/DeleteTag) carry tag_id, commit_id and
// source_ref (the tagged commit) and no branch_id; older lakeFS versions send the commit
// only as source_ref, so commit_id falls back to it.
const (
	EventPostCommit       = "post-commit"
	EventPostMerge        = "post-merge"
	EventPostCreateBranch = "post-create-branch"
	EventPostDeleteBranch = "post-delete-branch"
	EventPostCreateTag    = "post-create-tag"
	EventPostDeleteTag    = "post-delete-tag"
)

// tagRefPrefix marks a tag in a recorded event's and a publication's branch column, so
// that a tag's events and publications are never taken for a branch's (lakeFS branch
// names cannot contain '/'; it refuses a branch named like a tag).
const tagRefPrefix = "tags/"

// EventRef returns the ref a recorded event is about: a branch, or a tag (tag true).
func EventRef(ev state.Event) (name string, tag bool) {
	if ev.EventType == EventPostCreateTag || ev.EventType == EventPostDeleteTag {
		return strings.TrimPrefix(ev.Branch, tagRefPrefix), true
	}
	return ev.Branch, false
}

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

// subscriptionsFor returns the subscriptions of a repository's branch, or tag (tag true).
func (s *Service) subscriptionsFor(repository, ref string, tag bool) []subscription {
	var out []subscription
	for _, sub := range s.subs {
		if sub.Repository == repository && sub.MatchesRef(ref, tag) {
			out = append(out, sub)
		}
	}
	return out
}

// destination renders where a subscription publishes a table of a ref: its name fills
// {branch} in a branch entry, {tag} in a tag entry.
func (sub subscription) destination(repository, ref string, ns []string, table string) ([]string, string, error) {
	v := selector.Vars{Repository: repository, Branch: ref, Namespace: ns, Table: table}
	if sub.Tags {
		v.Branch, v.Tag = "", ref
	}
	return sub.Destination.Render(v)
}

// refKind names a ref's kind in messages.
func refKind(tag bool) string {
	if tag {
		return "tag"
	}
	return "branch"
}

// onDelete is what the subscription does with a deleted ref's publications.
func (sub subscription) onDelete() string {
	if sub.Tags {
		return sub.OnTagDelete
	}
	return sub.OnBranchDelete
}
