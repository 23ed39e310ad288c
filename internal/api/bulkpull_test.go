package api_test

import (
	"bufio"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/api"
	"github.com/iceberg-remotes/iceberg-remotes/internal/api/apigen"
	"github.com/iceberg-remotes/iceberg-remotes/internal/apperr"
)

// BulkPull answers two tables pulled in one commit, or, when the request's message is
// "conflict", the second failing and the first blocked (nothing committed); s.err before
// any table.
func (s *recordingService) BulkPull(_ context.Context, catalog string, req apigen.IcebergBulkPullRequest, dryRun bool, emit func(apigen.IcebergBulkResult)) (apigen.IcebergBulkTotals, error) {
	s.mu.Lock()
	s.pages = append(s.pages, "bulk pull "+catalog+" "+req.Destination.RepositoryId+"@"+req.Destination.ReferenceId+" "+req.Source.Namespace+"/"+req.Source.Table)
	s.dryRuns = append(s.dryRuns, dryRun)
	err := s.err
	s.mu.Unlock()
	if err != nil {
		return apigen.IcebergBulkTotals{}, err
	}
	one := func(table, outcome string, status int) apigen.IcebergBulkResult {
		return apigen.IcebergBulkResult{Type: "table", Source: apigen.IcebergTableName{Namespace: []string{"b"}, Table: table},
			Destination: apigen.IcebergTableName{Namespace: []string{"a"}, Table: table}, Status: status, Outcome: apigen.IcebergBulkResultOutcome(outcome)}
	}
	if req.Message == "conflict" {
		emit(one("t1", "blocked", 409))
		emit(one("t2", "failed", 409))
		return apigen.IcebergBulkTotals{Type: "totals", Total: 2, Failed: 1, Blocked: 1, Status: 409, Message: "both sides changed"}, nil
	}
	emit(one("t1", "pulled", 204))
	emit(one("t2", "pulled", 204))
	return apigen.IcebergBulkTotals{Type: "totals", Total: 2, Changed: 2, Status: 200, CommitId: "c0ffee"}, nil
}

const bulkPullPath = "/api/v1/iceberg/remotes/glue/bulk/pull"
const validBulkPull = `{"source":{"namespace":"b","table":"t*"},"destination":{"repository_id":"repo1","reference_id":"etl-42"}}`

func TestBulkPullHandler(t *testing.T) {
	svc := &recordingService{}
	srv := newServer(t, api.Options{Service: svc, Authenticate: allowAs("alice")})

	r := do(t, srv, "POST", bulkPullPath, "application/json", validBulkPull)
	require.Equal(t, 200, r.status, r.body)
	assert.Equal(t, "application/json", r.header.Get("Content-Type"))
	var got apigen.IcebergBulkResponse
	require.NoError(t, json.Unmarshal([]byte(r.body), &got))
	require.Len(t, got.Results, 2)
	assert.Equal(t, "c0ffee", got.Totals.CommitId)

	// A failed check: that failure's status, lakeFS's message, and every table's result.
	conflict := strings.Replace(validBulkPull, `"source"`, `"message":"conflict","source"`, 1)
	r = do(t, srv, "POST", bulkPullPath, "application/json", conflict)
	require.Equal(t, 409, r.status, r.body)
	assert.Equal(t, "application/json", r.header.Get("Content-Type"))
	assert.Equal(t, "both sides changed", r.message(t))
	var failure struct {
		Message string
		Results []apigen.IcebergBulkResult
		Totals  apigen.IcebergBulkTotals
	}
	require.NoError(t, json.Unmarshal([]byte(r.body), &failure))
	require.Len(t, failure.Results, 2)
	assert.Equal(t, apigen.IcebergBulkResultOutcome("blocked"), failure.Results[0].Outcome)
	assert.Equal(t, 1, failure.Totals.Blocked)

	// The dry run of the same answers 200 with the would-be status in the totals.
	r = do(t, srv, "POST", bulkPullPath+"?dry_run=true", "application/json", conflict)
	require.Equal(t, 200, r.status, r.body)
	require.NoError(t, json.Unmarshal([]byte(r.body), &got))
	assert.Equal(t, 409, got.Totals.Status)

	// Streamed: one line per table, then the totals.
	r = do(t, srv, "POST", bulkPullPath, "application/json", validBulkPull, "Accept", api.NDJSONContentType)
	require.Equal(t, 200, r.status, r.body)
	assert.Equal(t, api.NDJSONContentType, r.header.Get("Content-Type"))
	var lines []map[string]any
	sc := bufio.NewScanner(strings.NewReader(r.body))
	for sc.Scan() {
		var m map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &m))
		lines = append(lines, m)
	}
	require.Len(t, lines, 3)
	assert.Equal(t, "table", lines[0]["type"])
	assert.Equal(t, "totals", lines[2]["type"])
	assert.Equal(t, "c0ffee", lines[2]["commit_id"])

	svc.err = apperr.NotFound("remote catalog \"glue\" not found")
	r = do(t, srv, "POST", bulkPullPath, "application/json", validBulkPull)
	assert.Equal(t, 404, r.status)
	svc.err = nil

	for _, bad := range []string{``, `{}`, `{"destination":{"repository_id":"Bad Repo","reference_id":"main"}}`,
		`{"destination":{"repository_id":"repo1","reference_id":"has space"}}`} {
		r = do(t, srv, "POST", bulkPullPath, "application/json", bad)
		assert.Equal(t, 400, r.status, "%q: %s", bad, r.body)
	}
	assert.Len(t, svc.pages, 5, "invalid requests never reach the service: %v", svc.pages)
	assert.Equal(t, "bulk pull glue repo1@etl-42 b/t*", svc.pages[0])
}
