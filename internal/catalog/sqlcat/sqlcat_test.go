package sqlcat_test

import (
	"context"
	"database/sql"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/apperr"
	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog"
	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog/catalogtest"
	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog/sqlcat"
	"github.com/iceberg-remotes/iceberg-remotes/internal/config"
	"github.com/iceberg-remotes/iceberg-remotes/internal/httpclient"
)

// Java's JdbcCatalog V0 DDL (JdbcUtil, before iceberg_type existed). pyiceberg's SqlCatalog
// creates the same columns.
var v0DDL = []string{
	`CREATE TABLE iceberg_tables (catalog_name VARCHAR(255) NOT NULL, table_namespace VARCHAR(255) NOT NULL, ` +
		`table_name VARCHAR(255) NOT NULL, metadata_location VARCHAR(1000), previous_metadata_location VARCHAR(1000), ` +
		`PRIMARY KEY (catalog_name, table_namespace, table_name))`,
	`CREATE TABLE iceberg_namespace_properties (catalog_name VARCHAR(255) NOT NULL, namespace VARCHAR(255) NOT NULL, ` +
		`property_key VARCHAR(255), property_value VARCHAR(1000), PRIMARY KEY (catalog_name, namespace, property_key))`,
}

func createV0(t *testing.T, b backend, cfg config.SQLRemote) {
	t.Helper()
	db := openDB(t, b, cfg)
	for _, ddl := range v0DDL {
		_, err := db.ExecContext(testCtx(t), ddl)
		require.NoError(t, err)
	}
}

func TestConformance(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			catalogtest.Run(t, catalogtest.Options{
				New: func(t *testing.T) catalog.Adapter {
					a := newAdapter(t, b.fresh(t), sqlcat.Options{})
					require.Equal(t, "V1", sqlcat.SchemaVersion(a), "an empty database gets the V1 schema")
					return a
				},
				NestedNamespaces: true,
				BatchRead:        true,
			})
		})
	}
}

// TestConformanceV0 runs the whole suite against a database created with the legacy V0 DDL,
// which the adapter must use as it is.
func TestConformanceV0(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			catalogtest.Run(t, catalogtest.Options{
				New: func(t *testing.T) catalog.Adapter {
					cfg := b.fresh(t)
					createV0(t, b, cfg)
					a := newAdapter(t, cfg, sqlcat.Options{})
					require.Equal(t, "V0", sqlcat.SchemaVersion(a))
					t.Cleanup(func() {
						// Still V0 after the suite: the adapter never migrates.
						assert.False(t, hasColumn(t, b, cfg, "iceberg_tables", "iceberg_type"))
					})
					return a
				},
				NestedNamespaces: true,
				BatchRead:        true,
			})
		})
	}
}

func hasColumn(t *testing.T, b backend, cfg config.SQLRemote, table, column string) bool {
	t.Helper()
	db := openDB(t, b, cfg)
	q := `SELECT count(*) FROM pragma_table_info(?) WHERE name = ?`
	if b.driver == "pgx" {
		q = `SELECT count(*) FROM information_schema.columns
			WHERE table_schema = current_schema() AND table_name = $1 AND column_name = $2`
	}
	var n int
	require.NoError(t, db.QueryRowContext(testCtx(t), q, table, column).Scan(&n))
	return n == 1
}

// TestV0WithoutNamespaceTable: Java creates iceberg_namespace_properties lazily, so an old
// database may only have iceberg_tables. The adapter adds the missing table (with
// CREATE TABLE IF NOT EXISTS, as Java does) and stays on V0.
func TestV0WithoutNamespaceTable(t *testing.T) {
	b := backends()[0]
	cfg := b.fresh(t)
	db := openDB(t, b, cfg)
	_, err := db.ExecContext(testCtx(t), v0DDL[0])
	require.NoError(t, err)
	_, err = db.ExecContext(testCtx(t), `INSERT INTO iceberg_tables VALUES ('lakefs', 'old', 't', 'file:///m.json', NULL)`)
	require.NoError(t, err)

	a := newAdapter(t, cfg, sqlcat.Options{})
	require.Equal(t, "V0", sqlcat.SchemaVersion(a))
	ctx := testCtx(t)
	ok, err := a.NamespaceExists(ctx, []string{"old"})
	require.NoError(t, err)
	assert.True(t, ok, "a namespace holding a table exists")
	loc, err := a.LoadTable(ctx, catalog.Ident{Namespace: []string{"old"}, Table: "t"})
	require.NoError(t, err)
	assert.Equal(t, "file:///m.json", loc)
	require.NoError(t, a.CreateNamespace(ctx, []string{"new"}))
	ok, err = a.NamespaceExists(ctx, []string{"new"})
	require.NoError(t, err)
	assert.True(t, ok)
}

