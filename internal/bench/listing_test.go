package bench

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue/types"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog/gluecat"
	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog/gluecat/gluetest"
	"github.com/iceberg-remotes/iceberg-remotes/internal/config"
	"github.com/iceberg-remotes/iceberg-remotes/internal/lakefs/lakefstest"
	"github.com/iceberg-remotes/iceberg-remotes/internal/server"
	"github.com/iceberg-remotes/iceberg-remotes/internal/state"
)

const (
	listRecords = 10_000
	// listNamespaces remote namespaces of 1,000 tables each (Glue databases): a listing page
	// covers one of them.
	listNamespaces = 10
	listPage       = 1000
)

// listingEnv: 10,000 distinct tables committed in lakeFS (pointer layout, linked at
// locations the listing never reads), each published to its own remote table, all in sync.
type listingEnv struct {
	env
	glue *gluetest.Server // nil on the SQL remote
}

func listLocation(i int) string {
	return fmt.Sprintf("s3://bucket/tables/t%05d/metadata/00001-%08d-0000-0000-0000-000000000000.metadata.json", i, i)
}

func newListingEnv(b *testing.B, kind string) *listingEnv {
	b.Helper()
	dir := b.TempDir()
	e := &listingEnv{}
	e.lake = lakefstest.NewServer(b, lakefstest.Options{JWTSecret: []byte(secret)})
	e.lake.AddUser("alice", "AKIAALICE", "alice-secret", lakefstest.FullAccess)
	e.lake.CreateRepository("example", "s3://bucket/example", "main")
	e.token = e.lake.Token("alice", time.Hour)
	for i := range listRecords {
		e.lake.LinkObject("example", "main", fmt.Sprintf("_lakefs_tables/iceberg/accounting/t%05d/metadata.json", i), listLocation(i), 1000, "00")
	}
	commit := e.lake.CommitBranch("example", "main", "tables")

	cfg := config.Defaults()
	cfg.State.SQLite.Path = filepath.Join(dir, "state.db")
	cfg.LakeFS.Endpoint = e.lake.URL()
	cfg.Auth.Encrypt.SecretKey = secret
	remote := config.Remote{ID: "local", Type: kind, Timeout: 10 * time.Second, MaxRetries: 2}
	switch kind {
	case "sql":
		remote.SQL = config.SQLRemote{Driver: "sqlite", DSN: "file:" + filepath.Join(dir, "remote.db"), CatalogName: "lakefs"}
	case "glue":
		b.Setenv("AWS_CONFIG_FILE", "/nonexistent")
		b.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
		b.Setenv("AWS_EC2_METADATA_DISABLED", "true")
		e.glue = gluetest.New(b)
		remote.Glue = e.glue.Config()
	}
	cfg.IcebergCatalog.Remotes = []config.Remote{remote}
	require.NoError(b, cfg.Validate())
	ctx := context.Background()
	var err error
	e.app, err = server.New(ctx, &cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(b, err)
	b.Cleanup(func() { e.app.Close() })
	e.api = httptest.NewServer(e.app.Handler)
	b.Cleanup(e.api.Close)

	for i := range listRecords {
		ns := fmt.Sprintf("analytics%d", i/(listRecords/listNamespaces))
		rec := state.SyncRecord{TableKey: state.TableKey{Catalog: "local", Namespace: []string{ns}, Table: fmt.Sprintf("r%05d", i)},
			Repository: "example", Reference: "main", LocalNamespace: []string{"accounting"}, LocalTable: fmt.Sprintf("t%05d", i),
			ResolvedCommit: commit, PushedLocation: listLocation(i), RemoteLocation: listLocation(i), LakeFSLocation: listLocation(i),
			Status: state.StatusSynced}
		require.NoError(b, e.app.Store.CreateSyncRecord(ctx, &rec))
		if e.glue != nil {
			e.glue.PutTable(ns, types.TableInput{Name: aws.String(rec.Table), TableType: aws.String("EXTERNAL_TABLE"),
				Parameters: map[string]string{gluecat.ParamTableType: gluecat.IcebergTableType, gluecat.ParamMetadataLocation: listLocation(i)}})
		}
	}
	if kind == "sql" {
		// The adapter creates the catalog schema on its first call; then rows go in directly.
		require.NoError(b, e.app.Service.Ready(ctx))
		db, err := sql.Open("sqlite", filepath.Join(dir, "remote.db"))
		require.NoError(b, err)
		defer db.Close()
		tx, err := db.BeginTx(ctx, nil)
		require.NoError(b, err)
		for i := range listRecords {
			_, err := tx.ExecContext(ctx, `INSERT INTO iceberg_tables (catalog_name, table_namespace, table_name, iceberg_type, metadata_location)
				VALUES ('lakefs', ?, ?, 'TABLE', ?)`, fmt.Sprintf("analytics%d", i/(listRecords/listNamespaces)), fmt.Sprintf("r%05d", i), listLocation(i))
			require.NoError(b, err)
		}
		require.NoError(b, tx.Commit())
	}
	return e
}

// page lists one page and checks it: 1,000 rows, all in sync.
func (e *listingEnv) page(b *testing.B, client *http.Client, after string) (next string) {
	req, err := http.NewRequest("GET", e.api.URL+"/api/v1/iceberg/remotes/local/tables?amount=1000&after="+url.QueryEscape(after), nil)
	require.NoError(b, err)
	req.Header.Set("Authorization", "Bearer "+e.token)
	var resp *http.Response
	resp, err = client.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	var list struct {
		Pagination struct {
			HasMore    bool   `json:"has_more"`
			NextOffset string `json:"next_offset"`
		}
		Results []struct {
			State         string `json:"state"`
			Error         string `json:"error"`
			CommitsBehind *int   `json:"commits_behind"`
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil || resp.StatusCode != 200 || len(list.Results) != listPage {
		b.Fatalf("listing: %d, %d rows, %v", resp.StatusCode, len(list.Results), err)
	}
	for _, r := range list.Results {
		if r.State != "in_sync" || r.CommitsBehind == nil || *r.CommitsBehind != 0 {
			b.Fatalf("row not in sync at the head: %+v", r)
		}
	}
	return list.Pagination.NextOffset
}

// glueRequests counts the Glue API requests the stand-in received.
func (e *listingEnv) glueRequests() int {
	if e.glue == nil {
		return 0
	}
	return e.glue.Calls("GetTables") + e.glue.Calls("GetTable")
}

// BenchmarkListTables10k: pages of 1,000 rows of the live listing of 10,000 sync records
// (10,000 distinct lakeFS tables, 10 remote namespaces of 1,000), each iteration the next of
// the 10 pages. lakefs-calls/page and remote-calls/page come from the lakeFS stand-in's
// counters and the service's per-remote call counter (a batch read is one call); on Glue,
// glue-requests/page counts the HTTP requests the Glue stand-in answered (GetTables pages
// of 100).
func BenchmarkListTables10k(b *testing.B) {
	for _, kind := range []string{"sql", "glue"} {
		b.Run("remote="+kind, func(b *testing.B) {
			e := newListingEnv(b, kind)
			client := e.api.Client()
			var cursors []string
			for after := ""; ; {
				cursors = append(cursors, after)
				if after = e.page(b, client, after); after == "" {
					break
				}
			}
			require.Len(b, cursors, listRecords/listPage)
			lake0, remote0, glue0 := e.lakeFSCalls(), e.remoteCalls(b), e.glueRequests()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				e.page(b, client, cursors[i%len(cursors)])
			}
			b.StopTimer()
			n := float64(b.N)
			b.ReportMetric(float64(e.lakeFSCalls()-lake0)/n, "lakefs-calls/page")
			b.ReportMetric((e.remoteCalls(b)-remote0)/n, "remote-calls/page")
			if e.glue != nil {
				b.ReportMetric(float64(e.glueRequests()-glue0)/n, "glue-requests/page")
			}
		})
	}
}
