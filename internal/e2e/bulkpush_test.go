package e2e

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/apache/iceberg-go/table"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/config"
)

// withHadoopRepo configures repository hadoopRepo with the hadoop layout (the env's own
// repository keeps the pointer layout).
func withHadoopRepo(cfg *config.Config) {
	cfg.Tables.Repositories = map[string]config.TablesLayout{hadoopRepo: {Layout: "hadoop", WarehousePrefix: "warehouse"}}
}

// remoteTables lists, through the remote catalog itself (iceberg-go's client of it), every
// table of the namespaces prefix+b0..b9, by dotted source name (b<i>.<table>).
func (e *env) remoteTables(prefix string) map[string]bool {
	out := map[string]bool{}
	for i := 0; i < 10; i++ {
		for id, err := range e.writer.ListTables(ctx(e.t), table.Identifier{fmt.Sprintf("%sb%d", prefix, i)}) {
			require.NoError(e.t, err)
			out[strings.TrimPrefix(strings.Join(id, "."), prefix)] = true
		}
	}
	return out
}

// TestBulkPush1000 pushes 1,000 tables of a pointer-layout repository and 1,000 of a
// hadoop-layout one (two repositories, so two bulk calls: a bulk push reads one reference
// of one repository, and the layout is per repository) onto the SQL remote and the REST
// stand-in. Every table is registered (checked through the remote), a second run changes
// nothing, and the lakeFS calls of each run stay within issue 12's 5 + ⌈N/1000⌉ + the
// tables whose remote state changed, GC safety (issue 13) included: the committed check's
// one listing at the head commit, and one protecting branch for the commit, shared by every
// table published at it. An unchanged run makes neither.
func TestBulkPush1000(t *testing.T) {
	const n = 1000
	for _, kind := range []remoteKind{sqlSQLite(), restRemote()} {
		t.Run(kind.name, func(t *testing.T) {
			t.Parallel() // independent backends; the REST stand-in's contract checks dominate
			e := newEnvWith(t, kind, "pointer", withHadoopRepo)
			e.lake.CreateRepository(hadoopRepo, "file://"+e.dir+"/hrepo", "main")
			for _, c := range []struct{ repo, layout, prefix string }{{repo, "pointer", "p_"}, {hadoopRepo, "hadoop", "h_"}} {
				locs := e.seedTables(c.repo, c.layout, n)
				body := bulkBody(c.repo, "b*", "", c.prefix+"{namespace}", "", true, false)
				body["parallelism"] = 16

				before, created0 := e.lakeFSCalls(), e.lake.Calls("createBranch")
				a := e.bulkPush(body, false)
				calls := e.lakeFSCalls() - before
				created := e.lake.Calls("createBranch") - created0
				t.Logf("%s/%s: first run of %d tables: %d lakeFS calls, %d createBranch (%d changed; bound %d)", kind.name, c.layout, n, calls, created, a.Totals.Changed, 5+1+a.Totals.Changed)
				assert.Equal(t, bulkLine{Type: "totals", Total: n, Changed: n, Status: 200}, trimTotals(a.Totals))
				assert.LessOrEqual(t, calls, 5+(n+999)/1000+a.Totals.Changed)
				assert.Equal(t, 1, created, "one protecting branch for the one commit")
				for _, r := range a.Results {
					require.Equal(t, "pushed", r.Outcome, "%v: %s", r.Source, r.Message)
					require.Equal(t, 204, r.Status)
					require.Equal(t, c.prefix+r.Source.Namespace[0], r.Destination.Namespace[0])
				}
				want := map[string]bool{}
				for name := range locs {
					want[name] = true
				}
				assert.Equal(t, want, e.remoteTables(c.prefix), "every table is registered in the remote")
				for _, name := range []string{"b0.t0000", "b7.t0517", "b9.t0999"} {
					ns, tbl, _ := strings.Cut(name, ".")
					assert.Equal(t, locs[name], e.remoteLocationAt([]string{c.prefix + ns}, tbl), name)
				}

				before = e.lakeFSCalls()
				a = e.bulkPush(body, false)
				calls = e.lakeFSCalls() - before
				t.Logf("%s/%s: second run of %d tables: %d lakeFS calls (%d changed; bound %d)", kind.name, c.layout, n, calls, a.Totals.Changed, 5+1+a.Totals.Changed)
				assert.Equal(t, bulkLine{Type: "totals", Total: n, Unchanged: n, Status: 200}, trimTotals(a.Totals), "idempotent")
				assert.LessOrEqual(t, calls, 5+(n+999)/1000)
			}
			ops := e.auditLog(remoteID, 1000)
			assert.Len(t, ops, 4*n, "one audit row per table and run")
		})
	}
}

// trimTotals keeps the fields the tests compare.
func trimTotals(l bulkLine) bulkLine {
	return bulkLine{Type: l.Type, Total: l.Total, Changed: l.Changed, Unchanged: l.Unchanged, Failed: l.Failed, Status: l.Status}
}