// TestSameDDLAsIcebergGo compares the tables the adapter creates on an empty database with the
// ones iceberg-go's SQL catalog creates, column by column.
func TestSameDDLAsIcebergGo(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			ours := b.fresh(t)
			newAdapter(t, ours, sqlcat.Options{})
			theirs := b.fresh(t)
			newIcebergGoCatalog(t, b, openDB(t, b, theirs), t.TempDir())
			for _, table := range []string{"iceberg_tables", "iceberg_namespace_properties"} {
				want := describe(t, b, theirs, table)
				require.NotEmpty(t, want)
				assert.Equal(t, want, describe(t, b, ours, table), table)
			}
		})
	}
}

// describe lists a table's columns as "name type nullability pk-position".
func describe(t *testing.T, b backend, cfg config.SQLRemote, table string) []string {
	t.Helper()
	db := openDB(t, b, cfg)
	q := `SELECT name || ' ' || type || ' ' || "notnull" || ' ' || pk FROM pragma_table_info(?) ORDER BY cid`
	if b.driver == "pgx" {
		q = `SELECT c.column_name || ' ' || c.data_type || ' ' || c.is_nullable || ' ' ||
				COALESCE((SELECT k.ordinal_position::text FROM information_schema.key_column_usage k
					JOIN information_schema.table_constraints tc ON tc.constraint_name = k.constraint_name
						AND tc.table_schema = k.table_schema AND tc.constraint_type = 'PRIMARY KEY'
					WHERE k.table_schema = c.table_schema AND k.table_name = c.table_name
						AND k.column_name = c.column_name), '-')
			FROM information_schema.columns c
			WHERE c.table_schema = current_schema() AND c.table_name = $1 ORDER BY c.ordinal_position`
	}
	rows, err := db.QueryContext(testCtx(t), q, table)
	require.NoError(t, err)
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		require.NoError(t, rows.Scan(&s))
		out = append(out, s)
	}
	require.NoError(t, rows.Err())
	return out
}

func TestNamespaceValidation(t *testing.T) {
	a := newAdapter(t, freshSQLite(t), sqlcat.Options{})
	ctx := testCtx(t)
	locs := catalogtest.WriteMetadataFiles(t, t.TempDir(), 1)

	for _, ns := range [][]string{{"a.b"}, {"ok", "dotted.level"}, {}, {"ok", ""}, {"__iceberg_namespace_v1__:x"}} {
		assertStatus(t, a.CreateNamespace(ctx, ns), http.StatusBadRequest)
		_, err := a.NamespaceExists(ctx, ns)
		assertStatus(t, err, http.StatusBadRequest)
		id := catalog.Ident{Namespace: ns, Table: "t"}
		assertStatus(t, a.RegisterTable(ctx, id, locs[0], catalog.Provenance{}), http.StatusBadRequest)
		_, err = a.LoadTable(ctx, id)
		assertStatus(t, err, http.StatusBadRequest)
		_, err = a.ReplaceTable(ctx, id, locs[0], locs[0], catalog.Provenance{})
		assertStatus(t, err, http.StatusBadRequest)
		assertStatus(t, a.DropTable(ctx, id), http.StatusBadRequest)
	}
	err := a.CreateNamespace(ctx, []string{"a.b"})
	assert.Contains(t, apperr.PublicMessage(err), `"a.b"`, "the message names the offending level")

	require.NoError(t, a.CreateNamespace(ctx, []string{"ok"}))
	assertStatus(t, a.RegisterTable(ctx, catalog.Ident{Namespace: []string{"ok"}}, locs[0], catalog.Provenance{}), http.StatusBadRequest)
	// Nothing was written by the refused calls.
	ok, err := a.NamespaceExists(ctx, []string{"a"})
	require.NoError(t, err)
	assert.False(t, ok)
}

