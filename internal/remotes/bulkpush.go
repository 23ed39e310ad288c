package remotes

import (
	"context"
	"net/http"
	"strings"
	"sync"

	"github.com/iceberg-remotes/iceberg-remotes/internal/apperr"
	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog"
	"github.com/iceberg-remotes/iceberg-remotes/internal/lakefs"
	"github.com/iceberg-remotes/iceberg-remotes/internal/names"
	"github.com/iceberg-remotes/iceberg-remotes/internal/selector"
)

// DefaultBulkParallelism is how many tables a bulk push pushes at once when not told.
const DefaultBulkParallelism = 8

// MaxBulkParallelism bounds a bulk push's parallelism (api/openapi.yaml allows 1–64).
const MaxBulkParallelism = 64

// BulkPushRequest pushes every table that the globs select at one lakeFS reference into
// remote Catalog, renaming each by the destination templates (docs/design.md section 14).
type BulkPushRequest struct {
	Catalog    string
	Repository string
	Reference  string
	// Namespace and Table are the selector's globs ("" selects all).
	Namespace, Table string
	// DestinationNamespace and DestinationTable are templates over {namespace} and
	// {table} ("" keeps the source's name).
	DestinationNamespace, DestinationTable string
	ForceUpdate, CreateNamespace, DryRun   bool
	// Parallelism is how many tables are pushed at once (0: DefaultBulkParallelism).
	Parallelism int
	// AllowUncommitted is every table's PushRequest.AllowUncommitted.
	AllowUncommitted *bool
}

// bulkTable is one selected table and where it goes.
type bulkTable struct {
	src  lakefs.LocatedTable
	dest catalog.Ident
}

// BulkPush pushes (or, with DryRun, plans) every selected table, each exactly as a single
// push would (its checks, intent, audit row, lock), several at once, and calls emit with
// each table's result as it finishes (one call at a time). Errors found before any table
// is touched (a bad glob or template, a destination two tables map to, an unknown remote
// or reference) are returned without a result; after that, a table's failure is its result
// and the others go on.
//
// The lakeFS side costs one resolve and one listing per 1,000 objects for all tables
// (lakefs.Locator.ListTables), plus a metadata read per table the remote does not already
// point at.
func (s *Service) BulkPush(ctx context.Context, req BulkPushRequest, emit func(BulkResult)) (BulkTotals, error) {
	sel, err := selector.ParseTables(req.Namespace, req.Table)
	if err != nil {
		return BulkTotals{}, apperr.BadRequest("source: %s", err)
	}
	dest, err := selector.ParseDestination(req.DestinationNamespace, req.DestinationTable, selector.Namespace, selector.Table)
	if err != nil {
		return BulkTotals{}, apperr.BadRequest("destination: %s", err)
	}
	parallelism := req.Parallelism
	switch {
	case parallelism <= 0:
		parallelism = DefaultBulkParallelism
	case parallelism > MaxBulkParallelism:
		parallelism = MaxBulkParallelism
	}
	r, err := s.remote(ctx, req.Catalog)
	if err != nil {
		return BulkTotals{}, err
	}
	listing, err := s.lakefs.ListTables(ctx, req.Repository, req.Reference, sel)
	if err != nil {
		return BulkTotals{}, err
	}
	tables, err := bulkDestinations(listing.Tables, dest)
	if err != nil {
		return BulkTotals{}, err
	}

	pre := s.preRead(ctx, r, tables, parallelism)
	ns := &sharedNamespaces{a: r.Adapter, m: map[string]*nsState{}}
	committed := s.listedCommitted(req.Repository, sel) // GC safety's committed check, batched
	var (
		mu     sync.Mutex
		totals = BulkTotals{Status: http.StatusOK}
		next   = make(chan int)
		wg     sync.WaitGroup
	)
	for range min(parallelism, len(tables)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				res := s.bulkPushOne(ctx, req, listing, tables[i], pre[i], ns, committed)
				mu.Lock()
				totals.Add(res)
				if emit != nil {
					emit(res)
				}
				mu.Unlock()
			}
		}()
	}
	for i := range tables {
		if ctx.Err() != nil {
			break // the caller is gone: push no further table
		}
		next <- i
	}
	close(next)
	wg.Wait()
	return totals, nil
}

// bulkPushOne pushes one selected table with the single push's core, handing it what the
// listing located (so that the core does not locate the table again).
func (s *Service) bulkPushOne(ctx context.Context, req BulkPushRequest, listing *lakefs.TableListing, t bulkTable, remote *string, ns namespaces, committed committedLocation) BulkResult {
	src := lakefs.TableRef{Repository: req.Repository, Reference: req.Reference, Namespace: t.src.Namespace, Table: t.src.Table}
	located := &lakefs.TableState{
		Layout: listing.Layout, ResolvedCommit: listing.ResolvedCommit, IsBranch: listing.IsBranch,
		Path: t.src.Path, MetadataLocation: t.src.MetadataLocation, SizeBytes: t.src.SizeBytes, Checksum: t.src.Checksum,
		Version: t.src.Version,
	}
	plan, changed, err := s.push(ctx, PushRequest{
		Catalog: req.Catalog, Source: src, Destination: t.dest,
		ForceUpdate: req.ForceUpdate, CreateNamespace: req.CreateNamespace, DryRun: req.DryRun,
		AllowUncommitted: req.AllowUncommitted,
	}, pushInputs{source: located, remote: remote, ns: ns, committed: committed})
	res := BulkResult{Source: catalog.Ident{Namespace: t.src.Namespace, Table: t.src.Table}, Destination: t.dest,
		Status: plan.Status, Message: plan.Message}
	switch {
	case err != nil:
		res.Outcome = OutcomeFailed
	case !changed:
		res.Outcome = OutcomeUnchanged
	case req.DryRun:
		res.Outcome = OutcomePlanned
	default:
		res.Outcome = OutcomePushed
	}
	return res
}

