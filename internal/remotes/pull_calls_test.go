package remotes_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/apperr"
	"github.com/iceberg-remotes/iceberg-remotes/internal/lakefs"
)

// Issue 14: a pull with nothing new on the remote costs one lakeFS call (the branch) and
// one remote call; a pull of a new remote state reads lakeFS four times before its write
// (branch, table at the head commit, uncommitted changes, repository), reads the object
// store once, and writes with stage, head re-check, uncommitted re-check and commit (then
// moves GC protection to the new commit).
func TestPullRoundTrips(t *testing.T) {
	c := newCore(t, lakefs.LayoutPointer, nil)
	c.push()
	m1 := c.lakeLocation("main")

	lake0, remote0 := c.lake.TotalCalls(), len(c.cat.Calls())
	_, err := c.pull(false, false)
	require.NoError(t, err)
	assert.Equal(t, 1, c.lake.TotalCalls()-lake0, "lakeFS calls of a pull in sync")
	assert.Equal(t, 1, len(c.cat.Calls())-remote0, "remote calls of a pull in sync")

	c.cat.SetTable(c.remoteID(), c.version(2, []string{m1}, 2))
	lake0, remote0, reads0 := c.lake.TotalCalls(), len(c.cat.Calls()), c.reads.Load()
	commits0, stages0 := c.lake.Calls("commit"), c.lake.Calls("stageObject")
	creates0, deletes0 := c.lake.Calls("createBranch"), c.lake.Calls("deleteBranch")
	_, err = c.pull(false, false)
	require.NoError(t, err)
	assert.Equal(t, 1, len(c.cat.Calls())-remote0, "remote calls of a pull of a new state")
	assert.Equal(t, int64(1), c.reads.Load()-reads0, "object-store reads")
	assert.Equal(t, 1, c.lake.Calls("commit")-commits0)
	assert.Equal(t, 1, c.lake.Calls("stageObject")-stages0)
	// After the commit, GC protection moves to the pulled commit (best effort): the new
	// protecting branch is created and the push's one deleted.
	assert.Equal(t, 1, c.lake.Calls("createBranch")-creates0, "protection of the pulled commit")
	assert.Equal(t, 1, c.lake.Calls("deleteBranch")-deletes0, "release of the previous protection")
	assert.Equal(t, 4+4+2, c.lake.TotalCalls()-lake0,
		"lakeFS calls: 4 reads, then stage, head, uncommitted changes, commit, then the protection move")
}

// A change staged (not committed) on the table's own pointer is the branch's current state:
// reading the table at the head commit must not hide it, so the pull sees both sides changed.
func TestPullSeesStagedChangeOfTheTable(t *testing.T) {
	c := newCore(t, lakefs.LayoutPointer, nil)
	c.push()
	m1 := c.lakeLocation("main")
	c.cat.SetTable(c.remoteID(), c.version(2, []string{m1}, 2))
	mine := c.version(3, []string{m1}, 3)
	c.link("main", mine, 3) // staged only

	_, err := c.pull(false, false)
	require.Error(t, err)
	assert.Equal(t, http.StatusConflict, apperr.StatusOf(err), "%v", err)
	assert.Contains(t, err.Error(), "both sides changed")
	assert.Equal(t, mine, c.lakeLocation("main"), "the staged change is kept")
}
