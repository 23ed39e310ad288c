// Package e2e drives the whole service over HTTP, as the lakeFS SDKs and curl do, against
// real backends where they can run here (iceberg-go's SQL catalog on SQLite and
// PostgreSQL, iceberg-go writers, file:// object storage) and contract-checked stand-ins
// where they cannot (lakeFS, an Iceberg REST catalog).
package e2e

import (
	"context"
	"crypto/md5"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/iceberg-go"
	icecatalog "github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/catalog/rest"
	icesql "github.com/apache/iceberg-go/catalog/sql"
	iceio "github.com/apache/iceberg-go/io"
	"github.com/apache/iceberg-go/table"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog/restcat/resttest"
	"github.com/iceberg-remotes/iceberg-remotes/internal/config"
	"github.com/iceberg-remotes/iceberg-remotes/internal/lakefs"
	"github.com/iceberg-remotes/iceberg-remotes/internal/lakefs/lakefstest"
	"github.com/iceberg-remotes/iceberg-remotes/internal/server"
	"github.com/iceberg-remotes/iceberg-remotes/internal/testutil/pgtest"
)

const (
	secret   = "e2e-shared-secret"
	repo     = "example"
	remoteID = "warehouse"
)

var (
	localNS   = []string{"accounting"}
	remoteNS  = []string{"analytics"}
	tableName = "events"
)

// remoteKind builds one kind of remote catalog and an iceberg-go writer on it.
type remoteKind struct {
	name  string
	setup func(t *testing.T, dir string) (config.Remote, icecatalog.Catalog)
}

func sqlSQLite() remoteKind {
	return remoteKind{name: "sql-sqlite", setup: func(t *testing.T, dir string) (config.Remote, icecatalog.Catalog) {
		dsn := "file:" + filepath.Join(dir, "remote.db")
		rc := config.Remote{ID: remoteID, Type: "sql", SQL: config.SQLRemote{Driver: "sqlite", DSN: dsn, CatalogName: "lakefs"}}
		return rc, sqlWriter(t, "sqlite", dsn, dir)
	}}
}

func sqlPostgres() remoteKind {
	return remoteKind{name: "sql-postgres", setup: func(t *testing.T, dir string) (config.Remote, icecatalog.Catalog) {
		dsn := pgtest.Schema(t)
		rc := config.Remote{ID: remoteID, Type: "sql", SQL: config.SQLRemote{Driver: "postgres", DSN: dsn, CatalogName: "lakefs"}}
		return rc, sqlWriter(t, "postgres", dsn, dir)
	}}
}

func restRemote() remoteKind {
	return remoteKind{name: "rest", setup: func(t *testing.T, dir string) (config.Remote, icecatalog.Catalog) {
		s := resttest.New(t, resttest.Options{ClientID: "svc", ClientSecret: "svc-secret"})
		rc := config.Remote{ID: remoteID, Type: "rest", REST: config.RESTRemote{URI: s.URL, Credential: "svc:svc-secret"}}
		w, err := rest.NewCatalog(context.Background(), "writer", s.URL, rest.WithCredential("svc:svc-secret"))
		require.NoError(t, err)
		t.Cleanup(func() { _ = w.Close() })
		return rc, w
	}}
}

// sqlWriter is iceberg-go's own SQL catalog over the remote's database: an external engine.
func sqlWriter(t *testing.T, dialect, dsn, dir string) icecatalog.Catalog {
	driver := "sqlite"
	if dialect == "postgres" {
		driver = "pgx"
	}
	db, err := sql.Open(driver, dsn)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	cat, err := icesql.NewCatalog("lakefs", db, icesql.SupportedDialect(dialect), iceberg.Properties{
		"warehouse": "file://" + filepath.Join(dir, "remote-warehouse"),
	})
	require.NoError(t, err)
	return cat
}

// env is one running service with its backends.
type env struct {
	t      *testing.T
	dir    string
	lake   *lakefstest.Server
	client *lakefs.Client // test set-up calls to lakeFS, as the service user
	api    *httptest.Server
	app    *server.App
	token  string // alice's lakeFS login token
	layout string
	writer icecatalog.Catalog
	// m1 is the metadata location of the table as first written by iceberg-go.
	m1 string
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return c
}

// newEnv starts lakeFS (stand-in), writes a real table with iceberg-go, links it into
// lakeFS on main (committed) and branch etl-42, and starts the service.
func newEnv(t *testing.T, kind remoteKind, layout string) *env {
	t.Helper()
	return newEnvWith(t, kind, layout, nil)
}