// remoteLocationAt is the remote table's metadata location through the remote catalog.
func (e *env) remoteLocationAt(ns []string, name string) string {
	tbl, err := e.writer.LoadTable(ctx(e.t), append(append(table.Identifier{}, ns...), name))
	require.NoError(e.t, err)
	return tbl.MetadataLocation()
}

// TestBulkPushRules: bad globs, templates and colliding destinations are refused before
// any change; a dry run changes nothing; a table that fails (409 without force_update) is
// counted and does not stop the others; streamed, one line per table as it finishes and a
// totals line.
func TestBulkPushRules(t *testing.T) {
	e := newEnv(t, sqlSQLite(), "pointer")
	e.seedTables(repo, "pointer", 6)
	path := "/api/v1/iceberg/remotes/" + remoteID + "/bulk/push"

	before := e.world()
	for name, body := range map[string]map[string]any{
		"invalid namespace glob": bulkBody(repo, "b[", "", "", "", true, false),
		"invalid table glob":     bulkBody(repo, "", "t/x", "", "", true, false),
		"unknown placeholder":    bulkBody(repo, "b*", "", "{branch}", "", true, false),
		"collision":              bulkBody(repo, "b*", "", "flat", "same", true, false),
		"invalid rendered name":  bulkBody(repo, "b*", "", "", "{table}/x", true, false),
	} {
		r := e.call("POST", path, body)
		assertError(t, r, 400)
		t.Logf("%s: %s", name, r.message())
		if name == "collision" {
			assert.Contains(t, r.message(), "to the same remote table flat.same")
		}
	}
	r := e.call("POST", "/api/v1/iceberg/remotes/nowhere/bulk/push", bulkBody(repo, "", "", "", "", true, false))
	assertError(t, r, 404)
	r = e.call("POST", path, map[string]any{"source": map[string]any{"repository_id": repo, "reference_id": "no-such-branch"}})
	assertError(t, r, 404)
	e.unchanged(before, "refused bulk pushes")

	// Dry run: every table planned, nothing changed.
	e2 := newEnv(t, sqlSQLite(), "pointer")
	e2.seedTables(repo, "pointer", 6)
	before = e2.world()
	a := e2.bulkPush(bulkBody(repo, "b*", "", "", "", true, false), true)
	e2.unchanged(before, "bulk dry run")
	assert.Equal(t, bulkLine{Type: "totals", Total: 6, Changed: 6, Status: 200}, trimTotals(a.Totals))
	for _, res := range a.Results {
		assert.Equal(t, "planned", res.Outcome)
	}
	exists, err := e2.writer.CheckNamespaceExists(ctx(t), table.Identifier{"b0"})
	require.NoError(t, err)
	assert.False(t, exists, "no namespace created")

	// One table's remote already points elsewhere (another table was pushed there): without
	// force_update it fails (409), the others are pushed; streamed line by line.
	r = e2.call("POST", "/api/v1/iceberg/remotes/"+remoteID+"/push", map[string]any{
		"source":      map[string]any{"repository_id": repo, "reference_id": "main", "namespace": []string{"b3"}, "table": "t0003"},
		"destination": map[string]any{"namespace": []string{"b1"}, "table": "t0001"}, "create_namespace": true})
	require.Equal(t, 204, r.Status, r.Body)
	other := e2.remoteLocationAt([]string{"b1"}, "t0001")

	var lines []bulkLine
	e2.bulkPushStream(bulkBody(repo, "b*", "", "", "", true, false), func(l bulkLine) { lines = append(lines, l) })
	require.Len(t, lines, 7, "one line per table and the totals")
	totals := lines[6]
	assert.Equal(t, bulkLine{Type: "totals", Total: 6, Changed: 5, Failed: 1, Status: 409}, trimTotals(totals))
	var got []string
	for _, l := range lines[:6] {
		assert.Equal(t, "table", l.Type)
		got = append(got, l.Source.Table+":"+l.Outcome)
		if l.Source.Table == "t0001" {
			assert.Equal(t, 409, l.Status)
			assert.Contains(t, l.Message, "force_update")
		}
	}
	sort.Strings(got)
	assert.Equal(t, []string{"t0000:pushed", "t0001:failed", "t0002:pushed", "t0003:pushed", "t0004:pushed", "t0005:pushed"}, got)
	assert.Equal(t, other, e2.remoteLocationAt([]string{"b1"}, "t0001"), "the failed table is untouched")

	// force_update re-points it; everything else is unchanged.
	a = e2.bulkPush(bulkBody(repo, "b*", "", "", "", false, true), false)
	assert.Equal(t, bulkLine{Type: "totals", Total: 6, Changed: 1, Unchanged: 5, Status: 200}, trimTotals(a.Totals))
	var failedOps int
	for _, op := range e2.auditLog(remoteID, 100) {
		if op.Outcome == "failed" {
			failedOps++
			assert.Equal(t, "t0001", op.RemoteTable)
		}
	}
	assert.Equal(t, 1, failedOps, "the failed table has its own audit row")
}
