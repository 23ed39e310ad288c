package metrics_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/metrics"
)

// gauge renders the expected exposition of iceberg_remotes_publications.
func gauge(values map[string]int) *strings.Reader {
	var b strings.Builder
	b.WriteString("# HELP iceberg_remotes_publications Published tables (sync records) by status of their last operation.\n")
	b.WriteString("# TYPE iceberg_remotes_publications gauge\n")
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "iceberg_remotes_publications{status=%q} %d\n", k, values[k])
	}
	return strings.NewReader(b.String())
}

// The publications gauge reports the store's count by status, every known status even at
// zero, counts at most once per interval however often it is scraped, bounds each count in
// time, and keeps the last answer when a count fails.
func TestPublicationsGauge(t *testing.T) {
	m := metrics.New()
	calls := 0
	answer := map[string]int{"synced": 3, "failed": 1, "archived": 2}
	var failWith error
	m.Publications(func(ctx context.Context) (map[string]int, error) {
		calls++
		_, hasDeadline := ctx.Deadline()
		assert.True(t, hasDeadline, "each count is bounded in time")
		if failWith != nil {
			return nil, failWith
		}
		return answer, nil
	}, 50*time.Millisecond, time.Second)

	first := map[string]int{"synced": 3, "pending": 0, "failed": 1, "unpublished": 0, "archived": 2}
	require.NoError(t, testutil.GatherAndCompare(m.Registry, gauge(first), "iceberg_remotes_publications"))
	require.NoError(t, testutil.GatherAndCompare(m.Registry, gauge(first), "iceberg_remotes_publications"))
	assert.Equal(t, 1, calls, "a second scrape within the interval is served from the last count")

	time.Sleep(60 * time.Millisecond)
	answer = map[string]int{"synced": 4, "unpublished": 1}
	second := map[string]int{"synced": 4, "pending": 0, "failed": 0, "unpublished": 1}
	require.NoError(t, testutil.GatherAndCompare(m.Registry, gauge(second), "iceberg_remotes_publications"))
	assert.Equal(t, 2, calls)

	time.Sleep(60 * time.Millisecond)
	failWith = errors.New("store down")
	require.NoError(t, testutil.GatherAndCompare(m.Registry, gauge(second), "iceberg_remotes_publications"),
		"a failed count keeps the last answer")
	assert.Equal(t, 3, calls)
}

// Before any count succeeds there is no series (rather than zeros that look true).
func TestPublicationsGaugeBeforeFirstCount(t *testing.T) {
	m := metrics.New()
	m.Publications(func(context.Context) (map[string]int, error) { return nil, errors.New("down") }, time.Minute, time.Second)
	n, err := testutil.GatherAndCount(m.Registry, "iceberg_remotes_publications")
	require.NoError(t, err)
	assert.Zero(t, n)
}
