package remotes_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/apperr"
	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog"
	"github.com/iceberg-remotes/iceberg-remotes/internal/lakefs"
	"github.com/iceberg-remotes/iceberg-remotes/internal/remotes"
	"github.com/iceberg-remotes/iceberg-remotes/internal/remotes/remotestest"
	"github.com/iceberg-remotes/iceberg-remotes/internal/state"
)

func (c *core) record() state.SyncRecord {
	c.t.Helper()
	rec, err := c.store.GetSyncRecord(ctxT(c.t), state.TableKey{Catalog: testRemote, Namespace: remoteNS, Table: "events"})
	require.NoError(c.t, err)
	return rec
}

func (c *core) pushWith(force bool) error {
	_, err := c.svc.Push(ctxT(c.t), remotes.PushRequest{Catalog: testRemote, Source: c.ref("main"),
		Destination: c.remoteID(), CreateNamespace: true, ForceUpdate: force})
	return err
}

// Push registers, is idempotent, refuses to overwrite a table that points elsewhere and
// re-points it with force_update (compare-and-swap).
func TestPushPlanChecks(t *testing.T) {
	c := newCore(t, lakefs.LayoutPointer, nil)
	c.push()
	m1 := c.lakeLocation("main")
	// The table is loaded first; a push that may create its namespace does so without asking.
	assert.Equal(t, []string{"LoadTable", "CreateNamespace", "RegisterTable"}, c.cat.Calls())
	n := len(c.cat.Calls())
	c.push()
	assert.Equal(t, []string{"LoadTable"}, c.cat.Calls()[n:], "the second push loads the table and changes nothing")

	other := c.version(5, nil, 1)
	c.cat.SetTable(c.remoteID(), other)
	err := c.pushWith(false)
	require.Error(t, err)
	assert.Equal(t, http.StatusConflict, apperr.StatusOf(err))
	require.NoError(t, c.pushWith(true))
	loc, err := c.cat.LoadTable(ctxT(t), c.remoteID())
	require.NoError(t, err)
	assert.Equal(t, m1, loc)
	rec := c.record()
	assert.Equal(t, state.StatusSynced, rec.Status)
	assert.Equal(t, m1, rec.PushedLocation)
}

// Pull refuses remote metadata that does not descend from the synced state, and does
// nothing (no read) when the remote has not moved.
func TestPullLineageAndInSync(t *testing.T) {
	c := newCore(t, lakefs.LayoutPointer, nil)
	c.push()
	_, err := c.pull(false, false)
	require.NoError(t, err)
	assert.Zero(t, c.reads.Load(), "in sync: nothing read")

	stranger := remotestest.WriteMetadata(t, c.dir, "stranger/00002-x.metadata.json",
		remotestest.Version{TableUUID: uuid.NewString(), Location: "file://" + c.dir + "/stranger", Snapshots: []int64{1, 2}})
	c.cat.SetTable(c.remoteID(), stranger)
	_, err = c.pull(true, false)
	require.Error(t, err)
	assert.Equal(t, http.StatusConflict, apperr.StatusOf(err))
	assert.Contains(t, err.Error(), "unrelated table")

	unrelated := remotestest.WriteMetadata(t, c.dir, "table/metadata/00009-x.metadata.json",
		remotestest.Version{TableUUID: c.uuid, Location: "file://" + c.dir + "/table", Snapshots: []int64{7, 8}})
	c.cat.SetTable(c.remoteID(), unrelated)
	_, err = c.pull(true, false)
	require.Error(t, err)
	assert.Equal(t, http.StatusConflict, apperr.StatusOf(err))
	assert.Contains(t, err.Error(), "does not descend")
	assert.Empty(t, c.lake.Staged(testRepo, "main"))
}

// lostAnswer registers the table and then reports a failure, as when the remote's answer
// is lost: the push's intent is settled from what the remote shows.
type lostAnswer struct{ catalog.Adapter }

func (l lostAnswer) RegisterTable(ctx context.Context, id catalog.Ident, loc string, prov catalog.Provenance) error {
	if err := l.Adapter.RegisterTable(ctx, id, loc, prov); err != nil {
		return err
	}
	return apperr.Wrap(http.StatusGatewayTimeout, errors.New("answer lost"), "remote timed out")
}

