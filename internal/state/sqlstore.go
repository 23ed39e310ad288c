package state

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	_ "modernc.org/sqlite" // registers the pure-Go "sqlite" database/sql driver

	"github.com/iceberg-remotes/iceberg-remotes/internal/config"
)

//go:embed migrations
var migrations embed.FS

// MaxPageSize bounds every listing (lakeFS's own maximum).
const MaxPageSize = 1000

// sqlStore implements Store for SQLite and PostgreSQL; the statements are portable, only
// locking, migrations and error classification differ.
type sqlStore struct {
	db       *sql.DB
	postgres bool
	locks    *keyedMutex
	// lockConns bounds the PostgreSQL table locks held at once (each pins a pooled
	// connection for the whole operation) so that the holders always find free connections
	// for their own queries: without it, pool-size concurrent operations on different
	// tables pinned the whole pool and then waited forever for one more connection.
	lockConns chan struct{}
	// refConns bounds the PostgreSQL protecting-branch locks held at once (WithRefLock),
	// taken by operations that already hold a table lock: with lockConns, locks pin at
	// most three quarters of the pool, so a section that stores a record finds a connection.
	refConns chan struct{}
}

// DefaultPostgresMaxConnections is the PostgreSQL pool size when the configuration sets
// none; at most half of a pool's connections hold table locks, each holder needing at most
// one more at a time.
const DefaultPostgresMaxConnections = 32

// Open opens the configured store and applies pending migrations.
func Open(ctx context.Context, cfg config.State, logger *slog.Logger) (Store, error) {
	switch cfg.Type {
	case "sqlite":
		return OpenSQLite(ctx, cfg.SQLite.Path, logger)
	case "postgres":
		return OpenPostgres(ctx, cfg.Postgres, logger)
	default:
		return nil, fmt.Errorf("state.type: unknown store type %q", cfg.Type)
	}
}

// OpenSQLite opens (creating if needed) the SQLite database file at path.
func OpenSQLite(ctx context.Context, path string, logger *slog.Logger) (Store, error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("state.sqlite.path: create directory: %w", err)
		}
	}
	// WAL lets readers run beside the writer; busy_timeout makes a second process wait
	// rather than fail; one connection makes this process the single writer.
	dsn := "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("state: open sqlite: %w", err)
	}
	db.SetMaxOpenConns(1)
	s := &sqlStore{db: db, locks: sqliteLocks(path)}
	if err := s.migrate(ctx, goose.DialectSQLite3, "migrations/sqlite", nil, logger); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// sqliteLockTables holds one lock table per database file, shared by every Store opened on
// that file in this process: SQLite state is single-process, so in-process locks are
// complete there.
var sqliteLockTables sync.Map // absolute path -> *keyedMutex

func sqliteLocks(path string) *keyedMutex {
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	m, _ := sqliteLockTables.LoadOrStore(path, newKeyedMutex())
	return m.(*keyedMutex)
}

// OpenPostgres connects to PostgreSQL and applies pending migrations (holding a session
// lock, so replicas starting together migrate once).
func OpenPostgres(ctx context.Context, cfg config.Postgres, logger *slog.Logger) (Store, error) {
	maxConns := cfg.MaxConnections
	if maxConns <= 0 {
		maxConns = DefaultPostgresMaxConnections
	}
	maxConns = max(maxConns, 4)
	db, err := sql.Open("pgx", cfg.ConnectionString)
	if err != nil {
		return nil, fmt.Errorf("state: open postgres: %w", err)
	}
	db.SetMaxOpenConns(maxConns)
	db.SetMaxIdleConns(min(8, maxConns))
	db.SetConnMaxIdleTime(5 * time.Minute)
	pingCtx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := db.PingContext(pingCtx); err != nil {
		db.Close()
		return nil, fmt.Errorf("state: connect to postgres: %w", redactPGError(err))
	}
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		db.Close()
		return nil, err
	}
	s := &sqlStore{db: db, postgres: true, locks: newKeyedMutex(), lockConns: make(chan struct{}, maxConns/2),
		refConns: make(chan struct{}, max(1, maxConns/4))}
	if err := s.migrate(ctx, goose.DialectPostgres, "migrations/postgres", locker, logger); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

