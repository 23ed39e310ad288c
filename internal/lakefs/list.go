package lakefs

import (
	"context"
	"net/url"
	"strconv"
	"strings"

	"github.com/iceberg-remotes/iceberg-remotes/internal/apperr"
	"github.com/iceberg-remotes/iceberg-remotes/internal/selector"
)

// LocatedTable is a table found by a listing: where its current metadata is, without its
// content (see TableState for a table read in full).
type LocatedTable struct {
	Namespace []string
	Table     string
	// Path is the lakeFS path of the object holding the current metadata (as TableState.Path).
	Path             string
	MetadataLocation string
	SizeBytes        int64
	Checksum         string
	// Version is N of v<N>.metadata.json (hadoop layout; 0 for pointer).
	Version int
}

// TableListing is every selected table at one reference.
type TableListing struct {
	Layout string
	// ResolvedCommit is the commit id the reference resolved to; IsBranch tells that the
	// listing was read on the branch itself (its staged changes count), as ReadTable does.
	ResolvedCommit string
	IsBranch       bool
	Tables         []LocatedTable // in path order
}

// ListTables finds every table at ref of repo that sel selects, with its current metadata
// location, size and checksum, from lakeFS object listings: one resolve of the reference and
// ⌈objects/1000⌉ listing calls under the tables' folder (narrowed to the leading literal
// namespace levels of sel), instead of a stat per table. It never reads a metadata file.
// The reference is read exactly as ReadTable reads it: a branch by name (staged changes
// count), anything else at the commit it resolved to.
func (l *Locator) ListTables(ctx context.Context, repo, ref string, sel selector.Tables) (*TableListing, error) {
	return l.listSelected(ctx, repo, ref, nil, sel)
}

// ListTablesAtCommit is ListTables at a commit id the caller already resolved (a bulk
// push's committed check at the head commit it read): the reference is not resolved again,
// which saves lakeFS's getBranch (not found) and getCommit.
func (l *Locator) ListTablesAtCommit(ctx context.Context, repo, commit string, sel selector.Tables) (*TableListing, error) {
	return l.listSelected(ctx, repo, commit, &ResolvedRef{CommitID: commit}, sel)
}

func (l *Locator) listSelected(ctx context.Context, repo, ref string, resolved *ResolvedRef, sel selector.Tables) (*TableListing, error) {
	if repo == "" || ref == "" {
		return nil, apperr.BadRequest("repository and reference are required")
	}
	layout, root, err := l.root(repo)
	if err != nil {
		return nil, err
	}
	folder := root
	for _, level := range sel.Namespace.LiteralPrefix() {
		e, err := escapeComponent("namespace", level)
		if err != nil {
			return nil, err
		}
		folder = joinPrefix(folder, e)
	}
	prefix := ""
	if folder != "" {
		// The trailing slash keeps siblings that share the name's start out
		// (_lakefs_tables/iceberg_remotes.yaml next to _lakefs_tables/iceberg/).
		prefix = folder + "/"
	}
	return l.listTables(ctx, repo, ref, resolved, layout, root, span{prefix: prefix}, sel.Match)
}

// TableName names a table in lakeFS.
type TableName struct {
	Namespace []string
	Table     string
}

// LocateTables is ListTables for tables the caller names: it lists only the span of paths
// from the first of them to the last (in path order), so a group of tables that sit
// together (one namespace, neighbouring names) costs one listing page per 1,000 objects in
// that span, however many other tables the repository holds. Tables that do not exist (or
// cannot, their names having no path) are absent from the listing.
func (l *Locator) LocateTables(ctx context.Context, repo, ref string, tables []TableName) (*TableListing, error) {
	if repo == "" || ref == "" {
		return nil, apperr.BadRequest("repository and reference are required")
	}
	layout, root, err := l.root(repo)
	if err != nil {
		return nil, err
	}
	want := make(map[string]bool, len(tables))
	var sp span
	for _, t := range tables {
		p, err := l.paths(TableRef{Repository: repo, Reference: ref, Namespace: t.Namespace, Table: t.Table})
		if err != nil {
			continue // no path: such a table cannot exist
		}
		key := p.pointer
		if layout == LayoutHadoop {
			key = p.metadataDir
		}
		want[tableKey(t.Namespace, t.Table)] = true
		if sp.first == "" || key < sp.first {
			sp.first = key
		}
		if key > sp.last {
			sp.last = key
		}
	}
	if len(want) == 0 {
		sp = span{empty: true}
	} else {
		sp.prefix = commonPrefix(sp.first, sp.last)
	}
	return l.listTables(ctx, repo, ref, nil, layout, root, sp, func(ns []string, table string) bool {
		return want[tableKey(ns, table)]
	})
}

func tableKey(ns []string, table string) string {
	return strings.Join(ns, "\x00") + "\x00\x00" + table
}

func commonPrefix(a, b string) string {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return a[:n]
}

// span is the part of a repository a listing reads: every path under prefix, or (first and
// last set) only from the path first to the path last; a folder key (ending in "/") covers
// the paths under it. empty reads nothing.
type span struct {
	prefix, first, last string
	empty               bool
}

