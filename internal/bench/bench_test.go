// Package bench holds the Go benchmarks of push, pull and listing against in-process
// backends (the contract-checked lakeFS stand-in, a real SQL remote catalog on SQLite,
// metadata written by iceberg-go), reporting per operation: latency, allocations, backend
// round trips (lakeFS calls, remote calls) and the service's own time (not waiting on a
// backend or the state store). BENCHMARKS.md records the results and the commands.
package bench

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog/catalogtest"
	"github.com/iceberg-remotes/iceberg-remotes/internal/config"
	"github.com/iceberg-remotes/iceberg-remotes/internal/lakefs"
	"github.com/iceberg-remotes/iceberg-remotes/internal/lakefs/lakefstest"
	"github.com/iceberg-remotes/iceberg-remotes/internal/proftext"
	"github.com/iceberg-remotes/iceberg-remotes/internal/remotes/remotestest"
	"github.com/iceberg-remotes/iceberg-remotes/internal/server"
)

const secret = "bench-secret"

type env struct {
	lake  *lakefstest.Server
	app   *server.App
	api   *httptest.Server
	token string
	m1    string
	dir   string
	// client is a lakeFS client for setting the scene (not the service's).
	client *lakefs.Client
}

// lakeFSCalls counts every request the lakeFS stand-in received: the round trips.
func (e *env) lakeFSCalls() int { return e.lake.TotalCalls() }

// standInValidation makes the lakeFS stand-in validate every request and response against
// the lakeFS spec. Benchmarks switch it off so that their CPU and allocation figures are
// the service's own; TestBenchmarksRun switches it on, so the calls they make stay
// contract-checked.
var standInValidation = false

