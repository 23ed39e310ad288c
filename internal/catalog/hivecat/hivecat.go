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
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/apache/iceberg-go"
	icecatalog "github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/catalog/hive"
	"github.com/apache/iceberg-go/table"
	"github.com/apache/thrift/lib/go/thrift"
	"github.com/beltran/gohive/hive_metastore"

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

// Type returns "hive".
func (a *Adapter) Type() string { return "hive" }

// Close closes the metastore connection.
func (a *Adapter) Close() error { return a.cat.Close() }

func (a *Adapter) database(ns []string) (string, error) {
	if len(ns) != 1 || ns[0] == "" {
		return "", apperr.BadRequest("hive remote %q: Hive databases are single-level; namespace %q has %d levels",
			a.name, strings.Join(ns, "."), len(ns))
	}
	return ns[0], nil
}

// NamespaceExists reports whether the Hive database exists.
func (a *Adapter) NamespaceExists(ctx context.Context, ns []string) (bool, error) {
	db, err := a.database(ns)
	if err != nil {
		return false, err
	}
	ok, err := a.cat.CheckNamespaceExists(ctx, hive.DatabaseIdentifier(db))
	if err != nil {
		return false, a.mapErr(err, "checking database %q", db)
	}
	return ok, nil
}

// CreateNamespace creates the Hive database (at <warehouse>/<db>.db); an existing one is fine.
func (a *Adapter) CreateNamespace(ctx context.Context, ns []string) error {
	db, err := a.database(ns)
	if err != nil {
		return err
	}
	err = a.cat.CreateNamespace(ctx, hive.DatabaseIdentifier(db), nil)
	if err != nil && !errors.Is(err, icecatalog.ErrNamespaceAlreadyExists) {
		return a.mapErr(err, "creating database %q", db)
	}
	return nil
}

// icebergLocation returns the metadata location of an Iceberg Hive table. A Hive table that
// is not an Iceberg table exists under that name but cannot be used: a conflict (409).
func (a *Adapter) icebergLocation(t *hive_metastore.Table, id catalog.Ident) (string, error) {
	if !strings.EqualFold(t.Parameters[hive.TableTypeKey], hive.TableTypeIceberg) {
		return "", apperr.Conflict("hive remote %q: table %s exists but is not an Iceberg table", a.name, id)
	}
	loc := t.Parameters[hive.MetadataLocationKey]
	if loc == "" {
		return "", apperr.Conflict("hive remote %q: Iceberg table %s has no metadata_location", a.name, id)
	}
	return loc, nil
}

// LoadTable returns the table's metadata_location. It reads the metastore entry only, not
// the metadata file (iceberg-go's LoadTable would), so it needs no object-store access.
func (a *Adapter) LoadTable(ctx context.Context, id catalog.Ident) (string, error) {
	db, err := a.database(id.Namespace)
	if err != nil {
		return "", err
	}
	t, err := a.client.GetTable(ctx, db, id.Table)
	if err != nil {
		return "", a.mapErr(err, "getting table %s", id)
	}
	return a.icebergLocation(t, id)
}

// RegisterTable registers the table through iceberg-go (which reads the metadata file to
// fill in the Hive columns and location). Provenance is not stored: iceberg-go's register
// takes no extra parameters and a second alter_table would make registration non-atomic.
func (a *Adapter) RegisterTable(ctx context.Context, id catalog.Ident, metadataLocation string, _ catalog.Provenance) error {
	db, err := a.database(id.Namespace)
	if err != nil {
		return err
	}
	_, err = a.cat.RegisterTable(ctx, hive.TableIdentifier(db, id.Table), metadataLocation)
	if err == nil {
		return nil
	}
	if !errors.Is(err, icecatalog.ErrTableAlreadyExists) {
		return a.mapErr(err, "registering table %s", id)
	}
	cur, lerr := a.LoadTable(ctx, id)
	if lerr != nil {
		return lerr
	}
	if cur != metadataLocation {
		return apperr.Conflict("hive remote %q: table %s already exists at another metadata location", a.name, id)
	}
	return nil
}

