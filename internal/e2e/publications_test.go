package e2e

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/config"
	"github.com/iceberg-remotes/iceberg-remotes/internal/testutil/pgtest"
	"github.com/iceberg-remotes/iceberg-remotes/internal/testutil/tcptest"
)

var aliceHook = basicAuth("AKIAALICE", "alice-secret")

// TestPublicationPushesOnlyChangedTables: of 500 subscribed tables, the branch's first
// event publishes all; a later commit touching 2 of them pushes exactly those 2 (one lakeFS
// diff, two audit rows, two remote tables moved).
func TestPublicationPushesOnlyChangedTables(t *testing.T) {
	e := newBackends(t, "pointer")
	rc, writer := sqlSQLite().setup(t, e.dir)
	e.writer = writer
	remoteDSN := "file:" + filepath.Join(e.dir, "remote.db")
	rc.AutoPush = []config.AutoPush{{Repository: repo, Branch: "main", Namespace: "ns*", Table: "*",
		DestinationNamespace: "pub_{namespace}", CreateNamespace: true}}
	cfg := e.baseConfig()
	cfg.IcebergCatalog.Remotes = []config.Remote{rc}
	cfg.IcebergCatalog.Publications = fastPublications()
	e.start(&cfg)

	const n = 500
	name := func(i int) ([]string, string) { return []string{fmt.Sprintf("ns%d", i%5)}, fmt.Sprintf("t%03d", i) }
	for i := 0; i < n; i++ {
		ns, tbl := name(i)
		e.link("main", ns, tbl, e.m1, 1)
	}
	c1, err := e.client.Commit(ctx(t), repo, "main", "500 tables", nil)
	require.NoError(t, err)
	status, id := e.postHook(hookEvent("post-commit", repo, "main", c1), aliceHook)
	require.Equal(t, 202, status)
	start := time.Now()
	e.waitEvents(3 * time.Minute)
	t.Logf("first event: %d tables published in %s", n, time.Since(start).Round(time.Millisecond))
	first := e.event(id)
	require.Equal(t, "done", first.State, first.LastError)
	assert.Len(t, first.Results, n, "the branch's first event publishes every subscribed table")
	remote := remoteCatalog(t, "sqlite", remoteDSN)
	require.Len(t, remote, n)
	assert.Equal(t, e.m1, remote["pub_ns3.t008"])
	assert.Zero(t, e.lake.Calls("diffRefs"), "no cursor yet: the listing, not a diff")
	opsBefore := len(e.auditLog(remoteID, 1000))
	require.Equal(t, n, opsBefore)

	// A commit touching 2 of the 500 tables.
	m2 := e.authorTable([]string{"x"}, "second", 2)
	e.link("main", []string{"ns1"}, "t001", m2, 1)
	e.link("main", []string{"ns3"}, "t398", m2, 1)
	c2, err := e.client.Commit(ctx(t), repo, "main", "two tables", nil)
	require.NoError(t, err)
	status, id = e.postHook(hookEvent("post-commit", repo, "main", c2), aliceHook)
	require.Equal(t, 202, status)
	e.waitEvents(time.Minute)
	second := e.event(id)
	require.Equal(t, "done", second.State, second.LastError)
	require.Len(t, second.Results, 2)
	assert.Equal(t, 1, e.lake.Calls("diffRefs"), "one diff against the published commit")

	ops := e.auditLog(remoteID, 1000)
	require.Len(t, ops, opsBefore+2, "exactly two pushes")
	pushed := map[string]string{}
	for _, op := range ops[:2] {
		assert.Equal(t, "auto-push", op.Operation)
		assert.Equal(t, "succeeded", op.Outcome)
		assert.Equal(t, c2, op.Commit)
		pushed[op.RemoteTable] = op.Metadata
	}
	assert.Equal(t, map[string]string{"t001": m2, "t398": m2}, pushed)
	moved := 0
	for _, loc := range remoteCatalog(t, "sqlite", remoteDSN) {
		if loc == m2 {
			moved++
		}
	}
	assert.Equal(t, 2, moved, "exactly the two changed tables moved in the remote")
}

