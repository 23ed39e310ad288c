package e2e

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/config"
	"github.com/iceberg-remotes/iceberg-remotes/internal/lakefs/lakefstest"
	"github.com/iceberg-remotes/iceberg-remotes/internal/testutil/pgtest"
)

// newReplicas starts n service instances, each its own HTTP server, on ONE PostgreSQL
// state store, with one lakeFS stand-in and one SQL remote on PostgreSQL (its own schema)
// shared by all: replicas behind a load balancer. lakeFS holds newEnv's table on main and
// etl-42 (pointer layout).
func newReplicas(t *testing.T, n int) []*env {
	t.Helper()
	e := newBackends(t, "pointer")
	rc, writer := sqlPostgres().setup(t, e.dir)
	e.writer = writer
	stateDSN := pgtest.Schema(t)
	out := make([]*env, n)
	for i := range out {
		cfg := e.baseConfig()
		cfg.State.Type = "postgres"
		cfg.State.Postgres.ConnectionString = stateDSN
		// Replicas share the test server with every other package's tests: keep each
		// replica's pool small (the lock slots are half of it, so operations still queue).
		cfg.State.Postgres.MaxConnections = 12
		cfg.IcebergCatalog.Remotes = []config.Remote{rc}
		inst := *e
		inst.start(&cfg)
		out[i] = &inst
	}
	return out
}

// pullCommitChain returns the pull commits on etl-42's first-parent history, oldest first.
func (e *env) pullCommitChain() []lakefstest.CommitInfo {
	var out []lakefstest.CommitInfo
	ref := "etl-42"
	for i := 0; i < 10000; i++ {
		c, ok := e.lake.GetCommit(repo, ref)
		require.True(e.t, ok, ref)
		if strings.HasPrefix(c.Message, "Pull iceberg table ") {
			out = append([]lakefstest.CommitInfo{c}, out...)
		}
		if len(c.Parents) == 0 {
			return out
		}
		ref = c.Parents[0]
	}
	e.t.Fatal("commit history does not end")
	return nil
}

// overlaps reports whether two audit rows' [started_at, finished_at] intervals overlap.
func overlaps(a, b auditRow) bool {
	return a.StartedAt.Before(b.FinishedAt) && b.StartedAt.Before(a.FinishedAt)
}

// TestConcurrentSameTable: 50 pushes and pulls of one table, spread over 3 replicas that
// share one PostgreSQL store, while iceberg-go appends to the remote table between them.
// They are serialized (no two audit intervals overlap), none is lost (one audit row per
// request, with the status the caller got), none fails uncleanly, and the final state is
// consistent.
func TestConcurrentSameTable(t *testing.T) {
	start := time.Now()
	inst := newReplicas(t, 3)
	e := inst[0]

	r := e.push(pushOpts{createNS: true})
	require.Equal(t, 204, r.Status, r.Body)
	setupOps := e.auditLog(remoteID, 100)
	require.Len(t, setupOps, 1)

	const requests, appends = 50, 6
	var completed, appended atomic.Int64
	remoteLocs := make([]string, 0, appends)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // the external writer, appending between batches of requests
		defer wg.Done()
		for i := 1; i <= appends; i++ {
			for completed.Load() < int64(8*i-4) {
				time.Sleep(2 * time.Millisecond)
			}
			remoteLocs = append(remoteLocs, e.appendRemote(2))
			appended.Add(1)
		}
	}()
	type result struct {
		op     string
		status int
		body   string
	}
	results := make([]result, requests)
	for j := 0; j < requests; j++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer completed.Add(1)
			for appended.Load() < int64(j/8) {
				time.Sleep(2 * time.Millisecond)
			}
			x := inst[j%len(inst)]
			if j%2 == 0 {
				r := x.push(pushOpts{})
				results[j] = result{"push", r.Status, r.Body}
			} else {
				r := x.pull(pullOpts{})
				results[j] = result{"pull", r.Status, r.Body}
			}
		}()
	}
	wg.Wait()
	require.Len(t, remoteLocs, appends)

	// Every request answered 204 or a clean 409 (a push over the remote writer's newer
	// metadata, without force_update), never a 5xx.
	got := map[string]int{}
	for j, res := range results {
		switch {
		case res.status == 204:
		case res.status == 409 && res.op == "push":
			assert.Contains(t, res.body, "already exists in remote catalog", "request %d", j)
		default:
			t.Errorf("request %d (%s): %d %s", j, res.op, res.status, res.body)
		}
		got[fmt.Sprintf("%s %d", res.op, res.status)]++
	}

	// None lost: one finished audit row per request, with the status its caller saw.
	rows := e.auditLog(remoteID, 7) // small pages: pagination is part of the check
	require.Len(t, rows, requests+1)
	assert.Equal(t, setupOps[0].ID, rows[len(rows)-1].ID, "the set-up push is the oldest row")
	ids := map[int64]bool{}
	audited := map[string]int{}
	for i, row := range rows {
		assert.False(t, ids[row.ID], "duplicate row id %d", row.ID)
		ids[row.ID] = true
		if i > 0 {
			assert.Less(t, row.ID, rows[i-1].ID, "newest first")
		}
		assert.NotEqual(t, "running", row.Outcome)
		require.False(t, row.FinishedAt.IsZero(), "row %d has finished_at", row.ID)
		if i < requests {
			audited[fmt.Sprintf("%s %d", row.Operation, row.StatusCode)]++
		}
	}
	assert.Equal(t, got, audited, "the audit log records each request's outcome")

	// Serialized: no two operations on the table overlap in time, across replicas.
	sorted := append([]auditRow(nil), rows...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].StartedAt.Before(sorted[j].StartedAt) })
	for i := 1; i < len(sorted); i++ {
		a, b := sorted[i-1], sorted[i]
		assert.False(t, overlaps(a, b), "operations %d [%s, %s] and %d [%s, %s] overlap",
			a.ID, a.StartedAt.Format(time.RFC3339Nano), a.FinishedAt.Format(time.RFC3339Nano),
			b.ID, b.StartedAt.Format(time.RFC3339Nano), b.FinishedAt.Format(time.RFC3339Nano))
	}

	// lakeFS has exactly one pull commit per successful pull that changed something, and
	// they carry the writer's metadata files in the writer's order.
	pullCommits := map[string]string{} // commit id -> metadata location, from the audit log
	for _, row := range rows {
		if row.Operation == "pull" && row.Outcome == "succeeded" && row.Commit != "" {
			pullCommits[row.Commit] = row.Metadata
		}
	}
	chain := e.pullCommitChain()
	assert.Len(t, chain, len(pullCommits))
	var chainLocs []string
	for _, c := range chain {
		assert.Equal(t, pullCommits[c.ID], c.Metadata["iceberg_metadata_location"], "commit %s", c.ID)
		chainLocs = append(chainLocs, c.Metadata["iceberg_metadata_location"])
	}
	assert.True(t, isSubsequence(chainLocs, remoteLocs), "pulls follow the writer's commits in order: %v of %v", chainLocs, remoteLocs)

	// Consistent: the branch holds the last pulled state, the remote the writer's last; a
	// final pull brings them together.
	lastPulled := e.m1
	if len(chainLocs) > 0 {
		lastPulled = chainLocs[len(chainLocs)-1]
	}
	assert.Equal(t, lastPulled, e.readLakeFS("etl-42", localNS, tableName).MetadataLocation)
	assert.Equal(t, remoteLocs[len(remoteLocs)-1], e.remoteLocation())
	want := "remote_ahead"
	if lastPulled == remoteLocs[len(remoteLocs)-1] {
		want = "in_sync"
	}
	for _, x := range inst {
		assert.Equal(t, map[string]string{tableName: want}, x.tables(), "every replica sees the same state")
	}
	r = inst[1].pull(pullOpts{})
	require.Equal(t, 204, r.Status, r.Body)
	final := e.readLakeFS("etl-42", localNS, tableName).MetadataLocation
	assert.Equal(t, remoteLocs[len(remoteLocs)-1], final)
	assert.EqualValues(t, 3+2*appends, scanCount(t, final), "no append lost")
	for _, x := range inst {
		assert.Equal(t, map[string]string{tableName: "in_sync"}, x.tables())
	}
	r = inst[2].push(pushOpts{})
	require.Equal(t, 204, r.Status, "the pulled state re-pushes as a no-op: %s", r.Body)
	t.Logf("%d requests over %d replicas: %v; %d pull commits; took %s", requests, len(inst), got, len(chain), time.Since(start))
}

