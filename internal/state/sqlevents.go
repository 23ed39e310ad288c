package state

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"time"
)

// The event queue on SQL. PostgreSQL replicas claim with FOR UPDATE SKIP LOCKED, so two
// workers never take one event and neither waits for the other's row; SQLite has one
// writer (BEGIN IMMEDIATE), which serializes claims by itself.

const eventColumns = `id, event_type, repository, branch, commit_id, source_ref, state, attempts,
	last_error, results, received_at, next_attempt_at, lease_owner, lease_until, finished_at`

func scanEvent(row scanner) (Event, error) {
	var ev Event
	var received, next, until, finished int64
	err := row.Scan(&ev.ID, &ev.EventType, &ev.Repository, &ev.Branch, &ev.CommitID, &ev.SourceRef,
		&ev.State, &ev.Attempts, &ev.LastError, &ev.Results, &received, &next, &ev.LeaseOwner, &until, &finished)
	ev.ReceivedAt, ev.NextAttemptAt = fromMicros(received), fromMicros(next)
	ev.LeaseUntil, ev.FinishedAt = fromMicros(until), fromMicros(finished)
	return ev, err
}

func (s *sqlStore) EnqueueEvent(ctx context.Context, ev *Event) error {
	now := time.Now().UTC()
	ev.State, ev.ReceivedAt, ev.NextAttemptAt = EventPending, now, now
	var err error
	ev.ID, err = s.insertReturningID(ctx, `INSERT INTO remote_events (event_type, repository, branch,
		commit_id, source_ref, state, received_at, next_attempt_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8) RETURNING id`,
		ev.EventType, ev.Repository, ev.Branch, ev.CommitID, ev.SourceRef, ev.State, micros(now), micros(now))
	return err
}

func (s *sqlStore) ClaimEvent(ctx context.Context, owner string, lease time.Duration) (Event, bool, error) {
	now := time.Now().UTC()
	lock := ""
	if s.postgres {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	// An earlier unfinished event of the same branch holds the later ones back, so that a
	// branch's events apply in order. A running event whose lease expired is claimable
	// (its worker died) and still holds back its successors.
	query := `SELECT id FROM remote_events e
		WHERE ((e.state = 'pending' AND e.next_attempt_at <= $1) OR (e.state = 'running' AND e.lease_until < $1))
		AND NOT EXISTS (SELECT 1 FROM remote_events p WHERE p.repository = e.repository
			AND p.branch = e.branch AND p.id < e.id AND p.state IN ('pending', 'running'))
		ORDER BY e.id LIMIT 1` + lock
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return Event{}, false, err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	var id int64
	if err := tx.QueryRowContext(ctx, query, micros(now)).Scan(&id); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return Event{}, false, nil
		}
		return Event{}, false, err
	}
	ev, err := scanEvent(tx.QueryRowContext(ctx, `UPDATE remote_events SET state = 'running',
		attempts = attempts + 1, lease_owner = $1, lease_until = $2 WHERE id = $3 RETURNING `+eventColumns,
		owner, micros(now.Add(lease)), id))
	if err != nil {
		return Event{}, false, err
	}
	if err := tx.Commit(); err != nil {
		return Event{}, false, err
	}
	return ev, true, nil
}

func (s *sqlStore) RenewEventLease(ctx context.Context, id int64, owner string, lease time.Duration) error {
	res, err := s.exec(ctx, `UPDATE remote_events SET lease_until = $1
		WHERE id = $2 AND lease_owner = $3 AND state = 'running'`, micros(time.Now().UTC().Add(lease)), id, owner)
	return affectedOne(res, err)
}

func (s *sqlStore) FinishEvent(ctx context.Context, ev *Event, owner string) error {
	if ev.State == EventDone || ev.State == EventFailed {
		ev.FinishedAt = time.Now().UTC()
	}
	res, err := s.exec(ctx, `UPDATE remote_events SET state = $1, last_error = $2, results = $3,
		next_attempt_at = $4, finished_at = $5, lease_owner = '', lease_until = 0
		WHERE id = $6 AND lease_owner = $7 AND state = 'running'`,
		ev.State, ev.LastError, ev.Results, micros(ev.NextAttemptAt), micros(ev.FinishedAt), ev.ID, owner)
	return affectedOne(res, err)
}

