package state_test

import (
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/state"
)

func TestEventQueue(t *testing.T) {
	for name, backend := range backends() {
		t.Run(name, func(t *testing.T) {
			t.Run("one branch in order, branches in parallel", func(t *testing.T) { testEventOrder(t, backend(t)(t)) })
			t.Run("expired lease is retried", func(t *testing.T) { testEventLease(t, backend(t)(t)) })
			t.Run("replicas never claim one event twice", func(t *testing.T) {
				open := backend(t)
				testEventClaimsAcrossReplicas(t, open(t), open(t))
			})
			t.Run("cursors and publications", func(t *testing.T) { testCursorsAndPublications(t, backend(t)(t)) })
		})
	}
}

func enqueue(t *testing.T, s state.Store, branch, commit string) state.Event {
	ev := state.Event{EventType: "post-commit", Repository: "r", Branch: branch, CommitID: commit}
	require.NoError(t, s.EnqueueEvent(ctx(t), &ev))
	return ev
}

func testEventOrder(t *testing.T, s state.Store) {
	a1, b1, a2 := enqueue(t, s, "a", "1"), enqueue(t, s, "b", "1"), enqueue(t, s, "a", "2")
	got, ok, err := s.ClaimEvent(ctx(t), "w1", time.Minute)
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, a1.ID, got.ID)
	assert.Equal(t, 1, got.Attempts)
	assert.Equal(t, state.EventRunning, got.State)
	// a2 waits for a1; b1 is free.
	got2, ok, err := s.ClaimEvent(ctx(t), "w2", time.Minute)
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, b1.ID, got2.ID)
	_, ok, err = s.ClaimEvent(ctx(t), "w3", time.Minute)
	require.NoError(t, err)
	assert.False(t, ok, "a2 waits behind a1")

	// A retry scheduled later still holds a2 back.
	got.State, got.LastError, got.NextAttemptAt = state.EventPending, "remote down", time.Now().Add(time.Hour)
	require.NoError(t, s.FinishEvent(ctx(t), &got, "w1"))
	_, ok, err = s.ClaimEvent(ctx(t), "w3", time.Minute)
	require.NoError(t, err)
	assert.False(t, ok, "a1 is not due and a2 waits behind it")

	// Another owner cannot finish an event it does not hold.
	got2.State = state.EventDone
	assert.ErrorIs(t, s.FinishEvent(ctx(t), &got2, "w1"), state.ErrNotFound)
	require.NoError(t, s.FinishEvent(ctx(t), &got2, "w2"))

	page, err := s.ListEvents(ctx(t), state.EventFilter{Repository: "r", State: state.EventPending}, "", 10)
	require.NoError(t, err)
	require.Len(t, page.Items, 2)
	assert.Equal(t, a2.ID, page.Items[0].ID, "newest first")
	assert.Equal(t, "remote down", page.Items[1].LastError)
	n, err := s.PendingEvents(ctx(t), "r")
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	stats, err := s.EventStats(ctx(t))
	require.NoError(t, err)
	assert.Equal(t, map[string]int{"pending": 2, "running": 0, "done": 1, "failed": 0}, stats.ByState)
	assert.WithinDuration(t, a1.ReceivedAt, stats.OldestPending, time.Millisecond)

	page, err = s.ListEvents(ctx(t), state.EventFilter{}, "", 1)
	require.NoError(t, err)
	require.True(t, page.HasMore)
	page, err = s.ListEvents(ctx(t), state.EventFilter{}, page.NextOffset, 10)
	require.NoError(t, err)
	require.Len(t, page.Items, 2)
	assert.Equal(t, b1.ID, page.Items[0].ID)
	assert.Equal(t, state.EventDone, page.Items[0].State)
	assert.False(t, page.Items[0].FinishedAt.IsZero())
}