// ReplaceTable re-points the table under the metastore's exclusive table lock.
func (a *Adapter) ReplaceTable(ctx context.Context, id catalog.Ident, expectedLocation, metadataLocation string, prov catalog.Provenance) (bool, error) {
	db, err := a.database(id.Namespace)
	if err != nil {
		return true, err
	}
	// Fail fast (404/409) before queueing for a lock on a table that cannot be swapped.
	if _, err := a.LoadTable(ctx, id); err != nil {
		return true, err
	}
	lockID, err := a.lock(ctx, db, id.Table)
	if err != nil {
		return true, err
	}
	defer func() {
		// Release even when ctx is done: a leaked lock blocks every other writer until the
		// metastore times it out.
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.client.timeout)
		defer cancel()
		if err := a.client.Unlock(uctx, lockID); err != nil {
			a.logger.WarnContext(ctx, "releasing hive lock failed", "remote", a.name, "table", id.String(), "error", err)
		}
	}()
	t, err := a.client.GetTable(ctx, db, id.Table)
	if err != nil {
		return true, a.mapErr(err, "getting table %s", id)
	}
	cur, err := a.icebergLocation(t, id)
	if err != nil {
		return true, err
	}
	if cur != expectedLocation {
		return true, apperr.Conflict("hive remote %q: table %s changed: its metadata location is not the expected one", a.name, id)
	}
	params := catalog.RepointedParameters(t.Parameters, prov, hive.MetadataLocationKey, hive.PreviousMetadataLocationKey,
		metadataLocation, expectedLocation)
	updated := *t
	updated.Parameters = params
	if err := a.client.AlterTable(ctx, db, id.Table, &updated); err != nil {
		return true, a.mapErr(err, "altering table %s", id)
	}
	return true, nil
}

// lock takes an EXCLUSIVE table lock, polling CheckLock with bounded backoff while another
// holder has it; 409 when it cannot be had within LockWait.
func (a *Adapter) lock(ctx context.Context, db, tbl string) (int64, error) {
	host, _ := os.Hostname()
	tn := tbl
	resp, err := a.client.Lock(ctx, &hive_metastore.LockRequest{
		Component: []*hive_metastore.LockComponent{{
			Type: hive_metastore.LockType_EXCLUSIVE, Level: hive_metastore.LockLevel_TABLE,
			Dbname: db, Tablename: &tn,
		}},
		User: "iceberg-remotes", Hostname: host,
	})
	if err != nil {
		return 0, a.mapErr(err, "locking table %s.%s", db, tbl)
	}
	deadline := time.Now().Add(a.lockWait)
	wait := 20 * time.Millisecond
	for resp.State == hive_metastore.LockState_WAITING {
		if time.Now().After(deadline) {
			break
		}
		select {
		case <-ctx.Done():
			a.abandonLock(ctx, resp.Lockid)
			return 0, a.mapErr(ctx.Err(), "waiting for the lock on %s.%s", db, tbl)
		case <-time.After(wait):
		}
		wait = min(wait*2, time.Second)
		resp, err = a.client.CheckLock(ctx, resp.Lockid)
		if err != nil {
			a.abandonLock(ctx, resp.Lockid)
			return 0, a.mapErr(err, "checking the lock on %s.%s", db, tbl)
		}
	}
	if resp.State != hive_metastore.LockState_ACQUIRED {
		a.abandonLock(ctx, resp.Lockid)
		return 0, apperr.Conflict("hive remote %q: table %s.%s is locked by another writer (lock state %s)", a.name, db, tbl, resp.State)
	}
	return resp.Lockid, nil
}

func (a *Adapter) abandonLock(ctx context.Context, id int64) {
	uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.client.timeout)
	defer cancel()
	_ = a.client.Unlock(uctx, id)
}

// DropTable drops the table through iceberg-go (under the metastore lock, deleteData=false):
// no file is purged.
func (a *Adapter) DropTable(ctx context.Context, id catalog.Ident) error {
	db, err := a.database(id.Namespace)
	if err != nil {
		return err
	}
	if err := a.cat.DropTable(ctx, hive.TableIdentifier(db, id.Table)); err != nil {
		return a.mapErr(err, "dropping table %s", id)
	}
	return nil
}

// Ping lists databases: it proves the metastore answers.
func (a *Adapter) Ping(ctx context.Context) error {
	if _, err := a.client.GetAllDatabases(ctx); err != nil {
		return a.mapErr(err, "listing databases")
	}
	return nil
}