// TestNestedNamespaceRows checks the stored form: levels joined by dots, each parent created
// with exists=true, as Java, pyiceberg and iceberg-go store them.
func TestNestedNamespaceRows(t *testing.T) {
	b := backends()[0]
	cfg := b.fresh(t)
	a := newAdapter(t, cfg, sqlcat.Options{})
	ctx := testCtx(t)
	require.NoError(t, a.CreateNamespace(ctx, []string{"a", "b", "c"}))
	rows, err := openDB(t, b, cfg).QueryContext(ctx,
		`SELECT catalog_name, namespace, property_key, property_value FROM iceberg_namespace_properties ORDER BY namespace`)
	require.NoError(t, err)
	defer rows.Close()
	var got []string
	for rows.Next() {
		var c, ns, k, v string
		require.NoError(t, rows.Scan(&c, &ns, &k, &v))
		got = append(got, strings.Join([]string{c, ns, k, v}, "|"))
	}
	require.NoError(t, rows.Err())
	assert.Equal(t, []string{"lakefs|a|exists|true", "lakefs|a.b|exists|true", "lakefs|a.b.c|exists|true"}, got)
}

// TestCatalogNameIsolation: rows of another catalog_name in the same database are invisible.
func TestCatalogNameIsolation(t *testing.T) {
	cfg := freshSQLite(t)
	a := newAdapter(t, cfg, sqlcat.Options{})
	other := cfg
	other.CatalogName = "other"
	o := newAdapter(t, other, sqlcat.Options{})
	ctx := testCtx(t)
	locs := catalogtest.WriteMetadataFiles(t, t.TempDir(), 2)
	id := catalog.Ident{Namespace: []string{"ns"}, Table: "t"}
	require.NoError(t, a.CreateNamespace(ctx, id.Namespace))
	require.NoError(t, a.RegisterTable(ctx, id, locs[0], catalog.Provenance{}))
	ok, err := o.NamespaceExists(ctx, id.Namespace)
	require.NoError(t, err)
	assert.False(t, ok)
	require.NoError(t, o.CreateNamespace(ctx, id.Namespace))
	require.NoError(t, o.RegisterTable(ctx, id, locs[1], catalog.Provenance{}))
	got, err := a.LoadTable(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, locs[0], got)
}

// TestViewRowIsNotATable: on V1 a VIEW row with the table's name is not loaded, replaced or
// dropped as a table, and blocks a register (409) as it does in iceberg-go.
func TestViewRowIsNotATable(t *testing.T) {
	b := backends()[0]
	cfg := b.fresh(t)
	a := newAdapter(t, cfg, sqlcat.Options{})
	ctx := testCtx(t)
	require.NoError(t, a.CreateNamespace(ctx, []string{"ns"}))
	_, err := openDB(t, b, cfg).ExecContext(ctx, `INSERT INTO iceberg_tables
		(catalog_name, table_namespace, table_name, metadata_location, iceberg_type) VALUES ('lakefs', 'ns', 'v', 'file:///v.json', 'VIEW')`)
	require.NoError(t, err)
	id := catalog.Ident{Namespace: []string{"ns"}, Table: "v"}
	_, err = a.LoadTable(ctx, id)
	assertStatus(t, err, http.StatusNotFound)
	assertStatus(t, a.RegisterTable(ctx, id, "file:///v.json", catalog.Provenance{}), http.StatusConflict)
	_, err = a.ReplaceTable(ctx, id, "file:///v.json", "file:///w.json", catalog.Provenance{})
	assertStatus(t, err, http.StatusNotFound)
	assertStatus(t, a.DropTable(ctx, id), http.StatusNotFound)
}

// TestReplaceRecordsPrevious: the swap writes previous_metadata_location as commits do.
func TestReplaceRecordsPrevious(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			cfg := b.fresh(t)
			a := newAdapter(t, cfg, sqlcat.Options{})
			ctx := testCtx(t)
			locs := catalogtest.WriteMetadataFiles(t, t.TempDir(), 2)
			id := catalog.Ident{Namespace: []string{"ns"}, Table: "t"}
			require.NoError(t, a.CreateNamespace(ctx, id.Namespace))
			require.NoError(t, a.RegisterTable(ctx, id, locs[0], catalog.Provenance{}))
			atomic, err := a.ReplaceTable(ctx, id, locs[0], locs[1], catalog.Provenance{})
			require.NoError(t, err)
			assert.True(t, atomic)
			var cur, prev sql.NullString
			q := `SELECT metadata_location, previous_metadata_location FROM iceberg_tables WHERE table_name = 't'`
			require.NoError(t, openDB(t, b, cfg).QueryRowContext(ctx, q).Scan(&cur, &prev))
			assert.Equal(t, locs[1], cur.String)
			assert.Equal(t, locs[0], prev.String)
		})
	}
}