func testEventLease(t *testing.T, s state.Store) {
	live := enqueue(t, s, "a", "1")
	ev := enqueue(t, s, "b", "1")
	got, ok, err := s.ClaimEvent(ctx(t), "live", time.Minute)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, live.ID, got.ID)
	got, ok, err = s.ClaimEvent(ctx(t), "dead", time.Millisecond)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, ev.ID, got.ID)
	time.Sleep(20 * time.Millisecond)
	again, ok, err := s.ClaimEvent(ctx(t), "w2", time.Minute)
	require.NoError(t, err)
	require.True(t, ok, "the dead worker's lease expired")
	assert.Equal(t, ev.ID, again.ID, "the live lease is not taken over")
	assert.Equal(t, 2, again.Attempts)
	_, ok, err = s.ClaimEvent(ctx(t), "w3", time.Minute)
	require.NoError(t, err)
	assert.False(t, ok, "both events are leased")
	assert.ErrorIs(t, s.RenewEventLease(ctx(t), ev.ID, "dead", time.Minute), state.ErrNotFound)
	got.State = state.EventDone
	assert.ErrorIs(t, s.FinishEvent(ctx(t), &got, "dead"), state.ErrNotFound, "the dead worker's late answer is refused")
	require.NoError(t, s.RenewEventLease(ctx(t), ev.ID, "w2", time.Minute))
}

func testEventClaimsAcrossReplicas(t *testing.T, a, b state.Store) {
	const n = 40
	for i := 0; i < n; i++ {
		enqueue(t, a, "b"+strconv.Itoa(i), "c")
	}
	var mu sync.Mutex
	seen := map[int64]int{}
	var wg sync.WaitGroup
	for w, s := range []state.Store{a, b, a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				ev, ok, err := s.ClaimEvent(ctx(t), "w"+strconv.Itoa(w), time.Minute)
				if !assert.NoError(t, err) || !ok {
					return
				}
				mu.Lock()
				seen[ev.ID]++
				mu.Unlock()
				ev.State = state.EventDone
				assert.NoError(t, s.FinishEvent(ctx(t), &ev, "w"+strconv.Itoa(w)))
			}
		}()
	}
	wg.Wait()
	assert.Len(t, seen, n)
	for id, c := range seen {
		assert.Equal(t, 1, c, "event %d claimed %d times", id, c)
	}
}

func testCursorsAndPublications(t *testing.T, s state.Store) {
	c, err := s.BranchCursor(ctx(t), "r", "main")
	require.NoError(t, err)
	assert.Empty(t, c)
	require.NoError(t, s.SetBranchCursor(ctx(t), "r", "main", "c1"))
	require.NoError(t, s.SetBranchCursor(ctx(t), "r", "main", "c2"))
	c, err = s.BranchCursor(ctx(t), "r", "main")
	require.NoError(t, err)
	assert.Equal(t, "c2", c)
	require.NoError(t, s.SetBranchCursor(ctx(t), "r", "main", ""))
	c, err = s.BranchCursor(ctx(t), "r", "main")
	require.NoError(t, err)
	assert.Empty(t, c)

	k1 := state.TableKey{Catalog: "x", Namespace: []string{"etl-7_sales"}, Table: "orders"}
	k2 := state.TableKey{Catalog: "x", Namespace: []string{"etl-7_sales"}, Table: "items"}
	require.NoError(t, s.PutPublication(ctx(t), state.Publication{TableKey: k1, Repository: "r", Branch: "etl-7", CommitID: "c1"}))
	require.NoError(t, s.PutPublication(ctx(t), state.Publication{TableKey: k2, Repository: "r", Branch: "etl-8", CommitID: "c1"}))
	require.NoError(t, s.PutPublication(ctx(t), state.Publication{TableKey: k2, Repository: "r", Branch: "etl-7", CommitID: "c2"}))
	pubs, err := s.BranchPublications(ctx(t), "r", "etl-7")
	require.NoError(t, err)
	require.Len(t, pubs, 2)
	assert.Equal(t, "items", pubs[0].Table)
	assert.Equal(t, "c2", pubs[0].CommitID)
	assert.Equal(t, []string{"etl-7_sales"}, pubs[1].Namespace)
	require.NoError(t, s.DeletePublication(ctx(t), k1))
	pubs, err = s.BranchPublications(ctx(t), "r", "etl-7")
	require.NoError(t, err)
	assert.Len(t, pubs, 1)
}