// TestPublicationFollowsBranches: a subscription of etl-* branches publishes branch etl-7's
// tables in etl-7_* namespaces when the branch is created, and un-publishes them when it is
// deleted (on_branch_delete: unpublish), leaving every file in place.
func TestPublicationFollowsBranches(t *testing.T) {
	e := newBackends(t, "pointer")
	rc, writer := sqlSQLite().setup(t, e.dir)
	e.writer = writer
	remoteDSN := "file:" + filepath.Join(e.dir, "remote.db")
	rc.AutoPush = []config.AutoPush{{Repository: repo, Branch: "etl-*", Namespace: "*", Table: "*",
		DestinationNamespace: "{branch}_{namespace}", CreateNamespace: true, OnBranchDelete: "unpublish"}}
	cfg := e.baseConfig()
	cfg.IcebergCatalog.Remotes = []config.Remote{rc}
	cfg.IcebergCatalog.Publications = fastPublications()
	e.start(&cfg)

	orders := e.authorTable([]string{"sales"}, "orders", 2)
	e.link("main", []string{"sales"}, "orders", orders, 1)
	_, err := e.client.Commit(ctx(t), repo, "main", "orders", nil)
	require.NoError(t, err)

	head := e.lake.CreateBranch(repo, "etl-7", "main")
	status, id := e.postHook(hookEvent("post-create-branch", repo, "etl-7", head), aliceHook)
	require.Equal(t, 202, status)
	e.waitEvents(time.Minute)
	created := e.event(id)
	require.Equal(t, "done", created.State, created.LastError)
	assert.Len(t, created.Results, 2)
	assert.Equal(t, map[string]string{"etl-7_accounting.events": e.m1, "etl-7_sales.orders": orders},
		remoteCatalog(t, "sqlite", remoteDSN), "etl-42 had no event: only etl-7 is published")

	before := e.files()
	e.lake.DeleteBranch(repo, "etl-7")
	status, id = e.postHook(hookEvent("post-delete-branch", repo, "etl-7", ""), aliceHook)
	require.Equal(t, 202, status)
	e.waitEvents(time.Minute)
	deleted := e.event(id)
	require.Equal(t, "done", deleted.State, deleted.LastError)
	assert.Len(t, deleted.Results, 2)
	assert.Empty(t, remoteCatalog(t, "sqlite", remoteDSN), "the branch's tables are un-published")
	e.requirePreserved(before)
	e.requireFilesExist(e.m1, orders)
	assert.Equal(t, e.m1, e.readLakeFS("main", localNS, tableName).MetadataLocation)
	e.requireAutoUnpublished(2)
}

// TestPublicationsSurviveOutageAndRestarts: the remote is unreachable while 50 commits'
// events arrive and the service is restarted twice (new server objects over the same state
// store); once the remote is back every table ends at its newest commit, no table was ever
// pushed backwards, and each event's history is listed.
func TestPublicationsSurviveOutageAndRestarts(t *testing.T) {
	for _, store := range []string{"sqlite", "postgres"} {
		t.Run(store, func(t *testing.T) { publicationsSurviveOutage(t, store) })
	}
}

