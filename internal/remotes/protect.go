package remotes

// GC protection of published commits (README, "Garbage collection").
//
// The lakeFS rule relied on (treeverse/lakeFS at 71a45ee, pkg/graveler/retention/
// active_commits.go, GetGarbageCollectionCommits, lines 206-230): the GC's starting points
// are branch heads and "dangling" commits (no commit's first parent); a branch head is
// always active ("If the current commit IS a branch HEAD" → activeMap), while a dangling
// commit (the old head of a deleted branch, or one only a tag names) is active only within
// the default retention. The starting points come from garbage_collection_manager.go,
// SaveGarbageCollectionCommits: GCBranchIterator (every branch, hidden ones included) and
// GCCommitIterator (ancestry leaves); tags are not among them. Docs:
// https://docs.lakefs.io/howto/garbage-collection/gc.html. So the protecting ref is a
// branch, created hidden so that it does not clutter branch listings.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/iceberg-remotes/iceberg-remotes/internal/apperr"
	"github.com/iceberg-remotes/iceberg-remotes/internal/lakefs"
	"github.com/iceberg-remotes/iceberg-remotes/internal/selector"
	"github.com/iceberg-remotes/iceberg-remotes/internal/state"
)

// ProtectedRefPrefix starts the name of every protecting branch.
const ProtectedRefPrefix = "iceberg-remotes-"

var unsafeRefChars = regexp.MustCompile(`[^A-Za-z0-9_-]+`)

// ProtectedRefName is the branch that protects commit while any table is published from
// it:
//
//	iceberg-remotes-<commit id>
//
// One branch per commit of a repository (the branch lives in it), shared by every remote
// table published at that commit, whatever its catalog: a bulk push of N tables at one
// commit creates one branch, not N. Characters a lakeFS branch name does not allow (its
// rule is ^\w[-\w]*$) are replaced by "_" (a lakeFS commit id is hex, so none are). The
// commit is the name, so a re-push creates (or finds) the new commit's branch before it
// releases the old one: the published commit is never unprotected. Which tables use a
// branch is counted from the state store (state.RefUse) under the branch's lock.
func ProtectedRefName(commit string) string {
	if commit == "" {
		return ""
	}
	return ProtectedRefPrefix + unsafeRefChars.ReplaceAllString(commit, "_")
}

// checkCommitted decides what a push publishes: the commit to protect, or "" (with a note
// for the record) for a table that is only staged on its branch, which is refused (409)
// unless allowed. A tag or commit id is immutable, so only a branch read costs a look at
// the table in its head commit.
func (s *Service) checkCommitted(ctx context.Context, plan *Plan, r *Remote, req PushRequest, rec state.SyncRecord, st *lakefs.TableState, at committedLocation) (commit, note string, err error) {
	if at == nil {
		at = s.lakefs.CommittedLocation
	}
	commit, loc := st.ResolvedCommit, st.MetadataLocation
	committed := loc
	switch {
	case st.CommitChecked:
		committed = st.CommittedLocation // LocateCommitted compared them
	case !st.IsBranch:
	case lastCommitted(rec, req.Source) == (lakefs.KnownCommitted{Commit: commit, Location: loc}):
		// The last push published this very file from this commit of this table, and
		// protected it, so it was committed there (an unchanged re-push costs no lakeFS call).
	default:
		if committed, err = at(ctx, req.Source, commit); err != nil {
			return "", "", plan.fail("committed", err)
		}
	}
	if committed == loc {
		plan.pass("committed", "table %s at %q is committed (commit %s)", req.Source, req.Source.Reference, commit)
		plan.action("protect commit %s from lakeFS's garbage collector with hidden branch %q", commit, ProtectedRefName(commit))
		return commit, "", nil
	}
	allow := r.Config.AllowUncommitted
	if req.AllowUncommitted != nil {
		allow = *req.AllowUncommitted
	}
	if !allow {
		return "", "", plan.fail("committed", apperr.Conflict(
			"table %s on branch %q has uncommitted changes (its metadata %s is staged, not in commit %s): commit it first, "+
				"or set allow_uncommitted=true to publish it unprotected (lakeFS's garbage collector may delete uncommitted objects)",
			req.Source, req.Source.Reference, loc, commit))
	}
	plan.pass("committed", "warning: table %s on branch %q is only staged: published with allow_uncommitted, not protected from lakeFS's garbage collector",
		req.Source, req.Source.Reference)
	return "", uncommittedNote, nil
}

