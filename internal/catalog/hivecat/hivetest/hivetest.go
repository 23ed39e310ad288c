// Package hivetest is an in-process Hive Metastore stand-in for tests: a thrift server on
// 127.0.0.1 built on the thrift-generated ThriftHiveMetastoreProcessor of
// github.com/beltran/gohive/hive_metastore (the package iceberg-go's Hive catalog uses), so
// every request and answer goes through the real metastore IDL's binary encoding, including
// its required-field checks.
//
// It implements the calls iceberg-go's Hive catalog and hivecat make (get/create database,
// get_all_databases, get_table_req, get_table_objects_by_name_req, create/alter/drop table, get_tables,
// lock/check_lock/unlock) with
// the metastore's observable behaviour: lower-cased names, NoSuchObjectException /
// AlreadyExistsException / InvalidObjectException / MetaException as the metastore raises
// them, a database needs a location, and EXCLUSIVE table locks are granted one holder at a
// time (others WAITING, FIFO) and released by unlock. Every other metastore call answers
// with a thrift application error instead of pretending to work.
package hivetest

import (
	"context"
	"fmt"
	"net"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/apache/thrift/lib/go/thrift"
	"github.com/beltran/gohive/hive_metastore"
)

// Server is a running metastore stand-in.
type Server struct {
	addr   net.Addr
	server *thrift.TSimpleServer
	h      *handler
}

// Options change what the stand-in imitates.
type Options struct {
	// PreHive21 serves get_table instead of get_table_req, as a metastore older than Hive
	// 2.1 does (Hive 2.1 to 3.x serve both; Hive 4 only get_table_req).
	PreHive21 bool
}

// New starts a stand-in on 127.0.0.1 that answers like Hive Metastore 4 (or as opts say);
// it is stopped in t.Cleanup.
func New(t testing.TB, opts ...Options) *Server {
	t.Helper()
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	ss, err := thrift.NewTServerSocket("127.0.0.1:0")
	if err != nil {
		t.Fatalf("hivetest: %v", err)
	}
	if err := ss.Listen(); err != nil {
		t.Fatalf("hivetest: listen: %v", err)
	}
	h := &handler{dbs: map[string]*hive_metastore.Database{}, tables: map[string]map[string]*hive_metastore.Table{}, nextLock: 1}
	proc := hive_metastore.NewThriftHiveMetastoreProcessor(h)
	// Only the implemented calls stay routable: any other one gets thrift's UNKNOWN_METHOD
	// application error (the processor has no panic recovery, so reaching the nil embedded
	// interface would kill the test binary instead).
	m := proc.ProcessorMap()
	for name := range m {
		serve := implemented[name]
		if o.PreHive21 && (name == "get_table" || name == "get_table_req") {
			serve = name == "get_table"
		}
		if o.PreHive21 && (name == "get_table_objects_by_name" || name == "get_table_objects_by_name_req") {
			serve = name == "get_table_objects_by_name"
		}
		if !serve {
			delete(m, name)
		}
	}
	srv := thrift.NewTSimpleServer4(proc, ss,
		thrift.NewTBufferedTransportFactory(4096), thrift.NewTBinaryProtocolFactoryConf(nil))
	go func() { _ = srv.Serve() }()
	s := &Server{addr: ss.Addr(), server: srv, h: h}
	t.Cleanup(func() { _ = srv.Stop() })
	return s
}

// URI is the thrift:// URI of the stand-in.
func (s *Server) URI() string { return "thrift://" + s.addr.String() }

// Table returns a stored table (nil when missing).
func (s *Server) Table(db, name string) *hive_metastore.Table {
	s.h.mu.Lock()
	defer s.h.mu.Unlock()
	return s.h.tables[strings.ToLower(db)][strings.ToLower(name)]
}

// PutTable stores a table directly, as another metastore client would.
func (s *Server) PutTable(t *hive_metastore.Table) {
	s.h.mu.Lock()
	defer s.h.mu.Unlock()
	db := strings.ToLower(t.DbName)
	if s.h.tables[db] == nil {
		s.h.tables[db] = map[string]*hive_metastore.Table{}
	}
	s.h.tables[db][strings.ToLower(t.TableName)] = t
}

