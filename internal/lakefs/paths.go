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