func newEnv(b *testing.B, tables int) *env {
	b.Helper()
	dir := b.TempDir()
	e := &env{dir: dir}
	e.lake = lakefstest.NewServer(b, lakefstest.Options{JWTSecret: []byte(secret), ReadPhysical: func(_ context.Context, a string) ([]byte, error) {
		return os.ReadFile(strings.TrimPrefix(a, "file://"))
	}, SkipValidation: !standInValidation})
	e.lake.AddUser("alice", "AKIAALICE", "alice-secret", lakefstest.FullAccess)
	e.lake.CreateRepository("example", "local://example", "main")
	e.token = e.lake.Token("alice", time.Hour)
	e.client = e.newLakeFSClient(b)
	e.m1 = catalogtest.WriteMetadataFiles(b, dir, 1)[0]
	ctx := context.Background()
	for i := 0; i < tables; i++ {
		e.stage(b, fmt.Sprintf("t%d", i), e.m1)
	}
	_, err := e.client.Commit(ctx, "example", "main", "tables", nil)
	require.NoError(b, err)

	cfg := config.Defaults()
	cfg.State.SQLite.Path = filepath.Join(dir, "state.db")
	cfg.LakeFS.Endpoint = e.lake.URL()
	cfg.Auth.Encrypt.SecretKey = secret
	cfg.IcebergCatalog.Remotes = []config.Remote{{ID: "local", Type: "sql", Timeout: 10 * time.Second, MaxRetries: 2,
		SQL:                config.SQLRemote{Driver: "sqlite", DSN: "file:" + filepath.Join(dir, "remote.db"), CatalogName: "lakefs"},
		AllowFileLocations: true, AllowedLocations: []string{"file://" + dir + "/"}}}
	require.NoError(b, cfg.Validate())
	e.app, err = server.New(ctx, &cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(b, err)
	b.Cleanup(func() { e.app.Close() })
	e.api = httptest.NewServer(e.app.Handler)
	b.Cleanup(e.api.Close)
	return e
}

// newLakeFSClient is a lakeFS client of the stand-in as alice.
func (e *env) newLakeFSClient(tb testing.TB) *lakefs.Client {
	client, err := lakefs.New(config.LakeFS{Endpoint: e.lake.URL(), Timeout: 10 * time.Second},
		lakefs.ServiceCredentials("AKIAALICE", "alice-secret"), nil)
	require.NoError(tb, err)
	return client
}

// stage links location as table accounting.<table> on main (uncommitted).
func (e *env) stage(b testing.TB, table, location string) {
	raw, err := os.ReadFile(strings.TrimPrefix(location, "file://"))
	require.NoError(b, err)
	sum := md5.Sum(raw)
	_, err = e.client.StageObject(context.Background(), "example", "main", "_lakefs_tables/iceberg/accounting/"+table+"/metadata.json",
		location, int64(len(raw)), hex.EncodeToString(sum[:]), "application/json")
	require.NoError(b, err)
}

func (e *env) push(b *testing.B, client *http.Client, src, dst string) {
	e.pushTo(b, client, src, "analytics", dst)
}

// pushTo pushes accounting.src to remote table ns.dst.
func (e *env) pushTo(b *testing.B, client *http.Client, src, ns, dst string) {
	e.pushBody(b, client, src, ns, dst, false)
}

// pushBody pushes accounting.src to remote table ns.dst, re-pointing it when force.
func (e *env) pushBody(b *testing.B, client *http.Client, src, ns, dst string, force bool) {
	body := fmt.Sprintf(`{"source":{"repository_id":"example","reference_id":"main","namespace":["accounting"],"table":%q},
		"destination":{"namespace":[%q],"table":%q},"create_namespace":true,"force_update":%t}`, src, ns, dst, force)
	e.post(b, client, "/api/v1/iceberg/remotes/local/push", body)
}

func (e *env) pull(b *testing.B, client *http.Client, table string) {
	body := fmt.Sprintf(`{"source":{"namespace":["analytics"],"table":%q},
		"destination":{"repository_id":"example","reference_id":"main","namespace":["accounting"],"table":%q}}`, table, table)
	e.post(b, client, "/api/v1/iceberg/remotes/local/pull", body)
}

func (e *env) post(b *testing.B, client *http.Client, path, body string) {
	req, _ := http.NewRequest("POST", e.api.URL+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+e.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 204 {
		b.Fatalf("%s: %d %s", path, resp.StatusCode, raw)
	}
}

// backendSeconds sums the time spent waiting on backends and the state store.
func (e *env) backendSeconds(b *testing.B) float64 {
	families, err := e.app.Metrics.Registry.Gather()
	require.NoError(b, err)
	total := 0.0
	for _, f := range families {
		switch f.GetName() {
		case "iceberg_remotes_outbound_call_duration_seconds", "iceberg_remotes_state_store_duration_seconds":
			for _, m := range f.GetMetric() {
				if isLockWait(m) {
					continue // waiting for a lock is not service work, but neither is it a backend
				}
				total += m.GetHistogram().GetSampleSum()
			}
		}
	}
	return total
}

func isLockWait(m *dto.Metric) bool {
	for _, l := range m.GetLabel() {
		if l.GetName() == "call" && l.GetValue() == "lock_table" {
			return true
		}
	}
	return false
}

// outboundCalls counts the service's outbound calls to backends whose label starts with
// prefix ("remote:" for the remote catalogs, "object_store" for metadata reads).
func (e *env) outboundCalls(b *testing.B, prefix string) float64 {
	families, err := e.app.Metrics.Registry.Gather()
	require.NoError(b, err)
	n := 0.0
	for _, f := range families {
		if f.GetName() != "iceberg_remotes_outbound_calls_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "backend" && strings.HasPrefix(l.GetValue(), prefix) {
					n += m.GetCounter().GetValue()
				}
			}
		}
	}
	return n
}

func (e *env) remoteCalls(b *testing.B) float64 { return e.outboundCalls(b, "remote:") }

