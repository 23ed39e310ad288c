package cli_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/api/apiclient"
)

// bulkRequest is what the stand-in saw of a bulk call.
type bulkRequest struct {
	Path, Accept, RawQuery, Auth string
	Body                         map[string]any
}

// ndjsonServer plays the server side of a streamed bulk call, as api/openapi.yaml
// specifies it: one IcebergBulkResult per line, flushed as each table finishes, then one
// IcebergBulkTotals line. lines are written with a short pause between them.
func ndjsonServer(t *testing.T, lines []any) (*httptest.Server, func() bulkRequest) {
	var mu sync.Mutex
	var seen bulkRequest
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		mu.Lock()
		seen = bulkRequest{Path: r.URL.Path, Accept: r.Header.Get("Accept"), RawQuery: r.URL.RawQuery, Auth: r.Header.Get("Authorization")}
		_ = json.Unmarshal(raw, &seen.Body)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-ndjson")
		w.WriteHeader(http.StatusOK)
		enc := json.NewEncoder(w)
		for _, l := range lines {
			_ = enc.Encode(l)
			w.(http.Flusher).Flush()
			time.Sleep(5 * time.Millisecond)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, func() bulkRequest { mu.Lock(); defer mu.Unlock(); return seen }
}

func tableLine(src, dst string, status int, outcome, msg string) apiclient.IcebergBulkResult {
	name := func(s string) apiclient.IcebergTableName {
		i := strings.LastIndex(s, ".")
		return apiclient.IcebergTableName{Namespace: strings.Split(s[:i], "."), Table: s[i+1:]}
	}
	r := apiclient.IcebergBulkResult{Type: apiclient.Table, Source: name(src), Destination: name(dst), Status: status, Outcome: apiclient.IcebergBulkResultOutcome(outcome)}
	if msg != "" {
		r.Message = &msg
	}
	return r
}

func totalsLine(total, changed, unchanged, failed, status int) apiclient.IcebergBulkTotals {
	return apiclient.IcebergBulkTotals{Type: apiclient.Totals, Total: total, Changed: changed, Unchanged: unchanged, Failed: failed, Status: status}
}

var mixedStream = []any{
	tableLine("sales.orders", "lake_sales.orders", 204, "pushed", ""),
	tableLine("sales.returns", "lake_sales.returns", 204, "unchanged", ""),
	tableLine("sales.refunds", "lake_sales.refunds", 409, "failed", "remote table exists with another state; use force_update"),
	totalsLine(3, 1, 1, 1, 409),
}

// TestBulkPushLinePerTableWithoutTerminal: the request carries every flag as the spec's
// IcebergBulkPushRequest and asks for NDJSON; without a terminal each table is one line;
// the totals are printed and a failed table makes the exit code 1.
func TestBulkPushLinePerTableWithoutTerminal(t *testing.T) {
	srv, seen := ndjsonServer(t, mixedStream)
	r := execute(t, []string{"ICEBERG_REMOTES_URL=" + srv.URL, "ICEBERG_REMOTES_TOKEN=tok"}, false,
		"bulk-push", "local", "--repository", "example", "--ref", "main", "--namespace", "sales.*", "--table", "or*",
		"--to-namespace", "lake_{namespace}", "--create-namespace", "--parallelism", "4")
	require.Error(t, r.err)
	assert.Contains(t, r.err.Error(), "1 of 3 tables failed")

	req := seen()
	assert.Equal(t, "/api/v1/iceberg/remotes/local/bulk/push", req.Path)
	assert.Equal(t, "application/x-ndjson", req.Accept)
	assert.Empty(t, req.RawQuery, "no dry_run unless asked")
	assert.Equal(t, "Bearer tok", req.Auth)
	assert.Equal(t, map[string]any{
		"source":           map[string]any{"repository_id": "example", "reference_id": "main", "namespace": "sales.*", "table": "or*"},
		"destination":      map[string]any{"namespace": "lake_{namespace}"},
		"force_update":     false,
		"create_namespace": true,
		"parallelism":      float64(4),
	}, req.Body)

	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	require.Len(t, lines, 4, r.stdout)
	assert.Regexp(t, `^pushed\s+sales\.orders -> lake_sales\.orders$`, lines[0])
	assert.Regexp(t, `^unchanged\s+sales\.returns -> lake_sales\.returns$`, lines[1])
	assert.Regexp(t, `^failed\s+sales\.refunds -> lake_sales\.refunds \(409\) remote table exists`, lines[2])
	assert.Equal(t, "bulk-push: 3 tables: 1 changed, 1 unchanged, 1 failed, 0 blocked.", lines[3])
	assert.Empty(t, r.stderr, "no progress bar without a terminal")
}

// TestBulkPushProgressBarOnTerminal: on a terminal the stream drives a progress bar on
// stderr (count and rate), failed tables are printed above it, the totals go to stdout.
func TestBulkPushProgressBarOnTerminal(t *testing.T) {
	var stream []any
	for i := range 20 {
		stream = append(stream, tableLine(fmt.Sprintf("ns.t%02d", i), fmt.Sprintf("ns.t%02d", i), 204, "pushed", ""))
	}
	stream = append(stream, tableLine("ns.bad", "ns.bad", 404, "failed", "remote namespace ns not found"), totalsLine(21, 20, 0, 1, 404))
	srv, _ := ndjsonServer(t, stream)
	r := execute(t, []string{"ICEBERG_REMOTES_URL=" + srv.URL}, true, "bulk-push", "local", "--repository", "example", "--ref", "main")
	require.Error(t, r.err)
	assert.Contains(t, r.stderr, "bulk-push: 21 tables, 20 changed, 0 unchanged, 1 failed", "the bar counts the stream")
	assert.Contains(t, r.stderr, "tables/s", "and shows the rate")
	assert.Contains(t, r.stderr, "\r", "the bar redraws in place")
	assert.Contains(t, r.stderr, "failed    ns.bad -> ns.bad (404) remote namespace ns not found")
	assert.NotContains(t, r.stdout, "ns.t05", "succeeded tables are not listed one by one on a terminal")
	assert.Contains(t, r.stdout, "bulk-push: 21 tables: 20 changed, 0 unchanged, 1 failed, 0 blocked.")

	// --no-progress prints lines even on a terminal.
	r = execute(t, []string{"ICEBERG_REMOTES_URL=" + srv.URL}, true, "bulk-push", "local", "--repository", "example", "--ref", "main", "--no-progress")
	assert.Contains(t, r.stdout, "ns.t05 -> ns.t05")
	assert.Empty(t, r.stderr)
}

// TestBulkPullDryRunSucceeds: bulk-pull sends its request and dry_run=true; planned tables
// and a clean totals line exit 0.
func TestBulkPullDryRunSucceeds(t *testing.T) {
	commit := "c0ffee"
	tot := totalsLine(2, 2, 0, 0, 200)
	tot.CommitId = &commit
	srv, seen := ndjsonServer(t, []any{
		tableLine("analytics.a", "accounting.a", 204, "planned", ""),
		tableLine("analytics.b", "accounting.b", 204, "planned", ""),
		tot,
	})
	r := execute(t, []string{"ICEBERG_REMOTES_URL=" + srv.URL}, false, "bulk-pull", "local", "--repository", "example",
		"--branch", "etl-42", "--table", "*", "--message", "nightly", "--dry-run")
	require.NoError(t, r.err, r.stdout)
	req := seen()
	assert.Equal(t, "/api/v1/iceberg/remotes/local/bulk/pull", req.Path)
	assert.Equal(t, "dry_run=true", req.RawQuery)
	assert.Equal(t, map[string]any{
		"source":       map[string]any{"table": "*"},
		"destination":  map[string]any{"repository_id": "example", "reference_id": "etl-42"},
		"force_update": false,
		"message":      "nightly",
	}, req.Body)
	assert.Contains(t, r.stdout, "planned   analytics.a -> accounting.a")
	assert.Contains(t, r.stdout, "bulk-pull: 2 tables: 2 changed, 0 unchanged, 0 failed, 0 blocked. lakeFS commit c0ffee.")
}

// TestBulkPullBlockedFails: in an atomic bulk pull, one conflict blocks the others; the
// command fails and says so.
func TestBulkPullBlockedFails(t *testing.T) {
	blocked := 1
	tot := totalsLine(2, 0, 0, 1, 409)
	tot.Blocked = &blocked
	srv, _ := ndjsonServer(t, []any{
		tableLine("analytics.a", "accounting.a", 409, "failed", "both sides changed"),
		tableLine("analytics.b", "accounting.b", 204, "blocked", "not committed: another table failed"),
		tot,
	})
	r := execute(t, []string{"ICEBERG_REMOTES_URL=" + srv.URL}, false, "bulk-pull", "local", "--repository", "example", "--branch", "etl-42")
	require.Error(t, r.err)
	assert.Contains(t, r.err.Error(), "1 of 2 tables failed, 1 blocked")
	assert.Contains(t, r.stdout, "blocked   analytics.b -> accounting.b (204) not committed")
}

// TestBulkStreamCutBeforeTotals: a stream that ends without its totals line is a failure
// (the remaining tables' outcome is unknown), even when every line so far succeeded.
func TestBulkStreamCutBeforeTotals(t *testing.T) {
	srv, _ := ndjsonServer(t, []any{tableLine("a.b", "a.b", 204, "pushed", "")})
	r := execute(t, []string{"ICEBERG_REMOTES_URL=" + srv.URL}, false, "bulk-push", "local", "--repository", "example", "--ref", "main")
	require.Error(t, r.err)
	assert.Contains(t, r.err.Error(), "ended before its totals")
	assert.Contains(t, r.stdout, "pushed    a.b -> a.b")
}

// TestBulkStreamIdleTimeout: a server that stops sending lines is cut after --timeout.
func TestBulkStreamIdleTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-ndjson")
		_ = json.NewEncoder(w).Encode(tableLine("a.b", "a.b", 204, "pushed", ""))
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	start := time.Now()
	r := execute(t, []string{"ICEBERG_REMOTES_URL=" + srv.URL}, false, "bulk-push", "local", "--repository", "example", "--ref", "main", "--timeout", "300ms")
	require.Error(t, r.err)
	assert.Contains(t, r.err.Error(), "no progress from the server for 300ms")
	assert.Less(t, time.Since(start), 10*time.Second)
}

