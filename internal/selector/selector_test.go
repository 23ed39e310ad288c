package selector

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPatterns(t *testing.T) {
	sel, err := ParseTables("sales.*", "ord*")
	require.NoError(t, err)
	assert.True(t, sel.Match([]string{"sales", "eu"}, "orders"))
	assert.False(t, sel.Match([]string{"sales"}, "orders"), "level count differs")
	assert.False(t, sel.Match([]string{"sales", "eu", "north"}, "orders"))
	assert.False(t, sel.Match([]string{"sales", "eu"}, "customers"))

	all, err := ParseTables("", "")
	require.NoError(t, err)
	assert.True(t, all.Match([]string{"a", "b", "c"}, "t"))
	assert.True(t, all.Match([]string{"a"}, "t"))
	assert.False(t, all.Namespace.Literal())
	assert.False(t, all.Table.Literal())

	lit, err := ParseTables("sales", "orders")
	require.NoError(t, err)
	assert.True(t, lit.Namespace.Literal())
	assert.True(t, lit.Table.Literal())
	assert.Equal(t, "sales", lit.Namespace.String())

	for _, bad := range [][2]string{{"a..b", ""}, {"[", ""}, {"", "[x"}, {"", "a/b"}, {".a", ""}} {
		_, err := ParseTables(bad[0], bad[1])
		assert.Error(t, err, "%q", bad)
	}
}

func TestTemplates(t *testing.T) {
	v := Vars{Repository: "lake", Branch: "etl-7", Namespace: []string{"sales", "eu"}, Table: "orders"}
	d, err := ParseDestination("{branch}_{namespace}", "{table}_v", Repository, Branch, Namespace, Table)
	require.NoError(t, err)
	ns, tb, err := d.Render(v)
	require.NoError(t, err)
	assert.Equal(t, []string{"etl-7_sales", "eu"}, ns)
	assert.Equal(t, "orders_v", tb)
	byTag, err := ParseDestination("rel_{tag}", "{table}", Tag, Table)
	require.NoError(t, err)
	ns, _, err = byTag.Render(Vars{Tag: "v1", Table: "orders"})
	require.NoError(t, err)
	assert.Equal(t, []string{"rel_v1"}, ns)

	same, err := ParseDestination("", "", Namespace, Table)
	require.NoError(t, err)
	ns, tb, err = same.Render(v)
	require.NoError(t, err)
	assert.Equal(t, v.Namespace, ns)
	assert.Equal(t, "orders", tb)

	_, err = ParseDestination("{branch}", "", Namespace, Table)
	assert.ErrorContains(t, err, "unknown placeholder {branch}")
	for _, bad := range []string{"{table", "table}", "{}", "{ table}"} {
		_, err := ParseTemplate(bad, Table)
		assert.Error(t, err, bad)
	}

	_, _, err = d.Render(Vars{Branch: "b", Namespace: []string{"a.b"}, Table: "t"})
	assert.ErrorContains(t, err, "contains '.'")
	empty, err := ParseDestination("x..{table}", "", Table)
	require.NoError(t, err)
	_, _, err = empty.Render(v)
	assert.ErrorContains(t, err, "empty level")
	blank, err := ParseDestination("", "{repository}", Repository)
	require.NoError(t, err)
	_, _, err = blank.Render(Vars{Table: "t"})
	assert.ErrorContains(t, err, "empty table name")
}

func TestCheckInjective(t *testing.T) {
	all, _ := ParseTables("", "")
	one, _ := ParseTables("sales", "orders")
	branches, _ := ParsePattern("etl-*")
	main, _ := ParsePattern("main")

	flat, _ := ParseDestination("published", "{table}", Namespace, Table, Branch)
	assert.ErrorContains(t, flat.CheckInjective(all, nil, Branch), "{namespace}")
	assert.NoError(t, flat.CheckInjective(one, nil, Branch))

	perBranch, _ := ParseDestination("{branch}_{namespace}", "", Namespace, Table, Branch)
	assert.NoError(t, perBranch.CheckInjective(all, &branches, Branch))
	same, _ := ParseDestination("", "", Namespace, Table, Branch)
	assert.ErrorContains(t, same.CheckInjective(all, &branches, Branch), "{branch}")
	assert.NoError(t, same.CheckInjective(all, &main, Branch))

	// A tag glob varies like a branch glob: its placeholder is {tag}.
	tags, _ := ParsePattern("v*")
	perTag, _ := ParseDestination("{tag}_{namespace}", "", Namespace, Table, Tag)
	assert.NoError(t, perTag.CheckInjective(all, &tags, Tag))
	assert.ErrorContains(t, same.CheckInjective(all, &tags, Tag), "{tag}")
	assert.ErrorContains(t, perBranch.CheckInjective(all, &tags, Tag), "{tag}", "{branch} does not vary with the tag")

	fixed, _ := ParseDestination("x", "y", Namespace, Table)
	assert.ErrorContains(t, fixed.CheckInjective(all, nil, Branch), "{namespace} and {table}")
}

func TestCollisions(t *testing.T) {
	d, srcs := Collisions(map[string]string{"a.x": "p.x", "b.x": "p.x", "c.y": "p.y"})
	assert.Equal(t, "p.x", d)
	assert.Equal(t, [2]string{"a.x", "b.x"}, srcs)
	d, _ = Collisions(map[string]string{"a.x": "p.x", "c.y": "p.y"})
	assert.Equal(t, "", d)
}

func TestLiteralPrefix(t *testing.T) {
	for pattern, want := range map[string][]string{
		"":             nil,
		"*":            nil,
		"sales":        {"sales"},
		"sales.*":      {"sales"},
		"sales.eu":     {"sales", "eu"},
		"sales.e?.x":   {"sales"},
		"s[a]les.eu":   nil,
		`sal\es.eu.tx`: nil,
	} {
		np, err := ParseNamespacePattern(pattern)
		require.NoError(t, err, pattern)
		assert.Equal(t, want, np.LiteralPrefix(), pattern)
	}
}
