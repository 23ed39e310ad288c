package lakefs

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/lakefs/lakefstest"
	"github.com/iceberg-remotes/iceberg-remotes/internal/selector"
)

// callCounter snapshots the stand-in's counters of the operations a listing may use.
type callCounter struct {
	srv  *lakefstest.Server
	base map[string]int
}

var listingOps = []string{"getBranch", "getCommit", "listObjects", "statObject", "getObject"}

func countCalls(srv *lakefstest.Server) *callCounter {
	c := &callCounter{srv: srv, base: map[string]int{}}
	for _, op := range listingOps {
		c.base[op] = srv.Calls(op)
	}
	return c
}

func (c *callCounter) since() map[string]int {
	out := map[string]int{}
	for _, op := range listingOps {
		if n := c.srv.Calls(op) - c.base[op]; n > 0 {
			out[op] = n
		}
	}
	return out
}

func names(l *TableListing) []string {
	var out []string
	for _, t := range l.Tables {
		out = append(out, strings.Join(append(slices.Clone(t.Namespace), t.Table), "|"))
	}
	return out
}

func find(l *TableListing, ns []string, table string) *LocatedTable {
	for i := range l.Tables {
		if slices.Equal(l.Tables[i].Namespace, ns) && l.Tables[i].Table == table {
			return &l.Tables[i]
		}
	}
	return nil
}

func mustSel(t *testing.T, ns, table string) selector.Tables {
	sel, err := selector.ParseTables(ns, table)
	require.NoError(t, err)
	return sel
}

func TestListTablesPointerLayout(t *testing.T) {
	e, loc := newLocatorEnv(t)
	ctx := context.Background()
	p := func(parts ...string) string { return "_lakefs_tables/iceberg/" + strings.Join(parts, "/") }
	orders := e.srv.PutObject(testRepo, "main", p("sales", "orders", "metadata.json"), []byte(`{"o":1}`))
	e.srv.PutObject(testRepo, "main", p("sales", "_namespace.json"), []byte(`{}`))
	nested := e.srv.PutObject(testRepo, "main", p("sales", "eu", "customers", "metadata.json"), []byte(`{"c":1}`))
	// "we/ird ns".t%1, escaped as the locator escapes it.
	weird := e.srv.PutObject(testRepo, "main", p("we%2Fird%20ns", "t%251", "metadata.json"), []byte(`{"w":1}`))
	doomed := e.srv.PutObject(testRepo, "main", p("sales", "doomed", "metadata.json"), []byte(`{"d":1}`))
	// Not tables: a sibling file sharing the prefix's start, a stray file in a table folder,
	// a non-canonical escaping, a pointer without a namespace.
	e.srv.PutObject(testRepo, "main", "_lakefs_tables/iceberg_remotes.yaml", []byte("x"))
	e.srv.PutObject(testRepo, "main", p("sales", "orders", "notes.txt"), []byte("x"))
	e.srv.PutObject(testRepo, "main", p("sa%6Ces", "orders", "metadata.json"), []byte("x"))
	e.srv.PutObject(testRepo, "main", p("lonely", "metadata.json"), []byte("x"))
	commit := e.srv.CommitBranch(testRepo, "main", "tables")
	// On the branch, after the commit: one table deleted, one staged.
	e.srv.DeleteObject(testRepo, "main", p("sales", "doomed", "metadata.json"))
	staged := e.srv.PutObject(testRepo, "main", p("sales", "staged", "metadata.json"), []byte(`{"s":1}`))

	cc := countCalls(e.srv)
	l, err := loc.ListTables(ctx, testRepo, "main", selector.Tables{})
	require.NoError(t, err)
	assert.Equal(t, map[string]int{"getBranch": 1, "listObjects": 1}, cc.since(), "one resolve, one listing, no stat or read")
	assert.True(t, l.IsBranch)
	assert.Equal(t, commit, l.ResolvedCommit)
	assert.Equal(t, LayoutPointer, l.Layout)
	assert.Equal(t, []string{"sales|eu|customers", "sales|orders", "sales|staged", "we/ird ns|t%1"}, names(l))
	o := find(l, []string{"sales"}, "orders")
	assert.Equal(t, LocatedTable{Namespace: []string{"sales"}, Table: "orders", Path: p("sales", "orders", "metadata.json"),
		MetadataLocation: orders, SizeBytes: 7, Checksum: checksum([]byte(`{"o":1}`))}, *o)
	assert.Equal(t, nested, find(l, []string{"sales", "eu"}, "customers").MetadataLocation)
	assert.Equal(t, weird, find(l, []string{"we/ird ns"}, "t%1").MetadataLocation)
	assert.Equal(t, staged, find(l, []string{"sales"}, "staged").MetadataLocation)

	// The same table read one by one agrees with the listing.
	st, err := loc.c.StatObject(ctx, testRepo, "main", o.Path)
	require.NoError(t, err)
	assert.Equal(t, st.PhysicalAddress, o.MetadataLocation)

	// At the commit: the deleted table is there, the staged one is not.
	cc = countCalls(e.srv)
	l, err = loc.ListTables(ctx, testRepo, commit, selector.Tables{})
	require.NoError(t, err)
	assert.Equal(t, map[string]int{"getBranch": 1, "getCommit": 1, "listObjects": 1}, cc.since())
	assert.False(t, l.IsBranch)
	assert.Equal(t, commit, l.ResolvedCommit)
	assert.Equal(t, []string{"sales|doomed", "sales|eu|customers", "sales|orders", "we/ird ns|t%1"}, names(l))
	assert.Equal(t, doomed, find(l, []string{"sales"}, "doomed").MetadataLocation)

	// At a commit id already resolved: the same listing without the resolve calls.
	cc = countCalls(e.srv)
	at, err := loc.ListTablesAtCommit(ctx, testRepo, commit, selector.Tables{})
	require.NoError(t, err)
	assert.Equal(t, map[string]int{"listObjects": 1}, cc.since())
	assert.Equal(t, l, at)

	// A tag reads the same commit.
	e.srv.CreateTag(testRepo, "v1", commit)
	l, err = loc.ListTables(ctx, testRepo, "v1", mustSel(t, "sales", "*"))
	require.NoError(t, err)
	assert.Equal(t, []string{"sales|doomed", "sales|orders"}, names(l))

	_, err = loc.ListTables(ctx, testRepo, "nope", selector.Tables{})
	requireStatus(t, err, 404)
	_, err = loc.ListTables(ctx, "", "main", selector.Tables{})
	requireStatus(t, err, 400)
}