// mapErr turns a catalog/metastore error into the *apperr.Error the caller sees.
func (a *Adapter) mapErr(err error, format string, args ...any) error {
	what := fmt.Sprintf(format, args...)
	var ae *apperr.Error
	var noSuch *hive_metastore.NoSuchObjectException
	var exists *hive_metastore.AlreadyExistsException
	var meta *hive_metastore.MetaException
	var transport thrift.TTransportException
	var ne net.Error
	switch {
	case errors.As(err, &ae):
		return err
	case errors.Is(err, icecatalog.ErrNoSuchNamespace), errors.Is(err, icecatalog.ErrNoSuchTable), errors.As(err, &noSuch):
		return apperr.Wrap(http.StatusNotFound, err, "hive remote %q: %s: not found", a.name, what)
	case errors.Is(err, icecatalog.ErrTableAlreadyExists), errors.Is(err, icecatalog.ErrViewAlreadyExists),
		errors.Is(err, icecatalog.ErrNamespaceAlreadyExists), errors.As(err, &exists):
		return apperr.Wrap(http.StatusConflict, err, "hive remote %q: %s: already exists", a.name, what)
	case errors.Is(err, table.ErrCommitFailed):
		// iceberg-go wraps a lock it could not get in ErrCommitFailed.
		return apperr.Wrap(http.StatusConflict, err, "hive remote %q: %s: the table is locked by another writer", a.name, what)
	case strings.Contains(err.Error(), "is not an Iceberg table"):
		return apperr.Wrap(http.StatusConflict, err, "hive remote %q: %s: not an Iceberg table", a.name, what)
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return apperr.Wrap(http.StatusGatewayTimeout, err, "hive remote %q: %s: timed out", a.name, what)
	case errors.As(err, &transport):
		if transport.TypeId() == thrift.TIMED_OUT {
			return apperr.Wrap(http.StatusGatewayTimeout, err, "hive remote %q: %s: timed out", a.name, what)
		}
		return apperr.Wrap(http.StatusBadGateway, err, "hive remote %q: %s: metastore unreachable", a.name, what)
	case errors.As(err, &meta):
		return apperr.Wrap(http.StatusBadGateway, err, "hive remote %q: %s: metastore error: %s", a.name, what, meta.Message)
	case strings.Contains(err.Error(), "failed to read table metadata"):
		return apperr.Wrap(http.StatusBadRequest, err, "hive remote %q: %s: the metadata file cannot be read", a.name, what)
	}
	return apperr.Wrap(http.StatusBadGateway, err, "hive remote %q: %s failed", a.name, what)
}

// client is a hive.HiveClient over one thrift connection with timeouts. A thrift client is
// not safe for concurrent use, so calls are serialised; a transport failure drops the
// connection and the next call dials again.
type client struct {
	addr    string
	timeout time.Duration
	policy  httpclient.Policy

	mu   sync.Mutex
	conn thrift.TTransport
	hms  *hive_metastore.ThriftHiveMetastoreClient
}

var _ hive.HiveClient = (*client)(nil)

// do runs fn with a connected metastore client under the lock, each attempt bounded by the
// policy's timeout, repeating it as httpclient's Failure rule allows: a call that never
// reached the metastore (no connection could be made) may always be repeated; one whose
// connection failed mid-call only when idempotent. Metastore answers (exceptions) are final.
func (c *client) do(ctx context.Context, idempotent bool, fn func(ctx context.Context, hms *hive_metastore.ThriftHiveMetastoreClient) error) error {
	for attempt := 0; ; attempt++ {
		dialed, err := c.attempt(ctx, fn)
		if err == nil || attempt >= c.policy.MaxRetries || ctx.Err() != nil {
			return err
		}
		if !classify(dialed, err).Retryable(idempotent) || !c.policy.Wait(ctx, attempt) {
			return err
		}
	}
}

// classify maps the outcome of one attempt to httpclient's Failure.
func classify(dialed bool, err error) httpclient.Failure {
	if !dialed {
		return httpclient.NotSent // no connection: nothing reached the metastore
	}
	var te thrift.TTransportException
	if errors.As(err, &te) || errors.Is(err, context.DeadlineExceeded) {
		return httpclient.Ambiguous
	}
	return httpclient.Final
}

// attempt makes one call; dialed reports whether a connection existed, i.e. whether the
// request may have reached the metastore.
func (c *client) attempt(ctx context.Context, fn func(ctx context.Context, hms *hive_metastore.ThriftHiveMetastoreClient) error) (dialed bool, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return false, err
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	if c.hms == nil {
		conf := &thrift.TConfiguration{ConnectTimeout: c.timeout, SocketTimeout: c.timeout}
		sock := thrift.NewTSocketConf(c.addr, conf)
		if err := sock.Open(); err != nil {
			return false, err
		}
		c.conn = thrift.NewTBufferedTransport(sock, 4096)
		pf := thrift.NewTBinaryProtocolFactoryConf(conf)
		c.hms = hive_metastore.NewThriftHiveMetastoreClient(
			thrift.NewTStandardClient(pf.GetProtocol(c.conn), pf.GetProtocol(c.conn)))
	}
	err = fn(ctx, c.hms)
	var te thrift.TTransportException
	var pe thrift.TProtocolException
	if errors.As(err, &te) || errors.As(err, &pe) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		// The stream may be mid-message: never reuse it.
		_ = c.conn.Close()
		c.conn, c.hms = nil, nil
	}
	return true, err
}

func (c *client) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conn != nil {
		err := c.conn.Close()
		c.conn, c.hms = nil, nil
		return err
	}
	return nil
}

