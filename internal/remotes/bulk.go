package remotes

import (
	"net/http"

	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog"
)

// Outcomes of one table in a bulk operation (api/openapi.yaml IcebergBulkResult).
const (
	OutcomePushed    = "pushed"
	OutcomePulled    = "pulled"
	OutcomeUnchanged = "unchanged"
	OutcomePlanned   = "planned" // dry run: the table would change
	OutcomeFailed    = "failed"  // the table's own checks or calls failed
	OutcomeBlocked   = "blocked" // bulk pull: passed, but another table failed, so nothing was committed
)

// BulkResult is the outcome of one table of a bulk push or pull: one NDJSON line when
// streamed.
type BulkResult struct {
	Source      catalog.Ident
	Destination catalog.Ident
	Status      int // what a single push or pull of this table answers (204 on success)
	Outcome     string
	Message     string
}

// BulkTotals sums a bulk operation: the last NDJSON line when streamed.
type BulkTotals struct {
	Total, Changed, Unchanged, Failed, Blocked int
	// Status is 200 when every table succeeded, else the first failure's status.
	Status   int
	Message  string
	CommitID string // bulk pull: the one lakeFS commit ("" when none)
}

// Add counts r into t.
func (t *BulkTotals) Add(r BulkResult) {
	t.Total++
	switch r.Outcome {
	case OutcomePushed, OutcomePulled, OutcomePlanned:
		t.Changed++
	case OutcomeUnchanged:
		t.Unchanged++
	case OutcomeBlocked:
		t.Blocked++
	default:
		t.Failed++
		if t.Status == 0 || t.Status == http.StatusOK {
			t.Status, t.Message = r.Status, r.Message
		}
	}
	if t.Status == 0 {
		t.Status = http.StatusOK
	}
}

// UnpublishRequest removes a remote table's registration without deleting or purging any
// file (docs/design.md section 14). Force un-publishes a table this service did not push.
type UnpublishRequest struct {
	Catalog string
	Table   catalog.Ident
	Force   bool
	DryRun  bool
	// Operation names the audit row ("unpublish", or "auto-unpublish" for branch deletion).
	Operation string
}
