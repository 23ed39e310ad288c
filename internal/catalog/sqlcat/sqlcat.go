// Package sqlcat is the catalog.Adapter for `sql` remotes: a database holding the
// JDBC-compatible Iceberg catalog schema that Java's JdbcCatalog, pyiceberg's SqlCatalog and
// iceberg-go's SQL catalog share (tables iceberg_tables and iceberg_namespace_properties).
//
// iceberg-go's SQL catalog has no RegisterTable (docs/design.md section 11), so this adapter writes the
// catalog rows itself, with the same layout, namespace encoding and existence rules those
// catalogs use, so that a table registered here loads in any of them:
//
//   - a namespace is stored as its levels joined by "."; a level containing "." cannot be
//     represented that way (Java and pyiceberg would split it), so it is refused with 400;
//   - a namespace exists when iceberg_namespace_properties has a row for it or iceberg_tables
//     has a row in it (iceberg-go's rule); creating one inserts the property exists=true, as
//     the three catalogs do when created without properties;
//   - register is an INSERT, re-pointing is a compare-and-swap UPDATE on metadata_location, and
//     drop deletes the row only: no file is ever touched.
//
// Both schema versions are supported: V1 (with the iceberg_type column, created on an empty
// database with iceberg-go's DDL) and the legacy V0 (without it), which is used as found and
// never migrated. Drivers: SQLite (modernc.org/sqlite) and PostgreSQL (pgx v5 stdlib).
package sqlcat

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
	"github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite" // registers driver "sqlite"

	"github.com/iceberg-remotes/iceberg-remotes/internal/apperr"
	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog"
	"github.com/iceberg-remotes/iceberg-remotes/internal/config"
	"github.com/iceberg-remotes/iceberg-remotes/internal/httpclient"
)

// Type is the remote type this adapter serves.
const Type = "sql"

// DefaultCatalogName is the catalog_name used when the configuration leaves it empty.
const DefaultCatalogName = "lakefs"

// Options tune an Adapter.
type Options struct {
	// RemoteID names the remote in error messages (iceberg_catalog.remotes[].id).
	RemoteID string
	// Policy bounds each attempt of a call (its statements, and the connection they need)
	// by Policy.Timeout, and repeats a failed attempt at most Policy.MaxRetries times (0:
	// never). Transient failures are repeated: connection refused or lost, SQLite busy,
	// PostgreSQL serialization failure, a timed-out attempt.
	Policy httpclient.Policy
}

// Adapter implements catalog.Adapter over a JDBC-compatible catalog database. It is safe for
// concurrent use.
type Adapter struct {
	db          *sql.DB
	dialect     dialect
	catalogName string
	remote      string
	policy      httpclient.Policy

	// The schema is detected (or created) lazily and once: a database that is down when the
	// service starts must not stop the service, only make this remote not ready until it
	// comes back.
	schemaMu sync.Mutex
	schema   schemaVersion // schemaUnknown until detected
}

var _ catalog.Adapter = (*Adapter)(nil)

