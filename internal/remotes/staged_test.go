package remotes_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/apperr"
	"github.com/iceberg-remotes/iceberg-remotes/internal/lakefs"
	"github.com/iceberg-remotes/iceberg-remotes/internal/state"
)

// Defect 3: the dry run's check of uncommitted changes and the write's own check follow
// one rule, so a dry run that passes does not become a 409 when run for real. Each case
// stages a path another writer owns inside the table's area.
func TestPullDryRunAgreesWithWriteOnStagedPaths(t *testing.T) {
	for _, tc := range []struct{ layout, foreign string }{
		{lakefs.LayoutHadoop, "warehouse/accounting/events/metadata/snap-9.avro"},
		{lakefs.LayoutPointer, "_lakefs_tables/iceberg/accounting/_namespace.json"},
	} {
		t.Run(tc.layout, func(t *testing.T) {
			c := newCore(t, tc.layout, nil)
			c.push()
			m1 := c.lakeLocation("main")
			c.cat.SetTable(c.remoteID(), c.version(2, []string{m1}, 2))
			c.lake.PutObject(testRepo, "main", tc.foreign, []byte("someone else's"))

			plan, err := c.pull(false, true)
			require.Error(t, err, "dry run: %+v", plan)
			assert.Equal(t, http.StatusConflict, apperr.StatusOf(err))
			assert.Equal(t, http.StatusConflict, plan.Status)
			_, err = c.pull(false, false)
			require.Error(t, err)
			assert.Equal(t, http.StatusConflict, apperr.StatusOf(err))
			assert.Equal(t, []string{tc.foreign}, c.lake.Staged(testRepo, "main"), "the other writer's path stays staged")
		})
	}
}

// Defect 2: a pull that died after staging is reconciled by resetting exactly the paths it
// recorded it would stage, never another writer's staged work in the same folder.
func TestReconcileResetsOnlyThePullsOwnPaths(t *testing.T) {
	c := newCore(t, lakefs.LayoutHadoop, nil)
	c.push()
	m1 := c.lakeLocation("main")
	c.cat.SetTable(c.remoteID(), c.version(2, []string{m1}, 2))
	// The commit fails and so does every reset: the pull leaves its staged paths and its
	// intent behind, as a process that dies before committing does.
	c.lake.FailNext("commit", 1, http.StatusInternalServerError)
	c.lake.FailNext("resetBranch", 20, http.StatusInternalServerError)
	_, err := c.pull(false, false)
	require.Error(t, err)
	rec, err := c.store.GetSyncRecord(ctxT(t), state.TableKey{Catalog: testRemote, Namespace: remoteNS, Table: "events"})
	require.NoError(t, err)
	require.NotEmpty(t, rec.Pending, "the intent stays for the next operation")
	require.ElementsMatch(t, []string{
		"warehouse/accounting/events/metadata/v2.metadata.json",
		"warehouse/accounting/events/metadata/version-hint.text",
	}, c.lake.Staged(testRepo, "main"))
	for c.lake.Calls("resetBranch") < 20 { // use up the injected failures
		_ = c.client.ResetObject(ctxT(t), testRepo, "main", "nothing")
	}

	// Meanwhile another writer stages a file in the same metadata folder, and rewrites the
	// version hint the pull had staged.
	foreign := "warehouse/accounting/events/metadata/snap-9.avro"
	hint := "warehouse/accounting/events/metadata/version-hint.text"
	c.lake.PutObject(testRepo, "main", foreign, []byte("someone else's"))
	c.lake.PutObject(testRepo, "main", hint, []byte("7"))

	_, err = c.pull(false, false) // reconciles first, then refuses: the foreign path is staged
	require.Error(t, err)
	assert.Equal(t, http.StatusConflict, apperr.StatusOf(err))
	assert.Equal(t, []string{foreign, hint}, c.lake.Staged(testRepo, "main"),
		"only what the pull staged, still as it staged it, was reset")
	rec, err = c.store.GetSyncRecord(ctxT(t), state.TableKey{Catalog: testRemote, Namespace: remoteNS, Table: "events"})
	require.NoError(t, err)
	assert.Empty(t, rec.Pending)
	assert.Equal(t, m1, rec.LakeFSLocation)
}
