package names

import "strings"

// Join renders namespace levels and a table as one string, each part followed by sep but
// the last: the dotted form users read ("a.b.t") and the separator-joined keys the service
// stores. It builds the string in one allocation (it runs several times per operation).
func Join(namespace []string, table, sep string) string {
	n := len(table) + len(namespace)*len(sep)
	for _, level := range namespace {
		n += len(level)
	}
	var b strings.Builder
	b.Grow(n)
	for _, level := range namespace {
		b.WriteString(level)
		b.WriteString(sep)
	}
	b.WriteString(table)
	return b.String()
}
