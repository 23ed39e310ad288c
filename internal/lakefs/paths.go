package lakefs

import (
	"net/http"
	"net/url"
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
	layout, root, err := l.root(ref.Repository)
	if err != nil {
		return tablePaths{}, err
	}
	// Every path starts with the namespace's folder, joined once (this runs on every read
	// and write of a table).
	dir := joinPrefix(root, ns...)
	if layout == LayoutPointer {
		return tablePaths{
			layout:   LayoutPointer,
			pointer:  dir + "/" + tbl + "/" + pointerFile,
			nsMarker: dir + "/" + namespaceMarker,
		}, nil
	}
	return tablePaths{
		layout:      LayoutHadoop,
		metadataDir: dir + "/" + tbl + "/metadata/",
	}, nil
}

// root returns a repository's layout and the folder its tables live under (the pointer
// prefix or the warehouse prefix, without slashes at either end; "" is the repository root).
func (l *Locator) root(repo string) (layout, prefix string, err error) {
	lay := l.layoutFor(repo)
	switch lay.Layout {
	case "", LayoutPointer:
		prefix := strings.Trim(lay.PointerPrefix, "/")
		if prefix == "" {
			prefix = "_lakefs_tables/iceberg"
		}
		return LayoutPointer, prefix, nil
	case LayoutHadoop:
		return LayoutHadoop, strings.Trim(lay.WarehousePrefix, "/"), nil
	default:
		return "", "", apperr.New(http.StatusInternalServerError, "unknown table layout %q for repository %q", lay.Layout, repo)
	}
}

// TableOfPath is the inverse of paths: the table an object path belongs to, if any (the
// pointer object of a pointer-layout table; a file directly under a hadoop table's
// metadata folder). ok is false for every other path, namespace markers included.
func (l *Locator) TableOfPath(repo, path string) (namespace []string, table string, ok bool) {
	layout, root, err := l.root(repo)
	if err != nil {
		return nil, "", false
	}
	if root != "" {
		if path, ok = strings.CutPrefix(path, root+"/"); !ok {
			return nil, "", false
		}
	}
	parts := strings.Split(path, "/")
	if layout == LayoutPointer {
		if len(parts) < 3 || parts[len(parts)-1] != pointerFile {
			return nil, "", false
		}
		return unescapeName(parts[:len(parts)-1])
	}
	if len(parts) < 4 || parts[len(parts)-2] != "metadata" || parts[len(parts)-1] == "" {
		return nil, "", false
	}
	return unescapeName(parts[:len(parts)-2])
}
