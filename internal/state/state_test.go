package state_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/config"
	"github.com/iceberg-remotes/iceberg-remotes/internal/state"
	"github.com/iceberg-remotes/iceberg-remotes/internal/testutil/pgtest"
)

// opener opens a store over the same database every time it is called within one test, so
// tests can simulate several replicas sharing one store.
type opener func(t *testing.T) state.Store

func backends() map[string]func(t *testing.T) opener {
	return map[string]func(t *testing.T) opener{
		"sqlite": func(t *testing.T) opener {
			path := filepath.Join(t.TempDir(), "state.db")
			return func(t *testing.T) state.Store {
				s, err := state.OpenSQLite(context.Background(), path, nil)
				require.NoError(t, err)
				t.Cleanup(func() { s.Close() })
				return s
			}
		},
		"postgres": func(t *testing.T) opener {
			dsn := pgtest.Schema(t)
			return func(t *testing.T) state.Store {
				s, err := state.OpenPostgres(context.Background(), config.Postgres{ConnectionString: dsn, MaxConnections: 8}, nil)
				require.NoError(t, err)
				t.Cleanup(func() { s.Close() })
				return s
			}
		},
	}
}

func TestStore(t *testing.T) {
	for name, backend := range backends() {
		t.Run(name, func(t *testing.T) {
			t.Run("sync record lifecycle", func(t *testing.T) { testSyncRecordLifecycle(t, backend(t)(t)) })
			t.Run("list sync records", func(t *testing.T) { testListSyncRecords(t, backend(t)(t)) })
			t.Run("operations", func(t *testing.T) { testOperations(t, backend(t)(t)) })
			t.Run("concurrent compare-and-swap writers", func(t *testing.T) { testConcurrentCAS(t, backend(t)(t)) })
			t.Run("lock serializes writers", func(t *testing.T) {
				open := backend(t)
				testLockSerializes(t, open(t), open(t))
			})
			t.Run("migrations are idempotent", func(t *testing.T) {
				open := backend(t)
				s1 := open(t)
				rec := newRecord("c", []string{"a"}, "t")
				require.NoError(t, s1.CreateSyncRecord(ctx(t), &rec))
				s2 := open(t) // re-applies migrations: must be a no-op that keeps data
				got, err := s2.GetSyncRecord(ctx(t), rec.TableKey)
				require.NoError(t, err)
				assert.Equal(t, rec.PushedLocation, got.PushedLocation)
				require.NoError(t, s2.Ping(ctx(t)))
			})
		})
	}
}

func TestPostgresLockAcrossReplicas(t *testing.T) {
	open := backends()["postgres"](t)
	a, b := open(t), open(t)
	key := state.TableKey{Catalog: "c", Namespace: []string{"ns"}, Table: "t"}
	unlock, err := a.LockTable(ctx(t), key)
	require.NoError(t, err)

	short, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err = b.LockTable(short, key)
	require.Error(t, err, "a second replica must not take a held lock")

	other, err := b.LockTable(ctx(t), state.TableKey{Catalog: "c", Namespace: []string{"ns"}, Table: "other"})
	require.NoError(t, err, "a different table is not blocked")
	other()

	unlock()
	unlockB, err := b.LockTable(ctx(t), key)
	require.NoError(t, err, "released lock can be taken by the other replica")
	unlockB()
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return c
}

func newRecord(catalog string, ns []string, table string) state.SyncRecord {
	return state.SyncRecord{
		TableKey:       state.TableKey{Catalog: catalog, Namespace: ns, Table: table},
		Repository:     "repo",
		Reference:      "main",
		LocalNamespace: []string{"local", "ns"},
		LocalTable:     "local_" + table,
		ResolvedCommit: "c1",
		PushedLocation: "s3://bucket/" + table + "/metadata/00001-x.metadata.json",
		RemoteLocation: "s3://bucket/" + table + "/metadata/00001-x.metadata.json",
		LakeFSLocation: "s3://bucket/" + table + "/metadata/00001-x.metadata.json",
		Status:         state.StatusSynced,
		UpdatedBy:      "alice",
		TableUUID:      "9c12d441-03fe-4693-9a96-a0705ddf69c1",
		SnapshotID:     "3051729675574597004",
	}
}