func (s *sqlStore) migrate(ctx context.Context, dialect goose.Dialect, dir string, locker lock.SessionLocker, logger *slog.Logger) error {
	sub, err := fs.Sub(migrations, dir)
	if err != nil {
		return err
	}
	opts := []goose.ProviderOption{goose.WithDisableGlobalRegistry(true)}
	if locker != nil {
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	p, err := goose.NewProvider(dialect, s.db, sub, opts...)
	if err != nil {
		return fmt.Errorf("state: migrations: %w", err)
	}
	results, err := p.Up(ctx)
	if err != nil {
		return fmt.Errorf("state: apply migrations: %w", err)
	}
	if logger != nil {
		for _, r := range results {
			logger.Info("applied state migration", "version", r.Source.Version, "duration", r.Duration)
		}
	}
	return nil
}

// exec runs a write. On PostgreSQL it uses a dedicated connection: database/sql re-runs a
// statement on a fresh connection when the driver reports a bad connection, and pgx reports
// some connections lost *after* the statement was sent that way, so a DB-level write could
// be applied twice (a committed compare-and-swap then looks like a conflict). A *sql.Conn
// never re-runs a statement; the caller sees the error instead.
func (s *sqlStore) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if !s.postgres {
		return s.db.ExecContext(ctx, query, args...)
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	return conn.ExecContext(ctx, query, args...)
}

// insertReturningID runs an INSERT ... RETURNING id with the same care as exec.
func (s *sqlStore) insertReturningID(ctx context.Context, query string, args ...any) (int64, error) {
	var id int64
	if !s.postgres {
		err := s.db.QueryRowContext(ctx, query, args...).Scan(&id)
		return id, err
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	err = conn.QueryRowContext(ctx, query, args...).Scan(&id)
	return id, err
}

func (s *sqlStore) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }
func (s *sqlStore) Close() error                   { return s.db.Close() }

const syncColumns = `catalog, table_key, remote_namespace, remote_table, repository, reference,
	local_namespace, local_table, resolved_commit, pushed_location, remote_location,
	lakefs_location, status, pending, notes, updated_by, created_at, updated_at, version,
	table_uuid, snapshot_id, last_success_at, last_error, protected_ref`

func (s *sqlStore) GetSyncRecord(ctx context.Context, key TableKey) (SyncRecord, error) {
	row := s.db.QueryRowContext(ctx, `SELECT `+syncColumns+` FROM remote_sync_records
		WHERE catalog = $1 AND table_key = $2`, key.Catalog, key.Key())
	rec, err := scanSync(row)
	if errors.Is(err, sql.ErrNoRows) {
		return SyncRecord{}, ErrNotFound
	}
	return rec, err
}

func (s *sqlStore) CreateSyncRecord(ctx context.Context, rec *SyncRecord) error {
	now := time.Now().UTC()
	rec.CreatedAt, rec.UpdatedAt, rec.Version = now, now, 1
	_, err := s.exec(ctx, `INSERT INTO remote_sync_records (`+syncColumns+`)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21,$22,$23,$24)`,
		rec.Catalog, rec.Key(), encodeNS(rec.Namespace), rec.Table, rec.Repository, rec.Reference,
		encodeNS(rec.LocalNamespace), rec.LocalTable, rec.ResolvedCommit, rec.PushedLocation,
		rec.RemoteLocation, rec.LakeFSLocation, rec.Status, rec.Pending, rec.Notes, rec.UpdatedBy,
		micros(rec.CreatedAt), micros(rec.UpdatedAt), rec.Version, rec.TableUUID, rec.SnapshotID,
		micros(rec.LastSuccessAt), rec.LastError, rec.ProtectedRef)
	if err != nil && s.isUniqueViolation(err) {
		return ErrAlreadyExists
	}
	return err
}

func (s *sqlStore) UpdateSyncRecord(ctx context.Context, rec *SyncRecord) error {
	now := time.Now().UTC()
	res, err := s.exec(ctx, `UPDATE remote_sync_records SET
		repository=$1, reference=$2, local_namespace=$3, local_table=$4, resolved_commit=$5,
		pushed_location=$6, remote_location=$7, lakefs_location=$8, status=$9, pending=$10,
		notes=$11, updated_by=$12, updated_at=$13, table_uuid=$14, snapshot_id=$15,
		last_success_at=$19, last_error=$20, protected_ref=$21, version=version+1
		WHERE catalog=$16 AND table_key=$17 AND version=$18`,
		rec.Repository, rec.Reference, encodeNS(rec.LocalNamespace), rec.LocalTable,
		rec.ResolvedCommit, rec.PushedLocation, rec.RemoteLocation, rec.LakeFSLocation,
		rec.Status, rec.Pending, rec.Notes, rec.UpdatedBy, micros(now), rec.TableUUID, rec.SnapshotID,
		rec.Catalog, rec.Key(), rec.Version,
		micros(rec.LastSuccessAt), rec.LastError, rec.ProtectedRef)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		if _, err := s.GetSyncRecord(ctx, rec.TableKey); errors.Is(err, ErrNotFound) {
			return ErrNotFound
		}
		return ErrVersionConflict
	}
	rec.Version++
	rec.UpdatedAt = now
	return nil
}