// New opens the remote's database and, if it is reachable, detects the catalog schema
// (creating the V1 tables on an empty database). An unreachable database is not an error
// here: the adapter retries the detection on each call and Ping reports the remote as
// unavailable (503) until it answers. New fails only for an invalid configuration.
func New(ctx context.Context, cfg config.SQLRemote, opts Options) (*Adapter, error) {
	a := &Adapter{
		catalogName: cfg.CatalogName,
		remote:      opts.RemoteID,
		policy:      opts.Policy.Normalized(),
	}
	if a.catalogName == "" {
		a.catalogName = DefaultCatalogName
	}
	if a.remote == "" {
		a.remote = a.catalogName
	}

	if cfg.DSN == "" {
		return nil, apperr.New(http.StatusInternalServerError, "sql remote %q: empty dsn", a.remote)
	}
	var (
		db       *sql.DB
		inMemory bool
	)
	switch cfg.Driver {
	case "sqlite":
		a.dialect = dialectSQLite
		dsn, mem, err := prepareSQLiteDSN(cfg.DSN)
		if err != nil {
			return nil, apperr.Wrap(http.StatusInternalServerError, err,
				"sql remote %q: cannot prepare the SQLite database", a.remote)
		}
		inMemory = mem
		// sql.Open only records the DSN; it does not connect.
		if db, err = sql.Open("sqlite", dsn); err != nil {
			return nil, apperr.Wrap(http.StatusInternalServerError, err, "sql remote %q: cannot open SQLite", a.remote)
		}
	case "postgres":
		a.dialect = dialectPostgres
		pc, err := postgresConfig(cfg.DSN, a.policy.Timeout)
		if err != nil {
			// The parser's message may quote the DSN, which can hold a password: keep it out
			// of the message (the cause stays reachable for errors.As only).
			return nil, apperr.Wrap(http.StatusInternalServerError, redactedErr{err},
				"sql remote %q: invalid dsn", a.remote)
		}
		db = stdlib.OpenDB(*pc)
	default:
		return nil, apperr.New(http.StatusInternalServerError,
			"sql remote %q: unsupported driver %q (want sqlite or postgres)", a.remote, cfg.Driver)
	}
	if inMemory {
		// Every connection to ":memory:" is a different database: keep exactly one.
		db.SetMaxOpenConns(1)
		db.SetConnMaxIdleTime(0)
		db.SetConnMaxLifetime(0)
	} else {
		db.SetMaxOpenConns(8)
		db.SetMaxIdleConns(4)
		db.SetConnMaxIdleTime(5 * time.Minute)
	}
	a.db = db

	// Best effort: a failure here is reported by Ping and retried by every call.
	ictx, cancel := a.policy.Attempt(ctx)
	defer cancel()
	_, _ = a.ensureSchema(ictx)
	return a, nil
}

// postgresConfig parses the DSN and makes a timed-out call stop on the server too. pgx's
// default reaction to a context deadline only breaks the client's socket; the server would
// carry on with a statement waiting on a lock and could commit a compare-and-swap after the
// caller was told 504. Instead, a cancel request is sent at once (the server aborts the
// statement), and statement_timeout bounds every statement server-side as a fallback, unless
// the DSN sets one.
func postgresConfig(dsn string, timeout time.Duration) (*pgx.ConnConfig, error) {
	pc, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, err
	}
	if _, ok := pc.RuntimeParams["statement_timeout"]; !ok {
		pc.RuntimeParams["statement_timeout"] = fmt.Sprint(timeout.Milliseconds())
	}
	pc.BuildContextWatcherHandler = func(c *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.CancelRequestContextWatcherHandler{Conn: c, DeadlineDelay: 2 * time.Second}
	}
	return pc, nil
}

// redactedErr hides an error's text (which may contain a DSN) while keeping it reachable
// through errors.As/Is.
type redactedErr struct{ err error }

func (e redactedErr) Error() string { return "driver rejected the dsn" }
func (e redactedErr) Unwrap() error { return e.err }

// Type returns "sql".
func (a *Adapter) Type() string { return Type }

// CatalogName returns the catalog_name the adapter reads and writes rows under.
func (a *Adapter) CatalogName() string { return a.catalogName }

// Close releases the connection pool.
func (a *Adapter) Close() error { return a.db.Close() }

// Ping checks that the database answers and the catalog tables exist (or could be created).
func (a *Adapter) Ping(ctx context.Context) error {
	return a.run(ctx, "ping", func(ctx context.Context, _ schemaVersion, _ bool) error {
		return a.db.PingContext(ctx)
	})
}

// NamespaceExists reports whether ns exists by iceberg-go's rule: a namespace-properties row
// for it, or a table in it.
func (a *Adapter) NamespaceExists(ctx context.Context, ns []string) (bool, error) {
	key, err := namespaceKey(ns)
	if err != nil {
		return false, err
	}
	var ok bool
	err = a.run(ctx, "check namespace", func(ctx context.Context, _ schemaVersion, _ bool) error {
		var err error
		ok, err = a.namespaceExists(ctx, a.db, key)
		return err
	})
	return ok, err
}