func (c *client) GetDatabase(ctx context.Context, name string) (db *hive_metastore.Database, err error) {
	err = c.do(ctx, true, func(ctx context.Context, h *hive_metastore.ThriftHiveMetastoreClient) (e error) {
		db, e = h.GetDatabase(ctx, name)
		return e
	})
	return db, err
}

func (c *client) CreateDatabase(ctx context.Context, database *hive_metastore.Database) error {
	return c.do(ctx, false, func(ctx context.Context, h *hive_metastore.ThriftHiveMetastoreClient) error {
		return h.CreateDatabase(ctx, database)
	})
}

func (c *client) AlterDatabase(ctx context.Context, dbname string, db *hive_metastore.Database) error {
	return c.do(ctx, false, func(ctx context.Context, h *hive_metastore.ThriftHiveMetastoreClient) error {
		return h.AlterDatabase(ctx, dbname, db)
	})
}

func (c *client) DropDatabase(ctx context.Context, name string, deleteData, cascade bool) error {
	return c.do(ctx, false, func(ctx context.Context, h *hive_metastore.ThriftHiveMetastoreClient) error {
		return h.DropDatabase(ctx, name, deleteData, cascade)
	})
}

func (c *client) GetAllDatabases(ctx context.Context) (dbs []string, err error) {
	err = c.do(ctx, true, func(ctx context.Context, h *hive_metastore.ThriftHiveMetastoreClient) (e error) {
		dbs, e = h.GetAllDatabases(ctx)
		return e
	})
	return dbs, err
}

// GetTable reads a table with get_table_req (Hive 2.1+): Hive Metastore 4 no longer serves
// the older get_table, which iceberg-go's own client calls. A metastore that does not know
// get_table_req (older than 2.1) is asked with get_table.
func (c *client) GetTable(ctx context.Context, dbName, tableName string) (t *hive_metastore.Table, err error) {
	err = c.do(ctx, true, func(ctx context.Context, h *hive_metastore.ThriftHiveMetastoreClient) (e error) {
		res, e := h.GetTableReq(ctx, &hive_metastore.GetTableRequest{DbName: dbName, TblName: tableName, ID: -1})
		var ae thrift.TApplicationException
		if errors.As(e, &ae) && ae.TypeId() == thrift.UNKNOWN_METHOD {
			t, e = h.GetTable(ctx, dbName, tableName)
			return e
		}
		if e == nil {
			t = res.GetTable()
		}
		return e
	})
	return t, err
}

func (c *client) CreateTable(ctx context.Context, tbl *hive_metastore.Table) error {
	return c.do(ctx, false, func(ctx context.Context, h *hive_metastore.ThriftHiveMetastoreClient) error {
		return h.CreateTable(ctx, tbl)
	})
}

func (c *client) AlterTable(ctx context.Context, dbName, tableName string, newTbl *hive_metastore.Table) error {
	return c.do(ctx, true, func(ctx context.Context, h *hive_metastore.ThriftHiveMetastoreClient) error {
		return h.AlterTable(ctx, dbName, tableName, newTbl)
	})
}

func (c *client) DropTable(ctx context.Context, dbName, tableName string, deleteData bool) error {
	return c.do(ctx, false, func(ctx context.Context, h *hive_metastore.ThriftHiveMetastoreClient) error {
		return h.DropTable(ctx, dbName, tableName, deleteData)
	})
}

func (c *client) GetTables(ctx context.Context, dbName, pattern string) (ts []string, err error) {
	err = c.do(ctx, true, func(ctx context.Context, h *hive_metastore.ThriftHiveMetastoreClient) (e error) {
		ts, e = h.GetTables(ctx, dbName, pattern)
		return e
	})
	return ts, err
}

func (c *client) Lock(ctx context.Context, request *hive_metastore.LockRequest) (r *hive_metastore.LockResponse, err error) {
	err = c.do(ctx, false, func(ctx context.Context, h *hive_metastore.ThriftHiveMetastoreClient) (e error) {
		r, e = h.Lock(ctx, request)
		return e
	})
	return r, err
}

func (c *client) CheckLock(ctx context.Context, lockID int64) (r *hive_metastore.LockResponse, err error) {
	err = c.do(ctx, true, func(ctx context.Context, h *hive_metastore.ThriftHiveMetastoreClient) (e error) {
		r, e = h.CheckLock(ctx, &hive_metastore.CheckLockRequest{Lockid: lockID})
		return e
	})
	return r, err
}

func (c *client) Unlock(ctx context.Context, lockID int64) error {
	return c.do(ctx, true, func(ctx context.Context, h *hive_metastore.ThriftHiveMetastoreClient) error {
		return h.Unlock(ctx, &hive_metastore.UnlockRequest{Lockid: lockID})
	})
}
