package lakefs

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/apache/iceberg-go/table"
	"github.com/google/uuid"

	"github.com/iceberg-remotes/iceberg-remotes/internal/apperr"
	"github.com/iceberg-remotes/iceberg-remotes/internal/config"
	"github.com/iceberg-remotes/iceberg-remotes/internal/metafile"
)

// Table layouts (config tables.layout).
const (
	LayoutPointer = "pointer"
	LayoutHadoop  = "hadoop"
)

const (
	pointerFile     = "metadata.json"
	namespaceMarker = "_namespace.json"
	versionHintFile = "version-hint.text"
)

// TableRef names a table at a lakeFS reference.
type TableRef struct {
	Repository string
	Reference  string // branch, tag or commit id
	Namespace  []string
	Table      string
}

// String is the table's dotted name, for messages.
func (r TableRef) String() string {
	return strings.Join(append(slices.Clone(r.Namespace), r.Table), ".")
}

// TableState is a table as read at a reference.
type TableState struct {
	Layout string
	// Path is the lakeFS path of the object that holds the current metadata: the pointer
	// (pointer layout) or v<N>.metadata.json (hadoop layout).
	Path string
	// MetadataLocation is that object's physical address: the metadata file in the object store.
	MetadataLocation string
	// ResolvedCommit is the commit id the reference resolved to (a branch's head; reading a
	// branch also sees its staged changes).
	ResolvedCommit string
	IsBranch       bool
	SizeBytes      int64
	Checksum       string

	TableUUID         string // "" for format v1 metadata without table-uuid (optional in v1)
	CurrentSnapshotID *int64
	FormatVersion     int
	Metadata          table.Metadata
	// MetadataLog lists the previous metadata files recorded in the metadata, oldest first.
	MetadataLog []string
	// Version is N of v<N>.metadata.json (hadoop layout; 0 for pointer).
	Version int
}

// TableWrite is a new table state to link into a branch.
type TableWrite struct {
	PhysicalAddress string // the metadata file in the object store
	SizeBytes       int64  // its true size (lakeFS serves the object by this size)
	Checksum        string // its checksum (e.g. the object store's ETag)
	Message         string
	Metadata        map[string]string
	// CreateNamespace stages the namespace marker too when it is missing (pointer layout).
	CreateNamespace bool
	// IfMetadataLocation, when set, makes the write conditional: the table's current metadata
	// location on the branch (staged changes included) must be this one, else 409. It
	// narrows the window in which someone else may re-point the table unnoticed (lakeFS
	// offers no conditional commit, so it cannot close it).
	IfMetadataLocation string
	// StagePaths, when set, are the paths the caller planned (WritePlan.Paths) and recorded:
	// the write refuses (409) to stage any other set.
	StagePaths []string
}

// Locator reads and writes Iceberg tables stored in lakeFS repositories.
type Locator struct {
	c         *Client
	layoutFor func(repo string) config.TablesLayout
	// resetTimeout bounds the clean-up after a failed write (which runs even when the
	// caller's context is done, so that nothing is left staged).
	resetTimeout time.Duration
	limits       *metafile.Limits
}

// WithLimits makes the locator read metadata files under lim (size cap and shared buffer
// budget; share one with the object-store reader). It returns l.
func (l *Locator) WithLimits(lim *metafile.Limits) *Locator {
	l.limits = lim
	return l
}

// NewLocator returns a locator. layoutFor gives the layout of a repository
// (config.Config.LayoutFor).
func NewLocator(c *Client, layoutFor func(repo string) config.TablesLayout) *Locator {
	if layoutFor == nil {
		layoutFor = func(string) config.TablesLayout { return config.TablesLayout{Layout: LayoutPointer} }
	}
	return &Locator{c: c, layoutFor: layoutFor, resetTimeout: 30 * time.Second, limits: metafile.NewLimits(0, 0)}
}

// tablePaths are the lakeFS paths of one table under its repository's layout.
type tablePaths struct {
	layout      string
	pointer     string // pointer layout: the pointer object
	nsMarker    string // pointer layout: the namespace marker
	metadataDir string // hadoop layout: ".../<table>/metadata/"
}

// escapeComponent makes one namespace level or table name safe as one path component: it
// cannot be empty, "." or "..", and "/" (and every other special character) is
// percent-escaped, so no name can leave its table's folder or collide with another name.
func escapeComponent(kind, s string) (string, error) {
	if s == "" || s == "." || s == ".." {
		return "", apperr.BadRequest("invalid %s name %q", kind, s)
	}
	return url.PathEscape(s), nil
}

func joinPrefix(prefix string, parts ...string) string {
	prefix = strings.Trim(prefix, "/")
	if prefix == "" {
		return strings.Join(parts, "/")
	}
	return prefix + "/" + strings.Join(parts, "/")
}

