package cli_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestWriteCommandsSendTheSpecsBodies: push, pull and unpublish send the spec's request
// bodies (dotted names split into namespace and table, the remote name defaulting to the
// lakeFS name) and --dry-run as dry_run=true; a dry run's plan is printed, and fails the
// command when the real call would fail.
func TestWriteCommandsSendTheSpecsBodies(t *testing.T) {
	var path, query string
	var body map[string]any
	plan := ""
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path, query = r.URL.Path, r.URL.RawQuery
		raw, _ := io.ReadAll(r.Body)
		body = nil
		_ = json.Unmarshal(raw, &body)
		if query == "dry_run=true" {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(plan))
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	env := []string{"ICEBERG_REMOTES_URL=" + srv.URL}

	r := execute(t, env, false, "push", "local", "--repository", "example", "--ref", "main", "--table", "accounting.tax.events", "--force", "--create-namespace")
	require.NoError(t, r.err)
	assert.Equal(t, "/api/v1/iceberg/remotes/local/push", path)
	assert.Equal(t, map[string]any{
		"source":           map[string]any{"repository_id": "example", "reference_id": "main", "namespace": []any{"accounting", "tax"}, "table": "events"},
		"destination":      map[string]any{"namespace": []any{"accounting", "tax"}, "table": "events"},
		"force_update":     true,
		"create_namespace": true,
	}, body)
	assert.Equal(t, "Pushed example@main accounting.tax.events to local as accounting.tax.events.\n", r.stdout)

	r = execute(t, env, false, "pull", "local", "--repository", "example", "--branch", "etl-42", "--table", "accounting.events", "--remote-table", "analytics.events")
	require.NoError(t, r.err)
	assert.Equal(t, "/api/v1/iceberg/remotes/local/pull", path)
	assert.Equal(t, map[string]any{
		"source":           map[string]any{"namespace": []any{"analytics"}, "table": "events"},
		"destination":      map[string]any{"repository_id": "example", "reference_id": "etl-42", "namespace": []any{"accounting"}, "table": "events"},
		"force_update":     false,
		"create_namespace": false,
	}, body)

	r = execute(t, env, false, "unpublish", "local", "--remote-table", "analytics.events", "--force")
	require.NoError(t, r.err)
	assert.Equal(t, "/api/v1/iceberg/remotes/local/unpublish", path)
	assert.Equal(t, map[string]any{"source": map[string]any{"namespace": []any{"analytics"}, "table": "events"}, "force": true}, body)
	assert.Contains(t, r.stdout, "no file was deleted")

	plan = `{"operation":"push","dry_run":true,"status":204,"checks":[{"name":"lakefs_table","ok":true,"message":"found"}],"actions":["register analytics.events"]}`
	r = execute(t, env, false, "push", "local", "--repository", "example", "--ref", "main", "--table", "accounting.events", "--dry-run")
	require.NoError(t, r.err)
	assert.Equal(t, "dry_run=true", query)
	assert.Contains(t, r.stdout, "Dry run of push: nothing was changed.")
	assert.Regexp(t, `lakefs_table\s+yes\s+found`, r.stdout)
	assert.Contains(t, r.stdout, "- register analytics.events")
	assert.Contains(t, r.stdout, "The real call would answer 204.")

	plan = `{"operation":"unpublish","dry_run":true,"status":409,"message":"not pushed by this service","checks":[{"name":"sync_record","ok":false,"message":"none"}],"actions":[]}`
	r = execute(t, env, false, "unpublish", "local", "--remote-table", "analytics.events", "--dry-run")
	require.Error(t, r.err)
	assert.Contains(t, r.err.Error(), "the real call would fail: not pushed by this service: 409")
	assert.Regexp(t, `sync_record\s+NO\s+none`, r.stdout)

	r = execute(t, env, false, "push", "local", "--repository", "example", "--ref", "main", "--table", "events")
	require.Error(t, r.err, "a table name needs its namespace")
	assert.Contains(t, r.err.Error(), "want namespace.table")
	r = execute(t, env, false, "push", "local", "--repository", "example", "--table", "a.b")
	require.Error(t, r.err)
	assert.Contains(t, r.err.Error(), `"ref" not set`)
}