// CreateNamespace creates ns and each of its parents that does not exist yet, by inserting
// the property exists=true (what Java, pyiceberg and iceberg-go insert for a namespace created
// without properties). iceberg-go checks only the exact namespace, so parents are created
// explicitly for engines that list them.
func (a *Adapter) CreateNamespace(ctx context.Context, ns []string) error {
	if _, err := namespaceKey(ns); err != nil {
		return err
	}
	return a.run(ctx, "create namespace", func(ctx context.Context, _ schemaVersion, _ bool) error {
		for i := 1; i <= len(ns); i++ {
			key := strings.Join(ns[:i], ".")
			ok, err := a.namespaceExists(ctx, a.db, key)
			if err != nil {
				return err
			}
			if ok {
				continue
			}
			// ON CONFLICT DO NOTHING: a concurrent creator of the same namespace is not an error.
			if _, err := a.db.ExecContext(ctx, a.q(`INSERT INTO iceberg_namespace_properties
				(catalog_name, namespace, property_key, property_value) VALUES (?, ?, ?, ?)
				ON CONFLICT DO NOTHING`), a.catalogName, key, namespaceExistsProperty, "true"); err != nil {
				return err
			}
		}
		return nil
	})
}

// LoadTable returns the table's current metadata location.
func (a *Adapter) LoadTable(ctx context.Context, id catalog.Ident) (string, error) {
	key, err := validateIdent(id)
	if err != nil {
		return "", err
	}
	var loc string
	err = a.run(ctx, "load table", func(ctx context.Context, sv schemaVersion, _ bool) error {
		r, err := a.selectRow(ctx, a.db, sv, key, id.Table)
		if err != nil {
			return err
		}
		if !r.found || !r.isTable() || !r.location.Valid {
			return a.notFound(ctx, key, id)
		}
		loc = r.location.String
		return nil
	})
	return loc, err
}

// RegisterTable inserts the table's row pointing at metadataLocation. The provenance is not
// stored: the JDBC schema has no place for table properties.
func (a *Adapter) RegisterTable(ctx context.Context, id catalog.Ident, metadataLocation string, _ catalog.Provenance) error {
	key, err := validateIdent(id)
	if err != nil {
		return err
	}
	if metadataLocation == "" {
		return apperr.BadRequest("metadata location must not be empty")
	}
	return a.run(ctx, "register table", func(ctx context.Context, sv schemaVersion, _ bool) error {
		return a.inTx(ctx, func(tx *sql.Tx) error {
			r, err := a.selectRow(ctx, tx, sv, key, id.Table)
			if err != nil {
				return err
			}
			if r.found {
				return a.registerOutcome(r, id, metadataLocation)
			}
			ok, err := a.namespaceExists(ctx, tx, key)
			if err != nil {
				return err
			}
			if !ok {
				return apperr.NotFound("namespace %s not found in remote %q", key, a.remote)
			}
			cols, vals := "", ""
			if sv == schemaV1 {
				cols, vals = ", iceberg_type", ", '"+icebergTypeTable+"'"
			}
			// ON CONFLICT DO NOTHING rather than a failing INSERT: PostgreSQL aborts the whole
			// transaction on a failed statement, and the row a concurrent registrar inserted
			// decides the outcome (same location: success; another: 409).
			res, err := tx.ExecContext(ctx, a.q(`INSERT INTO iceberg_tables
				(catalog_name, table_namespace, table_name, metadata_location, previous_metadata_location`+cols+`)
				VALUES (?, ?, ?, ?, NULL`+vals+`) ON CONFLICT DO NOTHING`),
				a.catalogName, key, id.Table, metadataLocation)
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil || n == 1 {
				return err
			}
			r, err = a.selectRow(ctx, tx, sv, key, id.Table)
			if err != nil {
				return err
			}
			return a.registerOutcome(r, id, metadataLocation)
		})
	})
}

