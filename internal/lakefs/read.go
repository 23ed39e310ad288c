package lakefs

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/iceberg-remotes/iceberg-remotes/internal/apperr"
)

// ReadTable reads a table's current state at ref.Reference: LocateTable, then
// LoadMetadata. A missing table is 404 naming the table; a file that is not Iceberg
// metadata is 400.
func (l *Locator) ReadTable(ctx context.Context, ref TableRef) (*TableState, error) {
	st, err := l.LocateTable(ctx, ref)
	if err != nil {
		return nil, err
	}
	if err := l.LoadMetadata(ctx, ref, st); err != nil {
		return nil, err
	}
	return st, nil
}

// LocateTable resolves ref.Reference once and finds the object that holds the table's
// current metadata (path, physical address, size, checksum) without reading it: in the
// pointer layout one reference lookup and one stat. A branch is located by name (its staged
// changes count); anything else at the commit it resolved to, which is immutable.
func (l *Locator) LocateTable(ctx context.Context, ref TableRef) (*TableState, error) {
	p, resolved, err := l.resolveTable(ctx, ref)
	if err != nil {
		return nil, err
	}
	st := &TableState{ResolvedCommit: resolved.CommitID, IsBranch: resolved.IsBranch}
	loc, err := l.locate(ctx, ref, st.readRef(ref), p)
	if err != nil {
		return nil, err
	}
	st.setLocation(loc)
	st.Layout = p.layout
	return st, nil
}

// resolveTable checks a table's name and resolves its reference (one lakeFS call).
func (l *Locator) resolveTable(ctx context.Context, ref TableRef) (tablePaths, *ResolvedRef, error) {
	p, err := l.paths(ref)
	if err != nil {
		return p, nil, err
	}
	resolved, err := l.c.ResolveRef(ctx, ref.Repository, ref.Reference)
	return p, resolved, err
}

// readRef is where a located table is read: the branch by name (staged changes count), else
// the resolved commit, so that every read of it sees the same immutable state. A branch's
// table found to be its head commit's object (Committed) is read at that commit too.
func (st *TableState) readRef(ref TableRef) string {
	if st.moving() || st.ResolvedCommit == "" {
		return ref.Reference
	}
	return st.ResolvedCommit
}

// moving tells that the table is read where it may change between calls: on a branch, by
// name (not known to be its head commit's object).
func (st *TableState) moving() bool { return st.IsBranch && !st.Committed }

// setLocation copies what locate found into st.
func (st *TableState) setLocation(loc *TableState) {
	st.Path, st.MetadataLocation, st.SizeBytes, st.Checksum, st.Mtime, st.Version =
		loc.Path, loc.MetadataLocation, loc.SizeBytes, loc.Checksum, loc.Mtime, loc.Version
}

// sameObject reports whether a content read returned the object st located: lakeFS
// answers getObject with the object's checksum as ETag and its mtime as Last-Modified.
func (st *TableState) sameObject(size int, v ObjectVersion) bool {
	if v.Checksum != st.Checksum || int64(size) != st.SizeBytes {
		return false
	}
	return v.Mtime.IsZero() || st.Mtime.IsZero() || v.Mtime.Unix() == st.Mtime.Unix()
}

func (l *Locator) notFound(ref TableRef, cause error) error {
	return apperr.Wrap(http.StatusNotFound, cause, "table %s not found in repository %q at reference %q", ref, ref.Repository, ref.Reference)
}

