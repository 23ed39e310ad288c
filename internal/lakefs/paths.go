package lakefs

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/iceberg-remotes/iceberg-remotes/internal/apperr"
)

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
	layout, prefix, err := l.root(ref.Repository)
	if err != nil {
		return tablePaths{}, err
	}
	switch layout {
	case LayoutPointer:
		return tablePaths{
			layout:   LayoutPointer,
			pointer:  joinPrefix(prefix, append(slices.Clone(ns), tbl, pointerFile)...),
			nsMarker: joinPrefix(prefix, append(slices.Clone(ns), namespaceMarker)...),
		}, nil
	default:
		return tablePaths{
			layout:      LayoutHadoop,
			metadataDir: joinPrefix(prefix, append(slices.Clone(ns), tbl, "metadata")...) + "/",
		}, nil
	}
}

// root is a repository's table layout and the prefix its tables live under (the pointer
// prefix, or the hadoop warehouse prefix).
func (l *Locator) root(repo string) (layout, prefix string, err error) {
	lay := l.layoutFor(repo)
	switch lay.Layout {
	case "", LayoutPointer:
		prefix := lay.PointerPrefix
		if strings.Trim(prefix, "/") == "" {
			prefix = "_lakefs_tables/iceberg"
		}
		return LayoutPointer, prefix, nil
	case LayoutHadoop:
		return LayoutHadoop, lay.WarehousePrefix, nil
	default:
		return "", "", apperr.New(http.StatusInternalServerError, "unknown table layout %q for repository %q", lay.Layout, repo)
	}
}

// TableOfPath is the inverse of paths: the table an object path belongs to, if any (the
// pointer object of a pointer-layout table; any object under a hadoop table's metadata
// folder). ok is false for every other path, namespace markers included.
func (l *Locator) TableOfPath(repo, path string) (namespace []string, table string, ok bool) {
	layout, prefix, err := l.root(repo)
	if err != nil {
		return nil, "", false
	}
	if p := strings.Trim(prefix, "/"); p != "" {
		rest, found := strings.CutPrefix(path, p+"/")
		if !found {
			return nil, "", false
		}
		path = rest
	}
	parts := strings.Split(path, "/")
	var names []string // namespace levels then the table, still escaped
	switch layout {
	case LayoutPointer:
		if len(parts) < 3 || parts[len(parts)-1] != pointerFile {
			return nil, "", false
		}
		names = parts[:len(parts)-1]
	default:
		// <ns...>/<table>/metadata/<file>: a file directly under the table's metadata folder.
		i := len(parts) - 2
		if i < 2 || parts[i] != "metadata" || parts[len(parts)-1] == "" {
			return nil, "", false
		}
		names = parts[:i]
	}
	out := make([]string, len(names))
	for k, n := range names {
		u, err := url.PathUnescape(n)
		if err != nil || u == "" || u == "." || u == ".." {
			return nil, "", false
		}
		out[k] = u
	}
	return out[:len(out)-1], out[len(out)-1], true
}