// registerOutcome decides a register against an existing row: idempotent success when it
// already points at loc, 409 otherwise.
func (a *Adapter) registerOutcome(r row, id catalog.Ident, loc string) error {
	if !r.found {
		// Inserted by nobody yet conflicting: cannot happen with a primary key; be loud.
		return fmt.Errorf("register %s: insert skipped but no row found", id)
	}
	if !r.isTable() {
		return apperr.Conflict("a view named %s already exists in remote %q", id, a.remote)
	}
	if r.location.Valid && r.location.String == loc {
		return nil
	}
	return apperr.Conflict("table %s already exists in remote %q at another metadata location", id, a.remote)
}

// ReplaceTable re-points the table with a compare-and-swap on metadata_location, recording
// the expected location as previous_metadata_location (what iceberg-go's and Java's commits
// write), so it interleaves safely with commits by those catalogs. Always atomic. A table
// already in exactly the resulting state (at metadataLocation, previous expectedLocation)
// counts as success, which makes a retried or repeated swap idempotent.
func (a *Adapter) ReplaceTable(ctx context.Context, id catalog.Ident, expectedLocation, metadataLocation string, _ catalog.Provenance) (bool, error) {
	key, err := validateIdent(id)
	if err != nil {
		return false, err
	}
	if metadataLocation == "" || expectedLocation == "" {
		return false, apperr.BadRequest("metadata locations must not be empty")
	}
	err = a.run(ctx, "replace table", func(ctx context.Context, sv schemaVersion, _ bool) error {
		res, err := a.exec(ctx, a.q(`UPDATE iceberg_tables
			SET metadata_location = ?, previous_metadata_location = ?
			WHERE catalog_name = ? AND table_namespace = ? AND table_name = ? AND metadata_location = ?`+
			typePredicate(sv)),
			metadataLocation, expectedLocation, a.catalogName, key, id.Table, expectedLocation)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil || n == 1 {
			return err
		}
		r, err := a.selectRow(ctx, a.db, sv, key, id.Table)
		if err != nil {
			return err
		}
		if !r.found || !r.isTable() {
			return a.notFound(ctx, key, id)
		}
		// The table in exactly the state this swap produces (at the new location, coming from
		// the expected one) is this swap's success: typically an earlier attempt whose reply
		// was lost, or a concurrent caller asking for the identical swap.
		if r.location.Valid && r.location.String == metadataLocation &&
			r.previous.Valid && r.previous.String == expectedLocation {
			return nil
		}
		return apperr.Conflict("table %s in remote %q is not at the expected metadata location (it was changed concurrently)",
			id, a.remote)
	})
	return err == nil, err
}

// DropTable deletes the table's row. No file is touched.
func (a *Adapter) DropTable(ctx context.Context, id catalog.Ident) error {
	key, err := validateIdent(id)
	if err != nil {
		return err
	}
	return a.run(ctx, "drop table", func(ctx context.Context, sv schemaVersion, ambiguous bool) error {
		res, err := a.exec(ctx, a.q(`DELETE FROM iceberg_tables
			WHERE catalog_name = ? AND table_namespace = ? AND table_name = ?`+typePredicate(sv)),
			a.catalogName, key, id.Table)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil || n == 1 {
			return err
		}
		if ambiguous {
			// The lost attempt may have deleted it; the row is gone either way.
			return nil
		}
		return a.notFound(ctx, key, id)
	})
}

// notFound builds the 404 for a missing table, saying whether the namespace is missing too.
func (a *Adapter) notFound(ctx context.Context, key string, id catalog.Ident) error {
	if ok, err := a.namespaceExists(ctx, a.db, key); err == nil && !ok {
		return apperr.NotFound("namespace %s not found in remote %q", key, a.remote)
	}
	return apperr.NotFound("table %s not found in remote %q", id, a.remote)
}

// queryer is what *sql.DB and *sql.Tx share.
type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// row is the part of an iceberg_tables row the adapter needs.
type row struct {
	found    bool
	location sql.NullString
	previous sql.NullString
	kind     sql.NullString // iceberg_type; always NULL on V0
}

// isTable is iceberg-go's and Java's filter: TABLE, or NULL for rows written before V1.
func (r row) isTable() bool { return !r.kind.Valid || r.kind.String == icebergTypeTable }

