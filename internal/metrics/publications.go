package metrics

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/iceberg-remotes/iceberg-remotes/internal/state"
)

// PublicationStatuses are always exported (0 when no record has them), so that a dashboard
// sees a series for each; any other status found is exported too.
var PublicationStatuses = []string{"synced", "pending", "failed", "unpublished"}

// Publications exports iceberg_remotes_publications{status}: the sync records by status,
// counted by the state store (one grouped query). The count runs on scrape, at most once
// per minInterval (scrapes in between get the last answer) and within timeout, so scrapes
// cost the store a bounded amount whatever their rate; a failed count keeps the last answer.
func (m *Metrics) Publications(count func(context.Context) (map[string]int, error), minInterval, timeout time.Duration) {
	m.Registry.MustRegister(&publications{count: count, minInterval: minInterval, timeout: timeout,
		desc: prometheus.NewDesc("iceberg_remotes_publications",
			"Published tables (sync records) by status of their last operation.", []string{"status"}, nil)})
}

type publications struct {
	count       func(context.Context) (map[string]int, error)
	minInterval time.Duration
	timeout     time.Duration
	desc        *prometheus.Desc

	mu    sync.Mutex
	tried time.Time // last count, successful or not
	last  map[string]int
}

func (p *publications) Describe(ch chan<- *prometheus.Desc) { ch <- p.desc }

func (p *publications) Collect(ch chan<- prometheus.Metric) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tried.IsZero() || time.Since(p.tried) >= p.minInterval {
		ctx, cancel := context.WithTimeout(context.Background(), p.timeout)
		got, err := p.count(ctx)
		cancel()
		p.tried = time.Now()
		if err == nil {
			p.last = got
		}
	}
	if p.last == nil {
		return // never counted: no series rather than false zeros
	}
	for _, st := range PublicationStatuses {
		ch <- prometheus.MustNewConstMetric(p.desc, prometheus.GaugeValue, float64(p.last[st]), st)
	}
	for st, n := range p.last {
		if !slices.Contains(PublicationStatuses, st) {
			ch <- prometheus.MustNewConstMetric(p.desc, prometheus.GaugeValue, float64(n), st)
		}
	}
}

func (s *store) CountSyncRecordsByStatus(ctx context.Context) (counts map[string]int, err error) {
	defer func(start time.Time) { s.done("count_sync_records", start, err) }(time.Now())
	return s.Store.CountSyncRecordsByStatus(ctx)
}

var _ state.Store = (*store)(nil)