// preReadChunk bounds the tables asked in one batch read.
const preReadChunk = 1000

// preRead reads where the remote's tables point, per destination namespace, with the
// remote's batch read where it has one (one SQL query or a few Glue GetTables pages per
// 1,000 tables; REST has none, so its tables are loaded one by one, in parallel). The push
// core trusts a pre-read location only while the table's sync record agrees with it
// (remoteLocation). A table whose read failed, or a whole failed batch, is nil: the core
// loads it under its lock.
func (s *Service) preRead(ctx context.Context, r *Remote, tables []bulkTable, parallelism int) []*string {
	out := make([]*string, len(tables))
	byNS := map[string][]int{}
	var order []string
	for i, t := range tables {
		k := strings.Join(t.dest.Namespace, "\x1f")
		if _, ok := byNS[k]; !ok {
			order = append(order, k)
		}
		byNS[k] = append(byNS[k], i)
	}
	for _, k := range order {
		idx := byNS[k]
		for len(idx) > 0 {
			chunk := idx[:min(preReadChunk, len(idx))]
			idx = idx[len(chunk):]
			ns := tables[chunk[0]].dest.Namespace
			names := make([]string, len(chunk))
			for j, i := range chunk {
				names[j] = tables[i].dest.Table
			}
			loaded, err := catalog.LoadMany(ctx, r.Adapter, ns, names, parallelism)
			if err != nil {
				s.logger.WarnContext(ctx, "bulk push: batch read of the remote failed; its tables are loaded one by one",
					"catalog", r.Config.ID, "namespace", strings.Join(ns, "."), "error", err)
				continue
			}
			for _, i := range chunk {
				name := tables[i].dest.Table
				if _, failed := loaded.Errors[name]; failed {
					continue
				}
				loc := loaded.Locations[name] // "" when the table does not exist
				out[i] = &loc
			}
		}
	}
	return out
}

// bulkDestinations renders each listed table's destination and refuses (400, before any
// change) a destination that is not a valid name or that two tables map to.
func bulkDestinations(listed []lakefs.LocatedTable, dest selector.Destination) ([]bulkTable, error) {
	out := make([]bulkTable, 0, len(listed))
	byKey := make(map[string]string, len(listed))
	shown := make(map[string]string, 2*len(listed))
	for _, t := range listed {
		ns, table, err := dest.Render(selector.Vars{Namespace: t.Namespace, Table: t.Table})
		if err != nil {
			return nil, apperr.BadRequest("destination of table %s: %s", dotted(t.Namespace, t.Table), err)
		}
		if err := names.Namespace("destination.namespace", ns); err != nil {
			return nil, apperr.BadRequest("destination of table %s: %s", dotted(t.Namespace, t.Table), apperr.PublicMessage(err))
		}
		if err := names.Name("destination.table", table); err != nil {
			return nil, apperr.BadRequest("destination of table %s: %s", dotted(t.Namespace, t.Table), apperr.PublicMessage(err))
		}
		// Keys join levels with a byte no name contains, so "a.b"+"c" and "a"+"b.c" differ.
		srcKey, destKey := identKey(t.Namespace, t.Table), identKey(ns, table)
		byKey[srcKey] = destKey
		shown[srcKey], shown[destKey] = dotted(t.Namespace, t.Table), dotted(ns, table)
		out = append(out, bulkTable{src: t, dest: catalog.Ident{Namespace: ns, Table: table}})
	}
	if d, srcs := selector.Collisions(byKey); d != "" {
		return nil, apperr.BadRequest("destination maps tables %s and %s to the same remote table %s: use {namespace} and {table} in the templates",
			shown[srcs[0]], shown[srcs[1]], shown[d])
	}
	return out, nil
}

func identKey(ns []string, table string) string {
	return strings.Join(ns, "\x1f") + "\x1e" + table
}

// sharedNamespaces is the namespaces of one bulk push: each namespace is checked, or
// created, once for all its tables (a failed call is not remembered, so the next table
// asks again).
type sharedNamespaces struct {
	a  catalog.Adapter
	mu sync.Mutex
	m  map[string]*nsState
}

type nsState struct {
	mu              sync.Mutex
	checked, exists bool
}

func (n *sharedNamespaces) entry(ns []string) *nsState {
	n.mu.Lock()
	defer n.mu.Unlock()
	k := strings.Join(ns, "\x1f")
	e := n.m[k]
	if e == nil {
		e = &nsState{}
		n.m[k] = e
	}
	return e
}

func (n *sharedNamespaces) exists(ctx context.Context, ns []string) (bool, error) {
	e := n.entry(ns)
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.checked || e.exists {
		return e.exists, nil
	}
	ok, err := n.a.NamespaceExists(ctx, ns)
	if err != nil {
		return false, err
	}
	e.checked, e.exists = true, ok
	return ok, nil
}

func (n *sharedNamespaces) create(ctx context.Context, ns []string) error {
	e := n.entry(ns)
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.exists {
		return nil
	}
	if err := n.a.CreateNamespace(ctx, ns); err != nil {
		return err
	}
	e.checked, e.exists = true, true
	return nil
}
