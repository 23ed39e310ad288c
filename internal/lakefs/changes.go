package lakefs

import (
	"context"
	"strings"
)

// TableChange is a table whose objects differ between two references.
type TableChange struct {
	Namespace []string
	Table     string
	// Removed: the table's pointer was removed (pointer layout), so it no longer exists.
	Removed bool
}

// ChangedTables lists the tables whose lakeFS objects differ between two references of a
// repository (lakeFS diffRefs under the layout's prefix, mapped to tables by TableOfPath),
// in the order lakeFS lists their paths, each once.
func (l *Locator) ChangedTables(ctx context.Context, repo, from, to string) ([]TableChange, error) {
	_, prefix, err := l.root(repo)
	if err != nil {
		return nil, err
	}
	if prefix != "" {
		prefix += "/"
	}
	changes, err := l.c.DiffRefs(ctx, repo, from, to, prefix)
	if err != nil {
		return nil, err
	}
	var out []TableChange
	index := map[string]int{}
	for _, ch := range changes {
		ns, table, ok := l.TableOfPath(repo, ch.Path)
		if !ok {
			continue
		}
		removed := ch.Type == "removed" && strings.HasSuffix(ch.Path, "/"+pointerFile)
		key := strings.Join(append(append([]string{}, ns...), table), "\x1f")
		if i, seen := index[key]; seen {
			out[i].Removed = out[i].Removed && removed
			continue
		}
		index[key] = len(out)
		out = append(out, TableChange{Namespace: ns, Table: table, Removed: removed})
	}
	return out, nil
}
