package lakefs

import (
	"context"
)

// KnownCommitted is what a caller already knows of a table's committed state: its metadata
// location in commit Commit. A commit never changes, so this needs no call to know again.
type KnownCommitted struct {
	Commit, Location string
}

// LocateCommitted locates a table for publication: where ref.Reference has it and, on a
// branch, whether that is the object its head commit holds (st.CommitChecked, Committed,
// CommittedLocation): a publication protects committed files from lakeFS's garbage
// collector, and publishes staged ones only when asked to.
// When read(location) asks for the metadata and the read can double as that check, it is
// read and parsed too (st.Metadata); otherwise the caller loads it (LoadMetadata).
//
// lakeFS calls in the pointer layout:
//   - a tag or commit id: resolve, stat (+ read), as LocateTable and LoadMetadata.
//   - a branch whose head is known.Commit: resolve, stat at the branch, compared with
//     known.Location (+ a read at the commit, when asked).
//   - another branch, metadata wanted: resolve, stat at the head commit, read at the branch.
//     The read must return the object the stat found (lakeFS answers with its checksum as
//     ETag and its mtime as Last-Modified: sameObject, the rule LoadMetadata relies on), so
//     the branch's table is the committed object, and the location returned is the commit's
//     (a file in a commit, which lakeFS's garbage collector can be kept from).
//   - another branch, no read wanted: resolve, stat at the head commit, stat at the branch.
//
// When the branch's table differs from its head commit's (staged changes, or a table only
// staged), st is the branch's object with Committed false and the metadata not read. The
// hadoop layout locates at both refs and compares (its state is two objects).
func (l *Locator) LocateCommitted(ctx context.Context, ref TableRef, known KnownCommitted, read func(location string) bool) (*TableState, error) {
	p, resolved, err := l.resolveTable(ctx, ref)
	if err != nil {
		return nil, err
	}
	st := &TableState{ResolvedCommit: resolved.CommitID, IsBranch: resolved.IsBranch, Layout: p.layout, CommitChecked: true}
	var inCommit *TableState // the head commit's object (nil: absent, or only its location known)
	committedLoc := ""
	switch {
	case !resolved.IsBranch:
		if inCommit, err = l.locate(ctx, ref, resolved.CommitID, p); err != nil {
			return nil, err
		}
		committedLoc = inCommit.MetadataLocation
		st.setLocation(inCommit)
	case known.Commit == resolved.CommitID && known.Location != "":
		committedLoc = known.Location
	default:
		if inCommit, err = l.locateOrNil(ctx, ref, resolved.CommitID, p); err != nil {
			return nil, err
		}
		if inCommit != nil {
			committedLoc = inCommit.MetadataLocation
		}
		if inCommit != nil && p.layout == LayoutPointer && read(committedLoc) {
			st.setLocation(inCommit)
			same, err := l.load(ctx, ref, ref.Reference, p, st)
			if err != nil {
				return nil, err
			}
			if same {
				st.Committed, st.CommittedLocation = true, committedLoc
				return st, nil
			}
			// The branch holds another object (or none): located there below.
		}
	}
	if resolved.IsBranch {
		onBranch, err := l.locate(ctx, ref, ref.Reference, p)
		if err != nil {
			return nil, err
		}
		st.setLocation(onBranch)
	}
	st.CommittedLocation = committedLoc
	st.Committed = committedLoc != "" && st.MetadataLocation == committedLoc
	if st.Committed && inCommit != nil {
		st.setLocation(inCommit) // the same file, as the commit names it
	}
	if st.Committed && read(st.MetadataLocation) {
		if err := l.LoadMetadata(ctx, ref, st); err != nil { // at the commit
			return nil, err
		}
	}
	return st, nil
}

// CommittedLocation returns the table's metadata location in commit ("" when the table
// does not exist there). Comparing it with a branch read tells whether the branch's table
// is committed or only staged.
func (l *Locator) CommittedLocation(ctx context.Context, ref TableRef, commit string) (string, error) {
	p, err := l.paths(ref)
	if err != nil {
		return "", err
	}
	st, err := l.locateOrNil(ctx, ref, commit, p)
	if err != nil || st == nil {
		return "", err
	}
	return st.MetadataLocation, nil
}
