// Command seed prepares a fresh lakeFS for trying iceberg-remotes: it creates repository
// "example" and writes a real Iceberg table accounting.events (3 rows, written by
// iceberg-go into the repository's storage namespace), linked as a lakeFS table pointer and
// committed on main. Running it again changes nothing. docker-compose runs it once.
//
// Configuration by environment: SEED_LAKEFS_ENDPOINT, SEED_LAKEFS_ACCESS_KEY_ID,
// SEED_LAKEFS_SECRET_ACCESS_KEY, SEED_REPOSITORY (default example), SEED_STORAGE_NAMESPACE
// (the repository's, e.g. s3://bucket/prefix), SEED_WAREHOUSE (where the table's files go;
// default: the storage namespace), and for S3: SEED_S3_ENDPOINT, SEED_S3_REGION,
// SEED_S3_ACCESS_KEY_ID, SEED_S3_SECRET_ACCESS_KEY.
package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/iceberg-go"
	icesql "github.com/apache/iceberg-go/catalog/sql"
	"github.com/apache/iceberg-go/table"
	_ "modernc.org/sqlite"

	"github.com/iceberg-remotes/iceberg-remotes/internal/apperr"
	"github.com/iceberg-remotes/iceberg-remotes/internal/config"
	"github.com/iceberg-remotes/iceberg-remotes/internal/lakefs"
	"github.com/iceberg-remotes/iceberg-remotes/internal/objstore"
)

type settings struct {
	Endpoint, AccessKeyID, SecretAccessKey string
	Repository, StorageNamespace           string
	Warehouse                              string // where the table's files go; default: the storage namespace
	S3                                     config.S3Store
}