func TestListTablesSelectorsAndPagination(t *testing.T) {
	e, loc := newLocatorEnv(t)
	ctx := context.Background()
	const bulk = 2500
	for i := range bulk {
		e.srv.PutObject(testRepo, "main", fmt.Sprintf("_lakefs_tables/iceberg/bulk/t%05d/metadata.json", i), []byte("x"))
	}
	for _, tbl := range []string{"orders", "order_lines", "customers"} {
		e.srv.PutObject(testRepo, "main", "_lakefs_tables/iceberg/sales/"+tbl+"/metadata.json", []byte("x"))
		e.srv.PutObject(testRepo, "main", "_lakefs_tables/iceberg/sales/eu/"+tbl+"/metadata.json", []byte("x"))
	}
	e.srv.CommitBranch(testRepo, "main", "tables")

	cc := countCalls(e.srv)
	l, err := loc.ListTables(ctx, testRepo, "main", selector.Tables{})
	require.NoError(t, err)
	assert.Len(t, l.Tables, bulk+6)
	assert.Equal(t, map[string]int{"getBranch": 1, "listObjects": 3}, cc.since(), "⌈2506/1000⌉ pages")

	// A literal first level narrows the listing to its folder: one page, not three.
	cc = countCalls(e.srv)
	l, err = loc.ListTables(ctx, testRepo, "main", mustSel(t, "sales", "order*"))
	require.NoError(t, err)
	assert.Equal(t, []string{"sales|order_lines", "sales|orders"}, names(l))
	assert.Equal(t, map[string]int{"getBranch": 1, "listObjects": 1}, cc.since())

	l, err = loc.ListTables(ctx, testRepo, "main", mustSel(t, "sales.*", "customers"))
	require.NoError(t, err)
	assert.Equal(t, []string{"sales|eu|customers"}, names(l))

	// A glob first level cannot narrow; the selector still filters.
	l, err = loc.ListTables(ctx, testRepo, "main", mustSel(t, "s*", "customers"))
	require.NoError(t, err)
	assert.Equal(t, []string{"sales|customers"}, names(l))
	l, err = loc.ListTables(ctx, testRepo, "main", mustSel(t, "bulk", "t0249?"))
	require.NoError(t, err)
	assert.Len(t, l.Tables, 10)
}