func (l *Locator) paths(ref TableRef) (tablePaths, error) {
	if ref.Repository == "" || ref.Reference == "" {
		return tablePaths{}, apperr.BadRequest("repository and reference are required")
	}
	if len(ref.Namespace) == 0 {
		return tablePaths{}, apperr.BadRequest("table %q has no namespace", ref.Table)
	}
	ns := make([]string, 0, len(ref.Namespace))
	for _, n := range ref.Namespace {
		e, err := escapeComponent("namespace", n)
		if err != nil {
			return tablePaths{}, err
		}
		ns = append(ns, e)
	}
	tbl, err := escapeComponent("table", ref.Table)
	if err != nil {
		return tablePaths{}, err
	}
	lay := l.layoutFor(ref.Repository)
	switch lay.Layout {
	case "", LayoutPointer:
		prefix := lay.PointerPrefix
		if strings.Trim(prefix, "/") == "" {
			prefix = "_lakefs_tables/iceberg"
		}
		return tablePaths{
			layout:   LayoutPointer,
			pointer:  joinPrefix(prefix, append(slices.Clone(ns), tbl, pointerFile)...),
			nsMarker: joinPrefix(prefix, append(slices.Clone(ns), namespaceMarker)...),
		}, nil
	case LayoutHadoop:
		return tablePaths{
			layout:      LayoutHadoop,
			metadataDir: joinPrefix(lay.WarehousePrefix, append(slices.Clone(ns), tbl, "metadata")...) + "/",
		}, nil
	default:
		return tablePaths{}, apperr.New(http.StatusInternalServerError, "unknown table layout %q for repository %q", lay.Layout, ref.Repository)
	}
}

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

// CreateNamespace stages the namespace marker on a branch (pointer layout; a no-op for
// hadoop). It does not commit. It returns the staged path, or "" when nothing was staged
// (the marker existed already).
func (l *Locator) CreateNamespace(ctx context.Context, repo, branch string, namespace []string) (string, error) {
	p, err := l.paths(TableRef{Repository: repo, Reference: branch, Namespace: namespace, Table: "_"})
	if err != nil {
		return "", err
	}
	if p.layout != LayoutPointer {
		return "", nil
	}
	if _, err := l.c.UploadObject(ctx, repo, branch, p.nsMarker, []byte("{}"), true); err != nil {
		if apperr.Is(err, http.StatusPreconditionFailed) {
			return "", nil // someone created it: fine
		}
		return "", err
	}
	return p.nsMarker, nil
}

// WritePlan is what a write of a table stages on a branch: the exact paths, decided in one
// place (PlanWrite) for the write itself, for the checks and dry runs that precede it, and for
// the intent a crashed write is reconciled from.
type WritePlan struct {
	// Link is the path linked to the new metadata file: the pointer (pointer layout) or
	// v<N+1>.metadata.json (hadoop).
	Link string
	// Hint is version-hint.text (hadoop), rewritten to N+1; "" otherwise.
	Hint     string
	hintBody []byte
	// Marker is the namespace marker (pointer layout) when the write creates the namespace.
	Marker string
	// Current is the table's metadata location on the branch when planned ("" no table).
	Current string
}

// Paths lists every path the write stages.
func (p *WritePlan) Paths() []string {
	out := []string{p.Link}
	if p.Hint != "" {
		out = append(out, p.Hint)
	}
	if p.Marker != "" {
		out = append(out, p.Marker)
	}
	return out
}

// PlanWrite decides what writing w as the table's state on branch ref.Reference stages, from
// the branch's current state (staged changes included), without staging anything. It
// refuses (409) when w.IfMetadataLocation is set and the table is elsewhere, or when the
// hadoop layout's next version file exists already.
func (l *Locator) PlanWrite(ctx context.Context, ref TableRef, w TableWrite) (*WritePlan, error) {
	p, err := l.paths(ref)
	if err != nil {
		return nil, err
	}
	branch := ref.Reference
	cur, err := l.locate(ctx, ref, branch, p)
	switch {
	case err == nil:
	case apperr.Is(err, http.StatusNotFound):
		cur = nil
	default:
		return nil, err
	}
	plan := &WritePlan{}
	if cur != nil {
		plan.Current = cur.MetadataLocation
	}
	if w.IfMetadataLocation != "" && plan.Current != w.IfMetadataLocation {
		now := plan.Current
		if now == "" {
			now = "no table"
		}
		return nil, apperr.Conflict("table %s on branch %q changed: it is now %s, expected %s", ref, branch, now, w.IfMetadataLocation)
	}
	switch p.layout {
	case LayoutPointer:
		plan.Link = p.pointer
		if w.CreateNamespace {
			exists, err := l.NamespaceExists(ctx, ref.Repository, branch, ref.Namespace)
			if err != nil {
				return nil, err
			}
			if !exists {
				plan.Marker = p.nsMarker
			}
		}
	default:
		version := 0
		if cur != nil {
			version = cur.Version
		}
		next := version + 1
		for _, n := range []string{fmt.Sprintf("v%d.metadata.json", next), fmt.Sprintf("v%d.gz.metadata.json", next)} {
			if _, err := l.c.StatObject(ctx, ref.Repository, branch, p.metadataDir+n); err == nil {
				return nil, apperr.Conflict("table %s changed concurrently: %s already exists", ref, p.metadataDir+n)
			} else if !apperr.Is(err, http.StatusNotFound) {
				return nil, err
			}
		}
		name := fmt.Sprintf("v%d.metadata.json", next)
		if strings.HasSuffix(w.PhysicalAddress, ".gz.metadata.json") {
			name = fmt.Sprintf("v%d.gz.metadata.json", next)
		}
		plan.Link = p.metadataDir + name
		plan.Hint = p.metadataDir + versionHintFile
		plan.hintBody = []byte(strconv.Itoa(next))
	}
	return plan, nil
}

