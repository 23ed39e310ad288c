package e2e

import (
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// eventRow is one event of GET /api/v1/iceberg/remotes/events.
type eventRow struct {
	ID           int64      `json:"id"`
	EventType    string     `json:"event_type"`
	RepositoryID string     `json:"repository_id"`
	BranchID     string     `json:"branch_id"`
	TagID        string     `json:"tag_id"`
	CommitID     string     `json:"commit_id"`
	State        string     `json:"state"`
	Attempts     int        `json:"attempts"`
	LastError    string     `json:"last_error"`
	Results      []bulkLine `json:"results"` // a table's result each, as a bulk push answers it
}

// postHook posts a webhook event as lakeFS does, authenticated with the header set in the
// action file's `headers`; it returns the status and the recorded event's id (0 if none).
func (e *env) postHook(body any, authorization string) (int, int64) {
	e.t.Helper()
	raw, err := json.Marshal(body)
	require.NoError(e.t, err)
	req, err := http.NewRequest("POST", e.api.URL+hookPath, strings.NewReader(string(raw)))
	require.NoError(e.t, err)
	req.Header.Set("Content-Type", "application/json")
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	res, err := e.api.Client().Do(req)
	require.NoError(e.t, err)
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	var accepted struct {
		ID int64 `json:"id"`
	}
	if res.StatusCode == 202 {
		require.NoError(e.t, json.Unmarshal(out, &accepted), string(out))
	}
	return res.StatusCode, accepted.ID
}

// events pages through GET .../events (newest first) with the given filter.
func (e *env) events(filter url.Values) []eventRow {
	var out []eventRow
	after := ""
	for page := 0; page < 1000; page++ {
		q := url.Values{"amount": {"100"}}
		for k, v := range filter {
			q[k] = v
		}
		if after != "" {
			q.Set("after", after)
		}
		r := e.call("GET", "/api/v1/iceberg/remotes/events?"+q.Encode(), nil)
		require.Equal(e.t, 200, r.Status, r.Body)
		var list struct {
			Pagination struct {
				HasMore    bool   `json:"has_more"`
				NextOffset string `json:"next_offset"`
			} `json:"pagination"`
			Results []eventRow `json:"results"`
		}
		require.NoError(e.t, json.Unmarshal([]byte(r.Body), &list))
		out = append(out, list.Results...)
		if !list.Pagination.HasMore {
			return out
		}
		after = list.Pagination.NextOffset
	}
	e.t.Fatal("events: too many pages")
	return nil
}

// event returns one event by id.
func (e *env) event(id int64) eventRow {
	e.t.Helper()
	for _, ev := range e.events(nil) {
		if ev.ID == id {
			return ev
		}
	}
	e.t.Fatalf("event %d not listed", id)
	return eventRow{}
}

// waitEvents waits until no event is pending or running and returns them all.
func (e *env) waitEvents(timeout time.Duration) []eventRow {
	e.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		all := e.events(nil)
		busy := 0
		for _, ev := range all {
			if ev.State == "pending" || ev.State == "running" {
				busy++
			}
		}
		if busy == 0 {
			return all
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("%d events still unprocessed after %s", busy, timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// remoteCatalog lists the SQL remote's tables (namespace.table → metadata location) by
// reading its iceberg_tables directly.
func remoteCatalog(t *testing.T, driver, dsn string) map[string]string {
	db, err := sql.Open(driver, dsn)
	require.NoError(t, err)
	defer db.Close()
	rows, err := db.Query(`SELECT table_namespace, table_name, metadata_location FROM iceberg_tables WHERE catalog_name = 'lakefs'`)
	require.NoError(t, err)
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var ns, name string
		var loc sql.NullString
		require.NoError(t, rows.Scan(&ns, &name, &loc))
		out[ns+"."+name] = loc.String
	}
	require.NoError(t, rows.Err())
	return out
}

// requireFilesExist checks that the metadata files at locs (file:// locations) still exist:
// un-publishing never deletes a file.
func (e *env) requireFilesExist(locs ...string) {
	e.t.Helper()
	for _, loc := range locs {
		_, err := os.Stat(strings.TrimPrefix(loc, "file://"))
		assert.NoError(e.t, err, "metadata file %s stays", loc)
	}
}

// requireAutoUnpublished checks that the audit log holds n automatic un-publications, each
// succeeded.
func (e *env) requireAutoUnpublished(n int) {
	e.t.Helper()
	unpublished := 0
	for _, op := range e.auditLog(remoteID, 100) {
		if op.Operation == "auto-unpublish" {
			assert.Equal(e.t, "succeeded", op.Outcome)
			unpublished++
		}
	}
	assert.Equal(e.t, n, unpublished)
}
