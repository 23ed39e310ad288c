package lakefs

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/iceberg-remotes/iceberg-remotes/internal/apperr"
)

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
	// Base, when set, is the branch as the caller's checks read it (LocateForWrite): PlanWrite
	// plans from it instead of locating the table again, and WriteTable, given the Plan made
	// from it, neither re-resolves the branch nor re-plans. What can have moved since is
	// re-checked after staging, before the commit: the head (a commit that changed the
	// table is 409 unless forced) and the uncommitted changes.
	Base *BranchBase
	// Plan is the plan PlanWrite made from Base (used only with Base).
	Plan *WritePlan
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
	if _, err := l.c.UploadObject(ctx, repo, branch, p.nsMarker, markerBody, true); err != nil {
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

// Objects lists what the write of w stages at each path (see StagedObject).
func (p *WritePlan) Objects(w TableWrite) []StagedObject {
	out := []StagedObject{{Path: p.Link, PhysicalAddress: w.PhysicalAddress}}
	if p.Hint != "" {
		out = append(out, StagedObject{Path: p.Hint, MD5: md5Hex(p.hintBody)})
	}
	if p.Marker != "" {
		out = append(out, StagedObject{Path: p.Marker, MD5: md5Hex(markerBody)})
	}
	return out
}

// markerBody is the content of a namespace marker.
var markerBody = []byte("{}")

func md5Hex(b []byte) string {
	sum := md5.Sum(b) //nolint:gosec // lakeFS's checksum of an uploaded object, not a security measure.
	return hex.EncodeToString(sum[:])
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
	var cur *TableState
	if w.Base != nil {
		cur = w.Base.Current // located for this write (LocateForWrite)
	} else if cur, err = l.locateOrNil(ctx, ref, branch, p); err != nil {
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
// ref.Reference and commits it with w.Message and w.Metadata, returning the commit id: a
// WriteTables of one table.
func (l *Locator) WriteTable(ctx context.Context, ref TableRef, w TableWrite) (string, error) {
	return l.WriteTables(ctx, []TableWriteAt{{Ref: ref, Write: w}}, w.Message, w.Metadata)
}

// TableWriteAt is one table's write in WriteTables.
type TableWriteAt struct {
	Ref   TableRef
	Write TableWrite // its Message and Metadata are not used: the commit has its own
}

// WriteTables links every table's new metadata file on one branch (all writes name the same
// repository and branch) and commits them together in one lakeFS commit with message and
// metadata, returning the commit id: lakeFS commits are atomic, so the branch shows either
// all the tables' new states or none.
//
// Each table stages exactly the paths PlanWrite decides for it (409 when its StagePaths is
// set and they differ: the table changed since it was planned). The write refuses (409)
// when the branch has uncommitted changes outside all those paths: it never sweeps
// someone's staged work into its commit. Pointer layout: the pointer object is re-linked.
// Hadoop layout: v<N+1>.metadata.json is linked and version-hint.text rewritten. If
// anything fails after staging began (including a pre-commit hook refusal, 412),
// everything it staged is reset and the original error is returned.
//
// When every write carries a Base (one head) and the Plan made from it, the branch is
// neither resolved nor planned again (writePlanned); otherwise the Bases are ignored.
func (l *Locator) WriteTables(ctx context.Context, writes []TableWriteAt, message string, metadata map[string]string) (string, error) {
	if len(writes) == 0 {
		return "", apperr.BadRequest("nothing to write")
	}
	first := writes[0].Ref
	for _, tw := range writes {
		if _, err := l.paths(tw.Ref); err != nil {
			return "", err
		}
		if tw.Ref.Repository != first.Repository || tw.Ref.Reference != first.Reference {
			return "", apperr.BadRequest("tables written in one commit must be on one branch (%s/%s, %s/%s)",
				first.Repository, first.Reference, tw.Ref.Repository, tw.Ref.Reference)
		}
		if tw.Write.PhysicalAddress == "" || tw.Write.SizeBytes <= 0 {
			return "", apperr.BadRequest("a metadata file's physical address and size are required")
		}
	}
	if planned(writes) {
		return l.writePlanned(ctx, writes, message, metadata)
	}
	resolved, err := l.c.ResolveRef(ctx, first.Repository, first.Reference)
	if err != nil {
		return "", err
	}
	if !resolved.IsBranch {
		return "", apperr.BadRequest("reference %q is not a branch", first.Reference)
	}
	plans := make([]*WritePlan, len(writes))
	for i, tw := range writes {
		w := tw.Write
		w.Base = nil // without its plan, a base is not trusted: locate again
		plan, err := l.PlanWrite(ctx, tw.Ref, w)
		if err != nil {
			return "", err
		}
		plans[i] = plan
	}
	allowed, err := commitPaths(writes, plans)
	if err != nil {
		return "", err
	}
	if err := l.checkCleanTables(ctx, writes, allowed); err != nil {
		return "", err
	}
	return l.stageAndCommit(ctx, writes, plans, allowed, message, metadata, nil)
}

// planned reports whether every write carries a Base read at one head and the Plan made
// from it.
func planned(writes []TableWriteAt) bool {
	for _, tw := range writes {
		if tw.Write.Base == nil || tw.Write.Plan == nil || tw.Write.Base.Head != writes[0].Write.Base.Head {
			return false
		}
	}
	return true
}

// commitPaths lists every path the commit of writes stages, refusing a set that differs
// from a write's recorded StagePaths (409) and two tables staging one path (a new
// namespace's marker, shared by its tables, excepted: staged once).
func commitPaths(writes []TableWriteAt, plans []*WritePlan) ([]string, error) {
	var allowed []string
	for i, tw := range writes {
		paths := plans[i].Paths()
		if tw.Write.StagePaths != nil && !slices.Equal(tw.Write.StagePaths, paths) {
			return nil, apperr.Conflict("table %s on branch %q changed since the operation was planned: it would now stage %v, not %v",
				tw.Ref, tw.Ref.Reference, paths, tw.Write.StagePaths)
		}
		for _, p := range paths {
			if slices.Contains(allowed, p) && p != plans[i].Marker {
				return nil, apperr.BadRequest("two tables of one commit write the same path %q", p)
			}
		}
		allowed = append(allowed, paths...)
	}
	return allowed, nil
}

// writePlanned is WriteTables for writes planned from their Bases. The branch was resolved,
// the tables located and the uncommitted changes listed by the caller's checks in this same
// operation, so they are not read again before staging: anything that moved since is
// caught by the re-checks after staging (headsUnchanged, then the uncommitted changes),
// which run closer to the commit than a re-read before staging would.
func (l *Locator) writePlanned(ctx context.Context, writes []TableWriteAt, message string, metadata map[string]string) (string, error) {
	plans := make([]*WritePlan, len(writes))
	for i, tw := range writes {
		plans[i] = tw.Write.Plan
	}
	allowed, err := commitPaths(writes, plans)
	if err != nil {
		return "", err
	}
	// The last base read holds the newest listing of the branch's uncommitted changes.
	if path := writes[len(writes)-1].Write.Base.StagedOutside(allowed); path != "" {
		return "", UncommittedChangesError(path, refsOf(writes)...)
	}
	return l.stageAndCommit(ctx, writes, plans, allowed, message, metadata, func() error { return l.headsUnchanged(ctx, writes) })
}

// stageAndCommit stages every plan's paths for its write, runs recheck (if any) and the
// uncommitted changes check over allowed, and commits; on any failure it resets what it
// staged.
func (l *Locator) stageAndCommit(ctx context.Context, writes []TableWriteAt, plans []*WritePlan, allowed []string,
	message string, metadata map[string]string, recheck func() error) (string, error) {
	repo, branch := writes[0].Ref.Repository, writes[0].Ref.Reference
	var staged []string
	fail := func(cause error) (string, error) {
		l.unstage(ctx, repo, branch, staged)
		return "", cause
	}
	// Each path counts as staged before its call: a call that times out may still have
	// staged it.
	for i, plan := range plans {
		w := writes[i].Write
		if plan.Marker != "" && !slices.Contains(staged, plan.Marker) {
			staged = append(staged, plan.Marker)
			if _, err := l.c.UploadObject(ctx, repo, branch, plan.Marker, markerBody, true); err != nil {
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
	}
	if recheck != nil {
		if err := recheck(); err != nil {
			return fail(err)
		}
	}
	// Check again: someone may have staged something since the first check, and a commit
	// takes everything staged on the branch.
	if err := l.checkCleanTables(ctx, writes, allowed); err != nil {
		return fail(err)
	}
	id, err := l.c.Commit(ctx, repo, branch, message, metadata)
	if err != nil {
		if apperr.Is(err, http.StatusPreconditionFailed) {
			return fail(apperr.Wrap(http.StatusPreconditionFailed, err, "lakeFS refused the commit on branch %q (pre-commit hook): %s", branch, apperr.PublicMessage(err)))
		}
		return fail(err)
	}
	return id, nil
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
