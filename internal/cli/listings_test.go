package cli_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/api/apiclient"
)

// pagedTables serves n synced tables, pages of ?amount= after ?after= (the last table
// name), and records every query.
func pagedTables(t *testing.T, n int) (*httptest.Server, func() []url.Values) {
	var mu sync.Mutex
	var queries []url.Values
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		mu.Lock()
		queries = append(queries, q)
		mu.Unlock()
		amount, _ := strconv.Atoi(q.Get("amount"))
		start := 0
		if a := q.Get("after"); a != "" {
			start, _ = strconv.Atoi(strings.TrimPrefix(a, "t"))
			start++
		}
		list := apiclient.IcebergSyncedTableList{Results: []apiclient.IcebergSyncedTable{}}
		for i := start; i < n && i < start+amount; i++ {
			list.Results = append(list.Results, apiclient.IcebergSyncedTable{
				RemoteNamespace: []string{"analytics"}, RemoteTable: fmt.Sprintf("t%d", i),
				RepositoryId: "example", ReferenceId: "main", Namespace: []string{"accounting"}, Table: fmt.Sprintf("t%d", i),
				State: apiclient.IcebergSyncedTableState([]string{"in_sync", "remote_ahead", "missing"}[i%3]), Status: "synced",
			})
		}
		last := start + len(list.Results) - 1
		list.Pagination = apiclient.Pagination{HasMore: last < n-1, MaxPerPage: amount, Results: len(list.Results), NextOffset: fmt.Sprintf("t%d", last)}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(list)
	}))
	t.Cleanup(srv.Close)
	return srv, func() []url.Values { mu.Lock(); defer mu.Unlock(); return queries }
}

// TestStatusPaginationAndFilters: one page by default with a hint for the next, every
// page with --all, and --state/--repository sent as the listing's query parameters.
func TestStatusPaginationAndFilters(t *testing.T) {
	srv, queries := pagedTables(t, 7)
	env := []string{"ICEBERG_REMOTES_URL=" + srv.URL}

	r := execute(t, env, false, "status", "local", "--amount", "3", "--state", "remote_ahead", "--repository", "example")
	require.NoError(t, r.err)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	assert.Regexp(t, `^REMOTE TABLE\s+STATE\s+STATUS\s+REPOSITORY\s+REF\s+TABLE`, lines[0])
	assert.Regexp(t, `^analytics\.t1\s+remote_ahead\s+synced\s+example\s+main\s+accounting\.t1`, lines[2])
	assert.Contains(t, r.stdout, "run again with --after t2 (or --all)")
	assert.Equal(t, url.Values{"amount": {"3"}, "state": {"remote_ahead"}, "repository": {"example"}}, queries()[0])

	r = execute(t, env, false, "status", "local", "--amount", "3", "--all")
	require.NoError(t, r.err)
	for i := range 7 {
		assert.Contains(t, r.stdout, fmt.Sprintf("analytics.t%d ", i))
	}
	assert.NotContains(t, r.stdout, "--after")
	qs := queries()[1:]
	require.Len(t, qs, 3, "7 tables in pages of 3")
	assert.Equal(t, "", qs[0].Get("after"))
	assert.Equal(t, "t2", qs[1].Get("after"))
	assert.Equal(t, "t5", qs[2].Get("after"))

	r = execute(t, env, false, "status", "local", "--after", "t4", "-o", "json")
	require.NoError(t, r.err)
	var list apiclient.IcebergSyncedTableList
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &list))
	assert.Len(t, list.Results, 2)

	r = execute(t, env, false, "status", "local", "--amount", "0")
	require.Error(t, r.err, "amount is checked before any call")
}

// TestOperationsTable renders the audit log with its columns.
func TestOperationsTable(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, "/api/v1/iceberg/remotes/local/operations", r.URL.Path)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"pagination":{"has_more":false,"max_per_page":100,"results":2,"next_offset":""},"results":[
 {"id":2,"operation":"pull","outcome":"failed","status_code":409,"user":"alice","remote_namespace":["analytics"],"remote_table":"events",
  "repository_id":"example","reference_id":"etl-42","namespace":["accounting"],"table":"events","error":"both sides changed","started_at":"2026-11-30T10:00:01Z","duration_ms":1500},
 {"id":1,"operation":"push","outcome":"succeeded","status_code":204,"user":"alice","remote_namespace":["analytics"],"remote_table":"events",
  "repository_id":"example","reference_id":"main","namespace":["accounting"],"table":"events","lakefs_commit":"0123456789abcdef0123","started_at":"2026-11-30T10:00:00Z","duration_ms":42}]}`))
	}))
	t.Cleanup(srv.Close)
	r := execute(t, []string{"ICEBERG_REMOTES_URL=" + srv.URL}, false, "operations", "local")
	require.NoError(t, r.err)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	require.Len(t, lines, 3)
	assert.Regexp(t, `^ID\s+STARTED\s+OPERATION\s+OUTCOME\s+STATUS\s+USER\s+REMOTE TABLE\s+SOURCE\s+COMMIT\s+DURATION\s+ERROR$`, lines[0])
	assert.Regexp(t, `^2\s+2026-11-30 10:00:01\s+pull\s+failed\s+409\s+alice\s+analytics\.events\s+example@etl-42 accounting\.events\s+1\.5s\s+both sides changed$`, lines[1])
	assert.Regexp(t, `^1\s+2026-11-30 10:00:00\s+push\s+succeeded\s+204\s+alice\s+analytics\.events\s+example@main accounting\.events\s+0123456789a…\s+42ms`, lines[2])
}

// TestRetriesOnlyReads: a listing (GET) that meets 503 is retried a bounded number of
// times; a push (POST) is sent once, whatever the answer.
func TestRetriesOnlyReads(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(`{"message":"lakeFS is not reachable"}`))
	}))
	t.Cleanup(srv.Close)
	env := []string{"ICEBERG_REMOTES_URL=" + srv.URL}
	r := execute(t, env, false, "status", "local", "--retries", "2")
	require.Error(t, r.err)
	assert.Contains(t, r.err.Error(), "lakeFS is not reachable: 503")
	assert.EqualValues(t, 3, calls.Load(), "one attempt and two retries")

	calls.Store(0)
	r = execute(t, env, false, "push", "local", "--repository", "example", "--ref", "main", "--table", "a.b", "--retries", "2")
	require.Error(t, r.err)
	assert.EqualValues(t, 1, calls.Load(), "writes are never retried")
}