// start is the listing's exclusive "after": just before first.
func (s span) start() string {
	if s.first == "" {
		return ""
	}
	return s.first[:len(s.first)-1]
}

// past reports whether path lies beyond the span's last path (or folder).
func (s span) past(path string) bool {
	if s.last == "" || path <= s.last {
		return false
	}
	return !strings.HasSuffix(s.last, "/") || !strings.HasPrefix(path, s.last)
}

// listTables resolves ref and walks the span, keeping the tables keep accepts.
func (l *Locator) listTables(ctx context.Context, repo, ref string, resolved *ResolvedRef, layout, root string, sp span, keep func([]string, string) bool) (*TableListing, error) {
	if resolved == nil {
		var err error
		if resolved, err = l.c.ResolveRef(ctx, repo, ref); err != nil {
			return nil, err
		}
	}
	out := &TableListing{Layout: layout, ResolvedCommit: resolved.CommitID, IsBranch: resolved.IsBranch}
	if sp.empty {
		return out, nil
	}
	// Read a branch by name (its staged changes count), anything else at the commit it
	// resolved to, as ReadTable does.
	readRef := resolved.CommitID
	if resolved.IsBranch {
		readRef = ref
	}
	rootPrefix := ""
	if root != "" {
		rootPrefix = root + "/"
	}
	var hadoop hadoopScan
	err := l.c.WalkObjectsAfter(ctx, repo, readRef, sp.prefix, sp.start(), func(o Object) error {
		if sp.past(o.Path) {
			return ErrStopWalk
		}
		parts := strings.Split(strings.TrimPrefix(o.Path, rootPrefix), "/")
		if layout == LayoutPointer {
			if t, ok := pointerTable(parts, o, keep); ok {
				out.Tables = append(out.Tables, t)
			}
		} else {
			hadoop.add(parts, o, keep, &out.Tables)
		}
		if o.Path == sp.last {
			return ErrStopWalk // the last table's pointer: nothing after it is wanted
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	hadoop.flush(&out.Tables)
	return out, nil
}

// pointerTable recognises <ns...>/<table>/metadata.json (parts are relative to the pointer
// prefix).
func pointerTable(parts []string, o Object, keep func([]string, string) bool) (LocatedTable, bool) {
	if len(parts) < 3 || parts[len(parts)-1] != pointerFile {
		return LocatedTable{}, false
	}
	ns, table, ok := unescapeName(parts[:len(parts)-1])
	if !ok || !keep(ns, table) {
		return LocatedTable{}, false
	}
	return LocatedTable{Namespace: ns, Table: table, Path: o.Path, MetadataLocation: o.PhysicalAddress,
		SizeBytes: o.SizeBytes, Checksum: o.Checksum}, true
}

// unescapeName turns escaped <ns...>/<table> components back into names. A component that
// is not the canonical escaping of its name (escapeComponent) is not a path the locator
// would read or write for any table, so it names none.
func unescapeName(parts []string) (ns []string, table string, ok bool) {
	names := make([]string, len(parts))
	for i, p := range parts {
		n, err := url.PathUnescape(p)
		if err != nil {
			return nil, "", false
		}
		if e, err := escapeComponent("name", n); err != nil || e != p {
			return nil, "", false
		}
		names[i] = n
	}
	return names[:len(names)-1], names[len(names)-1], true
}

// hadoopScan picks each table's current metadata file from a listing in path order, where a
// table's files are contiguous: <ns...>/<table>/metadata/v<N>.metadata.json. The listing
// does not read version-hint.text, so it takes the highest v<N> present. That is what a
// single read (locateHadoop) ends at in every state Iceberg writers leave: it follows the
// hint, then on while the next version exists, as Iceberg's HadoopTableOperations does; only
// a gap in the versions above the hint (a deleted file) reads differently.
type hadoopScan struct {
	dir     string // the current table's metadata folder
	current *LocatedTable
}

func (h *hadoopScan) add(parts []string, o Object, keep func([]string, string) bool, out *[]LocatedTable) {
	if len(parts) < 4 || parts[len(parts)-2] != "metadata" {
		return
	}
	m := versionFileRE.FindStringSubmatch(parts[len(parts)-1])
	if m == nil {
		return
	}
	n, err := strconv.Atoi(m[1])
	if err != nil || n <= 0 {
		return
	}
	dir := o.Path[:len(o.Path)-len(parts[len(parts)-1])]
	if dir != h.dir {
		h.flush(out)
		h.dir = dir
		ns, table, ok := unescapeName(parts[:len(parts)-2])
		if !ok || !keep(ns, table) {
			return
		}
		h.current = &LocatedTable{Namespace: ns, Table: table}
	}
	c := h.current
	if c == nil {
		return // a folder the selector refused
	}
	if c.Path == "" || newerVersion(n, m[2] != "", c.Version) {
		c.Version, c.Path, c.MetadataLocation, c.SizeBytes, c.Checksum = n, o.Path, o.PhysicalAddress, o.SizeBytes, o.Checksum
	}
}

func (h *hadoopScan) flush(out *[]LocatedTable) {
	if h.current != nil {
		*out = append(*out, *h.current)
	}
	h.current, h.dir = nil, ""
}
