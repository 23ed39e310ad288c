package server

import (
	"time"

	"github.com/iceberg-remotes/iceberg-remotes/internal/api/apigen"
	"github.com/iceberg-remotes/iceberg-remotes/internal/state"
)

// withHealth adds a record's publication health to its listing row: when the table last
// synced successfully, and the last failure's public message (cleared by a success).
func withHealth(t *apigen.IcebergSyncedTable, r state.SyncRecord) {
	t.LastError = r.LastError
	if !r.LastSuccessAt.IsZero() {
		at := r.LastSuccessAt
		t.LastSuccessAt = &at
	}
}

// publicationsRefresh is the least time between two counts of the publications gauge (one
// grouped query on the state store), however often /metrics is scraped.
const publicationsRefresh = 15 * time.Second