func testSyncRecordLifecycle(t *testing.T, s state.Store) {
	c := ctx(t)
	rec := newRecord("glue", []string{"accounting", "tax"}, "events")
	_, err := s.GetSyncRecord(c, rec.TableKey)
	require.ErrorIs(t, err, state.ErrNotFound)

	require.NoError(t, s.CreateSyncRecord(c, &rec))
	assert.EqualValues(t, 1, rec.Version)
	dup := newRecord("glue", []string{"accounting", "tax"}, "events")
	require.ErrorIs(t, s.CreateSyncRecord(c, &dup), state.ErrAlreadyExists)

	got, err := s.GetSyncRecord(c, rec.TableKey)
	require.NoError(t, err)
	assert.Equal(t, rec.Namespace, got.Namespace)
	assert.Equal(t, rec.LocalNamespace, got.LocalNamespace)
	assert.Equal(t, rec.PushedLocation, got.PushedLocation)
	assert.Equal(t, "alice", got.UpdatedBy)
	assert.Equal(t, rec.TableUUID, got.TableUUID)
	assert.Equal(t, rec.SnapshotID, got.SnapshotID)
	assert.WithinDuration(t, rec.CreatedAt, got.CreatedAt, time.Millisecond)

	// Same table name in another namespace or catalog is a different record.
	_, err = s.GetSyncRecord(c, state.TableKey{Catalog: "glue", Namespace: []string{"accounting"}, Table: "events"})
	require.ErrorIs(t, err, state.ErrNotFound)
	_, err = s.GetSyncRecord(c, state.TableKey{Catalog: "rest", Namespace: rec.Namespace, Table: "events"})
	require.ErrorIs(t, err, state.ErrNotFound)

	got.Status, got.Pending, got.RemoteLocation, got.SnapshotID = state.StatusPending, `{"op":"pull"}`, "s3://new", "42"
	require.NoError(t, s.UpdateSyncRecord(c, &got))
	assert.EqualValues(t, 2, got.Version)

	stale := rec // still at version 1
	stale.Notes = "stale writer"
	require.ErrorIs(t, s.UpdateSyncRecord(c, &stale), state.ErrVersionConflict)

	again, err := s.GetSyncRecord(c, rec.TableKey)
	require.NoError(t, err)
	assert.Equal(t, state.StatusPending, again.Status)
	assert.Equal(t, `{"op":"pull"}`, again.Pending)
	assert.Equal(t, "s3://new", again.RemoteLocation)
	assert.Equal(t, "42", again.SnapshotID)
	assert.Empty(t, again.Notes, "the stale update must not have been applied")

	missing := newRecord("glue", []string{"x"}, "nope")
	require.ErrorIs(t, s.UpdateSyncRecord(c, &missing), state.ErrNotFound)
}

func testListSyncRecords(t *testing.T, s state.Store) {
	c := ctx(t)
	var want []string
	for i := 0; i < 25; i++ {
		ns := []string{fmt.Sprintf("ns%d", i%3)}
		table := fmt.Sprintf("t%02d", i)
		rec := newRecord("cat", ns, table)
		require.NoError(t, s.CreateSyncRecord(c, &rec))
		want = append(want, rec.Key())
	}
	other := newRecord("other", []string{"ns0"}, "t00")
	require.NoError(t, s.CreateSyncRecord(c, &other))

	var got []string
	after := ""
	pages := 0
	for {
		page, err := s.ListSyncRecords(c, "cat", state.SyncFilter{}, after, 10)
		require.NoError(t, err)
		pages++
		for _, r := range page.Items {
			assert.Equal(t, "cat", r.Catalog)
			got = append(got, r.Key())
		}
		if !page.HasMore {
			assert.Empty(t, page.NextOffset)
			break
		}
		assert.Len(t, page.Items, 10)
		after = page.NextOffset
		require.Less(t, pages, 10, "pagination must terminate")
	}
	assert.Equal(t, 3, pages)
	assert.ElementsMatch(t, want, got)
	assert.IsIncreasing(t, got, "records are ordered by key")

	// Filtered by repository: 12 records come from another one; pages of that
	// repository's records only, with the same pagination.
	var wantOther []string
	for i := 0; i < 12; i++ {
		rec := newRecord("cat", []string{"ns1"}, fmt.Sprintf("o%02d", i))
		rec.Repository = "other-repo"
		require.NoError(t, s.CreateSyncRecord(c, &rec))
		wantOther = append(wantOther, rec.Key())
	}
	got, after = nil, ""
	for pages = 0; ; {
		page, err := s.ListSyncRecords(c, "cat", state.SyncFilter{Repository: "other-repo"}, after, 5)
		require.NoError(t, err)
		pages++
		for _, r := range page.Items {
			assert.Equal(t, "other-repo", r.Repository)
			got = append(got, r.Key())
		}
		if !page.HasMore {
			break
		}
		after = page.NextOffset
		require.Less(t, pages, 10, "pagination must terminate")
	}
	assert.Equal(t, 3, pages)
	assert.Equal(t, wantOther, got)
	page, err := s.ListSyncRecords(c, "cat", state.SyncFilter{Repository: "nowhere"}, "", 5)
	require.NoError(t, err)
	assert.Empty(t, page.Items)
	assert.False(t, page.HasMore)
}