// LoadMetadata reads and parses the metadata object st locates (as LocateTable or a listing
// found it). At a commit the object cannot change. On a branch the table may be re-pointed
// between the locate and the read, so the read must return the object located: the same
// checksum (lakeFS's ETag), size and mtime; when it does not, the table is located again and
// re-read (a few times). The location, size and checksum in st therefore always describe
// the metadata returned, as the earlier stat-read-restat did, without the second stat when
// nothing moved. An answer without an ETag falls back to that re-stat.
func (l *Locator) LoadMetadata(ctx context.Context, ref TableRef, st *TableState) error {
	p, err := l.paths(ref)
	if err != nil {
		return err
	}
	readRef := st.readRef(ref)
	const attempts = 3
	for i := 0; ; i++ {
		same, err := l.load(ctx, ref, readRef, p, st)
		if err != nil || same {
			return err
		}
		if i+1 == attempts {
			return apperr.Conflict("table %s keeps changing on branch %q: try again", ref, ref.Reference)
		}
		again, err := l.locate(ctx, ref, readRef, p)
		if err != nil {
			return err
		}
		st.setLocation(again)
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
	return &TableState{Path: p.pointer, MetadataLocation: obj.PhysicalAddress, SizeBytes: obj.SizeBytes, Checksum: obj.Checksum, Mtime: obj.Mtime}, nil
}

var versionFileRE = regexp.MustCompile(`^v([0-9]+)(\.gz)?\.metadata\.json$`)

// locateHadoop finds the current v<N>.metadata.json (or v<N>.gz.metadata.json) by Iceberg's
// HadoopTableOperations rule: the version in version-hint.text, then on while the next
// version exists (a writer that crashed between writing v<N+1> and the hint leaves the hint
// behind); without a usable hint, the highest version present, as a listing of the tables
// (hadoopScan) takes it. Each version is looked up with one listing of its own prefix
// "v<N>.", which finds either name in one call.
func (l *Locator) locateHadoop(ctx context.Context, ref TableRef, readRef string, p tablePaths) (*TableState, error) {
	var obj *Object
	version := 0
	hint, err := l.c.GetObject(ctx, ref.Repository, readRef, p.metadataDir+versionHintFile, 1024)
	switch {
	case err == nil:
		if n, perr := strconv.Atoi(strings.TrimSpace(string(hint))); perr == nil && n > 0 {
			for next := n; ; next++ {
				if next == n+maxHintLag {
					obj = nil // far behind: the highest version present, below
					break
				}
				o, err := l.versionFile(ctx, ref.Repository, readRef, p, next)
				if err != nil {
					return nil, err
				}
				if o == nil {
					break
				}
				obj, version = o, next
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
		obj, version = highestVersion(objs, p.metadataDir)
		if obj == nil {
			return nil, l.notFound(ref, nil)
		}
	}
	return &TableState{Path: obj.Path, MetadataLocation: obj.PhysicalAddress, SizeBytes: obj.SizeBytes, Checksum: obj.Checksum, Mtime: obj.Mtime, Version: version}, nil
}

// newerVersion tells whether version n's file (gzipped or not) replaces the one of version
// than: a higher version, or the plain file over the .gz one of the same version.
func newerVersion(n int, gz bool, than int) bool {
	return n > than || (n == than && !gz)
}

// maxHintLag bounds how far past version-hint.text a read goes looking for newer versions
// (one call each); a table further behind its hint is read by the highest version present.
const maxHintLag = 16

// versionFile finds version n's metadata file in a hadoop table's folder (nil when absent).
func (l *Locator) versionFile(ctx context.Context, repo, readRef string, p tablePaths, n int) (*Object, error) {
	objs, err := l.c.ListObjects(ctx, repo, readRef, p.metadataDir+"v"+strconv.Itoa(n)+".")
	if err != nil {
		return nil, err
	}
	obj, version := highestVersion(objs, p.metadataDir)
	if version != n {
		return nil, nil
	}
	return obj, nil
}

// highestVersion picks the highest v<N> metadata file among objs, in folder dir.
func highestVersion(objs []Object, dir string) (*Object, int) {
	var obj *Object
	version := 0
	for i := range objs {
		m := versionFileRE.FindStringSubmatch(strings.TrimPrefix(objs[i].Path, dir))
		if m == nil {
			continue
		}
		n, err := strconv.Atoi(m[1])
		if err != nil || n <= 0 || (obj != nil && !newerVersion(n, m[2] != "", version)) {
			continue
		}
		obj, version = &objs[i], n
	}
	return obj, version
}

// load reads the metadata object at st.Path and, when it is the object st located (always
// at a commit), parses it into st; same is false when a branch's table moved in between.
// Its size (from the stat that located it) is checked against the cap and reserved in the
// shared budget before it is read.
func (l *Locator) load(ctx context.Context, ref TableRef, readRef string, p tablePaths, st *TableState) (same bool, err error) {
	release, err := l.limits.Reserve(ctx, st.MetadataLocation, st.SizeBytes)
	if err != nil {
		return false, err
	}
	defer release()
	raw, v, err := l.c.ReadObject(ctx, ref.Repository, readRef, st.Path, l.limits.MaxBytes())
	if err != nil {
		if apperr.Is(err, http.StatusNotFound) {
			if st.moving() {
				return false, nil // gone since it was located: locate again
			}
			return false, l.notFound(ref, err)
		}
		return false, err
	}
	if st.moving() {
		if v.Checksum == "" {
			again, err := l.locate(ctx, ref, readRef, p)
			if err != nil {
				return false, err
			}
			if again.Path != st.Path || again.MetadataLocation != st.MetadataLocation || again.SizeBytes != st.SizeBytes {
				return false, nil
			}
		} else if !st.sameObject(len(raw), v) {
			return false, nil
		}
	}
	md, err := l.limits.Parse(ctx, st.MetadataLocation, raw)
	var ae *apperr.Error
	if errors.As(err, &ae) {
		return false, err // above the cap, or no room in the budget in time
	}
	if err != nil {
		return false, apperr.Wrap(http.StatusBadRequest, err, "%s (table %s) is not Iceberg table metadata", st.Path, ref)
	}
	st.Metadata = md
	st.TableUUID = ""
	if id := md.TableUUID(); id != uuid.Nil {
		st.TableUUID = id.String()
	}
	st.FormatVersion = md.Version()
	st.CurrentSnapshotID = nil
	if s := md.CurrentSnapshot(); s != nil {
		id := s.SnapshotID
		st.CurrentSnapshotID = &id
	}
	st.MetadataLog = nil
	for e := range md.PreviousFiles() {
		st.MetadataLog = append(st.MetadataLog, e.MetadataFile)
	}
	return true, nil
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
