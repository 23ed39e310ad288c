package lakefs

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/iceberg-remotes/iceberg-remotes/internal/apperr"
)

// ReadTable reads a table's current state at ref.Reference. A missing table is 404 naming
// the table; a file that is not Iceberg metadata is 400.
func (l *Locator) ReadTable(ctx context.Context, ref TableRef) (*TableState, error) {
	p, err := l.paths(ref)
	if err != nil {
		return nil, err
	}
	resolved, err := l.c.ResolveRef(ctx, ref.Repository, ref.Reference)
	if err != nil {
		return nil, err
	}
	// Read a branch by name (its staged changes count); anything else by the commit it
	// resolved to, so that every read sees the same immutable state.
	readRef := resolved.CommitID
	if resolved.IsBranch {
		readRef = ref.Reference
	}
	st, err := l.read(ctx, ref, readRef, p, resolved.IsBranch)
	if err != nil {
		return nil, err
	}
	st.Layout = p.layout
	st.ResolvedCommit = resolved.CommitID
	st.IsBranch = resolved.IsBranch
	return st, nil
}

func (l *Locator) notFound(ref TableRef, cause error) error {
	return apperr.Wrap(http.StatusNotFound, cause, "table %s not found in repository %q at reference %q", ref, ref.Repository, ref.Reference)
}

// read locates the table's current metadata object and loads it. On a branch the table may
// be re-pointed between the stat and the read of its content; the stat is repeated after the
// read and the whole read retried (a few times) when the two disagree, so that the returned
// location, size and checksum always describe the metadata returned.
func (l *Locator) read(ctx context.Context, ref TableRef, readRef string, p tablePaths, isBranch bool) (*TableState, error) {
	const attempts = 3
	for i := 0; ; i++ {
		st, err := l.locate(ctx, ref, readRef, p)
		if err != nil {
			return nil, err
		}
		if err := l.load(ctx, ref, readRef, st); err != nil {
			return nil, err
		}
		if !isBranch {
			return st, nil
		}
		again, err := l.locate(ctx, ref, readRef, p)
		if err != nil {
			return nil, err
		}
		if again.Path == st.Path && again.MetadataLocation == st.MetadataLocation && again.SizeBytes == st.SizeBytes {
			return st, nil
		}
		if i+1 == attempts {
			return nil, apperr.Conflict("table %s keeps changing on branch %q: try again", ref, ref.Reference)
		}
	}
}

// locate finds the object holding the table's current metadata, without reading it.
func (l *Locator) locate(ctx context.Context, ref TableRef, readRef string, p tablePaths) (*TableState, error) {
	if p.layout == LayoutHadoop {
		return l.locateHadoop(ctx, ref, readRef, p)
	}
	obj, err := l.c.StatObject(ctx, ref.Repository, readRef, p.pointer)
	if err != nil {
		if apperr.Is(err, http.StatusNotFound) {
			return nil, l.notFound(ref, err)
		}
		return nil, err
	}
	return &TableState{Path: p.pointer, MetadataLocation: obj.PhysicalAddress, SizeBytes: obj.SizeBytes, Checksum: obj.Checksum}, nil
}

var versionFileRE = regexp.MustCompile(`^v([0-9]+)(\.gz)?\.metadata\.json$`)

// locateHadoop follows version-hint.text to v<N>.metadata.json (or v<N>.gz.metadata.json).
func (l *Locator) locateHadoop(ctx context.Context, ref TableRef, readRef string, p tablePaths) (*TableState, error) {
	var obj *Object
	version := 0
	hint, err := l.c.GetObject(ctx, ref.Repository, readRef, p.metadataDir+versionHintFile, 1024)
	switch {
	case err == nil:
		if n, perr := strconv.Atoi(strings.TrimSpace(string(hint))); perr == nil && n > 0 {
			for _, name := range []string{fmt.Sprintf("v%d.metadata.json", n), fmt.Sprintf("v%d.gz.metadata.json", n)} {
				o, serr := l.c.StatObject(ctx, ref.Repository, readRef, p.metadataDir+name)
				if serr == nil {
					obj, version = o, n
					break
				}
				if !apperr.Is(serr, http.StatusNotFound) {
					return nil, serr
				}
			}
		}
	case !apperr.Is(err, http.StatusNotFound):
		return nil, err
	}
	if obj == nil {
		// No usable hint (missing, unparsable or naming a missing file): like Iceberg's
		// HadoopTableOperations, take the highest v<N> present. Listing only "v*" skips the
		// manifest lists and other files that share the folder.
		objs, lerr := l.c.ListObjects(ctx, ref.Repository, readRef, p.metadataDir+"v")
		if lerr != nil {
			return nil, lerr
		}
		for i := range objs {
			m := versionFileRE.FindStringSubmatch(strings.TrimPrefix(objs[i].Path, p.metadataDir))
			if m == nil {
				continue
			}
			n, perr := strconv.Atoi(m[1])
			if perr != nil || n <= version {
				continue
			}
			obj, version = &objs[i], n
		}
		if obj == nil {
			return nil, l.notFound(ref, nil)
		}
	}
	return &TableState{Path: obj.Path, MetadataLocation: obj.PhysicalAddress, SizeBytes: obj.SizeBytes, Checksum: obj.Checksum, Version: version}, nil
}

// load reads and parses the metadata object at st.Path. Its size (from the stat that located
// it) is checked against the cap and reserved in the shared budget before it is read.
func (l *Locator) load(ctx context.Context, ref TableRef, readRef string, st *TableState) error {
	release, err := l.limits.Reserve(ctx, st.MetadataLocation, st.SizeBytes)
	if err != nil {
		return err
	}
	defer release()
	raw, err := l.c.GetObject(ctx, ref.Repository, readRef, st.Path, l.limits.MaxBytes())
	if err != nil {
		if apperr.Is(err, http.StatusNotFound) {
			return l.notFound(ref, err)
		}
		return err
	}
	md, err := l.limits.Parse(ctx, st.MetadataLocation, raw)
	var ae *apperr.Error
	if errors.As(err, &ae) {
		return err // above the cap, or no room in the budget in time
	}
	if err != nil {
		return apperr.Wrap(http.StatusBadRequest, err, "%s (table %s) is not Iceberg table metadata", st.Path, ref)
	}
	st.Metadata = md
	if id := md.TableUUID(); id != uuid.Nil {
		st.TableUUID = id.String()
	}
	st.FormatVersion = md.Version()
	if s := md.CurrentSnapshot(); s != nil {
		id := s.SnapshotID
		st.CurrentSnapshotID = &id
	}
	for e := range md.PreviousFiles() {
		st.MetadataLog = append(st.MetadataLog, e.MetadataFile)
	}
	return nil
}

// NamespaceExists tells whether a namespace's marker exists at ref (pointer layout). In the
// hadoop layout namespaces are plain folders and always "exist".
func (l *Locator) NamespaceExists(ctx context.Context, repo, reference string, namespace []string) (bool, error) {
	p, err := l.paths(TableRef{Repository: repo, Reference: reference, Namespace: namespace, Table: "_"})
	if err != nil {
		return false, err
	}
	if p.layout != LayoutPointer {
		return true, nil
	}
	_, err = l.c.StatObject(ctx, repo, reference, p.nsMarker)
	if err == nil {
		return true, nil
	}
	if apperr.Is(err, http.StatusNotFound) {
		return false, nil
	}
	return false, err
}