// lastCommitted is what the sync record proves of table src's committed state: the record's
// lakeFS location was the table's in its resolved commit (a push published that file from
// that commit, a pull committed it there), and the protecting branch named for that commit
// shows the file was found committed (a branch is created only for a committed file). Zero
// when the record is not src's, is mid-operation, or protects no commit.
func lastCommitted(rec state.SyncRecord, src lakefs.TableRef) lakefs.KnownCommitted {
	if rec.Pending != "" || rec.ProtectedRef == "" || rec.ProtectedRef != ProtectedRefName(rec.ResolvedCommit) || rec.LakeFSLocation == "" ||
		rec.Repository != src.Repository || !slices.Equal(rec.LocalNamespace, src.Namespace) || rec.LocalTable != src.Table {
		return lakefs.KnownCommitted{}
	}
	return lakefs.KnownCommitted{Commit: rec.ResolvedCommit, Location: rec.LakeFSLocation}
}

// committedLocation gives a table's metadata location in a commit ("" when absent there).
type committedLocation func(ctx context.Context, ref lakefs.TableRef, commit string) (string, error)

// listedCommitted answers committedLocation for a bulk push from one listing of the
// selection at the branch's head commit, made the first time a table needs it (an
// unchanged bulk push makes none): ⌈objects/1000⌉ calls instead of one per table.
func (s *Service) listedCommitted(repo string, sel selector.Tables) committedLocation {
	var (
		once sync.Once
		at   map[string]string
		err  error
		in   string
	)
	return func(ctx context.Context, ref lakefs.TableRef, commit string) (string, error) {
		once.Do(func() {
			var l *lakefs.TableListing
			if l, err = s.lakefs.ListTablesAtCommit(ctx, repo, commit, sel); err != nil {
				return
			}
			in, at = commit, map[string]string{}
			for _, t := range l.Tables {
				at[dotted(t.Namespace, t.Table)] = t.MetadataLocation
			}
		})
		if err != nil {
			return "", err
		}
		if commit != in {
			return s.lakefs.CommittedLocation(ctx, ref, commit) // not the listing's commit
		}
		return at[dotted(ref.Namespace, ref.Table)], nil
	}
}

// uncommittedNote is the sync record's note for a table published from staged state.
const uncommittedNote = "published uncommitted (allow_uncommitted): lakeFS's garbage collector may delete its files"

// One protecting branch is shared by every table published at its commit (ProtectedRefName),
// so it is created by the first table published there and deleted after the last one
// releases it. Every creation and deletion happens under the branch's lock in the state
// store (state.Store.WithRefLock), by these rules:
//
//   - the store records that the branch exists after creating it, and that it does not
//     before deleting it (a crash in between leaves a branch unrecorded, which the next
//     publisher creates again, idempotently, or which is left behind);
//   - a publisher creates the branch unless it is recorded as existing: 1,000 tables
//     published at one commit cost one createBranch;
//   - a push stores its intent naming the branch before it takes the lock, and a pull
//     stores its record claiming it under the lock, so a record uses the branch from before
//     it may be created until it releases it;
//   - a record withdraws its claim (stores that it no longer names the branch) before it
//     releases it, and the branch is deleted only when no other record claims it (published
//     from its repository, not un-published) or names it in a pending intent.
//
// A crash between a record's withdrawal and its release leaves the branch behind: it keeps
// old files longer, never fewer.

// heldRef is a protecting branch in its repository.
type heldRef struct{ repo, name string }

// ensureProtected makes branch ref of repo protect commit for the table key, whose record
// already uses it (a stored intent names it) or whose claim stores it under the lock.
func (s *Service) ensureProtected(ctx context.Context, key state.TableKey, repo, ref, commit string, claim func() error) error {
	return s.store.WithRefLock(ctx, repo, ref, key, func(l state.RefLocked) error {
		// Skipping the call is safe: the branch is recorded as existing only after it was
		// created, and it is deleted only under this lock, recorded first, when no other
		// record uses it; ours does (its intent is stored, or its claim is stored below
		// before the lock is released).
		if !l.Use().Exists {
			if err := s.lakefs.ProtectCommit(ctx, repo, ref, commit); err != nil {
				return &protectError{apperr.Wrap(apperr.StatusOf(err), err, "cannot protect commit %s from lakeFS's garbage collector with branch %q: %s",
					commit, ref, apperr.PublicMessage(err))}
			}
			if err := l.SetExists(ctx, true); err != nil {
				return err
			}
		}
		if claim != nil {
			return claim()
		}
		return nil
	})
}

// protectError is a failure to create the protecting branch (as opposed to the store's).
type protectError struct{ err error }

func (e *protectError) Error() string { return e.err.Error() }
func (e *protectError) Unwrap() error { return e.err }