func (a *Adapter) selectRow(ctx context.Context, q queryer, sv schemaVersion, key, name string) (row, error) {
	var r row
	cols := "metadata_location, previous_metadata_location, NULL"
	if sv == schemaV1 {
		cols = "metadata_location, previous_metadata_location, iceberg_type"
	}
	err := q.QueryRowContext(ctx, a.q(`SELECT `+cols+` FROM iceberg_tables
		WHERE catalog_name = ? AND table_namespace = ? AND table_name = ?`),
		a.catalogName, key, name).Scan(&r.location, &r.previous, &r.kind)
	if errors.Is(err, sql.ErrNoRows) {
		return row{}, nil
	}
	if err != nil {
		return row{}, err
	}
	r.found = true
	return r, nil
}

// namespaceExists applies iceberg-go's rule (namespaceExistsInTx): any table row in the
// namespace (of any iceberg_type) or any namespace-properties row for it.
func (a *Adapter) namespaceExists(ctx context.Context, q queryer, key string) (bool, error) {
	var ok bool
	err := q.QueryRowContext(ctx, a.q(`SELECT
		EXISTS (SELECT 1 FROM iceberg_tables WHERE catalog_name = ? AND table_namespace = ?)
		OR EXISTS (SELECT 1 FROM iceberg_namespace_properties WHERE catalog_name = ? AND namespace = ?)`),
		a.catalogName, key, a.catalogName, key).Scan(&ok)
	return ok, err
}

// exec runs one write on a connection of its own instead of the pool's ExecContext:
// database/sql silently re-executes a statement when the driver reports the connection bad,
// and pgx reports a connection lost after the statement was sent that way. A compare-and-swap
// or delete re-executed behind our back would turn its own success into a 409 or 404; here
// the failure reaches run, which retries knowing the attempt may have been applied.
func (a *Adapter) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	c, err := a.db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	return c.ExecContext(ctx, query, args...)
}

// inTx runs fn in a read-write transaction. On SQLite the DSN makes it BEGIN IMMEDIATE (see
// prepareSQLiteDSN) so that the read-then-insert never has to upgrade its lock.
func (a *Adapter) inTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := a.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// q rewrites "?" placeholders to PostgreSQL's "$n". The queries above contain no "?" in
// literals.
func (a *Adapter) q(query string) string {
	if a.dialect != dialectPostgres {
		return query
	}
	var b strings.Builder
	n := 0
	for _, c := range query {
		if c == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

// typePredicate restricts a V1 statement to table rows (not views), as iceberg-go and Java do.
func typePredicate(sv schemaVersion) string {
	if sv == schemaV1 {
		return ` AND (iceberg_type = '` + icebergTypeTable + `' OR iceberg_type IS NULL)`
	}
	return ""
}

// namespaceExistsProperty is the property the catalogs insert for a namespace created without
// properties.
const namespaceExistsProperty = "exists"

// encodedNamespaceMarker is the prefix iceberg-go v0.7.0 uses for namespaces it cannot store
// dot-joined; a level containing it would be stored differently by iceberg-go than here.
const encodedNamespaceMarker = "__iceberg_namespace_v1__:"

// namespaceKey validates ns and returns its stored form: the levels joined by ".".
func namespaceKey(ns []string) (string, error) {
	if len(ns) == 0 {
		return "", apperr.BadRequest("namespace must not be empty")
	}
	for _, level := range ns {
		switch {
		case level == "":
			return "", apperr.BadRequest("namespace levels must not be empty")
		case strings.Contains(level, "."):
			return "", apperr.BadRequest(
				"namespace level %q contains a dot, which a sql (JDBC) catalog cannot store: it joins levels with dots", level)
		case strings.Contains(level, encodedNamespaceMarker):
			return "", apperr.BadRequest("namespace level %q contains the reserved marker %q", level, encodedNamespaceMarker)
		}
	}
	return strings.Join(ns, "."), nil
}

func validateIdent(id catalog.Ident) (string, error) {
	key, err := namespaceKey(id.Namespace)
	if err != nil {
		return "", err
	}
	if id.Table == "" {
		return "", apperr.BadRequest("table name must not be empty")
	}
	return key, nil
}
