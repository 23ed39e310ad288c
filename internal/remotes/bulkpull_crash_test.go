package remotes_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/config"
	"github.com/iceberg-remotes/iceberg-remotes/internal/httpclient"
	"github.com/iceberg-remotes/iceberg-remotes/internal/lakefs"
	"github.com/iceberg-remotes/iceberg-remotes/internal/objstore"
	"github.com/iceberg-remotes/iceberg-remotes/internal/remotes"
	"github.com/iceberg-remotes/iceberg-remotes/internal/state"
)

var errDead = errors.New("injected: the process died")

// mortal is a service instance on the core's backends and state store that dies right
// after its n-th write step (a sync-record write, or a lakeFS stage, upload or commit)
// took effect: from then on every call of it fails, as nothing runs in a dead process, so
// it cannot clean up after itself either.
type mortal struct {
	svc   *remotes.Service
	n     int
	mu    sync.Mutex
	steps []string
	dead  atomic.Bool
}

// step records a write step about to happen; it reports whether the process is dead
// before the step (nothing happens), and after it makes the n-th step the last.
func (m *mortal) step(name string, do func() error) error {
	if m.dead.Load() {
		return errDead
	}
	err := do()
	m.mu.Lock()
	m.steps = append(m.steps, name)
	last := len(m.steps) == m.n
	m.mu.Unlock()
	if last {
		m.dead.Store(true)
		return errDead
	}
	return err
}

func (c *core) mortal(n int) *mortal {
	t := c.t
	m := &mortal{n: n}
	hc := &http.Client{Transport: mortalTransport{m: m, base: http.DefaultTransport}, Timeout: 10 * time.Second}
	client, err := lakefs.New(config.LakeFS{Endpoint: c.lake.URL(), Timeout: 10 * time.Second},
		lakefs.ServiceCredentials("AKIASVC", "svc-secret"), hc)
	require.NoError(t, err)
	lay := config.TablesLayout{Layout: c.layout, PointerPrefix: "_lakefs_tables/iceberg", WarehousePrefix: "warehouse"}
	objects, err := objstore.New(config.ObjectStore{}, objstore.Options{Policy: httpclient.Policy{Timeout: 30 * time.Second}})
	require.NoError(t, err)
	m.svc = remotes.New(remotes.Options{
		Remotes: []*remotes.Remote{c.remote},
		LakeFS:  lakefs.NewLocator(client, func(string) config.TablesLayout { return lay }),
		Reader:  remotes.NewMetadataReader(objects, nil),
		Store:   mortalStore{Store: c.store, m: m},
	})
	return m
}

type mortalTransport struct {
	m    *mortal
	base http.RoundTripper
}

func (mt mortalTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	var name string
	p := req.URL.Path
	switch {
	case req.Method == http.MethodPut && strings.HasSuffix(p, "/objects"):
		name = "stageObject"
	case req.Method == http.MethodPost && strings.HasSuffix(p, "/objects"):
		name = "uploadObject"
	case req.Method == http.MethodPost && strings.HasSuffix(p, "/commits"):
		name = "commit"
	default:
		if mt.m.dead.Load() {
			return nil, errDead
		}
		return mt.base.RoundTrip(req)
	}
	var res *http.Response
	err := mt.m.step(name, func() error {
		var err error
		res, err = mt.base.RoundTrip(req)
		return err
	})
	if err != nil {
		if res != nil {
			_ = res.Body.Close()
		}
		return nil, err
	}
	return res, nil
}

type mortalStore struct {
	state.Store
	m *mortal
}

func (s mortalStore) UpdateSyncRecord(ctx context.Context, rec *state.SyncRecord) error {
	return s.m.step("UpdateSyncRecord", func() error { return s.Store.UpdateSyncRecord(ctx, rec) })
}

func (s mortalStore) CreateSyncRecord(ctx context.Context, rec *state.SyncRecord) error {
	return s.m.step("CreateSyncRecord", func() error { return s.Store.CreateSyncRecord(ctx, rec) })
}

func (s mortalStore) GetSyncRecord(ctx context.Context, key state.TableKey) (state.SyncRecord, error) {
	if s.m.dead.Load() {
		return state.SyncRecord{}, errDead
	}
	return s.Store.GetSyncRecord(ctx, key)
}

func (s mortalStore) StartOperation(ctx context.Context, op *state.Operation) error {
	if s.m.dead.Load() {
		return errDead
	}
	return s.Store.StartOperation(ctx, op)
}

func (s mortalStore) FinishOperation(ctx context.Context, op *state.Operation) error {
	if s.m.dead.Load() {
		return errDead
	}
	return s.Store.FinishOperation(ctx, op)
}