func affectedOne(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

func (s *sqlStore) ListEvents(ctx context.Context, f EventFilter, after string, amount int) (Page[Event], error) {
	amount = clampAmount(amount)
	afterID, err := idCursor(after)
	if err != nil {
		return Page[Event]{}, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+eventColumns+` FROM remote_events
		WHERE id < $1 AND ($2 = '' OR repository = $2) AND ($3 = '' OR state = $3)
		ORDER BY id DESC LIMIT $4`, afterID, f.Repository, f.State, amount+1)
	if err != nil {
		return Page[Event]{}, err
	}
	return collectPage(rows, amount, scanEvent, func(ev Event) string { return strconv.FormatInt(ev.ID, 10) })
}

func (s *sqlStore) PendingEvents(ctx context.Context, repository string) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM remote_events
		WHERE repository = $1 AND state IN ('pending', 'running')`, repository).Scan(&n)
	return n, err
}

func (s *sqlStore) EventStats(ctx context.Context) (EventStats, error) {
	st := EventStats{ByState: map[string]int{EventPending: 0, EventRunning: 0, EventDone: 0, EventFailed: 0}}
	rows, err := s.db.QueryContext(ctx, `SELECT state, COUNT(*), MIN(received_at) FROM remote_events GROUP BY state`)
	if err != nil {
		return st, err
	}
	defer rows.Close()
	var oldest int64
	for rows.Next() {
		var state string
		var n int
		var first int64
		if err := rows.Scan(&state, &n, &first); err != nil {
			return st, err
		}
		st.ByState[state] = n
		if (state == EventPending || state == EventRunning) && (oldest == 0 || first < oldest) {
			oldest = first
		}
	}
	st.OldestPending = fromMicros(oldest)
	return st, rows.Err()
}

func (s *sqlStore) BranchCursor(ctx context.Context, repository, branch string) (string, error) {
	var commit string
	err := s.db.QueryRowContext(ctx, `SELECT commit_id FROM remote_branch_cursors
		WHERE repository = $1 AND branch = $2`, repository, branch).Scan(&commit)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return commit, err
}

func (s *sqlStore) SetBranchCursor(ctx context.Context, repository, branch, commit string) error {
	if commit == "" {
		_, err := s.exec(ctx, `DELETE FROM remote_branch_cursors WHERE repository = $1 AND branch = $2`, repository, branch)
		return err
	}
	_, err := s.exec(ctx, `INSERT INTO remote_branch_cursors (repository, branch, commit_id, updated_at)
		VALUES ($1, $2, $3, $4) ON CONFLICT (repository, branch) DO UPDATE
		SET commit_id = excluded.commit_id, updated_at = excluded.updated_at`,
		repository, branch, commit, micros(time.Now().UTC()))
	return err
}

func (s *sqlStore) PutPublication(ctx context.Context, p Publication) error {
	_, err := s.exec(ctx, `INSERT INTO remote_publications (catalog, table_key, remote_namespace,
		remote_table, repository, branch, commit_id, updated_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)
		ON CONFLICT (catalog, table_key) DO UPDATE SET repository = excluded.repository,
		branch = excluded.branch, commit_id = excluded.commit_id, updated_at = excluded.updated_at`,
		p.Catalog, p.Key(), encodeNS(p.Namespace), p.Table, p.Repository, p.Branch, p.CommitID, micros(time.Now().UTC()))
	return err
}

func (s *sqlStore) BranchPublications(ctx context.Context, repository, branch string) ([]Publication, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT catalog, remote_namespace, remote_table, repository,
		branch, commit_id FROM remote_publications WHERE repository = $1 AND branch = $2
		ORDER BY catalog, table_key`, repository, branch)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Publication
	for rows.Next() {
		var p Publication
		var ns string
		if err := rows.Scan(&p.Catalog, &ns, &p.Table, &p.Repository, &p.Branch, &p.CommitID); err != nil {
			return nil, err
		}
		p.Namespace = decodeNS(ns)
		out = append(out, p)
	}
	return out, rows.Err()
}

func (s *sqlStore) DeletePublication(ctx context.Context, key TableKey) error {
	_, err := s.exec(ctx, `DELETE FROM remote_publications WHERE catalog = $1 AND table_key = $2`, key.Catalog, key.Key())
	return err
}
