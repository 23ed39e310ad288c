package names_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/iceberg-remotes/iceberg-remotes/internal/names"
)

// Join is strings.Join of the levels and the table, in one allocation.
func TestJoin(t *testing.T) {
	for _, c := range []struct {
		ns    []string
		table string
		sep   string
	}{
		{nil, "t", "."},
		{[]string{}, "t", "\x1f"},
		{[]string{"a"}, "t", "."},
		{[]string{"a", "b", "c"}, "t", "\x1f"},
		{[]string{"", "b"}, "", "::"},
	} {
		want := strings.Join(append(append([]string{}, c.ns...), c.table), c.sep)
		assert.Equal(t, want, names.Join(c.ns, c.table, c.sep))
	}
	ns := []string{"analytics", "finance"}
	assert.Equal(t, 1.0, testing.AllocsPerRun(100, func() { _ = names.Join(ns, "orders", ".") }))
}
