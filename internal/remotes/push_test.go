package remotes_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/lakefs"
)

// lakeCalls counts the lakeFS stand-in's calls of the operations a push may make.
func (c *core) lakeCalls() map[string]int {
	out := map[string]int{}
	for _, op := range []string{"getBranch", "getCommit", "statObject", "getObject", "listObjects", "createBranch", "deleteBranch"} {
		if n := c.lake.Calls(op); n > 0 {
			out[op] = n
		}
	}
	return out
}

func diffCalls(after, before map[string]int) map[string]int {
	out := map[string]int{}
	for k, v := range after {
		if d := v - before[k]; d > 0 {
			out[k] = d
		}
	}
	return out
}

// A push resolves the branch once and locates the table (issue 14: ≤ 2 + 1 unchanged, ≤ 3 + 3
// new). A table the remote already has costs a stat at the branch, compared with what the
// record proves was committed: no metadata read. A new or changed table is stated in the
// head commit and read at the branch, and the read returning that very object proves the
// branch's table committed (issue 13), with no third look. GC safety adds the protecting
// branch's creation when a commit is first published, plus the previous one's deletion on a
// re-push; an unchanged push adds nothing.
func TestPushRoundTrips(t *testing.T) {
	c := newCore(t, lakefs.LayoutPointer, nil)
	before := c.lakeCalls()
	c.push()
	assert.Equal(t, map[string]int{"getBranch": 1, "statObject": 1, "getObject": 1, "createBranch": 1}, diffCalls(c.lakeCalls(), before), "new table")
	assert.Equal(t, []string{"LoadTable", "CreateNamespace", "RegisterTable"}, c.cat.Calls())

	before, n := c.lakeCalls(), len(c.cat.Calls())
	version := c.record().Version
	c.push()
	assert.Equal(t, map[string]int{"getBranch": 1, "statObject": 1}, diffCalls(c.lakeCalls(), before), "unchanged: no metadata read")
	assert.Equal(t, []string{"LoadTable"}, c.cat.Calls()[n:])
	rec := c.record()
	assert.Equal(t, c.uuid, rec.TableUUID, "the record keeps the facts of the file it did not read again")
	assert.Equal(t, "1", rec.SnapshotID)
	assert.Equal(t, version, rec.Version, "nothing changed: nothing written (no intent either)")

	// The table moves on the branch: the new file is read, and the remote re-pointed.
	m2 := c.version(2, []string{c.lakeLocation("main")}, 2)
	c.link("main", m2, 2)
	_, err := c.client.Commit(ctxT(t), testRepo, "main", "v2", nil)
	require.NoError(t, err)
	before, n = c.lakeCalls(), len(c.cat.Calls())
	require.NoError(t, c.pushWith(true))
	assert.Equal(t, map[string]int{"getBranch": 1, "statObject": 1, "getObject": 1, "createBranch": 1, "deleteBranch": 1},
		diffCalls(c.lakeCalls(), before), "changed")
	assert.Equal(t, []string{"LoadTable", "ReplaceTable"}, c.cat.Calls()[n:])
	rec = c.record()
	assert.Equal(t, m2, rec.PushedLocation)
	assert.Equal(t, "2", rec.SnapshotID)
}
