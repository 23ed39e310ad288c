package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	icecatalog "github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/catalog/rest"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog"
	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog/registry"
	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog/restcat/resttest"
	"github.com/iceberg-remotes/iceberg-remotes/internal/config"
	"github.com/iceberg-remotes/iceberg-remotes/internal/httpclient"
	"github.com/iceberg-remotes/iceberg-remotes/internal/lakefs"
	"github.com/iceberg-remotes/iceberg-remotes/internal/objstore"
	"github.com/iceberg-remotes/iceberg-remotes/internal/remotes"
	"github.com/iceberg-remotes/iceberg-remotes/internal/requestctx"
	"github.com/iceberg-remotes/iceberg-remotes/internal/state"
)

// faultEnv is an env that keeps its configuration, so that more service instances can be
// started on the same state store file and backends (a restart after a crash, or an
// in-process instance whose dependencies are wrapped to fail or "die").
type faultEnv struct {
	*env
	cfg config.Config
}

func newFaultEnv(t *testing.T, kind remoteKind, layout string) *faultEnv {
	var rc config.Remote
	capture := remoteKind{name: kind.name, setup: func(t *testing.T, dir string) (config.Remote, icecatalog.Catalog) {
		r, w := kind.setup(t, dir)
		rc = r
		return r, w
	}}
	e := newEnv(t, capture, layout)
	// The same configuration newEnv gives its instance.
	cfg := config.Defaults()
	cfg.State.SQLite.Path = filepath.Join(e.dir, "state.db")
	cfg.LakeFS.Endpoint = e.lake.URL()
	cfg.LakeFS.AccessKeyID, cfg.LakeFS.SecretAccessKey = "AKIASVC", "svc-secret"
	cfg.Auth.Encrypt.SecretKey = secret
	cfg.Tables.Layout = layout
	cfg.Tables.WarehousePrefix = "warehouse"
	rc.Timeout, rc.MaxRetries = 20*time.Second, 2
	e.trustTestFiles(&rc)
	cfg.IcebergCatalog.Remotes = []config.Remote{rc}
	return &faultEnv{env: e, cfg: cfg}
}

// restart starts a fresh server instance on the same state file and backends, as after the
// process was restarted; e.call and friends use it from now on.
func (f *faultEnv) restart() {
	cfg := f.cfg
	cfg.IcebergCatalog.Remotes = slices.Clone(f.cfg.IcebergCatalog.Remotes)
	oldAPI, oldApp := f.api, f.app
	f.start(&cfg)
	// The previous instance goes away (its connections too: PostgreSQL's are bounded).
	oldAPI.Close()
	_ = oldApp.Close()
}

func (f *faultEnv) record(table string) state.SyncRecord {
	rec, err := f.app.Store.GetSyncRecord(ctx(f.t), state.TableKey{Catalog: remoteID, Namespace: remoteNS, Table: table})
	require.NoError(f.t, err)
	return rec
}

// remoteAt returns where the remote table points ("" when it does not exist), asked with
// the external writer.
func (f *faultEnv) remoteAt(table string) string {
	tbl, err := f.writer.LoadTable(ctx(f.t), []string{remoteNS[0], table})
	if err != nil {
		return ""
	}
	return tbl.MetadataLocation()
}

// files hashes every file under the env's temp dir except the SQLite databases (the state
// store and the SQL remote, which legitimately change): the table's data, manifests and
// metadata files.
func (f *env) files() map[string]string {
	out := map[string]string{}
	err := filepath.WalkDir(f.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || strings.Contains(d.Name(), ".db") {
			return nil
		}
		raw, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(raw)
		out[p] = hex.EncodeToString(sum[:])
		return nil
	})
	require.NoError(f.t, err)
	return out
}

// requirePreserved fails unless every file of before still exists byte-identical (new
// files may have appeared).
func (f *env) requirePreserved(before map[string]string) {
	f.t.Helper()
	now := f.files()
	n := 0
	for p, sum := range before {
		got, ok := now[p]
		require.True(f.t, ok, "file %s was deleted", p)
		require.Equal(f.t, sum, got, "file %s was overwritten", p)
		if strings.HasSuffix(p, ".metadata.json") || strings.HasSuffix(p, ".parquet") || strings.HasSuffix(p, ".avro") {
			n++
		}
	}
	require.Positive(f.t, n, "the snapshot holds table files")
}