// Drops returns the deleteData flag of every drop_table call so far.
func (s *Server) Drops() []bool {
	s.h.mu.Lock()
	defer s.h.mu.Unlock()
	return append([]bool(nil), s.h.drops...)
}

// HeldLocks returns the number of locks currently held or waiting.
func (s *Server) HeldLocks() int {
	s.h.mu.Lock()
	defer s.h.mu.Unlock()
	return len(s.h.locks)
}

// Lock takes an EXCLUSIVE lock on a table as another writer would; call the returned
// function to release it.
func (s *Server) Lock(db, tbl string) (release func()) {
	resp, err := s.h.Lock(context.Background(), &hive_metastore.LockRequest{
		Component: []*hive_metastore.LockComponent{{Type: hive_metastore.LockType_EXCLUSIVE,
			Level: hive_metastore.LockLevel_TABLE, Dbname: db, Tablename: &tbl}},
		User: "other", Hostname: "elsewhere",
	})
	if err != nil || resp.State != hive_metastore.LockState_ACQUIRED {
		panic(fmt.Sprintf("hivetest: cannot take lock: %v %v", err, resp))
	}
	return func() { _ = s.h.Unlock(context.Background(), &hive_metastore.UnlockRequest{Lockid: resp.Lockid}) }
}

type lock struct {
	id       int64
	tables   []string // "db.table"
	acquired bool
}

// implemented are the thrift method names the handler serves.
var implemented = map[string]bool{
	"get_database": true, "create_database": true, "get_all_databases": true,
	// Hive Metastore 4 removed get_table (HIVE-26537); get_table_req (Hive 2.1+) is the call.
	"get_table_req": true, "get_table_objects_by_name_req": true, "get_tables": true, "create_table": true, "alter_table": true, "drop_table": true,
	"alter_table_with_environment_context": true, "lock": true, "check_lock": true, "unlock": true,
}

// handler implements the metastore calls in implemented; the embedded (nil) interface only
// makes it satisfy ThriftHiveMetastore (the other calls are not routed to it).
type handler struct {
	hive_metastore.ThriftHiveMetastore

	byNameCalls int // get_table_objects_by_name(_req) calls, under mu

	mu       sync.Mutex
	dbs      map[string]*hive_metastore.Database
	tables   map[string]map[string]*hive_metastore.Table
	locks    []*lock // FIFO
	nextLock int64
	drops    []bool
}

func noSuch(format string, args ...any) error {
	return &hive_metastore.NoSuchObjectException{Message: fmt.Sprintf(format, args...)}
}

func (h *handler) GetDatabase(_ context.Context, name string) (*hive_metastore.Database, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	db, ok := h.dbs[strings.ToLower(name)]
	if !ok {
		return nil, noSuch("database hive.%s", strings.ToLower(name))
	}
	return db, nil
}

func (h *handler) CreateDatabase(_ context.Context, db *hive_metastore.Database) error {
	if db == nil || db.Name == "" {
		return &hive_metastore.InvalidObjectException{Message: "database name is empty"}
	}
	if db.LocationUri == "" {
		// The metastore builds a Path from the location; an empty string is refused.
		return &hive_metastore.MetaException{Message: "java.lang.IllegalArgumentException: Can not create a Path from an empty string"}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	name := strings.ToLower(db.Name)
	if _, ok := h.dbs[name]; ok {
		return &hive_metastore.AlreadyExistsException{Message: fmt.Sprintf("Database %s already exists", name)}
	}
	db.Name = name
	h.dbs[name] = db
	h.tables[name] = map[string]*hive_metastore.Table{}
	return nil
}

func (h *handler) GetAllDatabases(context.Context) ([]string, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]string, 0, len(h.dbs))
	for n := range h.dbs {
		out = append(out, n)
	}
	sort.Strings(out)
	return out, nil
}

