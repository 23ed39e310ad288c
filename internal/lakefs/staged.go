package lakefs

import (
	"context"
	"net/http"
	"slices"
	"strings"

	"github.com/iceberg-remotes/iceberg-remotes/internal/apperr"
)

// StagedOutside returns a path with uncommitted changes on branch ref.Reference outside
// paths ("" when there is none). It is the one rule for "someone else's staged work": the
// write refuses to commit over such a path, and pull checks it (dry runs too) with the
// paths its PlanWrite returned.
func (l *Locator) StagedOutside(ctx context.Context, ref TableRef, paths []string) (string, error) {
	changes, err := l.c.DiffBranchUncommitted(ctx, ref.Repository, ref.Reference)
	if err != nil {
		return "", err
	}
	return firstOutside(changes, paths), nil
}

// firstOutside returns the first changed path not in paths ("" when none).
func firstOutside(changes []Change, paths []string) string {
	for _, ch := range changes {
		if !slices.Contains(paths, ch.Path) {
			return ch.Path
		}
	}
	return ""
}

// checkCleanTables refuses when the branch of writes has uncommitted changes outside allowed.
func (l *Locator) checkCleanTables(ctx context.Context, writes []TableWriteAt, allowed []string) error {
	path, err := l.StagedOutside(ctx, writes[0].Ref, allowed)
	if err != nil {
		return err
	}
	if path != "" {
		return UncommittedChangesError(path, refsOf(writes)...)
	}
	return nil
}

// refsOf lists the tables of writes.
func refsOf(writes []TableWriteAt) []TableRef {
	refs := make([]TableRef, len(writes))
	for i, tw := range writes {
		refs[i] = tw.Ref
	}
	return refs
}

// UncommittedChangesError is the 409 for a branch with someone else's staged work, outside
// the tables being written (all on one branch).
func UncommittedChangesError(path string, refs ...TableRef) error {
	names := make([]string, len(refs))
	for i, r := range refs {
		names[i] = r.String()
	}
	what := "table " + strings.Join(names, ", ")
	if len(refs) > 1 {
		what = "tables " + strings.Join(names, ", ")
	}
	return apperr.Conflict("branch %q has uncommitted changes outside %s (e.g. %q): commit or reset them first",
		refs[0].Reference, what, path)
}

// StagedObject is one path a write stages and what it stages there: the physical address it
// links (the metadata file) or the MD5 of the content it uploads (version hint, namespace
// marker). A crashed write's intent records these, so that its clean-up can tell its own
// staged objects from what another writer staged at the same path since.
type StagedObject struct {
	Path            string `json:"path"`
	PhysicalAddress string `json:"physical_address,omitempty"`
	MD5             string `json:"md5,omitempty"`
}

// ResetStaged resets, among objs, the paths that are staged on branch and still hold what the
// write staged there (same physical address, or same content checksum): the clean-up of a
// write that did not finish, from what it recorded (WritePlan.Objects). Every other path,
// and a recorded path someone else has re-staged since, is left alone.
func (l *Locator) ResetStaged(ctx context.Context, repo, branch string, objs []StagedObject) error {
	if len(objs) == 0 {
		return nil
	}
	changes, err := l.c.DiffBranchUncommitted(ctx, repo, branch)
	if err != nil {
		return err
	}
	for _, ch := range changes {
		i := slices.IndexFunc(objs, func(o StagedObject) bool { return o.Path == ch.Path })
		if i < 0 {
			continue
		}
		want := objs[i]
		got, err := l.c.StatObject(ctx, repo, branch, ch.Path)
		switch {
		case apperr.Is(err, http.StatusNotFound):
			// A staged deletion: not something a write stages.
			continue
		case err != nil:
			return err
		case want.PhysicalAddress != "" && got.PhysicalAddress != want.PhysicalAddress,
			want.MD5 != "" && got.Checksum != want.MD5:
			continue // someone else's object now
		}
		if err := l.c.ResetObject(ctx, repo, branch, ch.Path); err != nil {
			return err
		}
	}
	return nil
}