func TestListTablesHadoopLayout(t *testing.T) {
	e, loc := newLocatorEnv(t)
	ctx := context.Background()
	put := func(path, content string) string {
		return e.srv.PutObject(hadoopRepo, "main", "warehouse/"+path, []byte(content))
	}
	// db.events: the hint lags (names v2) while v3 exists: the listing takes v3.
	put("db/events/metadata/v1.metadata.json", "1")
	put("db/events/metadata/v2.metadata.json", "22")
	v3 := put("db/events/metadata/v3.metadata.json", "333")
	put("db/events/metadata/version-hint.text", "2")
	put("db/events/metadata/snap-1.avro", "x")
	put("db/events/data/00000.parquet", "x")
	// db.gz: compressed metadata; v10 sorts before v9 by path but is higher.
	put("db/gz/metadata/v9.metadata.json", "9")
	v10 := put("db/gz/metadata/v10.gz.metadata.json", "10")
	put("db/gz/metadata/version-hint.text", "10")
	// "a b".t/x: escaped names, nested namespace.
	esc := put("a%20b/n/t%2Fx/metadata/v1.metadata.json", "1")
	// Not tables: a hint without versions, a folder named like a version outside metadata/.
	put("db/empty/metadata/version-hint.text", "1")
	put("db/odd/v1.metadata.json", "1")
	commit := e.srv.CommitBranch(hadoopRepo, "main", "tables")
	// Staged on the branch: a new table and a new version of db.gz.
	fresh := put("db/fresh/metadata/v1.metadata.json", "f")
	v11 := put("db/gz/metadata/v11.metadata.json", "11")
	e.srv.DeleteObject(hadoopRepo, "main", "warehouse/a%20b/n/t%2Fx/metadata/v1.metadata.json")

	cc := countCalls(e.srv)
	l, err := loc.ListTables(ctx, hadoopRepo, "main", selector.Tables{})
	require.NoError(t, err)
	assert.Equal(t, map[string]int{"getBranch": 1, "listObjects": 1}, cc.since())
	assert.Equal(t, LayoutHadoop, l.Layout)
	assert.Equal(t, []string{"db|events", "db|fresh", "db|gz"}, names(l))
	ev := find(l, []string{"db"}, "events")
	assert.Equal(t, LocatedTable{Namespace: []string{"db"}, Table: "events", Path: "warehouse/db/events/metadata/v3.metadata.json",
		MetadataLocation: v3, SizeBytes: 3, Checksum: checksum([]byte("333")), Version: 3}, *ev)
	assert.Equal(t, fresh, find(l, []string{"db"}, "fresh").MetadataLocation)
	assert.Equal(t, v11, find(l, []string{"db"}, "gz").MetadataLocation)

	l, err = loc.ListTables(ctx, hadoopRepo, commit, selector.Tables{})
	require.NoError(t, err)
	assert.Equal(t, []string{"a b|n|t/x", "db|events", "db|gz"}, names(l))
	assert.Equal(t, esc, find(l, []string{"a b", "n"}, "t/x").MetadataLocation)
	gz := find(l, []string{"db"}, "gz")
	assert.Equal(t, v10, gz.MetadataLocation)
	assert.Equal(t, 10, gz.Version)

	// A literal first level narrows the listing to that namespace's folder.
	// (The zero table pattern: a parsed "*" does not match a name containing "/".)
	np, err := selector.ParseNamespacePattern("a b.*")
	require.NoError(t, err)
	cc = countCalls(e.srv)
	l, err = loc.ListTables(ctx, hadoopRepo, commit, selector.Tables{Namespace: np})
	require.NoError(t, err)
	assert.Equal(t, []string{"a b|n|t/x"}, names(l))
	assert.Equal(t, map[string]int{"getBranch": 1, "getCommit": 1, "listObjects": 1}, cc.since())
	l, err = loc.ListTables(ctx, hadoopRepo, "main", mustSel(t, "db", "e*"))
	require.NoError(t, err)
	assert.Equal(t, []string{"db|events"}, names(l))
}

func TestLocateTablesListsOnlyTheirSpan(t *testing.T) {
	e, loc := newLocatorEnv(t)
	ctx := context.Background()
	const bulk = 2500
	for i := range bulk {
		e.srv.PutObject(testRepo, "main", fmt.Sprintf("_lakefs_tables/iceberg/bulk/t%05d/metadata.json", i), []byte("x"))
	}
	e.srv.PutObject(testRepo, "main", "_lakefs_tables/iceberg/bulk/_namespace.json", []byte("{}"))
	e.srv.PutObject(testRepo, "main", "_lakefs_tables/iceberg/sales/orders/metadata.json", []byte("x"))
	e.srv.CommitBranch(testRepo, "main", "tables")

	var page []TableName
	for i := 1000; i < 2000; i++ {
		page = append(page, TableName{Namespace: []string{"bulk"}, Table: fmt.Sprintf("t%05d", i)})
	}
	cc := countCalls(e.srv)
	l, err := loc.LocateTables(ctx, testRepo, "main", page)
	require.NoError(t, err)
	assert.Len(t, l.Tables, 1000)
	assert.Equal(t, "t01000", l.Tables[0].Table)
	assert.Equal(t, "t01999", l.Tables[999].Table)
	assert.Equal(t, map[string]int{"getBranch": 1, "listObjects": 1}, cc.since(), "1,000 tables in a 2,500-table namespace: one page")

	// Far apart, missing, and impossible names: the span runs from the first to the last.
	cc = countCalls(e.srv)
	l, err = loc.LocateTables(ctx, testRepo, "main", []TableName{
		{Namespace: []string{"sales"}, Table: "orders"}, {Namespace: []string{"bulk"}, Table: "t00005"},
		{Namespace: []string{"bulk"}, Table: "nope"}, {Namespace: []string{"bulk"}, Table: ".."}, {Table: "no-namespace"}})
	require.NoError(t, err)
	assert.Equal(t, []string{"bulk|t00005", "sales|orders"}, names(l))
	assert.Equal(t, map[string]int{"getBranch": 1, "listObjects": 3}, cc.since(), "⌈(2,495 + 2)/1000⌉ pages")

	cc = countCalls(e.srv)
	l, err = loc.LocateTables(ctx, testRepo, "main", nil)
	require.NoError(t, err)
	assert.Empty(t, l.Tables)
	assert.Equal(t, map[string]int{"getBranch": 1}, cc.since(), "nothing to list")
}

