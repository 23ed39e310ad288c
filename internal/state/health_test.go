package state_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/state"
)

// Migration 4's fields round-trip on both stores, and the count by status sees every
// catalog's records.
func TestPublicationHealthFieldsAndCount(t *testing.T) {
	for name, backend := range backends() {
		t.Run(name, func(t *testing.T) {
			s := backend(t)(t)
			counts, err := s.CountSyncRecordsByStatus(ctx(t))
			require.NoError(t, err)
			assert.Empty(t, counts)

			at := time.Date(2026, 11, 30, 12, 0, 0, 123456000, time.UTC)
			rec := newRecord("c1", []string{"a"}, "t1")
			rec.LastSuccessAt, rec.ProtectedRef = at, "iceberg-remotes-c1-0123456789abcdef-fedcba9876543210"
			require.NoError(t, s.CreateSyncRecord(ctx(t), &rec))
			got, err := s.GetSyncRecord(ctx(t), rec.TableKey)
			require.NoError(t, err)
			assert.Equal(t, at, got.LastSuccessAt)
			assert.Equal(t, rec.ProtectedRef, got.ProtectedRef)
			assert.Empty(t, got.LastError)

			got.Status, got.LastError, got.ProtectedRef = state.StatusFailed, "remote catalog unavailable", ""
			require.NoError(t, s.UpdateSyncRecord(ctx(t), &got))
			again, err := s.GetSyncRecord(ctx(t), rec.TableKey)
			require.NoError(t, err)
			assert.Equal(t, "remote catalog unavailable", again.LastError)
			assert.Empty(t, again.ProtectedRef)
			assert.Equal(t, at, again.LastSuccessAt, "kept by an update that does not change it")

			for i, st := range []string{state.StatusSynced, state.StatusSynced, state.StatusPending, "unpublished"} {
				r := newRecord("c2", []string{"b"}, "t"+string(rune('a'+i)))
				r.Status = st
				require.NoError(t, s.CreateSyncRecord(ctx(t), &r))
			}
			counts, err = s.CountSyncRecordsByStatus(ctx(t))
			require.NoError(t, err)
			assert.Equal(t, map[string]int{state.StatusSynced: 2, state.StatusPending: 1, state.StatusFailed: 1, "unpublished": 1}, counts)
		})
	}
}