func publicationsSurviveOutage(t *testing.T, store string) {
	e := newBackends(t, "pointer")
	remoteDSN := pgtest.Schema(t)
	u, err := url.Parse(remoteDSN)
	require.NoError(t, err)
	proxy := tcptest.StartProxy(t, u.Host)
	u.Host = proxy.Addr
	rc := config.Remote{ID: remoteID, Type: "sql", SQL: config.SQLRemote{Driver: "postgres", DSN: u.String(), CatalogName: "lakefs"},
		Timeout: 2 * time.Second, MaxRetries: 1}
	rc.AutoPush = []config.AutoPush{{Repository: repo, Branch: "main", Namespace: "sales", Table: "*",
		DestinationNamespace: "pub", CreateNamespace: true}}
	cfg := e.baseConfig()
	if store == "postgres" {
		cfg.State.Type = "postgres"
		cfg.State.Postgres.ConnectionString = pgtest.Schema(t)
		cfg.State.Postgres.MaxConnections = 12
	}
	cfg.IcebergCatalog.Remotes = []config.Remote{rc}
	cfg.IcebergCatalog.Publications = config.Publications{Workers: 2, PollInterval: 20 * time.Millisecond,
		InitialBackoff: 50 * time.Millisecond, MaxBackoff: 300 * time.Millisecond, Lease: time.Second, MaxAttempts: 1000}
	e.start(&cfg)

	// Each version of a table is its own metadata file (a copy of a real one).
	raw, err := os.ReadFile(strings.TrimPrefix(e.m1, "file://"))
	require.NoError(t, err)
	version := map[string]int{} // metadata location -> version
	newVersion := func(table string, v int) string {
		p := filepath.Join(e.dir, "versions", table, "metadata", fmt.Sprintf("%05d-%s.metadata.json", v, uuid.NewString()))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, raw, 0o644))
		version["file://"+p] = v
		return "file://" + p
	}
	tables := []string{"t0", "t1", "t2", "t3", "t4"}
	latest := map[string]string{}
	// failing waits until the newest event has failed at least twice against the stopped
	// remote and waits for its next attempt.
	failing := func() {
		deadline := time.Now().Add(time.Minute)
		for {
			newest := e.events(url.Values{"amount": {"1"}})
			if len(newest) > 0 && newest[0].State == "pending" && newest[0].Attempts >= 2 && newest[0].LastError != "" {
				return
			}
			require.True(t, time.Now().Before(deadline), "the newest event never failed: %+v", newest)
			time.Sleep(20 * time.Millisecond)
		}
	}
	commit := func(v int, changed ...string) {
		for _, tbl := range changed {
			latest[tbl] = newVersion(tbl, v)
			e.link("main", []string{"sales"}, tbl, latest[tbl], 1)
		}
		c, err := e.client.Commit(ctx(t), repo, "main", fmt.Sprintf("version %d", v), nil)
		require.NoError(t, err)
		status, _ := e.postHook(hookEvent("post-commit", repo, "main", c), aliceHook)
		require.Equal(t, 202, status)
	}
	commit(0, tables...)
	e.waitEvents(time.Minute)
	pubDSN := remoteDSN
	for _, tbl := range tables {
		assert.Equal(t, latest[tbl], remoteCatalog(t, "pgx", pubDSN)["pub."+tbl])
	}

	proxy.Stop()
	for v := 1; v <= 50; v++ {
		changed := []string{tables[v%5]}
		if v%3 == 0 {
			changed = append(changed, tables[(v+2)%5])
		}
		commit(v, changed...)
		if v == 17 || v == 34 {
			failing()
			e.app.Close()
			e.start(&cfg)
		}
	}
	failing()
	// While the remote is down, the newest event waits (retried with backoff; the older
	// ones were superseded by it), nothing fails.
	unprocessed := len(e.events(url.Values{"state": {"pending"}})) + len(e.events(url.Values{"state": {"running"}}))
	assert.Equal(t, 1, unprocessed)
	assert.Empty(t, e.events(url.Values{"state": {"failed"}}))
	assert.Equal(t, 1, e.pendingEvents("t0"), "the tables listing counts the repository's unprocessed events")
	proxy.Restart()

	all := e.waitEvents(2 * time.Minute)
	require.Len(t, all, 51)
	retried := 0
	for _, ev := range all {
		assert.Equal(t, "done", ev.State, "event %d: %s", ev.ID, ev.LastError)
		assert.GreaterOrEqual(t, ev.Attempts, 1)
		if ev.Attempts > 1 {
			retried++
			t.Logf("event %d (%s) done after %d attempts; last error: %s", ev.ID, ev.CommitID[:8], ev.Attempts, ev.LastError)
			assert.NotEmpty(t, ev.LastError, "event %d keeps its history", ev.ID)
		}
	}
	assert.NotZero(t, retried, "events were retried through the outage")

	remote := remoteCatalog(t, "pgx", pubDSN)
	for _, tbl := range tables {
		assert.Equal(t, latest[tbl], remote["pub."+tbl], "%s ends at its newest commit", tbl)
		assert.Equal(t, latest[tbl], e.readLakeFS("main", []string{"sales"}, tbl).MetadataLocation)
	}
	// The remote's history (the audit of every push, oldest first): no table ever moved
	// to an older version than it had.
	ops := e.auditLog(remoteID, 1000)
	at := map[string]int{}
	for i := len(ops) - 1; i >= 0; i-- {
		op := ops[i]
		if op.Operation != "auto-push" || op.Outcome != "succeeded" {
			continue
		}
		v, ok := version[op.Metadata]
		require.True(t, ok, op.Metadata)
		if prev, seen := at[op.RemoteTable]; seen {
			assert.GreaterOrEqual(t, v, prev, "%s pushed backwards", op.RemoteTable)
		}
		at[op.RemoteTable] = v
	}
	t.Logf("%s: %d events, %d retried, %d audit rows", store, len(all), retried, len(ops))
	assert.Zero(t, e.pendingEvents("t0"))
}