// ---- a service instance with dependencies that fail or die on cue ----

// fault is what an injected step does.
type fault int

const (
	pass        fault = iota
	failCall          // the call fails without taking effect
	loseAnswer        // the call takes effect, its answer is lost (a timeout)
	crashBefore       // the process dies before the call
	crashAfter        // the process dies right after the call took effect
)

func (f fault) String() string {
	return [...]string{"pass", "fail", "lose-answer", "crash-before", "crash-after"}[f]
}

var errDead = errors.New("injected: the process died")

// rig is an in-process service on the env's backends and state file whose lakeFS HTTP
// transport, remote adapter and state store can be told to fail a given call or to "die":
// once dead, every further call of any of them fails, as nothing runs in a dead process.
type rig struct {
	t     *testing.T
	svc   *remotes.Service
	store state.Store // the rig's own store, unwrapped
	dead  atomic.Bool
	close func() // releases the rig's connections (idempotent)

	mu           sync.Mutex
	lakeCalls    []string // lakeFS operations, in order
	remoteCalls  []string // adapter methods, in order
	onLakeFS     func(n int, op string) fault
	onRemote     func(n int, method string) fault
	onStoreWrite func(method string, rec *state.SyncRecord) fault
}

func (f *faultEnv) newRig() *rig {
	t := f.t
	r := &rig{t: t}
	logger := slog.New(slog.DiscardHandler)
	c := ctx(t)
	store, err := state.OpenSQLite(c, f.cfg.State.SQLite.Path, logger)
	require.NoError(t, err)
	r.store = store
	var closers []func()
	var once sync.Once
	r.close = func() {
		once.Do(func() {
			for _, c := range closers {
				c()
			}
		})
	}
	t.Cleanup(r.close)
	closers = append(closers, func() { _ = store.Close() })

	base := http.DefaultTransport.(*http.Transport).Clone()
	closers = append(closers, base.CloseIdleConnections)
	// No retries here: every injected answer reaches the service as is.
	hc := &http.Client{Transport: &lakeTransport{r: r, base: base}, Timeout: 2 * time.Second}
	client, err := lakefs.New(config.LakeFS{Endpoint: f.lake.URL(), Timeout: 2 * time.Second},
		lakefs.ServiceCredentials("AKIASVC", "svc-secret"), hc)
	require.NoError(t, err)
	locator := lakefs.NewLocator(client, f.cfg.LayoutFor)
	objects, err := objstore.New(f.cfg.ObjectStore, objstore.Options{Policy: httpclient.Policy{Timeout: 10 * time.Second, MaxRetries: 1}, Logger: logger})
	require.NoError(t, err)
	entries := registry.Open(c, f.cfg.IcebergCatalog.Remotes, registry.Options{Logger: logger})
	closers = append(closers, func() { registry.Close(entries) })
	require.NoError(t, entries[0].Err)

	r.svc = remotes.New(remotes.Options{
		Remotes: []*remotes.Remote{{Config: entries[0].Config, Adapter: &faultAdapter{Adapter: entries[0].Adapter, r: r}}},
		LakeFS:  locator,
		Reader:  remotes.NewMetadataReader(objects, nil),
		Store:   &faultStore{Store: store, r: r},
		Logger:  logger,
	})
	return r
}

func (r *rig) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lakeCalls, r.remoteCalls = nil, nil
	r.onLakeFS, r.onRemote, r.onStoreWrite = nil, nil, nil
}

func (r *rig) calls() (lake, remote []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.lakeCalls), slices.Clone(r.remoteCalls)
}

func (r *rig) ctx() context.Context {
	c, _ := requestctx.With(ctx(r.t), "rig-request")
	requestctx.SetUser(c, "alice")
	return c
}

func (r *rig) push(dest string, force, createNS bool) error {
	_, err := r.svc.Push(r.ctx(), remotes.PushRequest{
		Catalog:     remoteID,
		Source:      lakefs.TableRef{Repository: repo, Reference: "etl-42", Namespace: localNS, Table: tableName},
		Destination: catalog.Ident{Namespace: remoteNS, Table: dest},
		ForceUpdate: force, CreateNamespace: createNS,
	})
	return err
}

