// Package metrics exposes the service's Prometheus metrics (docs/design.md section 8): API requests
// by operation and outcome with latency, operations in flight, outbound calls and errors
// per backend (lakeFS, each remote catalog, the object store), and state-store latency.
//
// Instrumentation is done with decorators around the narrow interfaces the service
// already has (http.Handler, http.RoundTripper, catalog.Adapter, state.Store), so no
// business code knows about metrics. Labels never carry user input beyond the route
// pattern, and never a credential.
package metrics

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds the collectors of one service instance.
type Metrics struct {
	Registry *prometheus.Registry

	requests        *prometheus.CounterVec
	requestDuration *prometheus.HistogramVec
	inFlight        *prometheus.GaugeVec
	outbound        *prometheus.CounterVec
	outboundLatency *prometheus.HistogramVec
	storeLatency    *prometheus.HistogramVec
	storeErrors     *prometheus.CounterVec
}

// New registers the service's collectors (plus Go runtime and process collectors) on a
// fresh registry, so that tests and several instances in one process do not collide.
func New() *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		Registry: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "iceberg_remotes_http_requests_total",
			Help: "API requests by route, method and status code.",
		}, []string{"route", "method", "code"}),
		requestDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "iceberg_remotes_http_request_duration_seconds",
			Help:    "API request latency by route and method.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2.5, 12),
		}, []string{"route", "method"}),
		inFlight: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "iceberg_remotes_http_requests_in_flight",
			Help: "API requests being served, by route.",
		}, []string{"route"}),
		outbound: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "iceberg_remotes_outbound_calls_total",
			Help: "Calls to backends (lakefs, remote:<id>, object_store) by call and outcome (ok or the error class).",
		}, []string{"backend", "call", "outcome"}),
		outboundLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "iceberg_remotes_outbound_call_duration_seconds",
			Help:    "Latency of calls to backends.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2.5, 13),
		}, []string{"backend", "call"}),
		storeLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "iceberg_remotes_state_store_duration_seconds",
			Help:    "State store call latency by call.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2.5, 13),
		}, []string{"call"}),
		storeErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "iceberg_remotes_state_store_errors_total",
			Help: "State store calls that failed, by call.",
		}, []string{"call"}),
	}
	reg.MustRegister(m.requests, m.requestDuration, m.inFlight, m.outbound, m.outboundLatency,
		m.storeLatency, m.storeErrors,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves /metrics.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry})
}

// Middleware measures every request. It runs outside the router, so the route label is
// read after routing (the chi pattern, e.g. /api/v1/iceberg/remotes/{catalog}/push); an
// unmatched path is labelled "unmatched" so that scanners cannot blow up the label set.
func (m *Metrics) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
		inFlight := m.inFlight.WithLabelValues("all")
		inFlight.Inc()
		defer inFlight.Dec()
		next.ServeHTTP(ww, r)
		route := "unmatched"
		if rctx := chi.RouteContext(r.Context()); rctx != nil {
			if p := rctx.RoutePattern(); p != "" { // built anew by each call
				route = p
			}
		}
		code := ww.Status()
		if code == 0 {
			code = http.StatusOK
		}
		m.requests.WithLabelValues(route, r.Method, strconv.Itoa(code)).Inc()
		m.requestDuration.WithLabelValues(route, r.Method).Observe(time.Since(start).Seconds())
	})
}

// Observe records one outbound call that is not HTTP-instrumented (e.g. object-store reads).
func (m *Metrics) Observe(backend, call string, start time.Time, err error) {
	outcome := "ok"
	if err != nil {
		outcome = "error"
	}
	m.observe(backend, call, start, outcome)
}

// observe records one outbound call.
func (m *Metrics) observe(backend, call string, start time.Time, outcome string) {
	m.outbound.WithLabelValues(backend, call, outcome).Inc()
	m.outboundLatency.WithLabelValues(backend, call).Observe(time.Since(start).Seconds())
}

// RoundTripper instruments an HTTP transport for one backend; the call label is the HTTP
// method (paths carry names, which would make labels unbounded).
func (m *Metrics) RoundTripper(backend string, next http.RoundTripper) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	return roundTripper{m: m, backend: backend, next: next}
}

type roundTripper struct {
	m       *Metrics
	backend string
	next    http.RoundTripper
}

func (t roundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := t.next.RoundTrip(req)
	outcome := "ok"
	switch {
	case err != nil && req.Context().Err() != nil:
		outcome = "cancelled"
	case err != nil:
		outcome = "network_error"
	case resp.StatusCode >= 500:
		outcome = "5xx"
	case resp.StatusCode == http.StatusTooManyRequests:
		outcome = "throttled"
	case resp.StatusCode >= 400:
		outcome = "4xx"
	}
	t.m.observe(t.backend, req.Method, start, outcome)
	return resp, err
}

// outcomeOf classifies an error for labels.
func outcomeOf(ctx context.Context, err error, status func(error) int) string {
	if err == nil {
		return "ok"
	}
	if ctx.Err() != nil {
		return "cancelled"
	}
	return strconv.Itoa(status(err))
}