func main() {
	s := settings{
		Endpoint:         env("SEED_LAKEFS_ENDPOINT", "http://127.0.0.1:8000/api/v1"),
		AccessKeyID:      os.Getenv("SEED_LAKEFS_ACCESS_KEY_ID"),
		SecretAccessKey:  os.Getenv("SEED_LAKEFS_SECRET_ACCESS_KEY"),
		Repository:       env("SEED_REPOSITORY", "example"),
		StorageNamespace: os.Getenv("SEED_STORAGE_NAMESPACE"),
		Warehouse:        os.Getenv("SEED_WAREHOUSE"),
		S3: config.S3Store{
			Endpoint: os.Getenv("SEED_S3_ENDPOINT"), Region: env("SEED_S3_REGION", "us-east-1"),
			AccessKeyID: os.Getenv("SEED_S3_ACCESS_KEY_ID"), SecretAccessKey: os.Getenv("SEED_S3_SECRET_ACCESS_KEY"),
			ForcePathStyle: true,
		},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := seed(ctx, s, logger); err != nil {
		logger.Error("seed failed", "error", err)
		os.Exit(1)
	}
}

func env(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// httpClient bounds each direct call to lakeFS (the lakeFS client has its own timeouts).
var httpClient = &http.Client{Timeout: 10 * time.Second}

const pointerPath = "_lakefs_tables/iceberg/accounting/events/metadata.json"

func seed(ctx context.Context, s settings, logger *slog.Logger) error {
	if s.StorageNamespace == "" {
		return errors.New("SEED_STORAGE_NAMESPACE is required")
	}
	client, err := lakefs.New(config.LakeFS{Endpoint: s.Endpoint, Timeout: 10 * time.Second, MaxRetries: 3},
		lakefs.ServiceCredentials(s.AccessKeyID, s.SecretAccessKey), nil)
	if err != nil {
		return err
	}
	if err := waitForLakeFS(ctx, s.Endpoint); err != nil {
		return err
	}
	if err := createRepository(ctx, s); err != nil {
		return err
	}
	if _, err := client.StatObject(ctx, s.Repository, "main", pointerPath); err == nil {
		logger.Info("table already seeded", "repository", s.Repository, "table", "accounting.events")
		return nil
	} else if !apperr.Is(err, http.StatusNotFound) {
		return err
	}

	location, err := writeTable(ctx, s)
	if err != nil {
		return fmt.Errorf("write Iceberg table: %w", err)
	}
	store, err := objstore.New(config.ObjectStore{S3: s.S3}, objstore.Options{})
	if err != nil {
		return err
	}
	_, info, err := store.Read(ctx, location, 0)
	if err != nil {
		return err
	}
	if _, err := client.StageObject(ctx, s.Repository, "main", pointerPath, location, info.SizeBytes, info.Checksum, "application/json"); err != nil {
		return err
	}
	commit, err := client.Commit(ctx, s.Repository, "main", "Seed Iceberg table accounting.events", map[string]string{"seeded_by": "iceberg-remotes seed"})
	if err != nil {
		return err
	}
	logger.Info("seeded", "repository", s.Repository, "table", "accounting.events", "metadata", location, "commit", commit)
	return nil
}

func waitForLakeFS(ctx context.Context, endpoint string) error {
	url := strings.TrimRight(endpoint, "/") + "/healthcheck"
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := httpClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode < 300 {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("lakeFS did not become healthy at %s", url)
		case <-time.After(2 * time.Second):
		}
	}
}

// createRepository creates the repository (409: it exists, fine).
func createRepository(ctx context.Context, s settings) error {
	body := fmt.Sprintf(`{"name":%q,"storage_namespace":%q,"default_branch":"main"}`, s.Repository, s.StorageNamespace)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(s.Endpoint, "/")+"/repositories", strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth(s.AccessKeyID, s.SecretAccessKey)
	resp, err := httpClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusConflict {
		return fmt.Errorf("create repository %s: lakeFS answered %d", s.Repository, resp.StatusCode)
	}
	return nil
}

// writeTable writes accounting.events with 3 rows under the storage namespace using
// iceberg-go's SQL catalog (in-memory SQLite: only the files matter) and returns the
// metadata location.
func writeTable(ctx context.Context, s settings) (string, error) {
	db, err := sql.Open("sqlite", "file:seed?mode=memory&cache=shared")
	if err != nil {
		return "", err
	}
	defer db.Close()
	warehouse := s.Warehouse
	if warehouse == "" {
		warehouse = s.StorageNamespace
	}
	props := iceberg.Properties{"warehouse": strings.TrimRight(warehouse, "/") + "/_iceberg"}
	if strings.HasPrefix(warehouse, "s3://") {
		props["s3.endpoint"] = s.S3.Endpoint
		props["s3.region"] = s.S3.Region
		props["s3.access-key-id"] = s.S3.AccessKeyID
		props["s3.secret-access-key"] = s.S3.SecretAccessKey
		props["s3.force-virtual-addressing"] = "false"
	}
	cat, err := icesql.NewCatalog("seed", db, icesql.SQLite, props)
	if err != nil {
		return "", err
	}
	if err := cat.CreateNamespace(ctx, table.Identifier{"accounting"}, nil); err != nil {
		return "", err
	}
	schema := iceberg.NewSchema(0,
		iceberg.NestedField{ID: 1, Name: "id", Type: iceberg.PrimitiveTypes.Int64, Required: true},
		iceberg.NestedField{ID: 2, Name: "name", Type: iceberg.PrimitiveTypes.String},
	)
	tbl, err := cat.CreateTable(ctx, table.Identifier{"accounting", "events"}, schema)
	if err != nil {
		return "", err
	}
	sc := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "name", Type: arrow.BinaryTypes.String, Nullable: true},
	}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, sc)
	defer b.Release()
	b.Field(0).(*array.Int64Builder).AppendValues([]int64{1, 2, 3}, nil)
	b.Field(1).(*array.StringBuilder).AppendValues([]string{"alpha", "beta", "gamma"}, nil)
	rec := b.NewRecordBatch()
	defer rec.Release()
	data := array.NewTableFromRecords(sc, []arrow.RecordBatch{rec})
	defer data.Release()
	tbl, err = tbl.AppendTable(ctx, data, 1024, nil)
	if err != nil {
		return "", err
	}
	return tbl.MetadataLocation(), nil
}
