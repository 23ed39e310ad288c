package lakefs

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/lakefs/lakefstest"
)

func TestWriteTablePointer(t *testing.T) {
	e, l := newLocatorEnv(t)
	ctx := context.Background()
	ref := TableRef{Repository: testRepo, Reference: "main", Namespace: []string{"db"}, Table: "t"}
	loc1, raw1 := metadataFile(t, e, "s3://bucket/w/db/t", 0)
	e.link(t, "main", "_lakefs_tables/iceberg/db/t/metadata.json", loc1, raw1)
	e.srv.CommitBranch(testRepo, "main", "table v1")

	loc2, raw2 := metadataFile(t, e, "s3://bucket/w/db/t", 99)
	id, err := l.WriteTable(ctx, ref, TableWrite{PhysicalAddress: loc2, SizeBytes: int64(len(raw2)), Checksum: checksum(raw2),
		Message: "Pull iceberg table db.t from remote", Metadata: map[string]string{"remote_catalog": "remote"}})
	require.NoError(t, err)
	ci, _ := e.srv.GetCommit(testRepo, "main")
	assert.Equal(t, id, ci.ID)
	assert.Equal(t, "Pull iceberg table db.t from remote", ci.Message)
	assert.Equal(t, map[string]string{"remote_catalog": "remote"}, ci.Metadata)
	assert.Equal(t, loc2, ci.Paths["_lakefs_tables/iceberg/db/t/metadata.json"])
	assert.Empty(t, e.srv.Staged(testRepo, "main"))

	st, err := l.ReadTable(ctx, ref)
	require.NoError(t, err)
	assert.Equal(t, loc2, st.MetadataLocation)
	assert.Equal(t, id, st.ResolvedCommit)
	require.NotNil(t, st.CurrentSnapshotID)
	assert.Equal(t, int64(99), *st.CurrentSnapshotID)

	// A tag is not a branch.
	e.srv.CreateTag(testRepo, "v1", "main")
	tagRef := ref
	tagRef.Reference = "v1"
	_, err = l.WriteTable(ctx, tagRef, TableWrite{PhysicalAddress: loc2, SizeBytes: int64(len(raw2))})
	requireStatus(t, err, http.StatusBadRequest)

	// New namespace and table, with the namespace marker in the same commit.
	newRef := TableRef{Repository: testRepo, Reference: "main", Namespace: []string{"new", "ns"}, Table: "t2"}
	_, err = l.WriteTable(ctx, newRef, TableWrite{PhysicalAddress: loc1, SizeBytes: int64(len(raw1)), Checksum: checksum(raw1),
		Message: "m", CreateNamespace: true})
	require.NoError(t, err)
	ci, _ = e.srv.GetCommit(testRepo, "main")
	assert.Contains(t, ci.Paths, "_lakefs_tables/iceberg/new/ns/_namespace.json")
	assert.Contains(t, ci.Paths, "_lakefs_tables/iceberg/new/ns/t2/metadata.json")
}

func TestWriteTableRefusesUnrelatedChanges(t *testing.T) {
	e, l := newLocatorEnv(t)
	ctx := context.Background()
	ref := TableRef{Repository: testRepo, Reference: "main", Namespace: []string{"db"}, Table: "t"}
	loc, raw := metadataFile(t, e, "s3://bucket/w/db/t", 0)

	e.srv.PutObject(testRepo, "main", "someone/else.csv", []byte("work in progress"))
	before := e.srv.Calls("stageObject")
	_, err := l.WriteTable(ctx, ref, TableWrite{PhysicalAddress: loc, SizeBytes: int64(len(raw)), Message: "m"})
	ae := requireStatus(t, err, http.StatusConflict)
	assert.Contains(t, ae.Message, "someone/else.csv")
	assert.Equal(t, before, e.srv.Calls("stageObject"), "nothing staged")
	assert.Equal(t, []string{"someone/else.csv"}, e.srv.Staged(testRepo, "main"), "their work is untouched")
	assert.Equal(t, 0, e.srv.Calls("commit"))

	// The table's own pointer already staged (e.g. by a previous attempt) does not block.
	require.NoError(t, e.c.ResetObject(ctx, testRepo, "main", "someone/else.csv"))
	e.link(t, "main", "_lakefs_tables/iceberg/db/t/metadata.json", "s3://bucket/old", []byte("old"))
	_, err = l.WriteTable(ctx, ref, TableWrite{PhysicalAddress: loc, SizeBytes: int64(len(raw)), Message: "m"})
	require.NoError(t, err)
}

