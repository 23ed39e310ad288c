package state

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"time"
)

// RefUse is what the store knows of a lakeFS branch that protects a published commit
// (docs/design.md, departure 19) while its lock is held.
type RefUse struct {
	// Exists: this service created the branch and has not deleted it since (recorded by
	// SetExists under the lock, so it is exact unless someone else deletes the branch).
	Exists bool
	// Claims: records other than the caller's, published from the branch's repository, that
	// name it as their ProtectedRef and are not un-published.
	Claims int
	// Pending: records other than the caller's whose pending intent mentions the branch's
	// name (a substring match on the intent's JSON, in any repository): a push that will use
	// it, or an operation that will settle it. A false match only keeps a branch longer.
	Pending int
}

// InUse tells whether any record other than the caller's uses the branch.
func (u RefUse) InUse() bool { return u.Claims+u.Pending > 0 }

// RefLocked is the section WithRefLock runs: what the store knows of the branch, and how to
// record that it was created or is about to be deleted (each write is durable at once).
type RefLocked interface {
	Use() RefUse
	SetExists(ctx context.Context, exists bool) error
}

// refLockPrefix starts the lock key of a branch. A table's lock key starts with its
// catalog id, which has no control characters, so the two never collide.
const refLockPrefix = "\x00ref" + keySep

// WithRefLock holds the lock of branch ref of repository (across the goroutines of a
// process, and on PostgreSQL across replicas) and runs fn with what the store knows of it,
// counted without the record of except: fn creates or deletes the branch, and what it
// decides holds until it returns, because every creation and deletion of a protecting
// branch happens under this lock.
//
// On PostgreSQL the lock is a session advisory lock on one pooled connection, which also
// runs the section's count and SetExists; at most a quarter of the pool holds such locks
// (refConns), so a section that stores a record (a pull's claim) finds a connection.
func (s *sqlStore) WithRefLock(ctx context.Context, repository, ref string, except TableKey, fn func(RefLocked) error) error {
	key := refLockPrefix + repository + keySep + ref
	unlock, err := s.locks.Lock(ctx, key)
	if err != nil {
		return err
	}
	defer unlock()
	sec := &refSection{s: s, q: s.db, repository: repository, ref: ref}
	if s.postgres {
		select {
		case s.refConns <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
		defer func() { <-s.refConns }()
		conn, err := s.db.Conn(ctx)
		if err != nil {
			return err
		}
		defer conn.Close()
		if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, advisoryLockID(key)); err != nil {
			conn.Raw(func(any) error { return driver.ErrBadConn }) //nolint:errcheck // discard the conn: closing the session releases its locks
			return err
		}
		defer func() {
			// A fresh deadline: the caller's context may be cancelled already.
			uctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if _, err := conn.ExecContext(uctx, `SELECT pg_advisory_unlock($1)`, advisoryLockID(key)); err != nil {
				conn.Raw(func(any) error { return driver.ErrBadConn }) //nolint:errcheck // closing the session releases the lock
			}
		}()
		sec.q = conn
	}
	if err := sec.count(ctx, except); err != nil {
		return err
	}
	return fn(sec)
}

type refQueryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

type refSection struct {
	s               *sqlStore
	q               refQueryer
	repository, ref string
	use             RefUse
}

func (r *refSection) Use() RefUse { return r.use }

func (r *refSection) SetExists(ctx context.Context, exists bool) error {
	var err error
	if exists {
		_, err = r.q.ExecContext(ctx, `INSERT INTO remote_protected_refs (repository, name) VALUES ($1, $2) ON CONFLICT DO NOTHING`, r.repository, r.ref)
	} else {
		_, err = r.q.ExecContext(ctx, `DELETE FROM remote_protected_refs WHERE repository = $1 AND name = $2`, r.repository, r.ref)
	}
	if err == nil {
		r.use.Exists = exists
	}
	return err
}

// count is one query; the claims use the (repository, protected_ref) index of migration
// 5, and the pending intents are few (only operations in flight have one).
func (r *refSection) count(ctx context.Context, except TableKey) error {
	find := "instr(pending, $3) > 0"
	if r.s.postgres {
		find = "strpos(pending, $3) > 0"
	}
	var exists int
	err := r.q.QueryRowContext(ctx, `SELECT
		(SELECT COUNT(*) FROM remote_protected_refs WHERE repository = $1 AND name = $2),
		COALESCE(SUM(CASE WHEN repository = $1 AND protected_ref = $2 AND status <> $4 THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN pending <> '' AND `+find+` THEN 1 ELSE 0 END), 0)
		FROM remote_sync_records
		WHERE NOT (catalog = $5 AND table_key = $6)
		AND ((repository = $1 AND protected_ref = $2) OR pending <> '')`,
		r.repository, r.ref, `"`+r.ref+`"`, StatusUnpublished, except.Catalog, except.Key()).Scan(&exists, &r.use.Claims, &r.use.Pending)
	r.use.Exists = exists > 0
	return err
}