// TestBulkPlainJSONAnswer: a server that answers plain JSON (IcebergBulkResponse) instead
// of the stream is read the same way.
func TestBulkPlainJSONAnswer(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(apiclient.IcebergBulkResponse{
			Results: []apiclient.IcebergBulkResult{tableLine("a.b", "a.b", 204, "unchanged", "")},
			Totals:  totalsLine(1, 0, 1, 0, 200),
		})
	}))
	t.Cleanup(srv.Close)
	r := execute(t, []string{"ICEBERG_REMOTES_URL=" + srv.URL}, false, "bulk-push", "local", "--repository", "example", "--ref", "main")
	require.NoError(t, r.err)
	assert.Contains(t, r.stdout, "unchanged a.b -> a.b")
	assert.Contains(t, r.stdout, "1 tables: 0 changed, 1 unchanged")
}

// TestErrorsShowTheServersMessage: an error answer is reported with its JSON message and
// status, for the bulk endpoints (501 while a server does not implement them) and the
// others alike.
func TestErrorsShowTheServersMessage(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case strings.HasSuffix(r.URL.Path, "/bulk/push"):
			w.WriteHeader(http.StatusNotImplemented)
			_, _ = w.Write([]byte(`{"message":"bulk push is not implemented"}`))
		case strings.HasSuffix(r.URL.Path, "/push"):
			w.WriteHeader(http.StatusConflict)
			_, _ = w.Write([]byte(`{"message":"remote table analytics.events exists with another state"}`))
		default:
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"message":"remote catalog nope not found"}`))
		}
	}))
	t.Cleanup(srv.Close)
	env := []string{"ICEBERG_REMOTES_URL=" + srv.URL}
	r := execute(t, env, false, "bulk-push", "local", "--repository", "example", "--ref", "main")
	require.Error(t, r.err)
	assert.Equal(t, "bulk push is not implemented: 501 Not Implemented (this server does not implement the operation yet)", r.err.Error())

	r = execute(t, env, false, "push", "local", "--repository", "example", "--ref", "main", "--table", "accounting.events", "--remote-table", "analytics.events")
	require.Error(t, r.err)
	assert.Equal(t, "remote table analytics.events exists with another state: 409 Conflict", r.err.Error())

	r = execute(t, env, false, "status", "nope")
	require.Error(t, r.err)
	assert.Equal(t, "remote catalog nope not found: 404 Not Found", r.err.Error())
}
