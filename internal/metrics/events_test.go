package metrics_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/metrics"
	"github.com/iceberg-remotes/iceberg-remotes/internal/state"
)

func TestEventGauges(t *testing.T) {
	m := metrics.New()
	stats := state.EventStats{ByState: map[string]int{"pending": 3, "running": 1, "done": 7, "failed": 0},
		OldestPending: time.Now().Add(-90 * time.Second)}
	var err error
	m.Events(func(context.Context) (state.EventStats, error) { return stats, err })
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	body := scrape(t, srv)
	assert.Contains(t, body, `iceberg_remotes_events{state="pending"} 3`)
	assert.Contains(t, body, `iceberg_remotes_events{state="done"} 7`)
	assert.Contains(t, body, `iceberg_remotes_events{state="failed"} 0`)
	assert.Regexp(t, `iceberg_remotes_oldest_pending_event_age_seconds (9\d|1\d\d)(\.\d+)?\n`, body)

	stats = state.EventStats{ByState: map[string]int{"pending": 0}}
	assert.Contains(t, scrape(t, srv), "iceberg_remotes_oldest_pending_event_age_seconds 0\n", "none pending")
	err = errors.New("store down")
	require.NotContains(t, scrape(t, srv), "iceberg_remotes_events{")
}
