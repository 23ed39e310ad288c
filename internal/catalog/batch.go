package catalog

import (
	"context"
	"errors"
	"net/http"
	"sync"

	"github.com/iceberg-remotes/iceberg-remotes/internal/apperr"
)

// BatchLoader is implemented by adapters whose remote can read many tables of one
// namespace in one call (a SQL query, Glue's paginated GetTables, Hive's
// get_table_objects_by_name). The Iceberg REST spec has no such call: REST adapters do not
// implement it and LoadMany reads their tables one by one.
type BatchLoader interface {
	// LoadTables returns the current metadata location of each of tables (in namespace ns)
	// that exists and is an Iceberg table, keyed by the name as given in tables (a remote
	// that folds the case of names matches them as its LoadTable does). Missing tables,
	// tables of another format and a missing namespace are simply absent: only a failure to
	// ask the remote is an error.
	LoadTables(ctx context.Context, ns []string, tables []string) (map[string]string, error)
}

// Loaded is what LoadMany read.
type Loaded struct {
	// Locations maps each table that exists to its current metadata location.
	Locations map[string]string
	// Errors are the tables whose own read failed (one-by-one reads only; a missing table
	// is absent from both maps, not an error).
	Errors map[string]error
}

// DefaultLoadParallelism bounds the one-by-one reads of LoadMany when the caller gives none.
const DefaultLoadParallelism = 8

// LoadMany reads the current metadata locations of tables in namespace ns: with the
// adapter's batch read when it has one (then a failure fails the whole read), otherwise with
// LoadTable per table, at most parallelism at once.
func LoadMany(ctx context.Context, a Adapter, ns []string, tables []string, parallelism int) (Loaded, error) {
	if len(tables) == 0 {
		return Loaded{Locations: map[string]string{}}, nil
	}
	if b, ok := a.(BatchLoader); ok {
		locs, err := b.LoadTables(ctx, ns, tables)
		if err != nil {
			return Loaded{}, err
		}
		return Loaded{Locations: locs}, nil
	}
	if parallelism <= 0 {
		parallelism = DefaultLoadParallelism
	}
	out := Loaded{Locations: make(map[string]string, len(tables))}
	var mu sync.Mutex
	sem := make(chan struct{}, parallelism)
	var wg sync.WaitGroup
	for _, t := range tables {
		if ctx.Err() != nil {
			break
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			loc, err := a.LoadTable(ctx, Ident{Namespace: ns, Table: t})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				out.Locations[t] = loc
			case apperr.Is(err, http.StatusNotFound):
			default:
				if out.Errors == nil {
					out.Errors = map[string]error{}
				}
				out.Errors[t] = err
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return Loaded{}, apperr.Wrap(http.StatusGatewayTimeout, err, "reading remote tables: timed out")
		}
		return Loaded{}, apperr.Wrap(http.StatusServiceUnavailable, err, "reading remote tables: cancelled")
	}
	return out, nil
}
