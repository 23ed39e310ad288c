package metrics

import (
	"context"
	"time"

	"github.com/iceberg-remotes/iceberg-remotes/internal/apperr"
	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog"
	"github.com/iceberg-remotes/iceberg-remotes/internal/state"
)

// Adapter instruments a remote catalog adapter as backend "remote:<id>".
func (m *Metrics) Adapter(remoteID string, a catalog.Adapter) catalog.Adapter {
	d := &adapter{Adapter: a, m: m, backend: "remote:" + remoteID}
	if b, ok := a.(catalog.BatchLoader); ok {
		// Keep the batch read visible through the decorator (catalog.LoadMany looks for it).
		return &batchAdapter{adapter: d, batch: b}
	}
	return d
}

// History instruments a remote's history as backend "remote:<id>", call "history".
func (m *Metrics) History(remoteID string, h catalog.History) catalog.History {
	return &history{h: h, m: m, backend: "remote:" + remoteID}
}

type history struct {
	h       catalog.History
	m       *Metrics
	backend string
}

func (h *history) Descends(ctx context.Context, id catalog.Ident, from, current string) (ok bool, err error) {
	defer func(start time.Time) {
		h.m.observe(h.backend, "history", start, outcomeOf(ctx, err, apperr.StatusOf))
	}(time.Now())
	return h.h.Descends(ctx, id, from, current)
}

type batchAdapter struct {
	*adapter
	batch catalog.BatchLoader
}

func (a *batchAdapter) LoadTables(ctx context.Context, ns []string, tables []string) (locs map[string]string, err error) {
	defer func(start time.Time) { a.done(ctx, "load_tables", start, err) }(time.Now())
	return a.batch.LoadTables(ctx, ns, tables)
}

type adapter struct {
	catalog.Adapter
	m       *Metrics
	backend string
}

func (a *adapter) done(ctx context.Context, call string, start time.Time, err error) {
	a.m.observe(a.backend, call, start, outcomeOf(ctx, err, apperr.StatusOf))
}

func (a *adapter) NamespaceExists(ctx context.Context, ns []string) (ok bool, err error) {
	defer func(start time.Time) { a.done(ctx, "namespace_exists", start, err) }(time.Now())
	return a.Adapter.NamespaceExists(ctx, ns)
}

func (a *adapter) CreateNamespace(ctx context.Context, ns []string) (err error) {
	defer func(start time.Time) { a.done(ctx, "create_namespace", start, err) }(time.Now())
	return a.Adapter.CreateNamespace(ctx, ns)
}

func (a *adapter) LoadTable(ctx context.Context, id catalog.Ident) (loc string, err error) {
	defer func(start time.Time) { a.done(ctx, "load_table", start, err) }(time.Now())
	return a.Adapter.LoadTable(ctx, id)
}

func (a *adapter) RegisterTable(ctx context.Context, id catalog.Ident, loc string, prov catalog.Provenance) (err error) {
	defer func(start time.Time) { a.done(ctx, "register_table", start, err) }(time.Now())
	return a.Adapter.RegisterTable(ctx, id, loc, prov)
}

func (a *adapter) ReplaceTable(ctx context.Context, id catalog.Ident, expected, loc string, prov catalog.Provenance) (atomic bool, err error) {
	defer func(start time.Time) { a.done(ctx, "replace_table", start, err) }(time.Now())
	return a.Adapter.ReplaceTable(ctx, id, expected, loc, prov)
}

func (a *adapter) DropTable(ctx context.Context, id catalog.Ident) (err error) {
	defer func(start time.Time) { a.done(ctx, "drop_table", start, err) }(time.Now())
	return a.Adapter.DropTable(ctx, id)
}

func (a *adapter) Ping(ctx context.Context) (err error) {
	defer func(start time.Time) { a.done(ctx, "ping", start, err) }(time.Now())
	return a.Adapter.Ping(ctx)
}

// Store instruments the state store.
func (m *Metrics) Store(s state.Store) state.Store { return &store{Store: s, m: m} }

type store struct {
	state.Store
	m *Metrics
}

func (s *store) done(call string, start time.Time, err error) {
	s.m.storeLatency.WithLabelValues(call).Observe(time.Since(start).Seconds())
	if err != nil {
		s.m.storeErrors.WithLabelValues(call).Inc()
	}
}

func (s *store) GetSyncRecord(ctx context.Context, key state.TableKey) (rec state.SyncRecord, err error) {
	defer func(start time.Time) { s.done("get_sync_record", start, ignoreNotFound(err)) }(time.Now())
	return s.Store.GetSyncRecord(ctx, key)
}

func (s *store) CreateSyncRecord(ctx context.Context, rec *state.SyncRecord) (err error) {
	defer func(start time.Time) { s.done("create_sync_record", start, err) }(time.Now())
	return s.Store.CreateSyncRecord(ctx, rec)
}

func (s *store) UpdateSyncRecord(ctx context.Context, rec *state.SyncRecord) (err error) {
	defer func(start time.Time) { s.done("update_sync_record", start, err) }(time.Now())
	return s.Store.UpdateSyncRecord(ctx, rec)
}

func (s *store) ListSyncRecords(ctx context.Context, catalogID string, filter state.SyncFilter, after string, amount int) (p state.Page[state.SyncRecord], err error) {
	defer func(start time.Time) { s.done("list_sync_records", start, err) }(time.Now())
	return s.Store.ListSyncRecords(ctx, catalogID, filter, after, amount)
}

func (s *store) StartOperation(ctx context.Context, op *state.Operation) (err error) {
	defer func(start time.Time) { s.done("start_operation", start, err) }(time.Now())
	return s.Store.StartOperation(ctx, op)
}

func (s *store) FinishOperation(ctx context.Context, op *state.Operation) (err error) {
	defer func(start time.Time) { s.done("finish_operation", start, err) }(time.Now())
	return s.Store.FinishOperation(ctx, op)
}

func (s *store) ListOperations(ctx context.Context, catalogID, after string, amount int) (p state.Page[state.Operation], err error) {
	defer func(start time.Time) { s.done("list_operations", start, err) }(time.Now())
	return s.Store.ListOperations(ctx, catalogID, after, amount)
}

func (s *store) LockTable(ctx context.Context, key state.TableKey) (unlock func(), err error) {
	defer func(start time.Time) { s.done("lock_table", start, err) }(time.Now())
	return s.Store.LockTable(ctx, key)
}

func (s *store) LockTables(ctx context.Context, keys []state.TableKey) (unlock func(), err error) {
	defer func(start time.Time) { s.done("lock_tables", start, err) }(time.Now())
	return s.Store.LockTables(ctx, keys)
}

func ignoreNotFound(err error) error {
	if err == state.ErrNotFound {
		return nil
	}
	return err
}