func TestLocateTablesHadoopLayout(t *testing.T) {
	e, loc := newLocatorEnv(t)
	ctx := context.Background()
	put := func(path, content string) string {
		return e.srv.PutObject(hadoopRepo, "main", "warehouse/"+path, []byte(content))
	}
	put("db/a/metadata/v1.metadata.json", "1")
	a2 := put("db/a/metadata/v2.metadata.json", "2")
	put("db/a/data/f.parquet", "x")
	put("db/b/metadata/v1.metadata.json", "1")
	c1 := put("db/c/metadata/v1.metadata.json", "1")
	put("db/c/metadata/version-hint.text", "1")
	put("db/d/metadata/v1.metadata.json", "1")
	commit := e.srv.CommitBranch(hadoopRepo, "main", "tables")
	put("db/c/metadata/v2.metadata.json", "2") // staged on the branch only

	l, err := loc.LocateTables(ctx, hadoopRepo, commit, []TableName{{Namespace: []string{"db"}, Table: "c"}, {Namespace: []string{"db"}, Table: "a"}})
	require.NoError(t, err)
	assert.Equal(t, []string{"db|a", "db|c"}, names(l), "b lies in the span but was not asked for; d lies after it")
	assert.Equal(t, a2, find(l, []string{"db"}, "a").MetadataLocation)
	assert.Equal(t, c1, find(l, []string{"db"}, "c").MetadataLocation)
	assert.False(t, l.IsBranch)

	l, err = loc.LocateTables(ctx, hadoopRepo, "main", []TableName{{Namespace: []string{"db"}, Table: "c"}})
	require.NoError(t, err)
	assert.Equal(t, 2, find(l, []string{"db"}, "c").Version, "the branch sees its staged version")
	assert.True(t, l.IsBranch)
}

func TestLogCommits(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c0, _ := e.srv.GetCommit(testRepo, "main")
	var ids []string
	for i := range 3 {
		e.srv.PutObject(testRepo, "main", fmt.Sprintf("f%d", i), []byte("x"))
		ids = append(ids, e.srv.CommitBranch(testRepo, "main", fmt.Sprintf("c%d", i)))
	}
	e.srv.CreateBranch(testRepo, "side", ids[0])
	e.srv.PutObject(testRepo, "side", "g", []byte("x"))
	e.srv.CommitBranch(testRepo, "side", "side")

	before := e.srv.Calls("logCommits")
	log, err := e.c.LogCommits(ctx, testRepo, "main", 10)
	require.NoError(t, err)
	assert.Equal(t, []string{ids[2], ids[1], ids[0], c0.ID}, log)
	assert.Equal(t, 1, e.srv.Calls("logCommits")-before)
	n, ok := CommitsSince(log, ids[0])
	assert.True(t, ok)
	assert.Equal(t, 2, n)
	n, ok = CommitsSince(log, ids[2])
	assert.True(t, ok)
	assert.Zero(t, n)

	log, err = e.c.LogCommits(ctx, testRepo, "main", 2)
	require.NoError(t, err)
	assert.Equal(t, []string{ids[2], ids[1]}, log)
	_, ok = CommitsSince(log, ids[0])
	assert.False(t, ok, "older than the limit: unknown")
	side, _ := e.srv.GetCommit(testRepo, "side")
	_, ok = CommitsSince(log, side.ID)
	assert.False(t, ok, "not an ancestor")

	_, err = e.c.LogCommits(ctx, testRepo, "nope", 10)
	requireStatus(t, err, 404)
}
