package catalog

import (
	"context"
	"strings"

	"github.com/iceberg-remotes/iceberg-remotes/internal/config"
)

// LocationMap rewrites location prefixes between what lakeFS stores (e.g. s3a://, local://)
// and what a remote catalog's engines understand (s3://, file://). Rules are tried in order;
// the first matching prefix wins in each direction.
type LocationMap []config.LocationMap

// ToRemote maps a lakeFS-side location to the remote's form.
func (m LocationMap) ToRemote(loc string) string {
	for _, r := range m {
		if strings.HasPrefix(loc, r.From) {
			return r.To + strings.TrimPrefix(loc, r.From)
		}
	}
	return loc
}

// FromRemote maps a remote-side location back to the lakeFS form.
func (m LocationMap) FromRemote(loc string) string {
	for _, r := range m {
		if strings.HasPrefix(loc, r.To) {
			return r.From + strings.TrimPrefix(loc, r.To)
		}
	}
	return loc
}

// WithLocationMap wraps an adapter so that callers speak lakeFS-side locations and the remote
// sees mapped ones. An empty map returns the adapter unchanged.
func WithLocationMap(a Adapter, m LocationMap) Adapter {
	if len(m) == 0 {
		return a
	}
	mapped := &mappedAdapter{Adapter: a, m: m}
	if b, ok := a.(BatchLoader); ok {
		// Keep the batch read visible through the wrapper (LoadMany looks for it).
		return &mappedBatchAdapter{mappedAdapter: mapped, batch: b}
	}
	return mapped
}

type mappedBatchAdapter struct {
	*mappedAdapter
	batch BatchLoader
}

func (a *mappedBatchAdapter) LoadTables(ctx context.Context, ns []string, tables []string) (map[string]string, error) {
	locs, err := a.batch.LoadTables(ctx, ns, tables)
	if err != nil {
		return nil, err
	}
	for t, loc := range locs {
		locs[t] = a.m.FromRemote(loc)
	}
	return locs, nil
}

type mappedAdapter struct {
	Adapter
	m LocationMap
}

func (a *mappedAdapter) LoadTable(ctx context.Context, id Ident) (string, error) {
	loc, err := a.Adapter.LoadTable(ctx, id)
	if err != nil {
		return "", err
	}
	return a.m.FromRemote(loc), nil
}

func (a *mappedAdapter) RegisterTable(ctx context.Context, id Ident, loc string, prov Provenance) error {
	return a.Adapter.RegisterTable(ctx, id, a.m.ToRemote(loc), prov)
}

func (a *mappedAdapter) ReplaceTable(ctx context.Context, id Ident, expected, loc string, prov Provenance) (bool, error) {
	return a.Adapter.ReplaceTable(ctx, id, a.m.ToRemote(expected), a.m.ToRemote(loc), prov)
}