// newEnvWith is newEnv with a chance to change the service's configuration before it
// starts (e.g. a remote's allowed_users).
func newEnvWith(t *testing.T, kind remoteKind, layout string, mutate func(*config.Config)) *env {
	t.Helper()
	e := newBackends(t, layout)
	rc, writer := kind.setup(t, e.dir)
	e.writer = writer
	cfg := e.baseConfig()
	cfg.IcebergCatalog.Remotes = []config.Remote{rc}
	if mutate != nil {
		mutate(&cfg)
	}
	e.start(&cfg)
	return e
}

// newBackends is newEnv without the remote and the service: the lakeFS stand-in with alice
// and the service user, the iceberg-go table committed on main, and branch etl-42.
func newBackends(t *testing.T, layout string) *env {
	t.Helper()
	e := &env{t: t, dir: t.TempDir(), layout: layout}
	e.lake = lakefstest.NewServer(t, lakefstest.Options{JWTSecret: []byte(secret), ReadPhysical: e.readPhysical})
	e.lake.AddUser("alice", "AKIAALICE", "alice-secret", lakefstest.FullAccess)
	e.lake.AddUser("svc", "AKIASVC", "svc-secret", lakefstest.FullAccess)
	e.lake.CreateRepository(repo, "file://"+filepath.Join(e.dir, "repo"), "main")
	e.token = e.lake.Token("alice", time.Hour)
	var err error
	e.client, err = lakefs.New(config.LakeFS{Endpoint: e.lake.URL(), Timeout: 10 * time.Second},
		lakefs.ServiceCredentials("AKIASVC", "svc-secret"), nil)
	require.NoError(t, err)
	e.m1 = e.authorTable(localNS, tableName, 3)
	e.link("main", localNS, tableName, e.m1, 1)
	_, err = e.client.Commit(ctx(t), repo, "main", "add table", nil)
	require.NoError(t, err)
	e.lake.CreateBranch(repo, "etl-42", "main")
	return e
}

