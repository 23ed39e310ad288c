package e2e

import (
	"database/sql"
	"encoding/json"
	"net/url"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/apache/iceberg-go/table"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/config"
)

// appendOnBranch plays a lakeFS-side writer: iceberg-go appends n rows on top of the
// metadata file at base (registered in a private SQL catalog so that iceberg-go writes the
// next metadata file itself), links the result on etl-42 and commits it. It returns the
// new metadata location.
func (e *env) appendOnBranch(base string, n int) string {
	return e.appendOnBranchAt("etl-42", localNS, tableName, base, n)
}

// lakeFSAppendVersion numbers the hadoop-layout versions appendOnBranchAt links.
var lakeFSAppendVersion atomic.Int64

func init() { lakeFSAppendVersion.Store(100) }

// appendOnBranchAt is appendOnBranch for table ns.target on branch.
func (e *env) appendOnBranchAt(branch string, ns []string, target, base string, n int) string {
	t := e.t
	name := "w" + uuid.NewString()[:8]
	dsn := "file:" + filepath.Join(e.dir, name+".db")
	cat := sqlWriter(t, "sqlite", dsn, filepath.Join(e.dir, name))
	c := ctx(t)
	require.NoError(t, cat.CreateNamespace(c, []string{"w"}, nil))
	// iceberg-go v0.7.0's SQL catalog has no RegisterTable: register as its schema does.
	db, err := sql.Open("sqlite", dsn)
	require.NoError(t, err)
	defer db.Close()
	_, err = db.ExecContext(c, `INSERT INTO iceberg_tables (catalog_name, table_namespace, table_name, metadata_location)
		VALUES ('lakefs', 'w', ?, ?)`, name, base)
	require.NoError(t, err)
	tbl, err := cat.LoadTable(c, table.Identifier{"w", name})
	require.NoError(t, err)
	data := rows(5000, n)
	defer data.Release()
	tbl, err = tbl.AppendTable(c, data, 1024, nil)
	require.NoError(t, err)
	loc := tbl.MetadataLocation()
	// Hadoop versions: far above what the service's pulls have written so far, and rising
	// from one append to the next as a Hadoop writer's do (a random version could fall below
	// the previous one, and then the newest file would not be the highest v<N>).
	e.link(branch, ns, target, loc, int(lakeFSAppendVersion.Add(1)))
	_, err = e.client.Commit(c, repo, branch, "lakeFS-side append", nil)
	require.NoError(t, err)
	return loc
}

// auditRow is one row of GET .../operations.
type auditRow struct {
	ID          int64     `json:"id"`
	Operation   string    `json:"operation"`
	User        string    `json:"user"`
	RemoteTable string    `json:"remote_table"`
	ReferenceID string    `json:"reference_id"`
	StatusCode  int       `json:"status_code"`
	Outcome     string    `json:"outcome"`
	Error       string    `json:"error"`
	Commit      string    `json:"lakefs_commit"`
	Metadata    string    `json:"metadata_location"`
	StartedAt   time.Time `json:"started_at"`
	FinishedAt  time.Time `json:"finished_at"`
}

// auditLog pages through the whole audit log of remote id (newest first), amount rows a
// page, as a client follows next_offset.
func (e *env) auditLog(id string, amount int) []auditRow {
	var out []auditRow
	after := ""
	for page := 0; page < 1000; page++ {
		q := url.Values{"amount": {itoa(amount)}}
		if after != "" {
			q.Set("after", after)
		}
		r := e.call("GET", "/api/v1/iceberg/remotes/"+id+"/operations?"+q.Encode(), nil)
		require.Equal(e.t, 200, r.Status, r.Body)
		var list struct {
			Pagination struct {
				HasMore    bool   `json:"has_more"`
				NextOffset string `json:"next_offset"`
			}
			Results []auditRow
		}
		require.NoError(e.t, json.Unmarshal([]byte(r.Body), &list))
		require.LessOrEqual(e.t, len(list.Results), amount)
		out = append(out, list.Results...)
		if !list.Pagination.HasMore {
			return out
		}
		after = list.Pagination.NextOffset
	}
	e.t.Fatal("operations: pagination does not end")
	return nil
}

// baseConfig is newEnv's service configuration without remotes.
func (e *env) baseConfig() config.Config {
	cfg := config.Defaults()
	cfg.State.SQLite.Path = filepath.Join(e.dir, "state.db")
	cfg.LakeFS.Endpoint = e.lake.URL()
	cfg.LakeFS.AccessKeyID, cfg.LakeFS.SecretAccessKey = "AKIASVC", "svc-secret"
	cfg.Auth.Encrypt.SecretKey = secret
	cfg.Tables.Layout = e.layout
	cfg.Tables.WarehousePrefix = "warehouse"
	return cfg
}