func TestWriteTableHookRefusalLeavesNothingStaged(t *testing.T) {
	e, l := newLocatorEnv(t)
	ctx := context.Background()
	var seen []lakefstest.HookEvent
	e.srv.SetPreCommitHook(func(ev lakefstest.HookEvent) error {
		seen = append(seen, ev)
		return errors.New("tables must be reviewed")
	})

	loc, raw := metadataFile(t, e, "s3://bucket/w/db/t", 0)
	ref := TableRef{Repository: testRepo, Reference: "main", Namespace: []string{"db"}, Table: "t"}
	_, err := l.WriteTable(ctx, ref, TableWrite{PhysicalAddress: loc, SizeBytes: int64(len(raw)), Message: "m", CreateNamespace: true})
	ae := requireStatus(t, err, http.StatusPreconditionFailed)
	assert.Contains(t, ae.Message, "tables must be reviewed")
	require.Len(t, seen, 1)
	assert.ElementsMatch(t, []string{"_lakefs_tables/iceberg/db/_namespace.json", "_lakefs_tables/iceberg/db/t/metadata.json"}, seen[0].Paths)
	assert.Empty(t, e.srv.Staged(testRepo, "main"))

	// Hadoop: the new version file and the hint are both unstaged.
	hr := TableRef{Repository: hadoopRepo, Reference: "main", Namespace: []string{"db"}, Table: "t"}
	_, err = l.WriteTable(ctx, hr, TableWrite{PhysicalAddress: loc, SizeBytes: int64(len(raw)), Message: "m"})
	requireStatus(t, err, http.StatusPreconditionFailed)
	assert.ElementsMatch(t, []string{"warehouse/db/t/metadata/v1.metadata.json", "warehouse/db/t/metadata/version-hint.text"}, seen[1].Paths)
	assert.Empty(t, e.srv.Staged(hadoopRepo, "main"))

	// A failure while staging (lakeFS down for the hint upload) also unstages.
	e.srv.SetPreCommitHook(nil)
	e.srv.FailNext("uploadObject", 4, http.StatusServiceUnavailable)
	_, err = l.WriteTable(ctx, hr, TableWrite{PhysicalAddress: loc, SizeBytes: int64(len(raw)), Message: "m"})
	requireStatus(t, err, http.StatusBadGateway)
	assert.Empty(t, e.srv.Staged(hadoopRepo, "main"))
}