func (r *rig) pull() error {
	_, err := r.svc.Pull(r.ctx(), remotes.PullRequest{
		Catalog:     remoteID,
		Source:      catalog.Ident{Namespace: remoteNS, Table: tableName},
		Destination: lakefs.TableRef{Repository: repo, Reference: "etl-42", Namespace: localNS, Table: tableName},
	})
	return err
}

// lakeOp names a lakeFS request by its operationId.
func lakeOp(req *http.Request) string {
	p := strings.TrimSuffix(req.URL.Path, "/")
	m := req.Method
	switch {
	case strings.HasSuffix(p, "/commits") && m == http.MethodPost:
		return "commit"
	case strings.Contains(p, "/commits/"):
		return "getCommit"
	case strings.HasSuffix(p, "/objects") && m == http.MethodPut:
		return "stageObject"
	case strings.HasSuffix(p, "/objects/stat"):
		return "statObject"
	case strings.HasSuffix(p, "/objects/ls"):
		return "listObjects"
	case strings.HasSuffix(p, "/objects") && m == http.MethodPost:
		return "uploadObject"
	case strings.HasSuffix(p, "/objects"):
		return "getObject"
	case strings.HasSuffix(p, "/diff"):
		return "diffBranch"
	case strings.Contains(p, "/branches/") && m == http.MethodPut:
		return "resetBranch"
	case strings.Contains(p, "/branches/") && m == http.MethodGet:
		return "getBranch"
	case strings.HasSuffix(p, "/branches") && m == http.MethodPost:
		return "createBranch"
	case strings.Contains(p, "/branches/") && m == http.MethodDelete:
		return "deleteBranch"
	}
	return m + " " + p
}

type lakeTransport struct {
	r    *rig
	base http.RoundTripper
}

type timeoutError struct{}