func testOperations(t *testing.T, s state.Store) {
	c := ctx(t)
	var ids []int64
	for i := 0; i < 7; i++ {
		op := &state.Operation{
			Catalog: "cat", Operation: "push", User: "bob", RequestID: "req-" + strconv.Itoa(i),
			RemoteNS: []string{"a", "b"}, RemoteTable: "t", Repository: "repo", Reference: "main",
			LocalNS: []string{"a"}, LocalTable: "t", Request: `{"force_update":false}`,
		}
		require.NoError(t, s.StartOperation(c, op))
		require.NotZero(t, op.ID)
		op.StatusCode, op.Outcome, op.LakeFSCommit = 204, state.OutcomeSucceeded, "abc"
		if i == 3 {
			op.StatusCode, op.Outcome, op.Error = 409, state.OutcomeFailed, "table exists"
		}
		require.NoError(t, s.FinishOperation(c, op))
		ids = append(ids, op.ID)
	}
	running := &state.Operation{Catalog: "cat", Operation: "pull", RemoteNS: []string{"x"}}
	require.NoError(t, s.StartOperation(c, running))
	ids = append(ids, running.ID)

	page, err := s.ListOperations(c, "cat", "", 5)
	require.NoError(t, err)
	require.Len(t, page.Items, 5)
	assert.True(t, page.HasMore)
	assert.Equal(t, ids[7], page.Items[0].ID, "newest first")
	assert.Equal(t, state.OutcomeRunning, page.Items[0].Outcome)
	assert.True(t, page.Items[0].FinishedAt.IsZero())
	rest, err := s.ListOperations(c, "cat", page.NextOffset, 5)
	require.NoError(t, err)
	require.Len(t, rest.Items, 3)
	assert.False(t, rest.HasMore)
	assert.Equal(t, ids[0], rest.Items[2].ID)
	var failed state.Operation
	for _, op := range append(page.Items, rest.Items...) {
		if op.Outcome == state.OutcomeFailed {
			failed = op
		}
	}
	assert.Equal(t, 409, failed.StatusCode)
	assert.Equal(t, "table exists", failed.Error)
	assert.Equal(t, []string{"a", "b"}, failed.RemoteNS)

	none, err := s.ListOperations(c, "other", "", 5)
	require.NoError(t, err)
	assert.Empty(t, none.Items)
}

// testConcurrentCAS has many writers increment a counter in one record with
// read-modify-compare-and-swap; with a lost update the final count would be short.
func testConcurrentCAS(t *testing.T, s state.Store) {
	c := ctx(t)
	rec := newRecord("cat", []string{"ns"}, "counter")
	rec.ResolvedCommit = "0"
	require.NoError(t, s.CreateSyncRecord(c, &rec))
	const writers, increments = 8, 5
	var wg sync.WaitGroup
	var conflicts sync.Map
	errs := make(chan error, writers)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < increments; i++ {
				for attempt := 0; ; attempt++ {
					if attempt > 500 {
						errs <- errors.New("too many conflicts")
						return
					}
					cur, err := s.GetSyncRecord(c, rec.TableKey)
					if err != nil {
						errs <- err
						return
					}
					n, _ := strconv.Atoi(cur.ResolvedCommit)
					cur.ResolvedCommit = strconv.Itoa(n + 1)
					err = s.UpdateSyncRecord(c, &cur)
					if errors.Is(err, state.ErrVersionConflict) {
						conflicts.Store(w, true)
						continue
					}
					if err != nil {
						errs <- err
						return
					}
					break
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	final, err := s.GetSyncRecord(c, rec.TableKey)
	require.NoError(t, err)
	assert.Equal(t, strconv.Itoa(writers*increments), final.ResolvedCommit, "no update may be lost")
	assert.EqualValues(t, 1+writers*increments, final.Version)
}

// testLockSerializes runs read-modify-write without retries under LockTable from two store
// instances (two replicas on one database for PostgreSQL; two handles of one file for
// SQLite). Without mutual exclusion some update would hit a version conflict.
func testLockSerializes(t *testing.T, a, b state.Store) {
	c := ctx(t)
	rec := newRecord("cat", []string{"ns"}, "locked")
	rec.ResolvedCommit = "0"
	require.NoError(t, a.CreateSyncRecord(c, &rec))
	stores := []state.Store{a, b}
	const workers = 10
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(s state.Store) {
			defer wg.Done()
			unlock, err := s.LockTable(c, rec.TableKey)
			if err != nil {
				errs <- err
				return
			}
			defer unlock()
			cur, err := s.GetSyncRecord(c, rec.TableKey)
			if err != nil {
				errs <- err
				return
			}
			n, _ := strconv.Atoi(cur.ResolvedCommit)
			time.Sleep(2 * time.Millisecond) // widen the race window
			cur.ResolvedCommit = strconv.Itoa(n + 1)
			errs <- s.UpdateSyncRecord(c, &cur)
		}(stores[w%2])
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	final, err := a.GetSyncRecord(c, rec.TableKey)
	require.NoError(t, err)
	assert.Equal(t, strconv.Itoa(workers), final.ResolvedCommit)
}