// measure runs fn b.N times and reports round trips per backend and the service's own time
// per op. The own time is wall time minus time spent waiting on backends, so it is
// meaningful only when one operation's backend calls do not overlap (ownTime=false
// otherwise).
func measure(b *testing.B, e *env, ownTime bool, fn func(i int)) {
	measurePrepared(b, e, ownTime, nil, fn)
}

// measurePrepared is measure with prepare(i) run before each fn(i), outside the timer and
// the counters (e.g. an outside engine committing to the remote before each pull).
//
// Before the timed runs, ownAllocRuns runs (fn(0) .. fn(ownAllocRuns-1)) are made under the
// memory profiler at full rate, outside the timer, to count own-allocs/op: the allocations
// made on the service's request path (every stack through its outermost HTTP middleware:
// routing, validation, authentication, the service, its state store and its outbound
// clients), without the stand-ins' and the benchmark client's. The timed runs are fn(ownAllocRuns) ..
// fn(ownAllocRuns+b.N-1); benchmarks size their inputs with runs(b).
func measurePrepared(b *testing.B, e *env, ownTime bool, prepare, fn func(i int)) {
	b.ReportAllocs()
	b.StopTimer()
	own, parts := ownAllocs(func() {
		for i := 0; i < ownAllocRuns; i++ {
			if prepare != nil {
				prepare(i)
			}
			fn(i)
		}
	})
	b.ResetTimer()
	var lake, remote, objects, backend, elapsed float64
	for i := ownAllocRuns; i < ownAllocRuns+b.N; i++ {
		// Preparing and reading the counters is not the service's work: outside the timer.
		b.StopTimer()
		if prepare != nil {
			prepare(i)
		}
		lake0, remote0, objects0, backend0 := e.lakeFSCalls(), e.remoteCalls(b), e.outboundCalls(b, "object_store"), e.backendSeconds(b)
		b.StartTimer()
		start := time.Now()
		fn(i)
		elapsed += time.Since(start).Seconds()
		b.StopTimer()
		lake += float64(e.lakeFSCalls() - lake0)
		remote += e.remoteCalls(b) - remote0
		objects += e.outboundCalls(b, "object_store") - objects0
		backend += e.backendSeconds(b) - backend0
		b.StartTimer()
	}
	b.StopTimer()
	n := float64(b.N)
	b.ReportMetric(lake/n, "lakefs-calls/op")
	b.ReportMetric(remote/n, "remote-calls/op")
	b.ReportMetric(objects/n, "objstore-reads/op")
	b.ReportMetric(float64(own)/ownAllocRuns, "own-allocs/op")
	for _, p := range allocParts {
		b.ReportMetric(float64(parts[p.name])/ownAllocRuns, "own-allocs-"+p.name+"/op")
	}
	if ownTime {
		b.ReportMetric((elapsed-backend)/n*1e6, "own-µs/op")
	}
}

// ownAllocRuns is how many runs count own-allocs/op (see measurePrepared).
const ownAllocRuns = 20

// runs is how many times measurePrepared calls fn.
func runs(b *testing.B) int { return ownAllocRuns + b.N }

// serviceRoot is the outermost function of every request the service serves.
const serviceRoot = "github.com/iceberg-remotes/iceberg-remotes/internal/api.requestID.func1"

// ownAllocs counts the allocations fn causes on the service's request path (stacks through
// serviceRoot), with the memory profiler recording every allocation meanwhile, in all and
// by allocPart.
func ownAllocs(fn func()) (int64, map[string]int64) {
	old := runtime.MemProfileRate
	runtime.MemProfileRate = 1
	defer func() { runtime.MemProfileRate = old }()
	before, parts0 := serviceAllocs()
	fn()
	after, parts := serviceAllocs()
	for k, v := range parts0 {
		parts[k] -= v
	}
	return after - before, parts
}

