// Package state is the service's own durable memory (docs/design.md section 7): one sync record per
// remote table that was pushed from lakeFS, and an append-only audit log of every push and
// pull. Two implementations share one schema and one test suite: embedded SQLite (the
// default, a file under the data directory, one replica) and PostgreSQL (production, several
// replicas behind a load balancer).
//
// Concurrency: records carry a version and UpdateSyncRecord is a compare-and-swap on it, so
// two writers can never silently overwrite each other. LockTable serializes whole operations
// on one remote table: across goroutines of a process (SQLite and PostgreSQL) and across
// processes (PostgreSQL session advisory locks).
package state

import (
	"context"
	"errors"
	"time"

	"github.com/iceberg-remotes/iceberg-remotes/internal/names"
)

// Errors returned by stores; callers test them with errors.Is.
var (
	ErrNotFound        = errors.New("state: not found")
	ErrAlreadyExists   = errors.New("state: already exists")
	ErrVersionConflict = errors.New("state: record changed concurrently")
)

// TableKey identifies a remote table within a catalog.
type TableKey struct {
	Catalog   string
	Namespace []string
	Table     string
}

// keySep separates namespace levels and the table name in the stored key. Names may not
// contain control characters (docs/design.md section 2), so the key is unambiguous and sorts by
// namespace, then table.
const keySep = "\x1f"

// Key is the stored, sortable form of the namespace and table (also the pagination token).
func (k TableKey) Key() string {
	return names.Join(k.Namespace, k.Table, keySep)
}

// Sync statuses.
const (
	StatusSynced  = "synced"  // last operation completed
	StatusPending = "pending" // an operation wrote its intent and has not finished
	StatusFailed  = "failed"  // last operation failed after its intent was written
	// StatusUnpublished: the remote registration was removed (un-publish); the record keeps
	// its history, and a later push registers the table again.
	StatusUnpublished = "unpublished"
)

// SyncRecord is what the service knows about one remote table that came from lakeFS.
type SyncRecord struct {
	TableKey
	// Origin in lakeFS.
	Repository     string
	Reference      string
	LocalNamespace []string
	LocalTable     string
	ResolvedCommit string // commit the reference resolved to at the last push/pull
	// Locations, lakeFS-side form (before the remote's location map).
	PushedLocation string // metadata location registered by the last push
	RemoteLocation string // remote's metadata location at the last sync
	LakeFSLocation string // table's metadata location in lakeFS at the last sync
	TableUUID      string // Iceberg table-uuid of the synced metadata
	SnapshotID     string // current snapshot id at the last sync ("" when none)
	// Operation state.
	Status  string
	Pending string // JSON intent of an operation in flight ("" when none)
	Notes   string // e.g. "re-point was not atomic", "remote writers may be unable to commit"
	// Health and GC protection (migration 4).
	LastSuccessAt time.Time // when an operation last completed (zero: never)
	LastError     string    // public message of the last failure after an intent; "" after a success
	ProtectedRef  string    // lakeFS branch that keeps ResolvedCommit from GC ("" when none)
	// Bookkeeping.
	UpdatedBy string
	CreatedAt time.Time
	UpdatedAt time.Time
	Version   int64 // incremented by every successful update
}

// Operation is one audit-log row.
type Operation struct {
	ID             int64
	Catalog        string
	Operation      string // push | pull | auto-push | unpublish | auto-unpublish
	User           string
	RequestID      string
	RemoteNS       []string
	RemoteTable    string
	Repository     string
	Reference      string
	LocalNS        []string
	LocalTable     string
	Request        string // JSON of the request as received (no secrets)
	StatusCode     int    // 0 while running
	Outcome        string // running | succeeded | failed
	Error          string
	LakeFSCommit   string
	MetadataLoc    string
	StartedAt      time.Time
	FinishedAt     time.Time // zero while running
	DurationMillis int64
}

// Operation outcomes.
const (
	OutcomeRunning   = "running"
	OutcomeSucceeded = "succeeded"
	OutcomeFailed    = "failed"
)

// SyncFilter narrows a listing of sync records; zero fields select everything.
type SyncFilter struct {
	Repository string // only records published from this lakeFS repository
}

// Page is one page of a listing, lakeFS-style: NextOffset is the token to pass as "after".
type Page[T any] struct {
	Items      []T
	HasMore    bool
	NextOffset string
}

// Store is the state store.
type Store interface {
	// GetSyncRecord returns ErrNotFound when the table has no record.
	GetSyncRecord(ctx context.Context, key TableKey) (SyncRecord, error)
	// CreateSyncRecord inserts rec with Version 1; ErrAlreadyExists if the key exists.
	CreateSyncRecord(ctx context.Context, rec *SyncRecord) error
	// UpdateSyncRecord replaces the record whose Version equals rec.Version and increments
	// rec.Version; ErrVersionConflict if it changed meanwhile, ErrNotFound if absent.
	UpdateSyncRecord(ctx context.Context, rec *SyncRecord) error
	// ListSyncRecords lists a catalog's records that pass filter, ordered by key, after the
	// given key token.
	ListSyncRecords(ctx context.Context, catalog string, filter SyncFilter, after string, amount int) (Page[SyncRecord], error)
	// CountSyncRecordsByStatus counts every catalog's records by Status (one query).
	CountSyncRecordsByStatus(ctx context.Context) (map[string]int, error)

	// StartOperation appends a running audit row and sets op.ID.
	StartOperation(ctx context.Context, op *Operation) error
	// FinishOperation records the outcome of a started operation.
	FinishOperation(ctx context.Context, op *Operation) error
	// ListOperations lists a catalog's audit rows, newest first, after the given id token.
	ListOperations(ctx context.Context, catalog, after string, amount int) (Page[Operation], error)

	// LockTable blocks until the caller holds the table's lock (or ctx ends) and returns the
	// function that releases it.
	LockTable(ctx context.Context, key TableKey) (unlock func(), err error)
	// LockTables holds the locks of several tables at once (duplicates allowed), taken in
	// key order so that concurrent multi-table lockers cannot deadlock, and returns the
	// function that releases them all.
	LockTables(ctx context.Context, keys []TableKey) (unlock func(), err error)

	// WithRefLock runs fn holding the lock of a lakeFS branch that protects a published
	// commit (RefLocked: what the store knows of it, without the record of except).
	WithRefLock(ctx context.Context, repository, ref string, except TableKey, fn func(RefLocked) error) error

	EventQueue

	// Ping checks the store is reachable.
	Ping(ctx context.Context) error
	Close() error
}
