package remotes

import (
	"context"
	"fmt"
	"net/http"
	"sync"

	"github.com/iceberg-remotes/iceberg-remotes/internal/apperr"
	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog"
	"github.com/iceberg-remotes/iceberg-remotes/internal/lakefs"
	"github.com/iceberg-remotes/iceberg-remotes/internal/selector"
	"github.com/iceberg-remotes/iceberg-remotes/internal/state"
)

// EventOutcome is what one attempt at an event did.
type EventOutcome struct {
	Results []BulkResult
	// Err is nil when the event is done; Retry says whether a later attempt can fix it
	// (lakeFS or a remote unavailable) or not (the event fails at once).
	Err   error
	Retry bool
	// Note explains an event that published nothing (superseded, branch gone, ...).
	Note string
}

// publishParallelism bounds the pushes one event runs at once.
const publishParallelism = 4

// ProcessEvent applies one recorded event (docs/design.md section 15). Commit and merge
// events publish, at the event's commit, the subscribed tables that changed since the
// branch's cursor (the last commit whose changes were all published); the first event of a
// branch and post-create-branch publish every subscribed table. An event whose commit is
// no longer the branch's head publishes nothing: the newer commit's event, recorded
// behind it, publishes the branch from the same cursor, so no table moves backwards and no
// change is skipped. post-create-tag publishes every subscribed table at the tag's commit
// (a tag never moves: no cursor). post-delete-branch and post-delete-tag apply
// on_branch_delete / on_tag_delete.
func (s *Service) ProcessEvent(ctx context.Context, ev state.Event) EventOutcome {
	ctx = WithServiceIdentity(ctx)
	if ev.EventType == EventPostDeleteBranch || ev.EventType == EventPostDeleteTag {
		return s.refDeleted(ctx, ev)
	}
	ref, tag := EventRef(ev)
	subs := s.subscriptionsFor(ev.Repository, ref, tag)
	if len(subs) == 0 {
		return EventOutcome{Note: "no subscription for this repository and " + refKind(tag)}
	}
	head, err := s.lakefs.ResolveRef(ctx, ev.Repository, ref)
	if apperr.Is(err, http.StatusNotFound) {
		return EventOutcome{Note: fmt.Sprintf("%s %q no longer exists", refKind(tag), ref)}
	}
	if err != nil {
		return EventOutcome{Err: err, Retry: retryable(apperr.StatusOf(err))}
	}
	if head.CommitID != ev.CommitID {
		if tag {
			return EventOutcome{Note: fmt.Sprintf("superseded: tag %q was re-created at %s, whose event publishes it", ref, head.CommitID)}
		}
		return EventOutcome{Note: fmt.Sprintf("superseded: branch %q has moved on from %s to %s, whose event publishes it", ref, ev.CommitID, head.CommitID)}
	}
	cursor := ""
	if !tag && ev.EventType != EventPostCreateBranch {
		if cursor, err = s.store.BranchCursor(ctx, ev.Repository, ev.Branch); err != nil {
			return EventOutcome{Err: storeError(err), Retry: true}
		}
	}
	if cursor == ev.CommitID {
		return EventOutcome{Note: "already published"}
	}
	jobs, err := s.publishJobs(ctx, ev, subs, cursor)
	if err != nil {
		return EventOutcome{Err: err, Retry: retryable(apperr.StatusOf(err))}
	}
	out := EventOutcome{Results: make([]BulkResult, len(jobs))}
	superseded := make([]bool, len(jobs))
	sem := make(chan struct{}, publishParallelism)
	var wg sync.WaitGroup
	for i, j := range jobs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			out.Results[i], superseded[i] = s.publishOne(ctx, ev, j)
		}()
	}
	wg.Wait()
	var totals BulkTotals
	moved := false
	for i, r := range out.Results {
		totals.Add(r)
		moved = moved || superseded[i]
		if r.Outcome == OutcomeFailed && (out.Err == nil || retryable(r.Status)) {
			out.Err, out.Retry = apperr.New(r.Status, "%s: %s", r.Source, r.Message), retryable(r.Status)
		}
	}
	if out.Err != nil {
		out.Err = apperr.New(apperr.StatusOf(out.Err), "%d of %d tables failed; first: %s", totals.Failed, totals.Total, apperr.PublicMessage(out.Err))
		return out
	}
	if moved {
		// The branch moved while this event ran: the cursor stays, so that the newer
		// event publishes every change since it.
		out.Note = "superseded while running: the branch's next event publishes it"
		return out
	}
	if tag {
		return out
	}
	if err := s.store.SetBranchCursor(ctx, ev.Repository, ev.Branch, ev.CommitID); err != nil {
		return EventOutcome{Results: out.Results, Err: storeError(err), Retry: true}
	}
	return out
}

// publishJob is one table to push for an event.
type publishJob struct {
	sub    subscription
	source catalog.Ident
	dest   catalog.Ident
	err    error // set when the destination cannot be rendered or collides
}

