package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/iceberg-remotes/iceberg-remotes/internal/state"
)

// eventsCollector reads the event queue's counts at scrape time, so every replica reports
// the shared queue as it is (not what this process happened to see).
type eventsCollector struct {
	stats   func(ctx context.Context) (state.EventStats, error)
	byState *prometheus.Desc
	oldest  *prometheus.Desc
	now     func() time.Time
}

// Events registers the publication queue's gauges: events by state and the age of the
// oldest event not yet finished (0 when none).
func (m *Metrics) Events(stats func(ctx context.Context) (state.EventStats, error)) {
	m.Registry.MustRegister(&eventsCollector{
		stats: stats,
		byState: prometheus.NewDesc("iceberg_remotes_events",
			"Recorded lakeFS events by state (pending, running, done, failed).", []string{"state"}, nil),
		oldest: prometheus.NewDesc("iceberg_remotes_oldest_pending_event_age_seconds",
			"Age of the oldest lakeFS event not yet processed (0 when none).", nil, nil),
		now: time.Now,
	})
}

func (c *eventsCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.byState
	ch <- c.oldest
}

func (c *eventsCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := c.stats(ctx)
	if err != nil {
		return // a store that cannot answer must not fail the whole scrape; its own metrics show it
	}
	for s, n := range st.ByState {
		ch <- prometheus.MustNewConstMetric(c.byState, prometheus.GaugeValue, float64(n), s)
	}
	age := 0.0
	if !st.OldestPending.IsZero() {
		age = c.now().Sub(st.OldestPending).Seconds()
	}
	ch <- prometheus.MustNewConstMetric(c.oldest, prometheus.GaugeValue, age)
}