func (e *env) start(cfg *config.Config) {
	t := e.t
	var err error
	for i := range cfg.IcebergCatalog.Remotes {
		r := &cfg.IcebergCatalog.Remotes[i]
		e.trustTestFiles(r)
		if r.Timeout == 0 && r.MaxRetries == 0 {
			// A remote built here without retry settings (config.Load would give it its
			// defaults); one that sets timeout keeps its max_retries, 0 included.
			r.Timeout, r.MaxRetries = 20*time.Second, 2
		}
	}
	require.NoError(t, cfg.Validate())
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if os.Getenv("E2E_LOG") != "" {
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	e.app, err = server.New(ctx(t), cfg, logger)
	require.NoError(t, err)
	t.Cleanup(func() { e.app.Close() })
	e.api = httptest.NewServer(e.app.Handler)
	t.Cleanup(e.api.Close)
}

// trustTestFiles lets a remote's pulls read the metadata files the tests write with file://
// under the env's directory (docs/design.md section 13: off by default), unless the test configured
// the remote's trust itself.
func (e *env) trustTestFiles(r *config.Remote) {
	if !r.AllowFileLocations && r.AllowedLocations == nil {
		r.AllowFileLocations = true
		r.AllowedLocations = []string{"file://" + e.dir + "/"}
	}
}

// readPhysical reads a physical address as lakeFS's block stores do: file:// as a path, and
// local:// (lakeFS's local block store) relative to the env's directory as its root.
func (e *env) readPhysical(ctx context.Context, physicalAddress string) ([]byte, error) {
	if rest, ok := strings.CutPrefix(physicalAddress, "local://"); ok {
		return os.ReadFile(filepath.Join(e.dir, filepath.FromSlash(rest)))
	}
	return readFile(ctx, physicalAddress)
}

func readFile(_ context.Context, physicalAddress string) ([]byte, error) {
	p, ok := strings.CutPrefix(physicalAddress, "file://")
	if !ok {
		return nil, os.ErrNotExist
	}
	return os.ReadFile(p)
}

var arrowSchema = arrow.NewSchema([]arrow.Field{
	{Name: "id", Type: arrow.PrimitiveTypes.Int64, Nullable: false},
	{Name: "name", Type: arrow.BinaryTypes.String, Nullable: true},
}, nil)

var icebergSchema = iceberg.NewSchema(0,
	iceberg.NestedField{ID: 1, Name: "id", Type: iceberg.PrimitiveTypes.Int64, Required: true},
	iceberg.NestedField{ID: 2, Name: "name", Type: iceberg.PrimitiveTypes.String},
)

// rows builds an Arrow table of n rows starting at id first.
func rows(first, n int) arrow.Table {
	b := array.NewRecordBuilder(memory.DefaultAllocator, arrowSchema)
	defer b.Release()
	for i := 0; i < n; i++ {
		b.Field(0).(*array.Int64Builder).Append(int64(first + i))
		b.Field(1).(*array.StringBuilder).Append("row")
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	return array.NewTableFromRecords(arrowSchema, []arrow.RecordBatch{rec})
}

// authorTable writes a new table with iceberg-go (its own SQL catalog on a private SQLite
// file, warehouse on file://) with n rows, and returns its metadata location.
func (e *env) authorTable(ns []string, name string, n int) string {
	t := e.t
	cat := sqlWriter(t, "sqlite", "file:"+filepath.Join(e.dir, "author-"+name+".db"), filepath.Join(e.dir, "author"))
	c := ctx(t)
	require.NoError(t, cat.CreateNamespace(c, ns, nil))
	ident := append(append(table.Identifier{}, ns...), name)
	tbl, err := cat.CreateTable(c, ident, icebergSchema)
	require.NoError(t, err)
	data := rows(1, n)
	defer data.Release()
	tbl, err = tbl.AppendTable(c, data, 1024, nil)
	require.NoError(t, err)
	return tbl.MetadataLocation()
}

// link makes the metadata file at location the table's current state on branch (staged),
// in the env's layout. version is the hadoop v<N>.
func (e *env) link(branch string, ns []string, name, location string, version int) {
	t := e.t
	raw, err := readFile(context.Background(), location)
	require.NoError(t, err)
	sum := md5.Sum(raw)
	path := "_lakefs_tables/iceberg/" + strings.Join(ns, "/") + "/" + name + "/metadata.json"
	if e.layout == "hadoop" {
		path = "warehouse/" + strings.Join(ns, "/") + "/" + name + "/metadata/v" + itoa(version) + ".metadata.json"
		_, err := e.client.UploadObject(ctx(t), repo, branch, "warehouse/"+strings.Join(ns, "/")+"/"+name+"/metadata/version-hint.text", []byte(itoa(version)), false)
		require.NoError(t, err)
	}
	_, err = e.client.StageObject(ctx(t), repo, branch, path, location, int64(len(raw)), hex.EncodeToString(sum[:]), "application/json")
	require.NoError(t, err)
}

func itoa(n int) string { return strconv.Itoa(n) }

// readLakeFS reads the table on a reference as the service's locator does.
func (e *env) readLakeFS(ref string, ns []string, name string) *lakefs.TableState {
	layout := config.TablesLayout{Layout: e.layout, PointerPrefix: "_lakefs_tables/iceberg", WarehousePrefix: "warehouse"}
	loc := lakefs.NewLocator(e.client, func(string) config.TablesLayout { return layout })
	st, err := loc.ReadTable(ctx(e.t), lakefs.TableRef{Repository: repo, Reference: ref, Namespace: ns, Table: name})
	require.NoError(e.t, err)
	return st
}

// appendRemote has the external writer append n rows to the remote table and returns the
// new metadata location.
func (e *env) appendRemote(n int) string {
	return e.appendRemoteAt(remoteNS, tableName, n)
}

// appendRemoteAt is appendRemote for the remote table ns.name.
func (e *env) appendRemoteAt(ns []string, name string, n int) string {
	c := ctx(e.t)
	tbl, err := e.writer.LoadTable(c, append(append(table.Identifier{}, ns...), name))
	require.NoError(e.t, err)
	data := rows(1000, n)
	defer data.Release()
	tbl, err = tbl.AppendTable(c, data, 1024, nil)
	require.NoError(e.t, err)
	return tbl.MetadataLocation()
}

func (e *env) remoteLocation() string {
	tbl, err := e.writer.LoadTable(ctx(e.t), append(append(table.Identifier{}, remoteNS...), tableName))
	require.NoError(e.t, err)
	return tbl.MetadataLocation()
}

type resp struct {
	Status int
	Body   string
}

func (r resp) message() string {
	var b struct{ Message string }
	_ = json.Unmarshal([]byte(r.Body), &b)
	return b.Message
}

func (e *env) call(method, path string, body any) resp {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		require.NoError(e.t, err)
		rd = strings.NewReader(string(raw))
	}
	req, err := http.NewRequest(method, e.api.URL+path, rd)
	require.NoError(e.t, err)
	req.Header.Set("Authorization", "Bearer "+e.token)
	req.Header.Set("Content-Type", "application/json")
	res, err := e.api.Client().Do(req)
	require.NoError(e.t, err)
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return resp{Status: res.StatusCode, Body: string(raw)}
}

type pushOpts struct {
	ref, destTable   string
	force, createNS  bool
	dryRun           bool
	srcNS            []string
	srcTable, remote string
}

func (e *env) push(o pushOpts) resp {
	if o.ref == "" {
		o.ref = "etl-42"
	}
	if o.destTable == "" {
		o.destTable = tableName
	}
	if o.srcNS == nil {
		o.srcNS = localNS
	}
	if o.srcTable == "" {
		o.srcTable = tableName
	}
	if o.remote == "" {
		o.remote = remoteID
	}
	path := "/api/v1/iceberg/remotes/" + o.remote + "/push"
	if o.dryRun {
		path += "?dry_run=true"
	}
	return e.call("POST", path, map[string]any{
		"source":           map[string]any{"repository_id": repo, "reference_id": o.ref, "namespace": o.srcNS, "table": o.srcTable},
		"destination":      map[string]any{"namespace": remoteNS, "table": o.destTable},
		"force_update":     o.force,
		"create_namespace": o.createNS,
	})
}

type pullOpts struct {
	ref, srcTable, destTable string
	destRepo                 string
	force, createNS, dryRun  bool
}

func (e *env) pull(o pullOpts) resp {
	if o.ref == "" {
		o.ref = "etl-42"
	}
	if o.srcTable == "" {
		o.srcTable = tableName
	}
	if o.destTable == "" {
		o.destTable = tableName
	}
	if o.destRepo == "" {
		o.destRepo = repo
	}
	path := "/api/v1/iceberg/remotes/" + remoteID + "/pull"
	if o.dryRun {
		path += "?dry_run=true"
	}
	return e.call("POST", path, map[string]any{
		"source":           map[string]any{"namespace": remoteNS, "table": o.srcTable},
		"destination":      map[string]any{"repository_id": o.destRepo, "reference_id": o.ref, "namespace": localNS, "table": o.destTable},
		"force_update":     o.force,
		"create_namespace": o.createNS,
	})
}

// tables returns the live states of the remote's tables by remote table name.
func (e *env) tables() map[string]string {
	r := e.call("GET", "/api/v1/iceberg/remotes/"+remoteID+"/tables", nil)
	require.Equal(e.t, 200, r.Status, r.Body)
	var list struct {
		Results []struct {
			RemoteTable string `json:"remote_table"`
			State       string `json:"state"`
		}
	}
	require.NoError(e.t, json.Unmarshal([]byte(r.Body), &list))
	out := map[string]string{}
	for _, x := range list.Results {
		out[x.RemoteTable] = x.State
	}
	return out
}

// commitsBehind returns each listed table's commits_behind (absent tables: -1).
func (e *env) commitsBehind() map[string]int {
	r := e.call("GET", "/api/v1/iceberg/remotes/"+remoteID+"/tables", nil)
	require.Equal(e.t, 200, r.Status, r.Body)
	var list struct {
		Results []struct {
			RemoteTable   string `json:"remote_table"`
			CommitsBehind *int   `json:"commits_behind"`
		}
	}
	require.NoError(e.t, json.Unmarshal([]byte(r.Body), &list))
	out := map[string]int{}
	for _, x := range list.Results {
		out[x.RemoteTable] = -1
		if x.CommitsBehind != nil {
			out[x.RemoteTable] = *x.CommitsBehind
		}
	}
	return out
}

// scanCount reads every row of the table at metadata location loc with iceberg-go.
func scanCount(t *testing.T, loc string) int64 {
	raw, err := readFile(context.Background(), loc)
	require.NoError(t, err)
	md, err := table.ParseMetadataBytes(raw)
	require.NoError(t, err)
	tbl := table.New(table.Identifier{"scan"}, md, loc, func(context.Context) (iceio.IO, error) { return iceio.LocalFS{}, nil }, nil)
	arrTbl, err := tbl.Scan().ToArrowTable(ctx(t))
	require.NoError(t, err)
	defer arrTbl.Release()
	return arrTbl.NumRows()
}
