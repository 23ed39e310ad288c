package lakefs

import (
	"context"
	"slices"

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
	for _, ch := range changes {
		if !slices.Contains(paths, ch.Path) {
			return ch.Path, nil
		}
	}
	return "", nil
}

// checkClean refuses when the branch has uncommitted changes outside allowed.
func (l *Locator) checkClean(ctx context.Context, ref TableRef, allowed []string) error {
	path, err := l.StagedOutside(ctx, ref, allowed)
	if err != nil {
		return err
	}
	if path != "" {
		return UncommittedChangesError(ref, path)
	}
	return nil
}

// UncommittedChangesError is the 409 for a branch with someone else's staged work.
func UncommittedChangesError(ref TableRef, path string) error {
	return apperr.Conflict("branch %q has uncommitted changes outside table %s (e.g. %q): commit or reset them first",
		ref.Reference, ref, path)
}

// ResetStaged resets, among paths, those with uncommitted changes on branch: the clean-up of
// a write that did not finish, given the exact paths it recorded (WritePlan.Paths). Other
// paths are never touched.
func (l *Locator) ResetStaged(ctx context.Context, repo, branch string, paths []string) error {
	if len(paths) == 0 {
		return nil
	}
	changes, err := l.c.DiffBranchUncommitted(ctx, repo, branch)
	if err != nil {
		return err
	}
	for _, ch := range changes {
		if slices.Contains(paths, ch.Path) {
			if err := l.c.ResetObject(ctx, repo, branch, ch.Path); err != nil {
				return err
			}
		}
	}
	return nil
}