// allocParts say where an allocation on the request path is made: in the first part whose
// frame its stack passes through (in this order), else in "rest" (routing, authentication,
// logging, metrics and the service's own logic). The order puts the metadata parse first
// (it runs inside the lakeFS and object-store reads), then each backend's client with
// everything below it (generated client, retries, net/http, JSON, SQL driver).
var allocParts = []struct{ name, frame string }{
	{"parse", "github.com/apache/iceberg-go/table."},
	{"lakefs", "/internal/lakefs."},
	{"remote", "/internal/catalog/"},
	{"objstore", "/internal/objstore."},
	{"state", "/internal/state."},
	{"validation", "github.com/getkin/kin-openapi/"},
	{"rest", ""},
}

// allocPart is the part of allocParts a stack's functions fall in.
func allocPart(funcs []string) string {
	for _, p := range allocParts[:len(allocParts)-1] {
		for _, f := range funcs {
			if strings.Contains(f, p.frame) {
				return p.name
			}
		}
	}
	return "rest"
}

// serviceAllocs sums the allocations so far on stacks through serviceRoot, in all and by
// allocPart, from the allocs profile in its text form (whose stacks are deep enough to
// reach the handler's root; the profile is published at garbage collections, hence the two
// cycles first).
func serviceAllocs() (int64, map[string]int64) {
	runtime.GC()
	runtime.GC()
	var buf bytes.Buffer
	if err := pprof.Lookup("allocs").WriteTo(&buf, 1); err != nil {
		panic(err)
	}
	var total int64
	parts := map[string]int64{}
	err := proftext.Read(&buf, func(r proftext.Record) error {
		if !r.Has(serviceRoot) {
			return nil
		}
		// "<inuse objects>: <inuse bytes> [<alloc objects>: <alloc bytes>]"
		_, allocs, _ := strings.Cut(r.Counts, "[")
		allocs, _, _ = strings.Cut(allocs, ":")
		n, err := strconv.ParseInt(allocs, 10, 64)
		if err != nil {
			return fmt.Errorf("allocs profile record %q: %w", r.Counts, err)
		}
		total += n
		parts[allocPart(r.Funcs)] += n
		return nil
	})
	if err != nil {
		panic(err)
	}
	return total, parts
}

// BenchmarkPushExisting: a push of a table state the remote already has (the steady state
// of re-pushing after every merge).
func BenchmarkPushExisting(b *testing.B) {
	e := newEnv(b, 1)
	client := e.api.Client()
	e.push(b, client, "t0", "t0")
	measure(b, e, true, func(int) { e.push(b, client, "t0", "t0") })
}

// BenchmarkPushNewTable: each push registers a new remote table.
func BenchmarkPushNewTable(b *testing.B) {
	e := newEnv(b, 1)
	client := e.api.Client()
	e.push(b, client, "t0", "warmup")
	measure(b, e, true, func(i int) { e.push(b, client, "t0", fmt.Sprintf("new%d", i)) })
}

// BenchmarkPushChanged: before each push the table gets a new metadata file in a new lakeFS
// commit; the push reads it, re-points the remote table and moves the GC protection from the
// previous commit's hidden branch to the new commit's (one branch created, one deleted).
func BenchmarkPushChanged(b *testing.B) {
	e := newEnv(b, 1)
	client := e.api.Client()
	tableUUID := uuid.NewString()
	root := "file://" + filepath.Join(e.dir, "changed")
	locations := make([]string, runs(b)+1)
	for i := range locations {
		v := remotestest.Version{TableUUID: tableUUID, Location: root, Snapshots: []int64{int64(i + 1)}}
		if i > 0 {
			v.Previous = []string{locations[i-1]}
		}
		locations[i] = remotestest.WriteMetadata(b, e.dir, fmt.Sprintf("changed/metadata/%05d-%s.metadata.json", i, uuid.NewString()), v)
	}
	commit := func(i int) {
		e.stage(b, "c0", locations[i])
		_, err := e.client.Commit(context.Background(), "example", "main", fmt.Sprintf("c0 v%d", i), nil)
		require.NoError(b, err)
	}
	commit(0)
	e.pushBody(b, client, "c0", "analytics", "c0", false)
	measurePrepared(b, e, true, func(i int) { commit(i + 1) }, func(int) { e.pushBody(b, client, "c0", "analytics", "c0", true) })
}