func TestReconcileSettlesPushFromTheRemote(t *testing.T) {
	c := newCore(t, lakefs.LayoutPointer, nil)
	c.remote.Adapter = lostAnswer{c.cat}
	err := c.pushWith(false)
	require.Error(t, err)
	rec := c.record()
	assert.Empty(t, rec.Pending, "settled right after the failure")
	assert.Equal(t, state.StatusSynced, rec.Status)
	assert.Equal(t, c.lakeLocation("main"), rec.PushedLocation, "the remote shows the push happened")
}

// The listing's live state compares both sides with the sync record, in both layouts.
func TestListTablesStates(t *testing.T) {
	for _, layout := range []string{lakefs.LayoutPointer, lakefs.LayoutHadoop} {
		t.Run(layout, func(t *testing.T) {
			c := newCore(t, layout, nil)
			c.push()
			state1 := func() string {
				page, err := c.svc.ListTables(ctxT(t), testRemote, "", 10, remotes.TableFilter{})
				require.NoError(t, err)
				require.Len(t, page.Items, 1)
				return page.Items[0].State
			}
			assert.Equal(t, remotes.InSync, state1())
			m1 := c.lakeLocation("main")
			c.cat.SetTable(c.remoteID(), c.version(2, []string{m1}, 2))
			assert.Equal(t, remotes.RemoteAhead, state1())
			c.link("main", c.version(3, []string{m1}, 3), 2)
			assert.Equal(t, remotes.Diverged, state1())
			c.cat.SetTable(c.remoteID(), m1)
			assert.Equal(t, remotes.LakeFSAhead, state1())
			require.NoError(t, c.cat.DropTable(ctxT(t), c.remoteID()))
			assert.Equal(t, remotes.Missing, state1())
		})
	}
}

// history is a catalog.History answering ok (or err), recording what it was asked.
type history struct {
	ok    bool
	err   error
	asked [][3]string // table, from, current
}

func (h *history) Descends(_ context.Context, id catalog.Ident, from, current string) (bool, error) {
	h.asked = append(h.asked, [3]string{id.String(), from, current})
	return h.ok, h.err
}

// A remote that rewrites the metadata on every commit without its log or the synced snapshot
// (Nessie) is pulled when the remote's own history shows the table moving from the synced
// location to the current one; it is refused when that history does not, or has none, and a
// history that cannot be read fails the pull with its status.
func TestPullLineageByRemoteHistory(t *testing.T) {
	c := newCore(t, lakefs.LayoutPointer, nil)
	c.push()
	synced := c.record().RemoteLocation
	rewritten := remotestest.WriteMetadata(t, c.dir, "table/metadata/00002-rewritten.metadata.json",
		remotestest.Version{TableUUID: c.uuid, Location: "file://" + c.dir + "/table", Snapshots: []int64{42}})
	c.cat.SetTable(c.remoteID(), rewritten)

	_, err := c.pull(false, false)
	require.Error(t, err)
	assert.Equal(t, http.StatusConflict, apperr.StatusOf(err))
	assert.Contains(t, err.Error(), "neither its metadata log nor its snapshots contain it")

	for _, h := range []*history{{ok: false}, {err: apperr.Wrap(http.StatusGatewayTimeout, errors.New("slow"), "remote timed out")}} {
		c.remote.History = h
		_, err = c.pull(false, false)
		require.Error(t, err)
		if h.err != nil {
			assert.Equal(t, http.StatusGatewayTimeout, apperr.StatusOf(err), "%v", err)
		} else {
			assert.Equal(t, http.StatusConflict, apperr.StatusOf(err))
			assert.Contains(t, err.Error(), "nor the remote's history of the table contain it")
		}
		assert.Equal(t, [][3]string{{c.remoteID().String(), synced, rewritten}}, h.asked)
		assert.Empty(t, c.lake.Staged(testRepo, "main"), "a refused pull stages nothing")
	}

	h := &history{ok: true}
	c.remote.History = h
	plan, err := c.pull(false, false)
	require.NoError(t, err)
	assert.Equal(t, rewritten, c.lakeLocation("main"))
	assert.Equal(t, rewritten, c.record().RemoteLocation)
	var lineage string
	for _, ch := range plan.Checks {
		if ch.Name == "lineage" {
			lineage = ch.Message()
		}
	}
	assert.Contains(t, lineage, "by the remote's history")

	// A remote whose metadata shows the lineage is not asked.
	c.cat.SetTable(c.remoteID(), c.version(3, []string{rewritten}, 42))
	h.asked = nil
	_, err = c.pull(false, false)
	require.NoError(t, err)
	assert.Empty(t, h.asked, "the metadata log proved it")
}
