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
	"crypto/sha256"
	"encoding/hex"
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

// ProtectedRefName is the branch that protects commit while it is published as remote
// table key:
//
//	iceberg-remotes-<catalog>-<table hash>-<commit>
//
// <catalog> is the remote's id with characters lakeFS branch names do not allow (its rule is
// ^\w[-\w]*$) replaced by "_" and cut at 32; <table hash> is the first 16 hex digits of
// SHA-256 over the catalog id and the remote namespace and table (so the name is unique per
// remote table whatever the cut); <commit> is the first 16 hex digits of the commit id. The
// commit is part of the name so that a re-push creates the new branch before the old one
// is deleted: the published commit is never unprotected.
func ProtectedRefName(key state.TableKey, commit string) string {
	if commit == "" {
		return ""
	}
	cat := unsafeRefChars.ReplaceAllString(key.Catalog, "_")
	if len(cat) > 32 {
		cat = cat[:32]
	}
	sum := sha256.Sum256([]byte(key.Catalog + "\x1f" + key.Key()))
	c := unsafeRefChars.ReplaceAllString(commit, "_")
	if len(c) > 16 {
		c = c[:16]
	}
	return fmt.Sprintf("%s%s-%s-%s", ProtectedRefPrefix, cat, hex.EncodeToString(sum[:8]), c)
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
	key := rec.TableKey
	committed := loc
	// Known: the last push published this very file from this commit of this table, and
	// protected it, so it was committed there (an unchanged re-push costs no lakeFS call).
	known := rec.ProtectedRef != "" && rec.ProtectedRef == ProtectedRefName(key, commit) && rec.ResolvedCommit == commit &&
		rec.PushedLocation == loc && rec.Repository == req.Source.Repository &&
		slices.Equal(rec.LocalNamespace, req.Source.Namespace) && rec.LocalTable == req.Source.Table
	if st.IsBranch && !known {
		if committed, err = at(ctx, req.Source, commit); err != nil {
			return "", "", plan.fail("committed", err)
		}
	}
	if committed == loc {
		plan.pass("committed", "table %s at %q is committed (commit %s)", req.Source, req.Source.Reference, commit)
		plan.action("protect commit %s from lakeFS's garbage collector with hidden branch %q", commit, ProtectedRefName(key, commit))
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
			if l, err = s.lakefs.ListTables(ctx, repo, commit, sel); err != nil {
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

// protect creates the protecting branch a push's intent names, unless the record already
// has it (an unchanged re-push costs no lakeFS call).
func (s *Service) protect(ctx context.Context, rec state.SyncRecord, in intent) error {
	if in.ProtectRef == "" || (in.ProtectRef == rec.ProtectedRef && in.Repository == rec.Repository) {
		return nil
	}
	if err := s.lakefs.ProtectCommit(ctx, in.Repository, in.ProtectRef, in.Commit); err != nil {
		return apperr.Wrap(apperr.StatusOf(err), err, "cannot protect commit %s from lakeFS's garbage collector with branch %q: %s",
			in.Commit, in.ProtectRef, apperr.PublicMessage(err))
	}
	return nil
}

// releasePrevious deletes the branch that protected the previously published commit, once
// the remote no longer points at it. A failure only leaks the branch (it keeps old files
// longer): it is logged and returned as a note naming it.
func (s *Service) releasePrevious(ctx context.Context, in intent) string {
	if in.PrevProtectRef == "" || (in.PrevProtectRef == in.ProtectRef && in.PrevProtectRepo == in.Repository) {
		return ""
	}
	if err := s.lakefs.DeleteBranch(ctx, in.PrevProtectRepo, in.PrevProtectRef); err != nil {
		s.logger.WarnContext(ctx, "could not delete the branch that protected the previously published commit",
			"repository", in.PrevProtectRepo, "branch", in.PrevProtectRef, "error", err)
		return fmt.Sprintf("branch %q in repository %q no longer protects a published commit: delete it", in.PrevProtectRef, in.PrevProtectRepo)
	}
	return ""
}

// settleProtection makes the protecting branches agree with a push intent that reconcile
// found applied (the new branch exists; the previous one is deleted, or a note names it)
// or not applied (a branch the push may have created is deleted; the record's own stays).
// It is repeatable.
func (s *Service) settleProtection(ctx context.Context, rec state.SyncRecord, in intent, applied bool) (note string, err error) {
	if applied {
		if in.ProtectRef != "" {
			if err := s.lakefs.ProtectCommit(ctx, in.Repository, in.ProtectRef, in.Commit); err != nil {
				return "", err
			}
		}
		return s.releasePrevious(ctx, in), nil
	}
	if in.ProtectRef == "" || (in.ProtectRef == rec.ProtectedRef && in.Repository == rec.Repository) {
		return "", nil
	}
	return "", s.lakefs.DeleteBranch(ctx, in.Repository, in.ProtectRef)
}

// moveProtection makes rec's protecting branch the one of commit, which holds the published
// table after a pull: the new branch first, then the old one goes. A failure is a note, not
// an error: the pull's commit stands, the old branch still protects the earlier commit, and
// the branch's own head protects the new one until it moves on.
func (s *Service) moveProtection(ctx context.Context, rec *state.SyncRecord, commit string) string {
	ref := ProtectedRefName(rec.TableKey, commit)
	if ref == "" || ref == rec.ProtectedRef {
		return ""
	}
	if err := s.lakefs.ProtectCommit(ctx, rec.Repository, ref, commit); err != nil {
		s.logger.WarnContext(ctx, "could not protect the pulled commit from lakeFS's garbage collector",
			"repository", rec.Repository, "branch", ref, "error", err)
		return fmt.Sprintf("commit %s is not protected from lakeFS's garbage collector (%s): push the table again", commit, apperr.PublicMessage(err))
	}
	note := s.releasePrevious(ctx, intent{Repository: rec.Repository, ProtectRef: ref,
		PrevProtectRef: rec.ProtectedRef, PrevProtectRepo: rec.Repository})
	rec.ProtectedRef = ref
	return note
}

// releaseProtection deletes the branch that protects rec's published commit and clears it
// from rec (the caller stores rec): un-publishing calls it once the remote no longer lists
// the table. A branch already gone is success.
func (s *Service) releaseProtection(ctx context.Context, rec *state.SyncRecord) error {
	if rec.ProtectedRef == "" {
		return nil
	}
	if !strings.HasPrefix(rec.ProtectedRef, ProtectedRefPrefix) {
		// Never delete a branch this service did not name.
		return apperr.New(http.StatusInternalServerError, "sync record names %q as its protecting branch, which is not this service's", rec.ProtectedRef)
	}
	if err := s.lakefs.DeleteBranch(ctx, rec.Repository, rec.ProtectedRef); err != nil {
		return err
	}
	rec.ProtectedRef = ""
	return nil
}

// unprotect releases rec's protecting branch once the table is no longer published (the
// caller stores rec). A failure is a note naming the branch, which stays in the record, so
// that the next push (as the previous protection) or un-publish deletes it.
func (s *Service) unprotect(ctx context.Context, rec *state.SyncRecord) string {
	ref := rec.ProtectedRef
	if err := s.releaseProtection(ctx, rec); err != nil {
		s.logger.WarnContext(ctx, "could not delete the branch that protected an un-published table's commit",
			"repository", rec.Repository, "branch", ref, "error", err)
		return fmt.Sprintf("branch %q in repository %q still keeps commit %s from lakeFS's garbage collector (%s): delete it",
			ref, rec.Repository, rec.ResolvedCommit, apperr.PublicMessage(err))
	}
	return ""
}