// committedTables counts the tables whose new state the branch's head commit holds.
func (c *core) committedTables(tables []*bulkTable) int {
	c.t.Helper()
	head, ok := c.lake.GetCommit(testRepo, "main")
	require.True(c.t, ok)
	n := 0
	for _, b := range tables {
		st, err := c.locator.ReadTable(ctxT(c.t), b.ref(head.ID))
		require.NoError(c.t, err)
		if st.MetadataLocation == b.m2 {
			n++
		}
	}
	return n
}

// A bulk pull of five tables whose process dies right after each of its write steps (the
// five intents, each table's staged objects, the commit, the five record updates): the
// branch's commits hold none or all five tables at any time; then the next bulk pull (a
// fresh process) settles every record from the branch, resetting what the dead one
// staged, and ends with all five in exactly one commit: no second commit when the dead one
// committed, no half commit ever.
func TestBulkPullCrashAfterEveryStep(t *testing.T) {
	for _, layout := range []string{lakefs.LayoutPointer, lakefs.LayoutHadoop} {
		t.Run(layout, func(t *testing.T) {
			var steps []string
			for n := 1; ; n++ {
				c := newCore(t, layout, nil)
				tables := c.bulkTables(5)
				for _, b := range tables {
					c.remoteCommit(b)
				}
				commits := c.lake.Calls("commit")
				m := c.mortal(n)
				_, err := m.svc.BulkPull(ctxT(t), remotes.BulkPullRequest{Catalog: testRemote, Repository: testRepo, Branch: "main"}, nil)
				require.NoError(t, err)
				if !m.dead.Load() {
					require.Greater(t, n, 11, "a bulk pull of five tables has at least 5 intents, 5 stages and a commit")
					t.Logf("%s: crashed after each of %d steps: %v", layout, n-1, steps)
					return
				}
				steps = m.steps
				label := m.steps[n-1]
				committed := c.lake.Calls("commit") > commits
				got := c.committedTables(tables)
				if committed {
					assert.Equal(t, 5, got, "step %d (%s): the commit holds all five", n, label)
				} else {
					assert.Equal(t, 0, got, "step %d (%s): nothing committed", n, label)
				}

				results, totals := c.bulkPull(false, false)
				require.Equal(t, http.StatusOK, totals.Status, "step %d (%s): %+v", n, label, results)
				if committed {
					assert.Equal(t, 5, totals.Unchanged, "step %d (%s): settled as pulled: nothing left to do", n, label)
				} else {
					assert.Equal(t, 5, totals.Changed, "step %d (%s)", n, label)
				}
				assert.Equal(t, commits+1, c.lake.Calls("commit"), "step %d (%s): exactly one commit of the five", n, label)
				assert.Equal(t, 5, c.committedTables(tables))
				assert.Empty(t, c.lake.Staged(testRepo, "main"), "step %d (%s)", n, label)
				for _, b := range tables {
					rec := c.recordOf(b)
					assert.Empty(t, rec.Pending, "step %d (%s)", n, label)
					assert.Equal(t, state.StatusSynced, rec.Status)
					assert.Equal(t, b.m2, rec.RemoteLocation)
				}
			}
		})
	}
}

// Settling any one table of a bulk pull that died before its commit resets what the whole
// bulk pull staged, not only that table's paths: no other operation can then commit part of
// the bulk. Here a single pull of t4 settles it and commits t4 alone; t0..t3 stay as they
// were.
func TestBulkPullSettlingOneTableResetsAll(t *testing.T) {
	c := newCore(t, lakefs.LayoutPointer, nil)
	tables := c.bulkTables(5)
	for _, b := range tables {
		c.remoteCommit(b)
	}
	m := c.mortal(5 + 3) // five intents, then three tables staged
	_, err := m.svc.BulkPull(ctxT(t), remotes.BulkPullRequest{Catalog: testRemote, Repository: testRepo, Branch: "main"}, nil)
	require.NoError(t, err)
	require.True(t, m.dead.Load())
	require.Len(t, c.lake.Staged(testRepo, "main"), 3, "the dead process left three tables staged")

	_, err = c.svc.Pull(ctxT(t), remotes.PullRequest{Catalog: testRemote, Source: tables[4].id(), Destination: tables[4].ref("main")})
	require.NoError(t, err)
	assert.Empty(t, c.lake.Staged(testRepo, "main"))
	for _, b := range tables[:4] {
		assert.Equal(t, b.m1, c.tableAt("main", b), "%s: not committed by the single pull", b.name)
	}
	assert.Equal(t, tables[4].m2, c.tableAt("main", tables[4]))
}