// WriteTable links w's metadata file as the table's current state on the branch
// ref.Reference and commits it with w.Message and w.Metadata, returning the commit id.
//
// It stages exactly the paths PlanWrite decides (409 when w.StagePaths is set and they
// differ: the table changed since it was planned), and refuses (409) when the branch has
// uncommitted changes outside them: it never sweeps someone's staged work into its commit.
// Pointer layout: the pointer object is re-linked. Hadoop layout: v<N+1>.metadata.json is
// linked and version-hint.text rewritten. If anything fails after staging began (including
// a pre-commit hook refusal, 412), everything it staged is reset and the original error is
// returned.
func (l *Locator) WriteTable(ctx context.Context, ref TableRef, w TableWrite) (string, error) {
	if _, err := l.paths(ref); err != nil {
		return "", err
	}
	if w.PhysicalAddress == "" || w.SizeBytes <= 0 {
		return "", apperr.BadRequest("a metadata file's physical address and size are required")
	}
	resolved, err := l.c.ResolveRef(ctx, ref.Repository, ref.Reference)
	if err != nil {
		return "", err
	}
	if !resolved.IsBranch {
		return "", apperr.BadRequest("reference %q is not a branch", ref.Reference)
	}
	repo, branch := ref.Repository, ref.Reference

	plan, err := l.PlanWrite(ctx, ref, w)
	if err != nil {
		return "", err
	}
	allowed := plan.Paths()
	if w.StagePaths != nil && !slices.Equal(w.StagePaths, allowed) {
		return "", apperr.Conflict("table %s on branch %q changed since the operation was planned: it would now stage %v, not %v",
			ref, branch, allowed, w.StagePaths)
	}
	if err := l.checkClean(ctx, ref, allowed); err != nil {
		return "", err
	}

	var staged []string
	fail := func(cause error) (string, error) {
		l.unstage(ctx, repo, branch, staged)
		return "", cause
	}
	// Each path counts as staged before its call: a call that times out may still have
	// staged it.
	if plan.Marker != "" {
		staged = append(staged, plan.Marker)
		if _, err := l.c.UploadObject(ctx, repo, branch, plan.Marker, []byte("{}"), true); err != nil {
			if !apperr.Is(err, http.StatusPreconditionFailed) {
				return fail(err)
			}
			// Someone else's marker appeared meanwhile: not ours to reset.
			staged = staged[:len(staged)-1]
		}
	}
	staged = append(staged, plan.Link)
	if _, err := l.c.StageObject(ctx, repo, branch, plan.Link, w.PhysicalAddress, w.SizeBytes, w.Checksum, "application/json"); err != nil {
		return fail(err)
	}
	if plan.Hint != "" {
		staged = append(staged, plan.Hint)
		if _, err := l.c.UploadObject(ctx, repo, branch, plan.Hint, plan.hintBody, false); err != nil {
			return fail(err)
		}
	}
	// Check again: someone may have staged something since the first check, and a commit
	// takes everything staged on the branch.
	if err := l.checkClean(ctx, ref, allowed); err != nil {
		return fail(err)
	}
	id, err := l.c.Commit(ctx, repo, branch, w.Message, w.Metadata)
	if err != nil {
		if apperr.Is(err, http.StatusPreconditionFailed) {
			return fail(apperr.Wrap(http.StatusPreconditionFailed, err, "lakeFS refused the commit on branch %q (pre-commit hook): %s", branch, apperr.PublicMessage(err)))
		}
		return fail(err)
	}
	return id, nil
}

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

// GetRepository returns a repository (see Client.GetRepository).
func (l *Locator) GetRepository(ctx context.Context, repo string) (*Repository, error) {
	return l.c.GetRepository(ctx, repo)
}

// ResolveRef resolves a reference (see Client.ResolveRef).
func (l *Locator) ResolveRef(ctx context.Context, repo, ref string) (*ResolvedRef, error) {
	return l.c.ResolveRef(ctx, repo, ref)
}

// unstage resets the given paths, even when ctx is done (bounded by resetTimeout).
// Failures are not returned: the caller returns the error that caused the clean-up.
func (l *Locator) unstage(ctx context.Context, repo, branch string, paths []string) {
	if len(paths) == 0 {
		return
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), l.resetTimeout)
	defer cancel()
	for _, p := range paths {
		_ = l.c.ResetObject(rctx, repo, branch, p)
	}
}