// GetTableReq is get_table_req; like Hive Metastore 4, the stand-in no longer serves the
// older get_table.
func (h *handler) GetTableReq(ctx context.Context, req *hive_metastore.GetTableRequest) (*hive_metastore.GetTableResult_, error) {
	t, err := h.getTable(req.DbName, req.TblName)
	if err != nil {
		return nil, err
	}
	return &hive_metastore.GetTableResult_{Table: t}, nil
}

// GetTable is get_table, served only with Options.PreHive21.
func (h *handler) GetTable(_ context.Context, dbname, name string) (*hive_metastore.Table, error) {
	return h.getTable(dbname, name)
}

func (h *handler) getTable(dbname, name string) (*hive_metastore.Table, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	db, tn := strings.ToLower(dbname), strings.ToLower(name)
	if _, ok := h.dbs[db]; !ok {
		return nil, noSuch("hive.%s.%s table not found", db, tn)
	}
	t, ok := h.tables[db][tn]
	if !ok {
		return nil, noSuch("hive.%s.%s table not found", db, tn)
	}
	return t, nil
}

// GetTableObjectsByNameReq is get_table_objects_by_name_req: the named tables that exist
// (missing names are omitted), UnknownDBException for a missing database, as the metastore
// answers.
func (h *handler) GetTableObjectsByNameReq(_ context.Context, req *hive_metastore.GetTablesRequest) (*hive_metastore.GetTablesResult_, error) {
	ts, err := h.tablesByName(req.DbName, req.TblNames)
	if err != nil {
		return nil, err
	}
	return &hive_metastore.GetTablesResult_{Tables: ts}, nil
}

// GetTableObjectsByName is get_table_objects_by_name, served only with Options.PreHive21.
func (h *handler) GetTableObjectsByName(_ context.Context, dbname string, names []string) ([]*hive_metastore.Table, error) {
	return h.tablesByName(dbname, names)
}

func (h *handler) tablesByName(dbname string, names []string) ([]*hive_metastore.Table, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.byNameCalls++
	db := strings.ToLower(dbname)
	if _, ok := h.dbs[db]; !ok {
		return nil, &hive_metastore.UnknownDBException{Message: fmt.Sprintf("Could not find database %s", db)}
	}
	if names == nil {
		return nil, &hive_metastore.InvalidOperationException{Message: "table names are null"}
	}
	out := []*hive_metastore.Table{}
	seen := map[string]bool{}
	for _, n := range names {
		tn := strings.ToLower(n)
		if t, ok := h.tables[db][tn]; ok && !seen[tn] {
			seen[tn] = true
			out = append(out, t)
		}
	}
	return out, nil
}

// ByNameCalls returns how many get_table_objects_by_name(_req) calls reached the stand-in.
func (s *Server) ByNameCalls() int {
	s.h.mu.Lock()
	defer s.h.mu.Unlock()
	return s.h.byNameCalls
}

