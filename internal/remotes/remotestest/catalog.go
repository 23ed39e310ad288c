// Package remotestest holds the reusable fakes and fixtures for testing the push/pull core
// (internal/remotes) without the end-to-end build: an in-memory remote catalog that passes
// the catalog.Adapter conformance suite, and Iceberg metadata files written to disk.
package remotestest

import (
	"context"
	"slices"
	"strings"
	"sync"

	"github.com/iceberg-remotes/iceberg-remotes/internal/apperr"
	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog"
)

// Catalog is an in-memory remote catalog (catalog.Adapter). It keeps every call's name in
// order, so tests can assert what the service did (or did not do) to the remote.
type Catalog struct {
	mu         sync.Mutex
	namespaces map[string]bool
	tables     map[string]string
	calls      []string
}

var _ catalog.Adapter = (*Catalog)(nil)

// NewCatalog returns an empty catalog.
func NewCatalog() *Catalog {
	return &Catalog{namespaces: map[string]bool{}, tables: map[string]string{}}
}

func nsKey(ns []string) string { return strings.Join(ns, "\x1f") }

func tableKey(id catalog.Ident) string { return nsKey(id.Namespace) + "\x1e" + id.Table }

func (c *Catalog) record(name string) {
	c.calls = append(c.calls, name)
}

// Calls returns the names of the adapter methods called so far.
func (c *Catalog) Calls() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.calls)
}

// SetTable points a table at loc directly (an external writer's commit), creating its
// namespace.
func (c *Catalog) SetTable(id catalog.Ident, loc string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range id.Namespace {
		c.namespaces[nsKey(id.Namespace[:i+1])] = true
	}
	c.tables[tableKey(id)] = loc
}

func (c *Catalog) Type() string { return "memory" }

func (c *Catalog) NamespaceExists(_ context.Context, ns []string) (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.record("NamespaceExists")
	return c.namespaces[nsKey(ns)], nil
}

func (c *Catalog) CreateNamespace(_ context.Context, ns []string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.record("CreateNamespace")
	for i := range ns {
		c.namespaces[nsKey(ns[:i+1])] = true
	}
	return nil
}

func (c *Catalog) LoadTable(_ context.Context, id catalog.Ident) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.record("LoadTable")
	loc, ok := c.tables[tableKey(id)]
	if !ok {
		return "", apperr.NotFound("table %s not found", id)
	}
	return loc, nil
}

var _ catalog.BatchLoader = (*Catalog)(nil)

// LoadTables is the batch read (catalog.BatchLoader): one call for many tables of ns.
func (c *Catalog) LoadTables(_ context.Context, ns []string, tables []string) (map[string]string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.record("LoadTables")
	out := map[string]string{}
	for _, t := range tables {
		if loc, ok := c.tables[tableKey(catalog.Ident{Namespace: ns, Table: t})]; ok {
			out[t] = loc
		}
	}
	return out, nil
}

func (c *Catalog) RegisterTable(_ context.Context, id catalog.Ident, loc string, _ catalog.Provenance) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.record("RegisterTable")
	if !c.namespaces[nsKey(id.Namespace)] {
		return apperr.NotFound("namespace %s not found", strings.Join(id.Namespace, "."))
	}
	if cur, ok := c.tables[tableKey(id)]; ok {
		if cur == loc {
			return nil
		}
		return apperr.Conflict("table %s already exists", id)
	}
	c.tables[tableKey(id)] = loc
	return nil
}

func (c *Catalog) ReplaceTable(_ context.Context, id catalog.Ident, expected, loc string, _ catalog.Provenance) (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.record("ReplaceTable")
	cur, ok := c.tables[tableKey(id)]
	if !ok {
		return true, apperr.NotFound("table %s not found", id)
	}
	if cur != expected {
		return true, apperr.Conflict("table %s is at %s, not %s", id, cur, expected)
	}
	c.tables[tableKey(id)] = loc
	return true, nil
}

func (c *Catalog) DropTable(_ context.Context, id catalog.Ident) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.record("DropTable")
	if _, ok := c.tables[tableKey(id)]; !ok {
		return apperr.NotFound("table %s not found", id)
	}
	delete(c.tables, tableKey(id))
	return nil
}

func (c *Catalog) Ping(context.Context) error { return nil }
func (c *Catalog) Close() error               { return nil }