// TestConcurrentDifferentTables: 50 pushes of 50 different tables over 3 replicas sharing
// one PostgreSQL store, and over a single PostgreSQL-backed instance (more concurrent
// operations than its connection pool holds), all succeed and run in parallel (their audit
// intervals overlap).
func TestConcurrentDifferentTables(t *testing.T) {
	for _, replicas := range []int{3, 1} {
		t.Run(fmt.Sprintf("%d-replicas", replicas), func(t *testing.T) { concurrentDifferentTables(t, replicas) })
	}
}

func concurrentDifferentTables(t *testing.T, replicas int) {
	start := time.Now()
	inst := newReplicas(t, replicas)
	e := inst[0]

	// One iceberg-go table, linked under 50 names: each is its own lakeFS table.
	const n = 50
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("t%02d", i)
		e.link("etl-42", localNS, names[i], e.m1, 1)
	}
	_, err := e.client.Commit(ctx(t), repo, "etl-42", "50 tables", nil)
	require.NoError(t, err)

	statuses := make([]resp, n)
	var wg sync.WaitGroup
	gate := make(chan struct{})
	for i := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-gate
			// Every push may find the remote namespace missing: creating it concurrently
			// must not fail the pushes that lose the race.
			statuses[i] = inst[i%len(inst)].push(pushOpts{srcTable: names[i], destTable: names[i], createNS: true})
		}()
	}
	close(gate)
	wg.Wait()
	for i, r := range statuses {
		assert.Equal(t, 204, r.Status, "push of %s: %s", names[i], r.Body)
	}

	rows := e.auditLog(remoteID, 20)
	require.Len(t, rows, n)
	seen := map[string]bool{}
	overlapping := 0
	for i, a := range rows {
		seen[a.RemoteTable] = true
		assert.Equal(t, "succeeded", a.Outcome, "%s: %s", a.RemoteTable, a.Error)
		for _, b := range rows[i+1:] {
			if overlaps(a, b) {
				overlapping++
			}
		}
	}
	assert.Len(t, seen, n, "one row per table")
	assert.Greater(t, overlapping, 0, "pushes of different tables run in parallel")

	states := e.tables()
	require.Len(t, states, n)
	for _, name := range names {
		assert.Equal(t, "in_sync", states[name], name)
	}
	t.Logf("%d pushes over %d replicas: %d overlapping pairs of operations; took %s", n, len(inst), overlapping, time.Since(start))
}

// isSubsequence reports whether a's elements appear in b in order.
func isSubsequence(a, b []string) bool {
	i := 0
	for _, x := range b {
		if i < len(a) && a[i] == x {
			i++
		}
	}
	return i == len(a)
}