func (h *handler) GetTables(_ context.Context, dbname, pattern string) ([]string, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	db := strings.ToLower(dbname)
	if _, ok := h.dbs[db]; !ok {
		return nil, &hive_metastore.MetaException{Message: fmt.Sprintf("database %s does not exist", db)}
	}
	var out []string
	for n := range h.tables[db] {
		if pattern == "*" || pattern == "" || pattern == n {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out, nil
}

func validateTable(t *hive_metastore.Table) error {
	switch {
	case t == nil || t.TableName == "" || t.DbName == "":
		return &hive_metastore.InvalidObjectException{Message: "table name or database name is empty"}
	case t.Sd == nil:
		return &hive_metastore.InvalidObjectException{Message: "storage descriptor is required"}
	case t.TableType == "":
		return &hive_metastore.InvalidObjectException{Message: "tableType is required"}
	}
	for _, c := range t.Sd.Cols {
		if c == nil || c.Name == "" || c.Type == "" {
			return &hive_metastore.InvalidObjectException{Message: "column without name or type"}
		}
	}
	return nil
}

func (h *handler) CreateTable(_ context.Context, t *hive_metastore.Table) error {
	if err := validateTable(t); err != nil {
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	db, tn := strings.ToLower(t.DbName), strings.ToLower(t.TableName)
	if _, ok := h.dbs[db]; !ok {
		return noSuch("database %s does not exist", db)
	}
	if _, ok := h.tables[db][tn]; ok {
		return &hive_metastore.AlreadyExistsException{Message: fmt.Sprintf("Table hive.%s.%s already exists", db, tn)}
	}
	t.DbName, t.TableName = db, tn
	h.tables[db][tn] = t
	return nil
}

func (h *handler) AlterTable(_ context.Context, dbname, name string, t *hive_metastore.Table) error {
	if err := validateTable(t); err != nil {
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	db, tn := strings.ToLower(dbname), strings.ToLower(name)
	if _, ok := h.tables[db][tn]; !ok {
		return &hive_metastore.InvalidOperationException{Message: fmt.Sprintf("table %s.%s doesn't exist", db, tn)}
	}
	if strings.ToLower(t.TableName) != tn || strings.ToLower(t.DbName) != db {
		return &hive_metastore.InvalidOperationException{Message: "renaming is not supported by the stand-in"}
	}
	t.DbName, t.TableName = db, tn
	h.tables[db][tn] = t
	return nil
}

func (h *handler) DropTable(_ context.Context, dbname, name string, deleteData bool) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	db, tn := strings.ToLower(dbname), strings.ToLower(name)
	if _, ok := h.tables[db][tn]; !ok {
		return noSuch("hive.%s.%s table not found", db, tn)
	}
	delete(h.tables[db], tn)
	h.drops = append(h.drops, deleteData)
	return nil
}

// grantable reports whether l conflicts with no acquired lock and no earlier waiting lock.
func (h *handler) grantable(l *lock) bool {
	for _, o := range h.locks {
		if o == l {
			return true
		}
		for _, a := range o.tables {
			for _, b := range l.tables {
				if a == b {
					return false
				}
			}
		}
	}
	return true
}

func (h *handler) Lock(_ context.Context, rqst *hive_metastore.LockRequest) (*hive_metastore.LockResponse, error) {
	if rqst == nil || len(rqst.Component) == 0 {
		return nil, &hive_metastore.MetaException{Message: "lock request without components"}
	}
	l := &lock{}
	for _, c := range rqst.Component {
		if c.Level != hive_metastore.LockLevel_TABLE || c.Tablename == nil || c.Dbname == "" {
			return nil, &hive_metastore.MetaException{Message: "the stand-in supports table-level locks only"}
		}
		l.tables = append(l.tables, strings.ToLower(c.Dbname)+"."+strings.ToLower(*c.Tablename))
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	l.id = h.nextLock
	h.nextLock++
	h.locks = append(h.locks, l)
	l.acquired = h.grantable(l)
	return h.state(l), nil
}

func (h *handler) state(l *lock) *hive_metastore.LockResponse {
	st := hive_metastore.LockState_WAITING
	if l.acquired {
		st = hive_metastore.LockState_ACQUIRED
	}
	return &hive_metastore.LockResponse{Lockid: l.id, State: st}
}

func (h *handler) find(id int64) (int, *lock) {
	for i, l := range h.locks {
		if l.id == id {
			return i, l
		}
	}
	return -1, nil
}

func (h *handler) CheckLock(_ context.Context, rqst *hive_metastore.CheckLockRequest) (*hive_metastore.LockResponse, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	_, l := h.find(rqst.Lockid)
	if l == nil {
		return nil, &hive_metastore.NoSuchLockException{Message: fmt.Sprintf("No such lock lockid:%d", rqst.Lockid)}
	}
	if !l.acquired {
		l.acquired = h.grantable(l)
	}
	return h.state(l), nil
}

func (h *handler) Unlock(_ context.Context, rqst *hive_metastore.UnlockRequest) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	i, l := h.find(rqst.Lockid)
	if l == nil {
		return &hive_metastore.NoSuchLockException{Message: fmt.Sprintf("No such lock lockid:%d", rqst.Lockid)}
	}
	h.locks = append(h.locks[:i], h.locks[i+1:]...)
	return nil
}
