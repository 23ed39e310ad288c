package server

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/iceberg-remotes/iceberg-remotes/internal/api/apigen"
	"github.com/iceberg-remotes/iceberg-remotes/internal/state"
)

// The listing row shows last_success_at only once an operation succeeded (not year 1), and
// last_error as the record holds it.
func TestWithHealth(t *testing.T) {
	var row apigen.IcebergSyncedTable
	withHealth(&row, state.SyncRecord{LastError: "remote catalog unavailable"})
	assert.Nil(t, row.LastSuccessAt)
	assert.Equal(t, "remote catalog unavailable", row.LastError)

	at := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	row = apigen.IcebergSyncedTable{}
	withHealth(&row, state.SyncRecord{LastSuccessAt: at})
	if assert.NotNil(t, row.LastSuccessAt) {
		assert.Equal(t, at, *row.LastSuccessAt)
	}
	assert.Empty(t, row.LastError)
}