func (timeoutError) Error() string   { return "injected: answer lost (timeout)" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

func (lt *lakeTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r := lt.r
	if r.dead.Load() {
		return nil, errDead
	}
	op := lakeOp(req)
	r.mu.Lock()
	r.lakeCalls = append(r.lakeCalls, op)
	n, hook := len(r.lakeCalls), r.onLakeFS
	r.mu.Unlock()
	f := pass
	if hook != nil {
		f = hook(n, op)
	}
	switch f {
	case failCall:
		if req.Body != nil {
			_ = req.Body.Close()
		}
		return &http.Response{StatusCode: http.StatusInternalServerError, Status: "500 Internal Server Error",
			Header:  http.Header{"Content-Type": {"application/json"}},
			Body:    io.NopCloser(strings.NewReader(`{"message":"injected failure"}`)),
			Request: req, ProtoMajor: 1, ProtoMinor: 1}, nil
	case crashBefore:
		r.dead.Store(true)
		return nil, errDead
	}
	res, err := lt.base.RoundTrip(req)
	if f == pass {
		return res, err
	}
	if err == nil {
		_, _ = io.Copy(io.Discard, res.Body)
		_ = res.Body.Close()
	}
	if f == crashAfter {
		r.dead.Store(true)
		return nil, errDead
	}
	return nil, timeoutError{}
}

// faultAdapter wraps the remote's adapter.
type faultAdapter struct {
	catalog.Adapter
	r *rig
}

func (a *faultAdapter) do(method string, call func() error) error {
	r := a.r
	if r.dead.Load() {
		return errDead
	}
	r.mu.Lock()
	r.remoteCalls = append(r.remoteCalls, method)
	n, hook := len(r.remoteCalls), r.onRemote
	r.mu.Unlock()
	f := pass
	if hook != nil {
		f = hook(n, method)
	}
	switch f {
	case failCall:
		return fmt.Errorf("injected: remote %s failed", method)
	case crashBefore:
		r.dead.Store(true)
		return errDead
	}
	err := call()
	switch f {
	case pass:
		return err
	case crashAfter:
		r.dead.Store(true)
		return errDead
	}
	// Whatever the answer was, it is lost.
	return context.DeadlineExceeded
}

func (a *faultAdapter) NamespaceExists(ctx context.Context, ns []string) (ok bool, err error) {
	err = a.do("NamespaceExists", func() (e error) { ok, e = a.Adapter.NamespaceExists(ctx, ns); return e })
	return ok, err
}

func (a *faultAdapter) CreateNamespace(ctx context.Context, ns []string) error {
	return a.do("CreateNamespace", func() error { return a.Adapter.CreateNamespace(ctx, ns) })
}

func (a *faultAdapter) LoadTable(ctx context.Context, id catalog.Ident) (loc string, err error) {
	err = a.do("LoadTable", func() (e error) { loc, e = a.Adapter.LoadTable(ctx, id); return e })
	return loc, err
}

func (a *faultAdapter) RegisterTable(ctx context.Context, id catalog.Ident, loc string, prov catalog.Provenance) error {
	return a.do("RegisterTable", func() error { return a.Adapter.RegisterTable(ctx, id, loc, prov) })
}

func (a *faultAdapter) ReplaceTable(ctx context.Context, id catalog.Ident, expected, loc string, prov catalog.Provenance) (atomic bool, err error) {
	err = a.do("ReplaceTable", func() (e error) { atomic, e = a.Adapter.ReplaceTable(ctx, id, expected, loc, prov); return e })
	return atomic, err
}

func (a *faultAdapter) DropTable(ctx context.Context, id catalog.Ident) error {
	return a.do("DropTable", func() error { return a.Adapter.DropTable(ctx, id) })
}

// faultStore wraps the state store: a dead process reads and writes nothing.
type faultStore struct {
	state.Store
	r *rig
}

func (s *faultStore) write(method string, rec *state.SyncRecord, call func() error) error {
	r := s.r
	if r.dead.Load() {
		return errDead
	}
	r.mu.Lock()
	hook := r.onStoreWrite
	r.mu.Unlock()
	f := pass
	if hook != nil {
		f = hook(method, rec)
	}
	switch f {
	case failCall:
		return fmt.Errorf("injected: state store %s failed", method)
	case crashBefore:
		r.dead.Store(true)
		return errDead
	}
	err := call()
	switch f {
	case pass:
		return err
	case crashAfter:
		r.dead.Store(true)
		return errDead
	}
	// Whatever the answer was, it is lost.
	return context.DeadlineExceeded
}

func (s *faultStore) CreateSyncRecord(ctx context.Context, rec *state.SyncRecord) error {
	return s.write("CreateSyncRecord", rec, func() error { return s.Store.CreateSyncRecord(ctx, rec) })
}

func (s *faultStore) UpdateSyncRecord(ctx context.Context, rec *state.SyncRecord) error {
	return s.write("UpdateSyncRecord", rec, func() error { return s.Store.UpdateSyncRecord(ctx, rec) })
}

func (s *faultStore) GetSyncRecord(ctx context.Context, key state.TableKey) (state.SyncRecord, error) {
	if s.r.dead.Load() {
		return state.SyncRecord{}, errDead
	}
	return s.Store.GetSyncRecord(ctx, key)
}

func (s *faultStore) StartOperation(ctx context.Context, op *state.Operation) error {
	if s.r.dead.Load() {
		return errDead
	}
	return s.Store.StartOperation(ctx, op)
}

func (s *faultStore) FinishOperation(ctx context.Context, op *state.Operation) error {
	if s.r.dead.Load() {
		return errDead
	}
	return s.Store.FinishOperation(ctx, op)
}

// restRemoteKeeping is restRemote that also hands back the REST stand-in, to inject faults.
func restRemoteKeeping(srv **resttest.Server) remoteKind {
	return remoteKind{name: "rest", setup: func(t *testing.T, dir string) (config.Remote, icecatalog.Catalog) {
		s := resttest.New(t, resttest.Options{ClientID: "svc", ClientSecret: "svc-secret"})
		*srv = s
		rc := config.Remote{ID: remoteID, Type: "rest", REST: config.RESTRemote{URI: s.URL, Credential: "svc:svc-secret"}}
		w, err := rest.NewCatalog(context.Background(), "writer", s.URL, rest.WithCredential("svc:svc-secret"))
		require.NoError(t, err)
		t.Cleanup(func() { _ = w.Close() })
		return rc, w
	}}
}
