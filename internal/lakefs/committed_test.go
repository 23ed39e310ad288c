package lakefs

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// LocateCommitted tells a branch's committed table from a staged one in the fewest calls:
// a stat in the head commit and a read at the branch that must return that very object
// (pointer layout), a stat at the branch when no read is wanted, and only that stat when
// the caller already knows the head commit's file. A staged change, a table only staged,
// and a staged deletion are each told apart; a tag is its commit.
func TestLocateCommittedPointerLayout(t *testing.T) {
	e, l := newLocatorEnv(t)
	ctx := context.Background()
	ptr := "_lakefs_tables/iceberg/db/t/metadata.json"
	ref := TableRef{Repository: testRepo, Reference: "main", Namespace: []string{"db"}, Table: "t"}
	ops := []string{"getBranch", "statObject", "getObject"}
	calls := func() map[string]int {
		out := map[string]int{}
		for _, op := range ops {
			out[op] = e.srv.Calls(op)
		}
		return out
	}
	delta := func(before map[string]int) [3]int {
		now := calls()
		return [3]int{now[ops[0]] - before[ops[0]], now[ops[1]] - before[ops[1]], now[ops[2]] - before[ops[2]]}
	}
	always := func(string) bool { return true }
	never := func(string) bool { return false }

	loc1, raw1 := metadataFile(t, e, "s3://bucket/w/db/t", 1)
	e.link(t, "main", ptr, loc1, raw1)

	before := calls()
	st, err := l.LocateCommitted(ctx, ref, KnownCommitted{}, always)
	require.NoError(t, err)
	assert.Equal(t, [3]int{1, 2, 0}, delta(before), "absent in the commit: located on the branch, not read")
	assert.True(t, st.CommitChecked)
	assert.False(t, st.Committed, "only staged")
	assert.Empty(t, st.CommittedLocation)
	assert.Equal(t, loc1, st.MetadataLocation)
	assert.Nil(t, st.Metadata)
	require.NoError(t, l.LoadMetadata(ctx, ref, st), "the caller reads a staged table at the branch")
	assert.Equal(t, int64(1), *st.CurrentSnapshotID)

	c1 := e.srv.CommitBranch(testRepo, "main", "table")
	before = calls()
	st, err = l.LocateCommitted(ctx, ref, KnownCommitted{}, always)
	require.NoError(t, err)
	assert.Equal(t, [3]int{1, 1, 1}, delta(before), "committed: the read at the branch is the check")
	assert.True(t, st.Committed)
	assert.Equal(t, c1, st.ResolvedCommit)
	assert.Equal(t, loc1, st.MetadataLocation)
	assert.Equal(t, loc1, st.CommittedLocation)
	assert.Equal(t, ptr, st.Path)
	require.NotNil(t, st.CurrentSnapshotID)
	assert.Equal(t, int64(1), *st.CurrentSnapshotID)

	before = calls()
	st, err = l.LocateCommitted(ctx, ref, KnownCommitted{}, never)
	require.NoError(t, err)
	assert.Equal(t, [3]int{1, 2, 0}, delta(before), "no read wanted: a stat at the branch is the check")
	assert.True(t, st.Committed)
	assert.Nil(t, st.Metadata)

	before = calls()
	st, err = l.LocateCommitted(ctx, ref, KnownCommitted{Commit: c1, Location: loc1}, never)
	require.NoError(t, err)
	assert.Equal(t, [3]int{1, 1, 0}, delta(before), "the head commit's file is known: one stat at the branch")
	assert.True(t, st.Committed)
	assert.Equal(t, loc1, st.MetadataLocation)

	before = calls()
	st, err = l.LocateCommitted(ctx, ref, KnownCommitted{Commit: c1, Location: loc1}, always)
	require.NoError(t, err)
	assert.Equal(t, [3]int{1, 1, 1}, delta(before), "known, and read at the commit")
	assert.True(t, st.Committed)
	assert.Equal(t, int64(1), *st.CurrentSnapshotID)

	st, err = l.LocateCommitted(ctx, ref, KnownCommitted{Commit: "another-commit", Location: "s3://elsewhere"}, never)
	require.NoError(t, err)
	assert.True(t, st.Committed, "what is known of another commit is not used")

	// A newer version staged on top of the commit: the branch read returns another object.
	loc2, raw2 := metadataFile(t, e, "s3://bucket/w/db/t", 2)
	e.link(t, "main", ptr, loc2, raw2)
	for name, known := range map[string]KnownCommitted{"unknown": {}, "known": {Commit: c1, Location: loc1}} {
		st, err = l.LocateCommitted(ctx, ref, known, always)
		require.NoError(t, err, name)
		assert.False(t, st.Committed, name)
		assert.Equal(t, loc2, st.MetadataLocation, name+": the branch's object")
		assert.Equal(t, loc1, st.CommittedLocation, name)
		assert.Nil(t, st.Metadata, name+": not read as the commit's")
		require.NoError(t, l.LoadMetadata(ctx, ref, st), name)
		assert.Equal(t, int64(2), *st.CurrentSnapshotID, name+": read at the branch")
	}

	// A tag is its commit, which holds the first version.
	e.srv.CreateTag(testRepo, "v1", c1)
	st, err = l.LocateCommitted(ctx, TableRef{Repository: testRepo, Reference: "v1", Namespace: ref.Namespace, Table: ref.Table}, KnownCommitted{}, always)
	require.NoError(t, err)
	assert.False(t, st.IsBranch)
	assert.True(t, st.Committed)
	assert.Equal(t, loc1, st.MetadataLocation)
	assert.Equal(t, int64(1), *st.CurrentSnapshotID)

	// Deleted on the branch (staged), still in the commit: not found on the branch.
	e.srv.DeleteObject(testRepo, "main", ptr)
	_, err = l.LocateCommitted(ctx, ref, KnownCommitted{}, always)
	requireStatus(t, err, http.StatusNotFound)
}

// In the hadoop layout a table's state is the hint and a version file, so both refs are
// located and compared.
func TestLocateCommittedHadoopLayout(t *testing.T) {
	e, l := newLocatorEnv(t)
	ctx := context.Background()
	dir := "warehouse/db/t/metadata/"
	ref := TableRef{Repository: hadoopRepo, Reference: "main", Namespace: []string{"db"}, Table: "t"}
	link := func(name string, content []byte) string { return e.linkHadoop(t, dir, name, content) }
	v1 := link("v1.metadata.json", marshal(t, newMetadata(t, "s3://bucket/hrepo/warehouse/db/t")))
	e.srv.CommitBranch(hadoopRepo, "main", "v1")
	st, err := l.LocateCommitted(ctx, ref, KnownCommitted{}, func(string) bool { return true })
	require.NoError(t, err)
	assert.True(t, st.Committed)
	assert.Equal(t, v1, st.MetadataLocation)
	assert.Equal(t, 1, st.Version)
	assert.NotNil(t, st.Metadata)

	v2 := link("v2.metadata.json", marshal(t, withSnapshot(t, newMetadata(t, "s3://bucket/hrepo/warehouse/db/t"), v1, 5)))
	st, err = l.LocateCommitted(ctx, ref, KnownCommitted{}, func(string) bool { return true })
	require.NoError(t, err)
	assert.False(t, st.Committed, "v2 is staged")
	assert.Equal(t, v2, st.MetadataLocation)
	assert.Equal(t, v1, st.CommittedLocation)
	assert.Nil(t, st.Metadata)
}