func (s *sqlStore) ListSyncRecords(ctx context.Context, catalog string, filter SyncFilter, after string, amount int) (Page[SyncRecord], error) {
	amount = clampAmount(amount)
	// The repository filter needs no index of its own: the scan follows the primary key
	// (catalog, table_key) and skips the other repositories' rows.
	rows, err := s.db.QueryContext(ctx, `SELECT `+syncColumns+` FROM remote_sync_records
		WHERE catalog = $1 AND table_key > $2 AND ($4 = '' OR repository = $4)
		ORDER BY table_key LIMIT $3`, catalog, after, amount+1, filter.Repository)
	if err != nil {
		return Page[SyncRecord]{}, err
	}
	return collectPage(rows, amount, scanSync, SyncRecord.Key)
}

const opColumns = `catalog, operation, user_id, request_id, remote_namespace, remote_table,
	repository, reference, local_namespace, local_table, request, status_code, outcome, error,
	lakefs_commit, metadata_location, started_at, finished_at, duration_ms`

func (s *sqlStore) StartOperation(ctx context.Context, op *Operation) error {
	if op.StartedAt.IsZero() {
		op.StartedAt = time.Now().UTC()
	}
	if op.Outcome == "" {
		op.Outcome = OutcomeRunning
	}
	var err error
	op.ID, err = s.insertReturningID(ctx, `INSERT INTO remote_operations (`+opColumns+`)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19) RETURNING id`,
		op.Catalog, op.Operation, op.User, op.RequestID, encodeNS(op.RemoteNS), op.RemoteTable,
		op.Repository, op.Reference, encodeNS(op.LocalNS), op.LocalTable, op.Request, op.StatusCode,
		op.Outcome, op.Error, op.LakeFSCommit, op.MetadataLoc, micros(op.StartedAt),
		micros(op.FinishedAt), op.DurationMillis)
	return err
}

