package remotes_test

import (
	"context"
	"errors"
	"io/fs"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/apperr"
	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog"
	"github.com/iceberg-remotes/iceberg-remotes/internal/lakefs"
	"github.com/iceberg-remotes/iceberg-remotes/internal/remotes"
	"github.com/iceberg-remotes/iceberg-remotes/internal/state"
)

func (c *core) unpublish(force, dryRun bool) (*remotes.Plan, error) {
	return c.svc.Unpublish(ctxT(c.t), remotes.UnpublishRequest{Catalog: testRemote, Table: c.remoteID(), Force: force, DryRun: dryRun})
}

// files lists every file under the test's directory (the object store of file://
// locations) with its size.
func (c *core) files() map[string]int64 {
	c.t.Helper()
	out := map[string]int64{}
	require.NoError(c.t, filepath.WalkDir(c.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Ext(p) == ".db" || filepath.Ext(p) == ".db-wal" || filepath.Ext(p) == ".db-shm" {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		out[p] = info.Size()
		return nil
	}))
	return out
}

func (c *core) remoteHas() bool {
	_, err := c.cat.LoadTable(ctxT(c.t), c.remoteID())
	if apperr.Is(err, http.StatusNotFound) {
		return false
	}
	require.NoError(c.t, err)
	return true
}

func (c *core) lastOperation() state.Operation {
	c.t.Helper()
	page, err := c.store.ListOperations(ctxT(c.t), testRemote, "", 1)
	require.NoError(c.t, err)
	require.NotEmpty(c.t, page.Items)
	return page.Items[0]
}

// Un-publish removes the registration, keeps every file, retires the record with its
// history and audits it; a later push registers the table again.
func TestUnpublishRemovesRegistrationOnly(t *testing.T) {
	c := newCore(t, lakefs.LayoutPointer, nil)
	c.push()
	m1 := c.lakeLocation("main")
	before := c.files()
	require.NotEmpty(t, before)

	plan, err := c.unpublish(false, false)
	require.NoError(t, err)
	assert.Equal(t, http.StatusNoContent, plan.Status)
	assert.False(t, c.remoteHas(), "the remote no longer lists the table")
	assert.Equal(t, before, c.files(), "no file was deleted")
	assert.Contains(t, c.cat.Calls(), "DropTable")

	rec := c.record()
	assert.Equal(t, state.StatusUnpublished, rec.Status)
	assert.Empty(t, rec.Pending)
	assert.Equal(t, m1, rec.PushedLocation, "the record keeps its history")
	op := c.lastOperation()
	assert.Equal(t, "unpublish", op.Operation)
	assert.Equal(t, state.OutcomeSucceeded, op.Outcome)
	assert.Equal(t, testRepo, op.Repository)
	assert.Equal(t, m1, op.MetadataLoc)

	_, err = c.pull(false, false)
	require.Error(t, err)
	assert.Equal(t, http.StatusNotFound, apperr.StatusOf(err))
	assert.Contains(t, err.Error(), "un-published")

	n := len(c.cat.Calls())
	plan, err = c.unpublish(false, false)
	require.NoError(t, err, "un-publishing again is a no-op")
	assert.Equal(t, http.StatusNoContent, plan.Status)
	assert.NotContains(t, c.cat.Calls()[n:], "DropTable")

	c.push()
	assert.True(t, c.remoteHas(), "a later push registers the table again")
	assert.Equal(t, state.StatusSynced, c.record().Status)
}

// A table this service did not push is refused (409) unless forced; a forced un-publish
// of it leaves no sync record behind.
func TestUnpublishForeignTable(t *testing.T) {
	c := newCore(t, lakefs.LayoutPointer, nil)
	c.cat.SetTable(c.remoteID(), c.version(1, nil, 1))
	_, err := c.unpublish(false, false)
	require.Error(t, err)
	assert.Equal(t, http.StatusConflict, apperr.StatusOf(err))
	assert.Contains(t, err.Error(), "not pushed by this service")
	assert.True(t, c.remoteHas())
	assert.Equal(t, state.OutcomeFailed, c.lastOperation().Outcome, "the refusal is audited")

	_, err = c.unpublish(true, false)
	require.NoError(t, err)
	assert.False(t, c.remoteHas())
	_, err = c.store.GetSyncRecord(ctxT(t), state.TableKey{Catalog: testRemote, Namespace: remoteNS, Table: "events"})
	assert.ErrorIs(t, err, state.ErrNotFound)

	_, err = c.unpublish(true, false)
	require.Error(t, err)
	assert.Equal(t, http.StatusNotFound, apperr.StatusOf(err), "a table nobody knows is 404")
}

