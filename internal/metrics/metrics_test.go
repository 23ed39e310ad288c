package metrics_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/api"
	"github.com/iceberg-remotes/iceberg-remotes/internal/apperr"
	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog"
	"github.com/iceberg-remotes/iceberg-remotes/internal/metrics"
	"github.com/iceberg-remotes/iceberg-remotes/internal/state"
)

func scrape(t *testing.T, srv *httptest.Server) string {
	t.Helper()
	resp, err := http.Get(srv.URL + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode, "/metrics needs no authentication")
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(raw)
}

// scrapeOf serves m's metrics behind the API handler and scrapes them once.
func scrapeOf(t *testing.T, m *metrics.Metrics) string {
	t.Helper()
	h, _ := api.NewHandler(api.Options{Metrics: m.Handler()})
	srv := httptest.NewServer(h)
	defer srv.Close()
	return scrape(t, srv)
}

func TestAPIRequestMetrics(t *testing.T) {
	m := metrics.New()
	h, err := api.NewHandler(api.Options{Instrument: m.Middleware, Metrics: m.Handler()})
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	defer srv.Close()

	body := `{"source":{"repository_id":"repo1","reference_id":"main","namespace":["a"],"table":"t"},"destination":{"namespace":["a"],"table":"t"}}`
	for i := 0; i < 3; i++ {
		resp, err := http.Post(srv.URL+"/api/v1/iceberg/remotes/glue/push", "application/json", strings.NewReader(body))
		require.NoError(t, err)
		resp.Body.Close()
	}
	resp, err := http.Get(srv.URL + "/api/v1/no/such/route/with-a-secret-looking-name")
	require.NoError(t, err)
	resp.Body.Close()

	out := scrape(t, srv)
	assert.Contains(t, out, `iceberg_remotes_http_requests_total{code="401",method="POST",route="/api/v1/iceberg/remotes/{catalog}/push"} 3`)
	assert.Contains(t, out, `iceberg_remotes_http_requests_total{code="404",method="GET",route="/api/v1/*"} 1`, "an unknown path is labelled by the pattern that caught it")
	assert.Contains(t, out, `iceberg_remotes_http_request_duration_seconds_count{method="POST",route="/api/v1/iceberg/remotes/{catalog}/push"} 3`)
	assert.NotContains(t, out, "secret-looking", "paths never become labels")
	assert.NotContains(t, out, `catalog="glue"`)
	assert.Contains(t, out, "go_goroutines")
}

func TestOutboundHTTPMetrics(t *testing.T) {
	m := metrics.New()
	calls := 0
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		if calls == 1 {
			w.WriteHeader(503)
		}
	}))
	defer backend.Close()
	client := &http.Client{Transport: m.RoundTripper("lakefs", nil)}
	for i := 0; i < 2; i++ {
		resp, err := client.Get(backend.URL)
		require.NoError(t, err)
		resp.Body.Close()
	}
	out := scrapeOf(t, m)
	assert.Contains(t, out, `iceberg_remotes_outbound_calls_total{backend="lakefs",call="GET",outcome="5xx"} 1`)
	assert.Contains(t, out, `iceberg_remotes_outbound_calls_total{backend="lakefs",call="GET",outcome="ok"} 1`)
}

// missingAdapter is a remote where nothing exists, to count calls and errors through the
// decorator.
type missingAdapter struct{ catalog.Adapter }

func (missingAdapter) LoadTable(context.Context, catalog.Ident) (string, error) {
	return "", apperr.NotFound("no table")
}
func (missingAdapter) Ping(context.Context) error { return nil }

func TestAdapterAndStoreMetrics(t *testing.T) {
	m := metrics.New()
	a := m.Adapter("glue_prod", missingAdapter{})
	_, err := a.LoadTable(context.Background(), catalog.Ident{Namespace: []string{"a"}, Table: "t"})
	require.Error(t, err)
	require.NoError(t, a.Ping(context.Background()))

	raw, err := state.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "s.db"), nil)
	require.NoError(t, err)
	s := m.Store(raw)
	defer s.Close()
	_, err = s.GetSyncRecord(context.Background(), state.TableKey{Catalog: "c", Table: "t"})
	require.True(t, errors.Is(err, state.ErrNotFound))
	rec := state.SyncRecord{TableKey: state.TableKey{Catalog: "c", Table: "t"}}
	require.NoError(t, s.CreateSyncRecord(context.Background(), &rec))
	require.Error(t, s.CreateSyncRecord(context.Background(), &rec))

	out := scrapeOf(t, m)
	assert.Contains(t, out, `iceberg_remotes_outbound_calls_total{backend="remote:glue_prod",call="load_table",outcome="404"} 1`)
	assert.Contains(t, out, `iceberg_remotes_outbound_calls_total{backend="remote:glue_prod",call="ping",outcome="ok"} 1`)
	assert.Contains(t, out, `iceberg_remotes_state_store_duration_seconds_count{call="create_sync_record"} 2`)
	assert.Contains(t, out, `iceberg_remotes_state_store_errors_total{call="create_sync_record"} 1`)
	assert.NotContains(t, out, `iceberg_remotes_state_store_errors_total{call="get_sync_record"}`, "not found is not an error")
}

type batchAdapter struct{ missingAdapter }

func (batchAdapter) LoadTables(context.Context, []string, []string) (map[string]string, error) {
	return map[string]string{"t": "s3://b/t"}, nil
}

// TestAdapterKeepsTheBatchRead: the decorator shows a batch read exactly when the adapter
// has one, and counts it as one call.
func TestAdapterKeepsTheBatchRead(t *testing.T) {
	m := metrics.New()
	_, ok := m.Adapter("plain", missingAdapter{}).(catalog.BatchLoader)
	assert.False(t, ok)
	a := m.Adapter("sql_prod", batchAdapter{})
	got, err := catalog.LoadMany(context.Background(), a, []string{"ns"}, []string{"t", "u"}, 2)
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"t": "s3://b/t"}, got.Locations)

	out := scrapeOf(t, m)
	assert.Contains(t, out, `iceberg_remotes_outbound_calls_total{backend="remote:sql_prod",call="load_tables",outcome="ok"} 1`)
	assert.NotContains(t, out, `call="load_table",`)
}

type historyFunc func() (bool, error)

func (f historyFunc) Descends(context.Context, catalog.Ident, string, string) (bool, error) {
	return f()
}

// TestHistoryCalls: a remote's history walk is a call of the remote's backend.
func TestHistoryCalls(t *testing.T) {
	m := metrics.New()
	ok, err := m.History("nessie", historyFunc(func() (bool, error) { return true, nil })).Descends(context.Background(), catalog.Ident{Table: "t"}, "a", "b")
	require.NoError(t, err)
	assert.True(t, ok, "the answer passes through")
	_, err = m.History("nessie", historyFunc(func() (bool, error) {
		return false, apperr.Wrap(504, errors.New("slow"), "remote timed out")
	})).Descends(context.Background(), catalog.Ident{Table: "t"}, "a", "b")
	require.Error(t, err)

	out := scrapeOf(t, m)
	assert.Contains(t, out, `iceberg_remotes_outbound_calls_total{backend="remote:nessie",call="history",outcome="ok"} 1`)
	assert.Contains(t, out, `iceberg_remotes_outbound_calls_total{backend="remote:nessie",call="history",outcome="504"} 1`)
}