func (s *sqlStore) FinishOperation(ctx context.Context, op *Operation) error {
	if op.FinishedAt.IsZero() {
		op.FinishedAt = time.Now().UTC()
	}
	op.DurationMillis = op.FinishedAt.Sub(op.StartedAt).Milliseconds()
	res, err := s.exec(ctx, `UPDATE remote_operations SET status_code=$1, outcome=$2,
		error=$3, lakefs_commit=$4, metadata_location=$5, finished_at=$6, duration_ms=$7 WHERE id=$8`,
		op.StatusCode, op.Outcome, op.Error, op.LakeFSCommit, op.MetadataLoc,
		micros(op.FinishedAt), op.DurationMillis, op.ID)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return ErrNotFound
	}
	return err
}

func (s *sqlStore) ListOperations(ctx context.Context, catalog, after string, amount int) (Page[Operation], error) {
	amount = clampAmount(amount)
	afterID, err := idCursor(after)
	if err != nil {
		return Page[Operation]{}, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, `+opColumns+` FROM remote_operations
		WHERE catalog = $1 AND id < $2 ORDER BY id DESC LIMIT $3`, catalog, afterID, amount+1)
	if err != nil {
		return Page[Operation]{}, err
	}
	return collectPage(rows, amount, scanOperation, func(op Operation) string { return strconv.FormatInt(op.ID, 10) })
}

func scanOperation(row scanner) (Operation, error) {
	var op Operation
	var remoteNS, localNS string
	var started, finished int64
	if err := row.Scan(&op.ID, &op.Catalog, &op.Operation, &op.User, &op.RequestID, &remoteNS,
		&op.RemoteTable, &op.Repository, &op.Reference, &localNS, &op.LocalTable, &op.Request,
		&op.StatusCode, &op.Outcome, &op.Error, &op.LakeFSCommit, &op.MetadataLoc, &started,
		&finished, &op.DurationMillis); err != nil {
		return Operation{}, err
	}
	op.RemoteNS, op.LocalNS = decodeNS(remoteNS), decodeNS(localNS)
	op.StartedAt, op.FinishedAt = fromMicros(started), fromMicros(finished)
	return op, nil
}

// idCursor reads the "after" token of a listing ordered by descending id ("" starts at the
// newest).
func idCursor(after string) (int64, error) {
	if after == "" {
		return 1<<63 - 1, nil
	}
	id, err := strconv.ParseInt(after, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: invalid after token %q", ErrNotFound, after)
	}
	return id, nil
}

// collectPage reads a listing queried with LIMIT amount+1 into one page: the extra row only
// says there is more, and token gives the last kept item's "after" token.
func collectPage[T any](rows *sql.Rows, amount int, scan func(scanner) (T, error), token func(T) string) (Page[T], error) {
	defer rows.Close()
	var page Page[T]
	for rows.Next() {
		item, err := scan(rows)
		if err != nil {
			return Page[T]{}, err
		}
		page.Items = append(page.Items, item)
	}
	if err := rows.Err(); err != nil {
		return Page[T]{}, err
	}
	if len(page.Items) > amount {
		page.Items, page.HasMore = page.Items[:amount], true
		page.NextOffset = token(page.Items[amount-1])
	}
	return page, nil
}

// LockTable takes the table's lock: LockTables of one table.
func (s *sqlStore) LockTable(ctx context.Context, key TableKey) (func(), error) {
	return s.LockTables(ctx, []TableKey{key})
}

// LockTables takes the in-process locks first, in key order, so that one process holds at
// most one database connection per contended set of tables; PostgreSQL then takes a session
// advisory lock per table, in the same order, all on one dedicated connection (however many
// tables: a bulk operation must not need a connection per table), which serializes
// replicas. Every multi-table locker takes keys in the same order, so none deadlocks.
// SQLite is single-process by design.
func (s *sqlStore) LockTables(ctx context.Context, keys []TableKey) (func(), error) {
	ks := make([]string, 0, len(keys))
	for _, key := range keys {
		ks = append(ks, key.Catalog+keySep+key.Key())
	}
	slices.Sort(ks)
	ks = slices.Compact(ks)
	if len(ks) == 1 && !s.postgres {
		// One table in one process (every push and pull): its in-process lock is all there
		// is to take, and its unlock is already safe to call twice.
		return s.locks.Lock(ctx, ks[0])
	}
	var unlocks []func()
	unlockLocal := func() {
		for i := len(unlocks) - 1; i >= 0; i-- {
			unlocks[i]()
		}
	}
	for _, k := range ks {
		u, err := s.locks.Lock(ctx, k)
		if err != nil {
			unlockLocal()
			return nil, err
		}
		unlocks = append(unlocks, u)
	}
	if !s.postgres {
		var once sync.Once
		return func() { once.Do(unlockLocal) }, nil
	}
	select {
	case s.lockConns <- struct{}{}:
	case <-ctx.Done():
		unlockLocal()
		return nil, ctx.Err()
	}
	release := func() { <-s.lockConns; unlockLocal() }
	conn, err := s.db.Conn(ctx)
	if err != nil {
		release()
		return nil, err
	}
	for _, k := range ks {
		if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, advisoryLockID(k)); err != nil {
			conn.Raw(func(any) error { return driver.ErrBadConn }) //nolint:errcheck // discard the conn: closing the session releases its locks
			conn.Close()
			release()
			return nil, err
		}
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			// Unlock with a fresh deadline: the caller's context may already be cancelled,
			// and a lock left held would block the tables until the connection dies.
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_unlock_all()`); err != nil {
				conn.Raw(func(any) error { return driver.ErrBadConn }) //nolint:errcheck // closing the session releases the locks
			}
			conn.Close()
			release()
		})
	}, nil
}