func assertStatus(t *testing.T, err error, status int) {
	t.Helper()
	require.Error(t, err)
	assert.Equal(t, status, apperr.StatusOf(err), "error: %v", err)
}

func TestUnreachablePostgresIs503(t *testing.T) {
	// Port 1 on loopback: nothing listens, the connection is refused at once.
	cfg := config.SQLRemote{Driver: "postgres", CatalogName: "lakefs",
		DSN: "postgres://postgres:s3cretpw@127.0.0.1:1/test?sslmode=disable&connect_timeout=2"}
	start := time.Now()
	a := newAdapter(t, cfg, sqlcat.Options{RemoteID: "warehouse_db", Policy: httpclient.Policy{MaxRetries: 2, Timeout: 10 * time.Second}})
	assert.Equal(t, "unknown", sqlcat.SchemaVersion(a), "New does not fail on an unreachable database")
	err := a.Ping(testCtx(t))
	assertStatus(t, err, http.StatusServiceUnavailable)
	assert.Contains(t, apperr.PublicMessage(err), "warehouse_db")
	assert.NotContains(t, err.Error(), "s3cretpw")
	_, err = a.LoadTable(testCtx(t), catalog.Ident{Namespace: []string{"ns"}, Table: "t"})
	assertStatus(t, err, http.StatusServiceUnavailable)
	assert.Less(t, time.Since(start), 8*time.Second, "retries are bounded")
}

func TestPostgresAuthFailureIs502(t *testing.T) {
	cfg := freshPostgres(t)
	cfg.DSN = strings.Replace(cfg.DSN, "postgres://postgres@", "postgres://no_such_role_sqlcat@", 1)
	require.Contains(t, cfg.DSN, "no_such_role_sqlcat", "the test DSN must use the postgres user")
	a := newAdapter(t, cfg, sqlcat.Options{RemoteID: "warehouse_db"})
	err := a.Ping(testCtx(t))
	assertStatus(t, err, http.StatusBadGateway)
	assert.Contains(t, apperr.PublicMessage(err), "warehouse_db")
}

// TestDeadlineIs504 holds a lock on the table row in another transaction so that the
// adapter's compare-and-swap waits on it until its own timeout fires.
func TestDeadlineIs504(t *testing.T) {
	b := backends()[1]
	cfg := b.fresh(t)
	a := newAdapter(t, cfg, sqlcat.Options{RemoteID: "warehouse_db", Policy: httpclient.Policy{Timeout: 500 * time.Millisecond}})
	ctx := testCtx(t)
	locs := catalogtest.WriteMetadataFiles(t, t.TempDir(), 2)
	id := catalog.Ident{Namespace: []string{"ns"}, Table: "t"}
	require.NoError(t, a.CreateNamespace(ctx, id.Namespace))
	require.NoError(t, a.RegisterTable(ctx, id, locs[0], catalog.Provenance{}))

	tx, err := openDB(t, b, cfg).BeginTx(ctx, nil)
	require.NoError(t, err)
	defer func() { _ = tx.Rollback() }()
	_, err = tx.ExecContext(ctx, `SELECT 1 FROM iceberg_tables WHERE table_name = 't' FOR UPDATE`)
	require.NoError(t, err)

	start := time.Now()
	_, err = a.ReplaceTable(ctx, id, locs[0], locs[1], catalog.Provenance{})
	assertStatus(t, err, http.StatusGatewayTimeout)
	assert.Contains(t, apperr.PublicMessage(err), "warehouse_db")
	assert.Less(t, time.Since(start), 5*time.Second)
	require.NoError(t, tx.Rollback())
	got, err := a.LoadTable(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, locs[0], got, "the timed-out swap did not happen")
}

