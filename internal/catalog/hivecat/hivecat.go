// Package hivecat is the catalog.Adapter for Hive Metastore remotes (type "hive").
//
// It is built on iceberg-go v0.7.0's Hive catalog (hive.NewCatalogWithClient): namespaces,
// registration (which reads the metadata file to derive the Hive columns, so the adapter's
// iceberg properties must give it access to the metadata's object store) and drop without
// purge go through it. The catalog is handed our own metastore client (iceberg-go's
// hive.HiveClient interface) rather than the one hive.NewCatalog dials, because that one
// has no connect or socket timeout and is not safe for concurrent use; ours is both.
//
// Re-pointing (ReplaceTable) uses the metastore's table lock, the same protocol Java's
// HiveTableOperations and iceberg-go's CommitTable use (an EXCLUSIVE table lock through
// hive.HiveClient's Lock/CheckLock/Unlock): lock, re-read, compare metadata_location,
// alter_table, unlock. iceberg-go keeps its own lock helper unexported, so the protocol is
// repeated here. Every writer that honours Hive locks (Java, Spark, Trino, iceberg-go) is
// excluded while we swap, which makes the re-point a compare-and-swap.
package hivecat

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"time"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/catalog/hive"

	"github.com/iceberg-remotes/iceberg-remotes/internal/apperr"
	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog"
	"github.com/iceberg-remotes/iceberg-remotes/internal/config"
	"github.com/iceberg-remotes/iceberg-remotes/internal/httpclient"
)

// Options tune an adapter; zero values pick defaults.
type Options struct {
	// Name is the remote id, used in error messages.
	Name string
	// Policy bounds connecting and each attempt of a metastore call by Policy.Timeout and
	// repeats a failed attempt at most Policy.MaxRetries times (0: never), as httpclient's
	// Failure rule allows: a call that never reached the metastore always, one whose
	// connection failed mid-call only when idempotent.
	Policy httpclient.Policy
	// Properties are extra iceberg-go catalog properties, e.g. the s3.* settings
	// RegisterTable needs to read metadata files. "uri" and "warehouse" come from cfg.
	Properties iceberg.Properties
	// LockWait bounds how long ReplaceTable waits for the metastore table lock (default 10s).
	LockWait time.Duration
	// Logger receives debug lines; nil discards them.
	Logger *slog.Logger
}

// Adapter is a Hive Metastore remote. Safe for concurrent use.
type Adapter struct {
	name     string
	client   *client
	cat      *hive.Catalog
	lockWait time.Duration
	logger   *slog.Logger
}

var _ catalog.Adapter = (*Adapter)(nil)

// New validates cfg and prepares the adapter. The metastore connection is opened lazily on
// the first call (and re-opened after a transport failure), so a metastore that is down at
// start does not stop the service: Ping reports it.
func New(_ context.Context, cfg config.HiveRemote, opts Options) (*Adapter, error) {
	addr, err := parseURI(cfg.URI)
	if err != nil {
		return nil, apperr.BadRequest("hive remote %q: invalid uri: %v", opts.Name, err)
	}
	if opts.LockWait <= 0 {
		opts.LockWait = 10 * time.Second
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	props := iceberg.Properties{}
	for k, v := range opts.Properties {
		props[k] = v
	}
	props[hive.URI] = cfg.URI
	if cfg.Warehouse != "" {
		props[hive.Warehouse] = cfg.Warehouse
	}
	policy := opts.Policy.Normalized()
	c := &client{addr: addr, timeout: policy.Timeout, policy: policy}
	return &Adapter{
		name:     opts.Name,
		client:   c,
		cat:      hive.NewCatalogWithClient(c, props),
		lockWait: opts.LockWait,
		logger:   logger,
	}, nil
}

// parseURI accepts thrift://host[:port] (port defaults to 9083, Hive's).
func parseURI(uri string) (string, error) {
	u, err := url.Parse(uri)
	if err != nil {
		return "", errors.New("not a URL")
	}
	if u.Scheme != "thrift" {
		return "", fmt.Errorf("scheme must be thrift, got %q", u.Scheme)
	}
	if u.Hostname() == "" {
		return "", errors.New("host is required")
	}
	port := u.Port()
	if port == "" {
		port = "9083"
	}
	if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
		return "", fmt.Errorf("invalid port %q", port)
	}
	return net.JoinHostPort(u.Hostname(), port), nil
}