// advisoryLockID maps a table key to PostgreSQL's 64-bit advisory lock space. A collision
// only serializes two unrelated tables; it can never let two operations on one table overlap.
func advisoryLockID(key string) int64 {
	h := fnv.New64a()
	h.Write([]byte("iceberg-remotes" + keySep + key))
	return int64(h.Sum64())
}

func (s *sqlStore) isUniqueViolation(err error) bool {
	if s.postgres {
		var pgErr *pgconn.PgError
		return errors.As(err, &pgErr) && pgErr.Code == "23505"
	}
	return strings.Contains(err.Error(), "UNIQUE constraint failed")
}

type scanner interface{ Scan(dest ...any) error }

func scanSync(row scanner) (SyncRecord, error) {
	var rec SyncRecord
	var tableKey, remoteNS, localNS string
	var created, updated, lastSuccess int64
	err := row.Scan(&rec.Catalog, &tableKey, &remoteNS, &rec.Table, &rec.Repository, &rec.Reference,
		&localNS, &rec.LocalTable, &rec.ResolvedCommit, &rec.PushedLocation, &rec.RemoteLocation,
		&rec.LakeFSLocation, &rec.Status, &rec.Pending, &rec.Notes, &rec.UpdatedBy, &created, &updated,
		&rec.Version, &rec.TableUUID, &rec.SnapshotID, &lastSuccess, &rec.LastError, &rec.ProtectedRef)
	if err != nil {
		return SyncRecord{}, err
	}
	rec.Namespace, rec.LocalNamespace = decodeNS(remoteNS), decodeNS(localNS)
	rec.CreatedAt, rec.UpdatedAt = fromMicros(created), fromMicros(updated)
	rec.LastSuccessAt = fromMicros(lastSuccess)
	return rec, nil
}

func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

func fromMicros(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}

func clampAmount(amount int) int {
	if amount <= 0 || amount > MaxPageSize {
		return MaxPageSize
	}
	return amount
}

// redactPGError drops the connection string PostgreSQL drivers sometimes echo.
func redactPGError(err error) error {
	var connErr *pgconn.ConnectError
	if errors.As(err, &connErr) {
		return errors.New("cannot connect to the PostgreSQL server (check state.postgres.connection_string)")
	}
	return err
}
