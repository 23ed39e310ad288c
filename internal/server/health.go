package server

import (
	"time"

	"github.com/iceberg-remotes/iceberg-remotes/internal/api/apigen"
	"github.com/iceberg-remotes/iceberg-remotes/internal/state"
)

// withHealth adds a record's publication health to its listing row: when the table last
// synced successfully, and the last failure's public message (cleared by a success).
func withHealth(t *apigen.IcebergSyncedTable, r state.SyncRecord) {
	t.LastSuccessAt, t.LastError = r.LastSuccessAt, r.LastError
}

// publicationsRefresh is the least time between two counts of the publications gauge (one
// grouped query on the state store), however often /metrics is scraped.
const publicationsRefresh = 15 * time.Second
