package hivecat

// The thrift client iceberg-go's hive catalog calls, with connection handling, the per-attempt timeout and the one retry rule (httpclient.Failure).

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/apache/iceberg-go/catalog/hive"
	"github.com/apache/thrift/lib/go/thrift"
	"github.com/beltran/gohive/hive_metastore"

	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog"
	"github.com/iceberg-remotes/iceberg-remotes/internal/httpclient"
)

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

type provenanceKey struct{}

// withProvenance makes CreateTable calls under ctx store prov in the new table's
// parameters. iceberg-go's RegisterTable builds the Hive table itself (columns derived from
// the metadata file) and takes no extra parameters; adding them to its one create_table call
// keeps registration atomic, where a following alter_table would not be.
func withProvenance(ctx context.Context, prov catalog.Provenance) context.Context {
	return context.WithValue(ctx, provenanceKey{}, prov)
}

func (c *client) CreateTable(ctx context.Context, tbl *hive_metastore.Table) error {
	if prov, ok := ctx.Value(provenanceKey{}).(catalog.Provenance); ok {
		t := *tbl
		t.Parameters = prov.Apply(tbl.Parameters)
		tbl = &t
	}
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