// pendingEvents is the tables listing's pending_events of a remote table.
func (e *env) pendingEvents(remoteTable string) int {
	r := e.call("GET", "/api/v1/iceberg/remotes/"+remoteID+"/tables", nil)
	require.Equal(e.t, 200, r.Status, r.Body)
	var list struct {
		Results []struct {
			RemoteTable   string `json:"remote_table"`
			PendingEvents int    `json:"pending_events"`
		} `json:"results"`
	}
	require.NoError(e.t, json.Unmarshal([]byte(r.Body), &list))
	for _, x := range list.Results {
		if x.RemoteTable == remoteTable {
			return x.PendingEvents
		}
	}
	e.t.Fatalf("table %s not listed", remoteTable)
	return 0
}

// TestPublicationRetriesAreBounded: an event the remote keeps refusing is retried
// max_attempts times and then failed; the branch's next event, once the remote is back,
// publishes what the failed one could not (it diffs from the last published commit).
func TestPublicationRetriesAreBounded(t *testing.T) {
	e := newBackends(t, "pointer")
	remoteDSN := pgtest.Schema(t)
	u, err := url.Parse(remoteDSN)
	require.NoError(t, err)
	proxy := tcptest.StartProxy(t, u.Host)
	u.Host = proxy.Addr
	rc := config.Remote{ID: remoteID, Type: "sql", SQL: config.SQLRemote{Driver: "postgres", DSN: u.String(), CatalogName: "lakefs"},
		Timeout: 2 * time.Second, MaxRetries: 0}
	rc.AutoPush = []config.AutoPush{{Repository: repo, Branch: "main", Namespace: "*", Table: "*", CreateNamespace: true}}
	cfg := e.baseConfig()
	cfg.IcebergCatalog.Remotes = []config.Remote{rc}
	cfg.IcebergCatalog.Publications = fastPublications() // max_attempts 3
	e.start(&cfg)

	mainHead, _ := e.lake.GetCommit(repo, "main")
	status, _ := e.postHook(hookEvent("post-commit", repo, "main", mainHead.ID), aliceHook)
	require.Equal(t, 202, status)
	e.waitEvents(time.Minute)
	require.Equal(t, e.m1, remoteCatalog(t, "pgx", remoteDSN)["accounting.events"])

	proxy.Stop()
	orders := e.authorTable([]string{"sales"}, "orders", 2)
	e.link("main", []string{"sales"}, "orders", orders, 1)
	c1, err := e.client.Commit(ctx(t), repo, "main", "orders", nil)
	require.NoError(t, err)
	status, id := e.postHook(hookEvent("post-commit", repo, "main", c1), aliceHook)
	require.Equal(t, 202, status)
	e.waitEvents(time.Minute)
	failed := e.event(id)
	assert.Equal(t, "failed", failed.State)
	assert.Equal(t, 3, failed.Attempts, "max_attempts")
	assert.Contains(t, failed.LastError, "unavailable")
	require.Len(t, failed.Results, 1)
	assert.Equal(t, "failed", failed.Results[0].Outcome)
	metrics := e.call("GET", "/metrics", nil)
	require.Equal(t, 200, metrics.Status)
	assert.Contains(t, metrics.Body, `iceberg_remotes_events{state="failed"} 1`)
	assert.Contains(t, metrics.Body, `iceberg_remotes_events{state="done"} 1`)
	assert.Contains(t, metrics.Body, "iceberg_remotes_oldest_pending_event_age_seconds 0\n")

	proxy.Restart()
	m3 := e.authorTable([]string{"later"}, "events_v3", 5)
	e.link("main", localNS, tableName, m3, 1)
	c2, err := e.client.Commit(ctx(t), repo, "main", "events", nil)
	require.NoError(t, err)
	status, id = e.postHook(hookEvent("post-commit", repo, "main", c2), aliceHook)
	require.Equal(t, 202, status)
	e.waitEvents(time.Minute)
	next := e.event(id)
	assert.Equal(t, "done", next.State, next.LastError)
	assert.Len(t, next.Results, 2, "the failed event's table and this event's")
	assert.Equal(t, map[string]string{"accounting.events": m3, "sales.orders": orders}, remoteCatalog(t, "pgx", remoteDSN))
}

