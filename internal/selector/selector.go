// Package selector chooses tables by glob patterns and names their destinations by
// templates (docs/design.md sections 14 and 15). Bulk push, bulk pull and automatic
// publication all select and rename tables with it, so the rules live here once:
//
//   - A Pattern is a path.Match glob over one name ("*" matches any name, "" matches all).
//   - A NamespacePattern is dotted: one glob per namespace level ("sales.*" matches
//     sales.eu but not sales or sales.eu.north); "" matches every namespace.
//   - A Template renders placeholders ({repository}, {branch}, {namespace}, {table}); a
//     namespace template renders to a dotted string that is split into levels, so
//     "{branch}_{namespace}" puts table sales.orders of branch etl-7 in etl-7_sales.
package selector

import (
	"fmt"
	"path"
	"strings"
)

// Pattern is a validated glob over one name.
type Pattern struct{ glob string }

// ParsePattern validates a glob; "" selects every name.
func ParsePattern(glob string) (Pattern, error) {
	if glob == "" {
		glob = "*"
	}
	if _, err := path.Match(glob, ""); err != nil {
		return Pattern{}, fmt.Errorf("invalid pattern %q: %w", glob, err)
	}
	if strings.Contains(glob, "/") {
		return Pattern{}, fmt.Errorf("invalid pattern %q: names never contain '/'", glob)
	}
	return Pattern{glob: glob}, nil
}

// Match reports whether name matches.
func (p Pattern) Match(name string) bool {
	glob := p.glob
	if glob == "" {
		return true
	}
	ok, _ := path.Match(glob, name) // the pattern was validated
	return ok
}

// Literal reports whether the pattern selects exactly one name (no glob syntax).
func (p Pattern) Literal() bool {
	return p.glob != "" && !strings.ContainsAny(p.glob, `*?[\`)
}

// String returns the glob.
func (p Pattern) String() string { return p.glob }

// NamespacePattern selects namespaces level by level; nil levels select every namespace.
type NamespacePattern struct{ levels []Pattern }

// ParseNamespacePattern parses a dotted pattern ("" selects every namespace).
func ParseNamespacePattern(dotted string) (NamespacePattern, error) {
	if dotted == "" {
		return NamespacePattern{}, nil
	}
	var np NamespacePattern
	for _, level := range strings.Split(dotted, ".") {
		if level == "" {
			return NamespacePattern{}, fmt.Errorf("invalid namespace pattern %q: empty level", dotted)
		}
		p, err := ParsePattern(level)
		if err != nil {
			return NamespacePattern{}, fmt.Errorf("invalid namespace pattern %q: %w", dotted, err)
		}
		np.levels = append(np.levels, p)
	}
	return np, nil
}

// Match reports whether ns matches: same number of levels, each matching its glob.
func (np NamespacePattern) Match(ns []string) bool {
	if np.levels == nil {
		return true
	}
	if len(ns) != len(np.levels) {
		return false
	}
	for i, p := range np.levels {
		if !p.Match(ns[i]) {
			return false
		}
	}
	return true
}

// Literal reports whether the pattern selects exactly one namespace.
func (np NamespacePattern) Literal() bool {
	if np.levels == nil {
		return false
	}
	for _, p := range np.levels {
		if !p.Literal() {
			return false
		}
	}
	return true
}

// LiteralPrefix returns the leading levels that are literals (no glob syntax): every
// selected namespace starts with them, so a listing can be narrowed to their folder.
func (np NamespacePattern) LiteralPrefix() []string {
	var out []string
	for _, p := range np.levels {
		if !p.Literal() {
			break
		}
		out = append(out, p.glob)
	}
	return out
}

// String returns the dotted pattern ("" for every namespace).
func (np NamespacePattern) String() string {
	s := make([]string, len(np.levels))
	for i, p := range np.levels {
		s[i] = p.glob
	}
	return strings.Join(s, ".")
}

// Tables selects tables by namespace and table pattern.
type Tables struct {
	Namespace NamespacePattern
	Table     Pattern
}

// ParseTables parses a namespace pattern and a table pattern ("" selects all).
func ParseTables(namespace, table string) (Tables, error) {
	np, err := ParseNamespacePattern(namespace)
	if err != nil {
		return Tables{}, err
	}
	tp, err := ParsePattern(table)
	if err != nil {
		return Tables{}, err
	}
	return Tables{Namespace: np, Table: tp}, nil
}

// Match reports whether the table ns.table is selected.
func (t Tables) Match(ns []string, table string) bool {
	return t.Namespace.Match(ns) && t.Table.Match(table)
}