// A remote table no longer where the service left it (re-pointed, or committed to and not
// pulled) is refused unless forced; the dry run says so and changes nothing.
func TestUnpublishMovedTable(t *testing.T) {
	c := newCore(t, lakefs.LayoutPointer, nil)
	c.push()
	m1 := c.lakeLocation("main")
	c.cat.SetTable(c.remoteID(), c.version(2, []string{m1}, 2))

	plan, err := c.unpublish(false, true)
	require.Error(t, err)
	assert.Equal(t, http.StatusConflict, plan.Status)
	require.NotEmpty(t, plan.Checks)
	last := plan.Checks[len(plan.Checks)-1]
	assert.Equal(t, "sync_record", last.Name)
	assert.False(t, last.OK)

	_, err = c.unpublish(false, false)
	require.Error(t, err)
	assert.Equal(t, http.StatusConflict, apperr.StatusOf(err))
	assert.True(t, c.remoteHas())
	assert.Equal(t, state.StatusSynced, c.record().Status)

	n := len(c.cat.Calls())
	plan, err = c.unpublish(true, true)
	require.NoError(t, err)
	assert.Equal(t, http.StatusNoContent, plan.Status)
	assert.True(t, plan.DryRun)
	assert.NotEmpty(t, plan.Actions)
	assert.NotContains(t, c.cat.Calls()[n:], "DropTable", "a dry run drops nothing")
	assert.True(t, c.remoteHas())

	_, err = c.unpublish(true, false)
	require.NoError(t, err)
	assert.False(t, c.remoteHas())
	assert.Equal(t, state.StatusUnpublished, c.record().Status)
}

// A table someone else already dropped: only the record is retired.
func TestUnpublishRemoteAlreadyGone(t *testing.T) {
	c := newCore(t, lakefs.LayoutPointer, nil)
	c.push()
	require.NoError(t, c.cat.DropTable(ctxT(t), c.remoteID()))
	_, err := c.unpublish(false, false)
	require.NoError(t, err)
	assert.Equal(t, state.StatusUnpublished, c.record().Status)
}

// lostDrop drops the table and then reports a failure (the answer was lost).
type lostDrop struct{ catalog.Adapter }

func (l lostDrop) DropTable(ctx context.Context, id catalog.Ident) error {
	if err := l.Adapter.DropTable(ctx, id); err != nil {
		return err
	}
	return apperr.Wrap(http.StatusGatewayTimeout, errors.New("answer lost"), "remote timed out")
}

func TestUnpublishSettlesLostAnswer(t *testing.T) {
	c := newCore(t, lakefs.LayoutPointer, nil)
	c.push()
	c.remote.Adapter = lostDrop{c.cat}
	_, err := c.unpublish(false, false)
	require.Error(t, err)
	rec := c.record()
	assert.Empty(t, rec.Pending, "settled right after the failure")
	assert.Equal(t, state.StatusUnpublished, rec.Status, "the remote shows the drop happened")
}

// A crash between the intent and the record update is settled by the next operation from
// what the remote shows: dropped → unpublished; not dropped → the previous status.
func TestUnpublishCrashIsReconciled(t *testing.T) {
	for _, dropped := range []bool{true, false} {
		t.Run(map[bool]string{true: "after the drop", false: "before the drop"}[dropped], func(t *testing.T) {
			c := newCore(t, lakefs.LayoutPointer, nil)
			c.push()
			rec := c.record()
			// What a process that died mid-unpublish leaves: the intent in the record.
			rec.Pending = `{"op":"unpublish","location":"` + rec.RemoteLocation + `","prev_status":"synced"}`
			rec.Status = state.StatusPending
			require.NoError(t, c.store.UpdateSyncRecord(ctxT(t), &rec))
			if dropped {
				require.NoError(t, c.cat.DropTable(ctxT(t), c.remoteID()))
			}
			plan, err := c.unpublish(false, false) // the next operation settles first
			require.NoError(t, err, "%+v", plan)
			rec = c.record()
			assert.Empty(t, rec.Pending)
			assert.Equal(t, state.StatusUnpublished, rec.Status)
			assert.False(t, c.remoteHas())
			if dropped {
				assert.Contains(t, plan.Checks[len(plan.Checks)-1].Message(), "already un-published")
			}
		})
	}
	t.Run("settled without un-publishing", func(t *testing.T) {
		c := newCore(t, lakefs.LayoutPointer, nil)
		c.push()
		rec := c.record()
		rec.Pending = `{"op":"unpublish","location":"` + rec.RemoteLocation + `","prev_status":"synced"}`
		rec.Status = state.StatusPending
		require.NoError(t, c.store.UpdateSyncRecord(ctxT(t), &rec))
		_, err := c.pull(false, false) // a pull finds the intent; the table is still there
		require.NoError(t, err)
		rec = c.record()
		assert.Empty(t, rec.Pending)
		assert.Equal(t, state.StatusSynced, rec.Status)
		assert.True(t, c.remoteHas())
	})
}