// protect creates (or finds) the protecting branch a push's stored intent names, unless
// the record already claims it: a published record's claim keeps it from being deleted.
func (s *Service) protect(ctx context.Context, rec state.SyncRecord, in intent, prevStatus string) error {
	if in.ProtectRef == "" || (in.ProtectRef == rec.ProtectedRef && in.Repository == rec.Repository && prevStatus != state.StatusUnpublished) {
		return nil
	}
	err := s.ensureProtected(ctx, rec.TableKey, in.Repository, in.ProtectRef, in.Commit, nil)
	var pe *protectError
	if errors.As(err, &pe) {
		return pe.err
	}
	return err
}

// storePulled stores rec, which a pull made publish commit, claiming commit's branch
// (created unless another record claims it), and returns the branch rec no longer claims,
// for releaseStored. If the branch cannot be created, rec keeps its old one and a note: the
// pull's commit stands, the old branch still protects the earlier commit, and the source
// branch's head protects the new one until it moves on.
func (s *Service) storePulled(ctx context.Context, rec *state.SyncRecord, commit string) (heldRef, error) {
	ref := ProtectedRefName(commit)
	if ref == "" || ref == rec.ProtectedRef {
		return heldRef{}, s.store.UpdateSyncRecord(ctx, rec)
	}
	prev, next := heldRef{rec.Repository, rec.ProtectedRef}, *rec
	next.ProtectedRef = ref
	err := s.ensureProtected(ctx, rec.TableKey, rec.Repository, ref, commit, func() error { return s.store.UpdateSyncRecord(ctx, &next) })
	var pe *protectError
	switch {
	case err == nil:
		*rec = next
		return prev, nil
	case errors.As(err, &pe):
		s.logger.WarnContext(ctx, "could not protect the pulled commit from lakeFS's garbage collector",
			"repository", rec.Repository, "branch", ref, "error", err)
		rec.Notes = joinNotes(rec.Notes, fmt.Sprintf("commit %s is not protected from lakeFS's garbage collector (%s): push the table again",
			commit, apperr.PublicMessage(pe.err)))
		return heldRef{}, s.store.UpdateSyncRecord(ctx, rec)
	}
	return heldRef{}, err
}

// releaseStored releases branch ref once rec, already stored, no longer claims it nor
// names it in an intent: the branch is deleted unless another record uses it. A failure
// only leaks the branch (it keeps old files longer): it is logged and noted in rec, stored
// again; an un-published record keeps the branch's name so that the next un-publish tries
// again.
func (s *Service) releaseStored(ctx context.Context, rec *state.SyncRecord, ref heldRef) {
	if ref.name == "" || (ref.name == rec.ProtectedRef && ref.repo == rec.Repository) {
		return
	}
	err := s.releaseRef(ctx, rec.TableKey, ref)
	if err == nil {
		return
	}
	s.logger.WarnContext(ctx, "could not delete a branch that protected a commit no longer published",
		"repository", ref.repo, "branch", ref.name, "error", err)
	note := fmt.Sprintf("branch %q in repository %q no longer protects a published commit: delete it", ref.name, ref.repo)
	if rec.Status == state.StatusUnpublished && rec.ProtectedRef == "" && ref.repo == rec.Repository {
		// Not a claim (the record is un-published): only a reminder for the next un-publish.
		rec.ProtectedRef = ref.name
		note = fmt.Sprintf("branch %q in repository %q still keeps commit %s from lakeFS's garbage collector (%s): delete it",
			ref.name, ref.repo, rec.ResolvedCommit, apperr.PublicMessage(err))
	}
	rec.Notes = joinNotes(rec.Notes, note)
	if err := s.store.UpdateSyncRecord(ctx, rec); err != nil {
		s.logger.WarnContext(ctx, "could not record a branch left behind", "repository", ref.repo, "branch", ref.name, "error", err)
	}
}

// releaseRef deletes branch ref unless a record other than key's uses it. A branch
// already gone is success.
func (s *Service) releaseRef(ctx context.Context, key state.TableKey, ref heldRef) error {
	if !strings.HasPrefix(ref.name, ProtectedRefPrefix) {
		// Never delete a branch this service did not name.
		return apperr.New(http.StatusInternalServerError, "sync record names %q as its protecting branch, which is not this service's", ref.name)
	}
	return s.store.WithRefLock(ctx, ref.repo, ref.name, key, func(l state.RefLocked) error {
		if l.Use().InUse() {
			return nil
		}
		// Recorded as gone first: a crash after it leaves the branch behind, never a
		// branch recorded as existing that is not.
		if err := l.SetExists(ctx, false); err != nil {
			return err
		}
		return s.lakefs.DeleteBranch(ctx, ref.repo, ref.name)
	})
}
