package api_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/api"
	"github.com/iceberg-remotes/iceberg-remotes/internal/api/apigen"
	"github.com/iceberg-remotes/iceberg-remotes/internal/apperr"
)

// BulkPush answers two tables, the second only once gate (if set) is closed, or s.err
// before any table.
func (s *recordingService) BulkPush(_ context.Context, catalog string, req apigen.IcebergBulkPushRequest, dryRun bool, emit func(apigen.IcebergBulkResult)) (apigen.IcebergBulkTotals, error) {
	s.mu.Lock()
	s.pages = append(s.pages, "bulk push "+catalog+" "+req.Source.RepositoryId+"@"+req.Source.ReferenceId)
	s.dryRuns = append(s.dryRuns, dryRun)
	err, gate := s.err, s.gate
	s.mu.Unlock()
	if err != nil {
		return apigen.IcebergBulkTotals{}, err
	}
	one := func(table string) apigen.IcebergBulkResult {
		return apigen.IcebergBulkResult{Type: "table", Source: apigen.IcebergTableName{Namespace: []string{"a"}, Table: table},
			Destination: apigen.IcebergTableName{Namespace: []string{"b"}, Table: table}, Status: 204, Outcome: "pushed"}
	}
	emit(one("t1"))
	if gate != nil {
		<-gate
	}
	emit(one("t2"))
	return apigen.IcebergBulkTotals{Type: "totals", Total: 2, Changed: 2, Status: 200}, nil
}

const bulkPushPath = "/api/v1/iceberg/remotes/glue/bulk/push"
const validBulkPush = `{"source":{"repository_id":"repo1","reference_id":"main","namespace":"sales.*"},"parallelism":4}`

func TestBulkPushJSON(t *testing.T) {
	svc := &recordingService{}
	srv := newServer(t, api.Options{Service: svc, Authenticate: allowAs("alice")})
	r := do(t, srv, "POST", bulkPushPath+"?dry_run=true", "application/json", validBulkPush)
	require.Equal(t, 200, r.status, r.body)
	assert.Equal(t, "application/json", r.header.Get("Content-Type"))
	var got apigen.IcebergBulkResponse
	require.NoError(t, json.Unmarshal([]byte(r.body), &got))
	require.Len(t, got.Results, 2)
	assert.Equal(t, "t2", got.Results[1].Source.Table)
	assert.Equal(t, 2, got.Totals.Total)
	assert.Equal(t, []bool{true}, svc.dryRuns)

	svc.err = apperr.BadRequest("destination maps tables a.x and b.x to the same remote table")
	r = do(t, srv, "POST", bulkPushPath, "application/json", validBulkPush, "Accept", api.NDJSONContentType)
	assert.Equal(t, 400, r.status, "an error before any table is an ordinary error, streamed or not")
	assert.Equal(t, "application/json", r.header.Get("Content-Type"))
	assert.Contains(t, r.message(t), "same remote table")

	for _, bad := range []string{
		`{"source":{"repository_id":"Repo!","reference_id":"main"}}`,
		`{"source":{"repository_id":"repo1","reference_id":"has space"}}`,
		`{"source":{"repository_id":"repo1","reference_id":"main"},"parallelism":0}`,
		`{"source":{"repository_id":"repo1","reference_id":"main"},"parallelism":65}`,
	} {
		r := do(t, srv, "POST", bulkPushPath, "application/json", bad)
		assert.Equal(t, 400, r.status, bad)
	}
}

// With Accept: application/x-ndjson each table's line reaches the client as soon as the
// table finishes: the first line is read while the second table is still running.
func TestBulkPushStreams(t *testing.T) {
	gate := make(chan struct{})
	svc := &recordingService{gate: gate}
	srv := newServer(t, api.Options{Service: svc, Authenticate: allowAs("alice")})
	req, err := http.NewRequest("POST", srv.URL+bulkPushPath, strings.NewReader(validBulkPush))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json;q=0.5, application/x-ndjson")
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, api.NDJSONContentType, resp.Header.Get("Content-Type"))

	lines := bufio.NewScanner(resp.Body)
	read := func() map[string]any {
		t.Helper()
		done := make(chan bool, 1)
		go func() { done <- lines.Scan() }()
		select {
		case ok := <-done:
			require.True(t, ok, "a line: %v", lines.Err())
		case <-time.After(10 * time.Second):
			t.Fatal("no line arrived")
		}
		var m map[string]any
		require.NoError(t, json.Unmarshal(lines.Bytes(), &m), lines.Text())
		return m
	}
	first := read()
	assert.Equal(t, "table", first["type"])
	assert.Equal(t, "pushed", first["outcome"])
	close(gate) // only now may the second table finish
	assert.Equal(t, "t2", read()["source"].(map[string]any)["table"])
	totals := read()
	assert.Equal(t, "totals", totals["type"])
	assert.EqualValues(t, 2, totals["total"])
	assert.False(t, lines.Scan(), "nothing after the totals")
}