// BenchmarkPullInSync: a pull when the remote has not moved (no commit).
func BenchmarkPullInSync(b *testing.B) {
	e := newEnv(b, 1)
	client := e.api.Client()
	e.push(b, client, "t0", "t0")
	measure(b, e, true, func(int) { e.pull(b, client, "t0") })
}

// BenchmarkPushConcurrent: pushes of different tables from 1, 8 and 64 clients at once.
func BenchmarkPushConcurrent(b *testing.B) {
	for _, clients := range []int{1, 8, 64} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			e := newEnv(b, clients)
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
			for i := 0; i < clients; i++ {
				e.push(b, client, fmt.Sprintf("t%d", i), fmt.Sprintf("t%d", i))
			}
			var next atomic.Int64
			b.SetParallelism((clients + 1) / 2) // GOMAXPROCS is 2 here
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				id := int(next.Add(1)-1) % clients
				for pb.Next() {
					e.push(b, client, fmt.Sprintf("t%d", id), fmt.Sprintf("t%d", id))
				}
			})
		})
	}
}

// TestBenchmarksRun keeps the benchmarks compiling and working in the normal test run
// (one iteration each), so they cannot rot.
func TestBenchmarksRun(t *testing.T) {
	standInValidation = true
	defer func() { standInValidation = false }()
	for name, fn := range map[string]func(*testing.B){
		"PushExisting": BenchmarkPushExisting, "PushNewTable": BenchmarkPushNewTable, "PushChanged": BenchmarkPushChanged, "PullInSync": BenchmarkPullInSync,
		"PullNewState": BenchmarkPullNewState,
	} {
		res := testing.Benchmark(fn)
		if res.N == 0 {
			t.Fatalf("%s did not run", name)
		}
		if calls := res.Extra["lakefs-calls/op"]; calls <= 0 {
			t.Fatalf("%s: no lakeFS calls measured", name)
		}
		// The parts split the own allocations: each is counted, and they add up.
		sum := 0.0
		for _, p := range allocParts {
			sum += res.Extra["own-allocs-"+p.name+"/op"]
		}
		if own := res.Extra["own-allocs/op"]; own <= 0 || math.Abs(sum-own) > 0.01*own || res.Extra["own-allocs-lakefs/op"] <= 0 || res.Extra["own-allocs-rest/op"] <= 0 {
			t.Fatalf("%s: own allocations %.1f, parts %v", name, own, res.Extra)
		}
	}
}

// Each allocation is counted in the first part its stack passes through: the metadata parse
// wins over the lakeFS read it runs in, and a stack through no part is the rest.
func TestAllocPart(t *testing.T) {
	for want, frames := range map[string][]string{
		"parse":  {"github.com/apache/iceberg-go/table.ParseMetadataBytes", "github.com/iceberg-remotes/iceberg-remotes/internal/lakefs.(*Locator).load", serviceRoot},
		"lakefs": {"net/http.(*Client).do", "github.com/iceberg-remotes/iceberg-remotes/internal/lakefs.(*Client).GetBranch", serviceRoot},
		"remote": {"database/sql.(*DB).query", "github.com/iceberg-remotes/iceberg-remotes/internal/catalog/sqlcat.(*Adapter).run", serviceRoot},
		"state":  {"database/sql.(*DB).query", "github.com/iceberg-remotes/iceberg-remotes/internal/state.(*sqlStore).GetSyncRecord", serviceRoot},
		"rest":   {"github.com/iceberg-remotes/iceberg-remotes/internal/catalog.Ident.String", serviceRoot},
	} {
		if got := allocPart(frames); got != want {
			t.Errorf("%v: %s, want %s", frames, got, want)
		}
	}
}
