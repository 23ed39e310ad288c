// Package registry turns the configured remotes (iceberg_catalog.remotes[]) into catalog
// adapters, once at start. A remote that fails to start does not stop the others: it is
// reported not ready, and operations on it answer 503 with the reason.
package registry

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"

	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog"
	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog/gluecat"
	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog/hivecat"
	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog/restcat"
	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog/sqlcat"
	"github.com/iceberg-remotes/iceberg-remotes/internal/config"
)

// Entry is one configured remote: its adapter, or why it could not be created.
type Entry struct {
	Config  config.Remote
	Adapter catalog.Adapter // nil when Err is set
	// History is the remote's own history of its tables (catalog.HistoryOf), with the same
	// location map as Adapter; nil when the remote keeps none the adapter can read.
	History catalog.History
	Err     error
}

// Options are what adapters get from the service beside their remote's configuration.
type Options struct {
	// IOProps are iceberg-go FileIO properties for adapters that read metadata files
	// through iceberg-go (hive's register builds the metastore columns from the file).
	IOProps map[string]string
	// ReadMetadata is the service's reader of metadata files (its object store, under its
	// size caps), for adapters that need a file's contents (a Nessie re-point).
	ReadMetadata func(ctx context.Context, location string) (table.Metadata, error)
	Logger       *slog.Logger
}

// Open creates an adapter per remote, wrapped with the remote's location map.
func Open(ctx context.Context, remotes []config.Remote, opts Options) []Entry {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	logger := opts.Logger
	entries := make([]Entry, 0, len(remotes))
	for _, rc := range remotes {
		a, err := open(ctx, rc, opts)
		if err != nil {
			logger.Error("remote catalog could not start; it reports not ready", "remote", rc.ID, "type", rc.Type, "error", err)
			entries = append(entries, Entry{Config: rc, Err: err})
			continue
		}
		logger.Info("remote catalog ready", "remote", rc.ID, "type", rc.Type)
		m := catalog.LocationMap(rc.LocationMap)
		entries = append(entries, Entry{Config: rc, Adapter: catalog.WithLocationMap(a, m),
			History: catalog.MappedHistory(catalog.HistoryOf(a), m)})
	}
	return entries
}

func open(ctx context.Context, rc config.Remote, opts Options) (catalog.Adapter, error) {
	logger := opts.Logger
	// One policy, one meaning for every type: timeout per attempt, max_retries after the
	// first attempt (0: none).
	policy := rc.RetryPolicy()
	switch rc.Type {
	case "sql":
		return sqlcat.New(ctx, rc.SQL, sqlcat.Options{RemoteID: rc.ID, Policy: policy})
	case "rest":
		return restcat.New(ctx, rc.REST, restcat.Options{Name: rc.ID, Policy: policy, Logger: logger, ReadMetadata: opts.ReadMetadata})
	case "glue":
		return gluecat.New(ctx, rc.Glue, gluecat.Options{Name: rc.ID, Policy: policy, Logger: logger})
	case "hive":
		return hivecat.New(ctx, rc.Hive, hivecat.Options{Name: rc.ID, Policy: policy,
			Properties: iceberg.Properties(opts.IOProps), Logger: logger})
	default:
		return nil, fmt.Errorf("unknown remote type %q", rc.Type)
	}
}

// Close closes every adapter.
func Close(entries []Entry) {
	for _, e := range entries {
		if e.Adapter != nil {
			_ = e.Adapter.Close()
		}
	}
}