func TestWriteTableHadoop(t *testing.T) {
	e, l := newLocatorEnv(t)
	ctx := context.Background()
	ref := TableRef{Repository: hadoopRepo, Reference: "main", Namespace: []string{"db"}, Table: "t"}
	dir := "warehouse/db/t/metadata/"

	loc1, raw1 := metadataFile(t, e, "s3://bucket/hrepo/warehouse/db/t", 0)
	_, err := l.WriteTable(ctx, ref, TableWrite{PhysicalAddress: loc1, SizeBytes: int64(len(raw1)), Message: "v1"})
	require.NoError(t, err)
	loc2, raw2 := metadataFile(t, e, "s3://bucket/hrepo/warehouse/db/t", 5)
	id, err := l.WriteTable(ctx, ref, TableWrite{PhysicalAddress: loc2, SizeBytes: int64(len(raw2)), Message: "v2"})
	require.NoError(t, err)

	ci, _ := e.srv.GetCommit(hadoopRepo, "main")
	assert.Equal(t, id, ci.ID)
	assert.Equal(t, loc1, ci.Paths[dir+"v1.metadata.json"])
	assert.Equal(t, loc2, ci.Paths[dir+"v2.metadata.json"])
	hint, err := e.c.GetObject(ctx, hadoopRepo, "main", dir+"version-hint.text", 100)
	require.NoError(t, err)
	assert.Equal(t, "2", string(hint))

	st, err := l.ReadTable(ctx, ref)
	require.NoError(t, err)
	assert.Equal(t, 2, st.Version)
	assert.Equal(t, loc2, st.MetadataLocation)

	// A gzip metadata file keeps the .gz naming so readers decompress it.
	gzLoc := "s3://bucket/hrepo/warehouse/db/t/metadata/00002-x.gz.metadata.json"
	zipped := gz(t, raw2)
	e.srv.PutBlock(gzLoc, zipped)
	_, err = l.WriteTable(ctx, ref, TableWrite{PhysicalAddress: gzLoc, SizeBytes: int64(len(zipped)), Message: "v3"})
	require.NoError(t, err)
	st, err = l.ReadTable(ctx, ref)
	require.NoError(t, err)
	assert.Equal(t, 3, st.Version)
	assert.True(t, strings.HasSuffix(st.Path, "v3.gz.metadata.json"), st.Path)

	// Another writer's v4 appeared without a hint update (a writer that stopped between the
	// two, as Iceberg's HadoopTableOperations may): by Iceberg's rule the table is at v4, so
	// a write expecting v3 is a conflict, and an unconditional one makes v5.
	e.srv.PutObject(hadoopRepo, "main", dir+"v4.metadata.json", raw1)
	e.srv.CommitBranch(hadoopRepo, "main", "racing writer")
	_, err = l.WriteTable(ctx, ref, TableWrite{PhysicalAddress: loc2, SizeBytes: int64(len(raw2)), Message: "v4", IfMetadataLocation: gzLoc})
	requireStatus(t, err, http.StatusConflict)
	assert.Empty(t, e.srv.Staged(hadoopRepo, "main"))
	_, err = l.WriteTable(ctx, ref, TableWrite{PhysicalAddress: loc2, SizeBytes: int64(len(raw2)), Message: "v5"})
	require.NoError(t, err)
	st, err = l.ReadTable(ctx, ref)
	require.NoError(t, err)
	assert.Equal(t, 5, st.Version)
	assert.Equal(t, loc2, st.MetadataLocation)
}

func TestWriteTableConditional(t *testing.T) {
	e, l := newLocatorEnv(t)
	ctx := context.Background()
	ref := TableRef{Repository: testRepo, Reference: "main", Namespace: []string{"db"}, Table: "t"}
	loc1, raw1 := metadataFile(t, e, "s3://bucket/w/db/t", 0)
	loc2, raw2 := metadataFile(t, e, "s3://bucket/w/db/t", 3)

	// Expecting a table that does not exist.
	_, err := l.WriteTable(ctx, ref, TableWrite{PhysicalAddress: loc1, SizeBytes: int64(len(raw1)), Message: "m", IfMetadataLocation: loc1})
	requireStatus(t, err, http.StatusConflict)
	_, err = l.WriteTable(ctx, ref, TableWrite{PhysicalAddress: loc1, SizeBytes: int64(len(raw1)), Message: "m"})
	require.NoError(t, err)

	_, err = l.WriteTable(ctx, ref, TableWrite{PhysicalAddress: loc2, SizeBytes: int64(len(raw2)), Message: "m", IfMetadataLocation: loc2})
	ae := requireStatus(t, err, http.StatusConflict)
	assert.Contains(t, ae.Message, loc1)
	assert.Empty(t, e.srv.Staged(testRepo, "main"))
	_, err = l.WriteTable(ctx, ref, TableWrite{PhysicalAddress: loc2, SizeBytes: int64(len(raw2)), Message: "m", IfMetadataLocation: loc1})
	require.NoError(t, err)
}
