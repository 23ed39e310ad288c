package selector

import (
	"fmt"
	"sort"
	"strings"
)

// Destination names where a selected table goes: a namespace template and a table
// template. A zero template keeps the source's name.
type Destination struct {
	Namespace Template
	Table     Template
}

// ParseDestination parses the two templates with the placeholders allowed in a context.
func ParseDestination(namespace, table string, allowed ...string) (Destination, error) {
	ns, err := ParseTemplate(namespace, allowed...)
	if err != nil {
		return Destination{}, err
	}
	tb, err := ParseTemplate(table, allowed...)
	if err != nil {
		return Destination{}, err
	}
	return Destination{Namespace: ns, Table: tb}, nil
}

// Render returns the destination of the table described by v.
func (d Destination) Render(v Vars) (ns []string, table string, err error) {
	ns = v.Namespace
	if !d.Namespace.IsZero() {
		if ns, err = d.Namespace.RenderNamespace(v); err != nil {
			return nil, "", err
		}
	}
	table = v.Table
	if !d.Table.IsZero() {
		if table, err = d.Table.Render(v); err != nil {
			return nil, "", err
		}
		if table == "" {
			return nil, "", fmt.Errorf("template %q renders an empty table name", d.Table)
		}
	}
	return ns, table, nil
}

// CheckInjective refuses a destination that can send two selected tables to one place:
// every dimension the selection can vary in (namespace and table, unless their pattern is
// a literal; the ref — a branch or a tag, rendered by refPlaceholder — when refs is not a
// literal) must appear in the destination.
// A zero template keeps the source name, which carries the dimension. This is checked at
// start-up; Collisions catches the rest at run time.
func (d Destination) CheckInjective(sel Tables, refs *Pattern, refPlaceholder string) error {
	var missing []string
	if !sel.Namespace.Literal() && !d.Namespace.IsZero() && !d.Namespace.Uses(Namespace) && !d.Table.Uses(Namespace) {
		missing = append(missing, "{namespace}")
	}
	if !sel.Table.Literal() && !d.Table.IsZero() && !d.Table.Uses(Table) && !d.Namespace.Uses(Table) {
		missing = append(missing, "{table}")
	}
	if refs != nil && !refs.Literal() && !d.Namespace.Uses(refPlaceholder) && !d.Table.Uses(refPlaceholder) {
		missing = append(missing, "{"+refPlaceholder+"}")
	}
	if len(missing) > 0 {
		return fmt.Errorf("destination (namespace %q, table %q) maps several selected tables to one remote table: it must use %s",
			d.Namespace, d.Table, strings.Join(missing, " and "))
	}
	return nil
}

// Collisions returns, for a set of rendered destinations keyed by source, the first
// destination that two sources map to ("" when none).
func Collisions(dest map[string]string) (destination string, sources [2]string) {
	srcs := make([]string, 0, len(dest))
	for src := range dest {
		srcs = append(srcs, src)
	}
	sort.Strings(srcs)
	seen := make(map[string]string, len(dest))
	for _, src := range srcs {
		d := dest[src]
		if other, ok := seen[d]; ok {
			return d, [2]string{other, src}
		}
		seen[d] = src
	}
	return "", [2]string{}
}