// TestSQLiteBusyIsRetried holds SQLite's write lock from another connection. With a short
// busy timeout the adapter's insert fails with SQLITE_BUSY; retries succeed once the lock is
// released, and without retries the caller gets 503.
func TestSQLiteBusyIsRetried(t *testing.T) {
	b := backends()[0]
	cfg := b.fresh(t)
	cfg.DSN += "?_pragma=busy_timeout(20)"
	ctx := testCtx(t)
	locs := catalogtest.WriteMetadataFiles(t, t.TempDir(), 1)
	id := catalog.Ident{Namespace: []string{"ns"}, Table: "t"}

	noRetry := newAdapter(t, cfg, sqlcat.Options{Policy: httpclient.Policy{MaxRetries: 0}})
	retrying := newAdapter(t, cfg, sqlcat.Options{Policy: httpclient.Policy{MaxRetries: 8}})
	require.NoError(t, retrying.CreateNamespace(ctx, id.Namespace))

	db, err := sql.Open("sqlite", strings.TrimSuffix(cfg.DSN, "?_pragma=busy_timeout(20)"))
	require.NoError(t, err)
	defer db.Close()
	conn, err := db.Conn(ctx)
	require.NoError(t, err)
	defer conn.Close()
	_, err = conn.ExecContext(ctx, `BEGIN IMMEDIATE`)
	require.NoError(t, err)

	err = noRetry.RegisterTable(ctx, id, locs[0], catalog.Provenance{})
	assertStatus(t, err, http.StatusServiceUnavailable)

	released := make(chan struct{})
	go func() {
		defer close(released)
		time.Sleep(300 * time.Millisecond)
		_, _ = conn.ExecContext(context.Background(), `ROLLBACK`)
	}()
	require.NoError(t, retrying.RegisterTable(ctx, id, locs[0], catalog.Provenance{}))
	<-released
	got, err := noRetry.LoadTable(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, locs[0], got)
}

func TestPrepareSQLiteDSN(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data", "nested")
	dsn, mem, err := sqlcat.PrepareSQLiteDSN("file:" + dir + "/local-catalog.db")
	require.NoError(t, err)
	assert.False(t, mem)
	assert.Equal(t, "file:"+dir+"/local-catalog.db?_pragma=busy_timeout(10000)&_txlock=immediate", dsn)
	st, err := os.Stat(dir)
	require.NoError(t, err, "the parent directory is created")
	assert.True(t, st.IsDir())

	dir2 := filepath.Join(t.TempDir(), "plain")
	dsn, _, err = sqlcat.PrepareSQLiteDSN(dir2 + "/c.db?_txlock=deferred&_busy_timeout=5")
	require.NoError(t, err)
	assert.Equal(t, dir2+"/c.db?_txlock=deferred&_busy_timeout=5", dsn, "explicit settings are kept")
	_, err = os.Stat(dir2)
	require.NoError(t, err)

	dir3 := filepath.Join(t.TempDir(), "uri")
	_, _, err = sqlcat.PrepareSQLiteDSN("file://" + dir3 + "/c.db")
	require.NoError(t, err)
	_, err = os.Stat(dir3)
	require.NoError(t, err)

	_, mem, err = sqlcat.PrepareSQLiteDSN(":memory:")
	require.NoError(t, err)
	assert.True(t, mem)
	_, mem, err = sqlcat.PrepareSQLiteDSN("file:x?mode=memory&cache=shared")
	require.NoError(t, err)
	assert.True(t, mem)
}

func TestInMemorySQLite(t *testing.T) {
	a := newAdapter(t, config.SQLRemote{Driver: "sqlite", DSN: ":memory:"}, sqlcat.Options{})
	assert.Equal(t, "lakefs", a.CatalogName(), "default catalog name")
	ctx := testCtx(t)
	require.NoError(t, a.CreateNamespace(ctx, []string{"ns"}))
	ok, err := a.NamespaceExists(ctx, []string{"ns"})
	require.NoError(t, err)
	assert.True(t, ok, "one connection, so one in-memory database")
}

func TestNewRejectsBadConfig(t *testing.T) {
	_, err := sqlcat.New(context.Background(), config.SQLRemote{Driver: "mysql", DSN: "x"}, sqlcat.Options{RemoteID: "r"})
	require.Error(t, err)
	assert.Contains(t, apperr.PublicMessage(err), "unsupported driver")
	_, err = sqlcat.New(context.Background(), config.SQLRemote{Driver: "postgres"}, sqlcat.Options{RemoteID: "r"})
	require.Error(t, err)
}
