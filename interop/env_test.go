// Package interop runs the service against implementations nobody here wrote, installed from
// the registries by pinned version (docs/design.md section 14): see README.md.
package interop

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/config"
	"github.com/iceberg-remotes/iceberg-remotes/internal/lakefs"
	"github.com/iceberg-remotes/iceberg-remotes/internal/lakefs/lakefstest"
	"github.com/iceberg-remotes/iceberg-remotes/internal/server"
	"github.com/iceberg-remotes/iceberg-remotes/interop/peers"
)

const (
	jwtSecret = "interop-shared-secret" // the service's auth.encrypt.secret_key, shared with lakeFS
	repoID    = "example"
	remoteID  = "interop"
	bucket    = "warehouse"
	// authorCatalog is the driver's private pyiceberg SQL catalog the lakeFS-side tables are
	// written with; remoteCatalog is pyiceberg on the remote under test.
	authorCatalog = "author"
	remoteCatalog = "remote"
)

// env is one remote peer, the shared S3, the lakeFS stand-in, the service over HTTP on
// loopback and a Python driver (pyiceberg + the lakeFS SDK) for one remote kind.
type env struct {
	t      *testing.T
	kind   remoteKind
	peer   remotePeer
	s3     *peers.S3
	lake   *lakefstest.Server
	client *lakefs.Client // set-up calls to lakeFS as the service user
	api    *httptest.Server
	py     *peers.Driver
	token  string // alice's JWT, signed with the shared secret
}

func tctxTimeout(t *testing.T, d time.Duration) context.Context {
	c, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return c
}

