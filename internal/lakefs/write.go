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
	if w.Base != nil && w.Plan != nil {
		return l.writePlanned(ctx, ref, w)
	}
	resolved, err := l.c.ResolveRef(ctx, ref.Repository, ref.Reference)
	if err != nil {
		return "", err
	}
	if !resolved.IsBranch {
		return "", apperr.BadRequest("reference %q is not a branch", ref.Reference)
	}
	branch := ref.Reference

	w.Base = nil // without its plan, a base is not trusted: locate again
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
	return l.stageAndCommit(ctx, ref, w, plan, nil)
}

// writePlanned is WriteTable for a write planned from w.Base. The branch was resolved, the
// table located and the uncommitted changes listed by the caller's checks in this same
// operation, so they are not read again before staging: anything that moved since is
// caught by the re-checks after staging (headUnchanged, then the uncommitted changes),
// which run closer to the commit than a re-read before staging would.
func (l *Locator) writePlanned(ctx context.Context, ref TableRef, w TableWrite) (string, error) {
	allowed := w.Plan.Paths()
	if w.StagePaths != nil && !slices.Equal(w.StagePaths, allowed) {
		return "", apperr.Conflict("table %s on branch %q: the write would stage %v, not the recorded %v", ref, ref.Reference, allowed, w.StagePaths)
	}
	if path := w.Base.StagedOutside(allowed); path != "" {
		return "", UncommittedChangesError(ref, path)
	}
	return l.stageAndCommit(ctx, ref, w, w.Plan, func() error { return l.headUnchanged(ctx, ref, w.Base, w) })
}

// stageAndCommit stages plan's paths for w, runs recheck (if any) and the uncommitted
// changes check, and commits; on any failure it resets what it staged.
func (l *Locator) stageAndCommit(ctx context.Context, ref TableRef, w TableWrite, plan *WritePlan, recheck func() error) (string, error) {
	repo, branch := ref.Repository, ref.Reference
	allowed := plan.Paths()
	var staged []string
	fail := func(cause error) (string, error) {
		l.unstage(ctx, repo, branch, staged)
		return "", cause
	}
	// Each path counts as staged before its call: a call that times out may still have
	// staged it.
	if plan.Marker != "" {
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
	if recheck != nil {
		if err := recheck(); err != nil {
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