// publishJobs lists the subscribed tables an event publishes: every selected table when
// the branch has no cursor (and for a tag), else the selected tables that changed since it
// (a removed table is not published).
func (s *Service) publishJobs(ctx context.Context, ev state.Event, subs []subscription, cursor string) ([]publishJob, error) {
	var changed []lakefs.TableChange
	if cursor != "" {
		var err error
		if changed, err = s.lakefs.ChangedTables(ctx, ev.Repository, cursor, ev.CommitID); err != nil {
			return nil, err
		}
	}
	ref, _ := EventRef(ev)
	var jobs []publishJob
	for _, sub := range subs {
		var tables []catalog.Ident
		if cursor == "" {
			listing, err := s.lakefs.ListTables(ctx, ev.Repository, ev.CommitID, sub.Tables)
			if err != nil {
				return nil, err
			}
			for _, t := range listing.Tables {
				tables = append(tables, catalog.Ident{Namespace: t.Namespace, Table: t.Table})
			}
		} else {
			for _, c := range changed {
				if !c.Removed && sub.Tables.Match(c.Namespace, c.Table) {
					tables = append(tables, catalog.Ident{Namespace: c.Namespace, Table: c.Table})
				}
			}
		}
		for _, t := range tables {
			j := publishJob{sub: sub, source: t}
			ns, name, err := sub.destination(ev.Repository, ref, t.Namespace, t.Table)
			if err != nil {
				j.err = apperr.BadRequest("destination of %s: %v", t, err)
			}
			j.dest = catalog.Ident{Namespace: ns, Table: name}
			jobs = append(jobs, j)
		}
	}
	// Two tables sent to one remote table would overwrite each other: both fail.
	for {
		dest := map[string]string{}
		for i, j := range jobs {
			if j.err == nil {
				dest[fmt.Sprintf("%s\x00%d", j.source, i)] = j.sub.remote + "\x00" + j.dest.String()
			}
		}
		d, _ := selector.Collisions(dest)
		if d == "" {
			return jobs, nil
		}
		for i := range jobs {
			if jobs[i].err == nil && jobs[i].sub.remote+"\x00"+jobs[i].dest.String() == d {
				// A configuration error that retrying cannot fix: 400, not 409.
				jobs[i].err = apperr.BadRequest("several subscribed tables map to %s in remote catalog %q", jobs[i].dest, jobs[i].sub.remote)
			}
		}
	}
}

// publishOne pushes one table at the event's commit (force_update: the remote table
// follows the branch) and records the branch (or tag) it follows. A tag never moves, so
// its push has no branch to re-check.
func (s *Service) publishOne(ctx context.Context, ev state.Event, j publishJob) (BulkResult, bool) {
	res := BulkResult{Source: j.source, Destination: j.dest}
	eventBranch := ev.Branch
	if _, tag := EventRef(ev); tag {
		eventBranch = ""
	}
	if j.err != nil {
		res.Status, res.Outcome, res.Message = apperr.StatusOf(j.err), OutcomeFailed, apperr.PublicMessage(j.err)
		return res, false
	}
	plan, err := s.Push(ctx, PushRequest{
		Catalog:         j.sub.remote,
		Source:          lakefs.TableRef{Repository: ev.Repository, Reference: ev.CommitID, Namespace: j.source.Namespace, Table: j.source.Table},
		Destination:     j.dest,
		ForceUpdate:     true,
		CreateNamespace: j.sub.CreateNamespace,
		Operation:       "auto-push",
		EventBranch:     eventBranch,
	})
	if err != nil {
		res.Status, res.Outcome, res.Message = apperr.StatusOf(err), OutcomeFailed, apperr.PublicMessage(err)
		s.logger.WarnContext(ctx, "publication failed", "remote", j.sub.remote, "repository", ev.Repository,
			"branch", ev.Branch, "commit", ev.CommitID, "table", j.source.String(), "error", err)
		return res, false
	}
	res.Status, res.Outcome = http.StatusNoContent, OutcomePushed
	if len(plan.Actions) == 0 {
		res.Outcome = OutcomeUnchanged
	}
	if plan.Superseded {
		res.Message = plan.Checks[len(plan.Checks)-1].Message()
		return res, true
	}
	pub := state.Publication{TableKey: state.TableKey{Catalog: j.sub.remote, Namespace: j.dest.Namespace, Table: j.dest.Table},
		Repository: ev.Repository, Branch: ev.Branch, CommitID: ev.CommitID}
	if err := s.store.PutPublication(ctx, pub); err != nil {
		res.Status, res.Outcome, res.Message = http.StatusServiceUnavailable, OutcomeFailed, "could not record the publication: "+err.Error()
	}
	return res, false
}

// retryable reports whether a failure with this status may pass on a later attempt.
func retryable(status int) bool {
	return status >= 500 || status == http.StatusTooManyRequests || status == http.StatusRequestTimeout || status == http.StatusConflict
}