// newEnv starts everything one remote kind needs.
func newEnv(t *testing.T, kind remoteKind, py *peers.Python) *env {
	t.Helper()
	isolateAWS(t)
	dir := t.TempDir()
	e := &env{t: t, kind: kind}
	e.s3 = peers.StartS3(t, bucket)
	e.peer = kind.start(t, e.s3, dir)

	e.lake = lakefstest.NewServer(t, lakefstest.Options{JWTSecret: []byte(jwtSecret), ReadPhysical: e.s3.Read})
	e.lake.AddUser("alice", "AKIAALICE", "alice-secret", lakefstest.FullAccess)
	e.lake.AddUser("svc", "AKIASVC", "svc-secret", lakefstest.FullAccess)
	e.lake.CreateRepository(repoID, "s3://"+bucket+"/"+repoID, "main")
	e.token = e.lake.Token("alice", 2*time.Hour)
	var err error
	e.client, err = lakefs.New(config.LakeFS{Endpoint: e.lake.URL(), Timeout: 10 * time.Second},
		lakefs.ServiceCredentials("AKIASVC", "svc-secret"), nil)
	require.NoError(t, err)

	cfg := config.Defaults()
	cfg.State.SQLite.Path = filepath.Join(dir, "state.db")
	cfg.LakeFS.Endpoint = e.lake.URL()
	cfg.LakeFS.AccessKeyID, cfg.LakeFS.SecretAccessKey = "AKIASVC", "svc-secret"
	cfg.Auth.Encrypt.SecretKey = jwtSecret
	cfg.ObjectStore.S3 = config.S3Store{Endpoint: e.s3.Endpoint, Region: e.s3.Region,
		AccessKeyID: e.s3.AccessKeyID, SecretAccessKey: e.s3.SecretAccessKey, ForcePathStyle: true}
	rc := e.peer.cfg
	rc.ID = remoteID
	if rc.Timeout == 0 {
		rc.Timeout = 15 * time.Second
	}
	if rc.MaxRetries == 0 {
		rc.MaxRetries = 1
	}
	cfg.IcebergCatalog.Remotes = []config.Remote{rc}
	require.NoError(t, cfg.Validate())
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if os.Getenv("INTEROP_LOG") != "" {
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	app, err := server.New(tctxTimeout(t, time.Minute), &cfg, logger)
	require.NoError(t, err)
	t.Cleanup(func() { app.Close() })
	e.api = httptest.NewServer(app.Handler)
	t.Cleanup(e.api.Close)

	e.py = peers.StartDriver(t, py)
	s3props := e.s3.PyIcebergProps()
	e.py.Call(e.t, map[string]any{"op": "fileio", "props": s3props})
	author := map[string]string{"type": "sql", "uri": "sqlite:///" + filepath.Join(dir, "author.db"),
		"warehouse": "s3://" + bucket + "/" + repoID + "/tables"}
	e.py.Call(e.t, map[string]any{"op": "catalog", "alias": authorCatalog, "props": merge(author, s3props)})
	e.py.Call(e.t, map[string]any{"op": "catalog", "alias": remoteCatalog, "name": e.peer.pyName,
		"props": merge(e.peer.pyProps, s3props), "shim": e.peer.pyShim})
	if e.peer.check != nil {
		e.peer.check(t, e)
	}
	return e
}

func merge(ms ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

// authorTable writes a table of n rows with pyiceberg into the repository's storage
// namespace on S3 and returns its metadata location.
func (e *env) authorTable(ns []string, name string, n int) string {
	out := e.py.Call(e.t, map[string]any{"op": "author", "catalog": authorCatalog, "namespace": ns, "table": name, "rows": n})
	return out["metadata_location"].(string)
}

// advanceAuthor appends n rows to the lakeFS-side table with pyiceberg (a descendant
// metadata file) and returns its location.
func (e *env) advanceAuthor(ns []string, name string, n int) string {
	out := e.py.Call(e.t, map[string]any{"op": "append", "catalog": authorCatalog, "namespace": ns, "table": name, "rows": n, "first": 500})
	return out["metadata_location"].(string)
}

// link makes the metadata file at location the table's current state on branch (pointer
// layout), staged with its true size and checksum, and commits when commit is true.
func (e *env) link(branch string, ns []string, name, location string, commit bool) {
	t := e.t
	raw, err := e.s3.Read(context.Background(), location)
	require.NoError(t, err)
	sum := md5.Sum(raw)
	path := "_lakefs_tables/iceberg/" + strings.Join(ns, "/") + "/" + name + "/metadata.json"
	c := tctxTimeout(t, 30*time.Second)
	_, err = e.client.StageObject(c, repoID, branch, path, location, int64(len(raw)), hex.EncodeToString(sum[:]), "application/json")
	require.NoError(t, err)
	if commit {
		_, err = e.client.Commit(c, repoID, branch, "engine writes "+name, nil)
		require.NoError(t, err)
	}
}

// lakeFSLocation is the metadata location the table on ref points at, read as the service's
// locator reads it.
func (e *env) lakeFSLocation(ref string, ns []string, name string) string {
	layout := config.TablesLayout{Layout: "pointer", PointerPrefix: "_lakefs_tables/iceberg"}
	loc := lakefs.NewLocator(e.client, func(string) config.TablesLayout { return layout })
	st, err := loc.ReadTable(tctxTimeout(e.t, 30*time.Second), lakefs.TableRef{Repository: repoID, Reference: ref, Namespace: ns, Table: name})
	require.NoError(e.t, err)
	return st.MetadataLocation
}

// auth is how a driver call authenticates to the service: alice's access keys (basic auth)
// or her JWT (Bearer).
type auth int

const (
	basicAuth auth = iota
	jwtAuth
)

func (a auth) String() string { return [...]string{"basic", "jwt"}[a] }

func (e *env) authJSON(a auth) map[string]any {
	if a == jwtAuth {
		return map[string]any{"token": e.token}
	}
	return map[string]any{"key": "AKIAALICE", "secret": "alice-secret"}
}

// sdkResult is the status and body of a lakefs_sdk RemotesApi call.
type sdkResult struct {
	Status int
	Body   string
}

type pushArgs struct {
	ref, table    string // lakeFS reference and table (remote table has the same name)
	force, create bool
	auth          auth
}

// push calls lakefs_sdk.RemotesApi.push_iceberg_table against the service.
func (e *env) push(a pushArgs, localNS, remoteNS []string) sdkResult {
	out := e.py.Call(e.t, map[string]any{
		"op": "push", "host": e.api.URL + "/api/v1", "auth": e.authJSON(a.auth), "remote": remoteID,
		"source":       map[string]any{"repository_id": repoID, "reference_id": a.ref, "namespace": localNS, "table": a.table},
		"destination":  map[string]any{"namespace": remoteNS, "table": a.table},
		"force_update": a.force, "create_namespace": a.create,
	})
	return sdkResult{Status: int(out["status"].(float64)), Body: out["body"].(string)}
}

// pull calls lakefs_sdk.RemotesApi.pull_iceberg_table against the service.
func (e *env) pull(a pushArgs, localNS, remoteNS []string) sdkResult {
	out := e.py.Call(e.t, map[string]any{
		"op": "pull", "host": e.api.URL + "/api/v1", "auth": e.authJSON(a.auth), "remote": remoteID,
		"source":       map[string]any{"namespace": remoteNS, "table": a.table},
		"destination":  map[string]any{"repository_id": repoID, "reference_id": a.ref, "namespace": localNS, "table": a.table},
		"force_update": a.force, "create_namespace": a.create,
	})
	return sdkResult{Status: int(out["status"].(float64)), Body: out["body"].(string)}
}

// remoteScan loads the table through the remote catalog with pyiceberg and scans it.
func (e *env) remoteScan(ns []string, name string) (rows int, location string) {
	out := e.py.Call(e.t, map[string]any{"op": "scan", "catalog": remoteCatalog, "namespace": ns, "table": name})
	return int(out["rows"].(float64)), out["metadata_location"].(string)
}

// remoteAppend appends n rows through the remote catalog with pyiceberg.
func (e *env) remoteAppend(ns []string, name string, n int) string {
	out := e.py.Call(e.t, map[string]any{"op": "append", "catalog": remoteCatalog, "namespace": ns, "table": name, "rows": n})
	return out["metadata_location"].(string)
}

// scanLocation reads the table at a metadata location directly (pyiceberg StaticTable).
func (e *env) scanLocation(location string) int {
	out := e.py.Call(e.t, map[string]any{"op": "scan_location", "location": location})
	return int(out["rows"].(float64))
}

// extension posts body as JSON to one of the service's extensions of the lakeFS API
// (/iceberg/remotes/{catalog}<path>) over HTTP, with the credentials the SDK sends (the lakeFS
// SDK has no methods for them).
func (e *env) extension(path string, body any, a auth) sdkResult {
	e.t.Helper()
	raw, err := json.Marshal(body)
	require.NoError(e.t, err)
	req, err := http.NewRequestWithContext(tctxTimeout(e.t, time.Minute), http.MethodPost,
		e.api.URL+"/api/v1/iceberg/remotes/"+remoteID+path, bytes.NewReader(raw))
	require.NoError(e.t, err)
	req.Header.Set("Content-Type", "application/json")
	if a == jwtAuth {
		req.Header.Set("Authorization", "Bearer "+e.token)
	} else {
		req.SetBasicAuth("AKIAALICE", "alice-secret")
	}
	res, err := e.api.Client().Do(req)
	require.NoError(e.t, err)
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	return sdkResult{Status: res.StatusCode, Body: string(out)}
}

// get calls one of the service's listing extensions as alice.
func (e *env) get(path string, into any) {
	e.t.Helper()
	req, err := http.NewRequestWithContext(tctxTimeout(e.t, 30*time.Second), http.MethodGet, e.api.URL+"/api/v1/iceberg/remotes/"+remoteID+path, nil)
	require.NoError(e.t, err)
	req.Header.Set("Authorization", "Bearer "+e.token)
	res, err := e.api.Client().Do(req)
	require.NoError(e.t, err)
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	require.Equal(e.t, 200, res.StatusCode, string(raw))
	require.NoError(e.t, json.Unmarshal(raw, into))
}

// syncedTable is one row of GET /iceberg/remotes/{catalog}/tables.
type syncedTable struct {
	RemoteTable string `json:"remote_table"`
	State       string `json:"state"`
	Status      string `json:"status"`
	Notes       string `json:"notes"`
}

func (e *env) synced() map[string]syncedTable {
	var list struct{ Results []syncedTable }
	e.get("/tables?amount=1000", &list)
	out := map[string]syncedTable{}
	for _, x := range list.Results {
		out[x.RemoteTable] = x
	}
	return out
}

// operation is one audit row of GET /iceberg/remotes/{catalog}/operations.
type operation struct {
	Operation   string `json:"operation"`
	RemoteTable string `json:"remote_table"`
	StatusCode  int    `json:"status_code"`
	Outcome     string `json:"outcome"`
	Error       string `json:"error"`
}

// operations returns the audit rows of one remote table, newest first.
func (e *env) operations(table string) []operation {
	var list struct{ Results []operation }
	e.get("/operations?amount=1000", &list)
	var out []operation
	for _, o := range list.Results {
		if o.RemoteTable == table {
			out = append(out, o)
		}
	}
	return out
}

// head is the commit id a branch points at.
func (e *env) head(branch string) string {
	c, ok := e.lake.GetCommit(repoID, branch)
	require.True(e.t, ok, branch)
	return c.ID
}