// TestPublicationsAcrossReplicas: two replicas on one PostgreSQL state store both run
// workers; events posted to either are each processed once, a branch's in order.
func TestPublicationsAcrossReplicas(t *testing.T) {
	e := newBackends(t, "pointer")
	rc, writer := sqlPostgres().setup(t, e.dir)
	e.writer = writer
	rc.AutoPush = []config.AutoPush{{Repository: repo, Branch: "*", Namespace: "accounting", Table: tableName,
		DestinationNamespace: "{branch}", CreateNamespace: true}}
	cfg := e.baseConfig()
	cfg.State.Type = "postgres"
	cfg.State.Postgres.ConnectionString = pgtest.Schema(t)
	cfg.State.Postgres.MaxConnections = 12
	cfg.IcebergCatalog.Remotes = []config.Remote{rc}
	cfg.IcebergCatalog.Publications = fastPublications()
	replicas := make([]*env, 2)
	for i := range replicas {
		inst := *e
		inst.start(&cfg)
		replicas[i] = &inst
	}
	raw, err := os.ReadFile(strings.TrimPrefix(e.m1, "file://"))
	require.NoError(t, err)
	latest := map[string]string{}
	for _, b := range []string{"b1", "b2", "b3"} {
		e.lake.CreateBranch(repo, b, "main")
	}
	for v := 1; v <= 8; v++ {
		for i, b := range []string{"b1", "b2", "b3"} {
			p := filepath.Join(e.dir, "versions", b, "metadata", fmt.Sprintf("%05d-%s.metadata.json", v, uuid.NewString()))
			require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
			require.NoError(t, os.WriteFile(p, raw, 0o644))
			latest[b] = "file://" + p
			e.link(b, localNS, tableName, latest[b], 1)
			c, err := e.client.Commit(ctx(t), repo, b, fmt.Sprintf("v%d", v), nil)
			require.NoError(t, err)
			status, _ := replicas[(v+i)%2].postHook(hookEvent("post-commit", repo, b, c), aliceHook)
			require.Equal(t, 202, status)
		}
	}
	all := replicas[0].waitEvents(time.Minute)
	require.Len(t, all, 24)
	for _, ev := range all {
		assert.Equal(t, "done", ev.State, "event %d: %s", ev.ID, ev.LastError)
		assert.Equal(t, 1, ev.Attempts, "event %d was claimed once", ev.ID)
	}
	remote := remoteCatalog(t, "pgx", rc.SQL.DSN)
	for b, loc := range latest {
		assert.Equal(t, loc, remote[b+"."+tableName], "branch %s ends at its newest commit", b)
	}
}
