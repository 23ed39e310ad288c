package lakefs

import (
	"context"
	"net/http"
	"strings"

	"github.com/iceberg-remotes/iceberg-remotes/internal/apperr"
)

// BranchBase is a branch as one operation's checks saw it, read with the fewest calls: the
// head commit the branch resolved to, the table at that commit, and the branch's
// uncommitted changes. A write planned from it (TableWrite.Base) stages, then re-checks
// only what can have moved since: the head (a commit that landed) and the uncommitted
// changes (someone's staged work), right before it commits.
type BranchBase struct {
	// Head is the commit id the branch resolved to when the checks ran.
	Head string
	// Committed is the table at Head (nil: no table there).
	Committed *TableState
	// Current is the table on the branch, staged changes included (nil: no table). It is
	// Committed unless an uncommitted change touches the table's own paths.
	Current *TableState
	// Changes are the branch's uncommitted changes when read.
	Changes []Change
}

// CurrentLocation is the table's metadata location on the branch ("" no table).
func (b *BranchBase) CurrentLocation() string {
	if b.Current == nil {
		return ""
	}
	return b.Current.MetadataLocation
}

// StagedOutside returns a path with uncommitted changes outside paths ("" when none): the
// rule of Locator.StagedOutside, on the changes already read.
func (b *BranchBase) StagedOutside(paths []string) string {
	return firstOutside(b.Changes, paths)
}

// LocateForWrite reads branch ref.Reference, whose head the caller resolved to head, for a
// write: the table located at the head commit and one listing of the uncommitted changes
// (pointer layout: one stat and one diff). Reading at the commit id is immutable, so the
// location cannot move under the checks; the staged changes come from the diff, and only
// when one touches the table's own paths is the table located again on the branch by name
// (staged changes included). A head that moves afterwards is caught by the write's re-check
// before it commits (see TableWrite.Base).
func (l *Locator) LocateForWrite(ctx context.Context, ref TableRef, head string) (*BranchBase, error) {
	p, err := l.paths(ref)
	if err != nil {
		return nil, err
	}
	base := &BranchBase{Head: head}
	if base.Committed, err = l.locateOrNil(ctx, ref, head, p); err != nil {
		return nil, err
	}
	if base.Changes, err = l.c.DiffBranchUncommitted(ctx, ref.Repository, ref.Reference); err != nil {
		return nil, err
	}
	base.Current = base.Committed
	for _, ch := range base.Changes {
		if p.owns(ch.Path) {
			if base.Current, err = l.locateOrNil(ctx, ref, ref.Reference, p); err != nil {
				return nil, err
			}
			break
		}
	}
	return base, nil
}

// locateOrNil is locate with a missing table as nil.
func (l *Locator) locateOrNil(ctx context.Context, ref TableRef, readRef string, p tablePaths) (*TableState, error) {
	st, err := l.locate(ctx, ref, readRef, p)
	switch {
	case err == nil:
		st.Layout = p.layout
		return st, nil
	case apperr.Is(err, http.StatusNotFound):
		return nil, nil
	default:
		return nil, err
	}
}

// owns reports whether path is one the table's current state is read from: the pointer, or
// anything in the hadoop layout's metadata folder (version files and the hint).
func (p tablePaths) owns(path string) bool {
	if p.layout == LayoutHadoop {
		return strings.HasPrefix(path, p.metadataDir)
	}
	return path == p.pointer
}

// headsUnchanged is the re-check of writes planned from their Bases (one head), run after
// staging and before committing: the branch's head must still be that head, or else the
// commits that landed since must have left each table where the checks saw it (unless
// force, i.e. no IfMetadataLocation). lakeFS has no conditional commit, so this narrows the
// window to the commit call itself.
func (l *Locator) headsUnchanged(ctx context.Context, writes []TableWriteAt) error {
	first := writes[0].Ref
	b, err := l.c.GetBranch(ctx, first.Repository, first.Reference)
	if err != nil {
		return err
	}
	if b.CommitID == writes[0].Write.Base.Head {
		return nil
	}
	for _, tw := range writes {
		if err := l.tableUnchangedAt(ctx, tw.Ref, tw.Write, b.CommitID); err != nil {
			return err
		}
	}
	return nil
}

// tableUnchangedAt refuses (409) a conditional write whose table is elsewhere at commit
// head than at its Base's head.
func (l *Locator) tableUnchangedAt(ctx context.Context, ref TableRef, w TableWrite, head string) error {
	if w.IfMetadataLocation == "" {
		return nil
	}
	p, err := l.paths(ref)
	if err != nil {
		return err
	}
	now, err := l.locateOrNil(ctx, ref, head, p)
	if err != nil {
		return err
	}
	was, is := "", ""
	if w.Base.Committed != nil {
		was = w.Base.Committed.MetadataLocation
	}
	if now != nil {
		is = now.MetadataLocation
	}
	if was != is {
		if is == "" {
			is = "no table"
		}
		return apperr.Conflict("table %s on branch %q changed: a commit since the checks made it %s, expected %s", ref, ref.Reference, is, w.IfMetadataLocation)
	}
	return nil
}
