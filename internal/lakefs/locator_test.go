package lakefs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/config"
	"github.com/iceberg-remotes/iceberg-remotes/internal/lakefs/lakefstest"
)

const hadoopRepo = "hrepo"

// layouts: testRepo uses the default pointer layout with a custom prefix, hadoopRepo the
// hadoop layout under a warehouse prefix.
func testLayouts() func(string) config.TablesLayout {
	cfg := &config.Config{Tables: config.Tables{
		Layout: "pointer", PointerPrefix: "_lakefs_tables/iceberg",
		Repositories: map[string]config.TablesLayout{hadoopRepo: {Layout: "hadoop", WarehousePrefix: "warehouse"}},
	}}
	return cfg.LayoutFor
}

func newLocatorEnv(t *testing.T) (*env, *Locator) {
	e := newEnv(t)
	e.srv.CreateRepository(hadoopRepo, "s3://bucket/hrepo", "main")
	return e, NewLocator(e.c, testLayouts())
}

// metadataFile writes a real metadata file (iceberg-go) to the object store and returns
// its location, content and metadata.
func metadataFile(t *testing.T, e *env, tableLoc string, snapshot int64) (string, []byte) {
	md := newMetadata(t, tableLoc)
	if snapshot != 0 {
		md = withSnapshot(t, md, tableLoc+"/metadata/00000-prev.metadata.json", snapshot)
	}
	raw := marshal(t, md)
	loc := fmt.Sprintf("%s/metadata/00001-%s.metadata.json", tableLoc, uuid.NewString())
	e.srv.PutBlock(loc, raw)
	return loc, raw
}

func TestReadTablePointerLayout(t *testing.T) {
	e, l := newLocatorEnv(t)
	ctx := context.Background()
	const tableLoc = "s3://bucket/warehouse/a/b/t"
	loc, raw := metadataFile(t, e, tableLoc, 42)
	ptr := "_lakefs_tables/iceberg/a/b/t/metadata.json"
	_, err := e.c.StageObject(ctx, testRepo, "main", ptr, loc, int64(len(raw)), checksum(raw), "application/json")
	require.NoError(t, err)

	ref := TableRef{Repository: testRepo, Reference: "main", Namespace: []string{"a", "b"}, Table: "t"}
	head := e.srv.Staged(testRepo, "main")
	require.Equal(t, []string{ptr}, head)

	st, err := l.ReadTable(ctx, ref)
	require.NoError(t, err, "a branch read sees staged changes")
	mainCommit, _ := e.srv.GetCommit(testRepo, "main")
	assert.Equal(t, LayoutPointer, st.Layout)
	assert.Equal(t, ptr, st.Path)
	assert.Equal(t, loc, st.MetadataLocation)
	assert.Equal(t, mainCommit.ID, st.ResolvedCommit)
	assert.True(t, st.IsBranch)
	assert.Equal(t, int64(len(raw)), st.SizeBytes)
	assert.Equal(t, checksum(raw), st.Checksum)
	require.NotNil(t, st.CurrentSnapshotID)
	assert.Equal(t, int64(42), *st.CurrentSnapshotID)
	assert.Equal(t, 2, st.FormatVersion)
	assert.Equal(t, st.Metadata.TableUUID().String(), st.TableUUID)
	assert.Equal(t, []string{tableLoc + "/metadata/00000-prev.metadata.json"}, st.MetadataLog)
	assert.Equal(t, 0, st.Version)

	// Committed and tagged: readable at the tag and the commit id, which are immutable.
	c1 := e.srv.CommitBranch(testRepo, "main", "add table")
	e.srv.CreateTag(testRepo, "v1", c1)
	for _, r := range []string{"v1", c1} {
		ref.Reference = r
		st, err := l.ReadTable(ctx, ref)
		require.NoError(t, err, r)
		assert.Equal(t, c1, st.ResolvedCommit)
		assert.False(t, st.IsBranch)
		assert.Equal(t, loc, st.MetadataLocation)
	}

	// Namespace marker.
	ok, err := l.NamespaceExists(ctx, testRepo, "main", []string{"a", "b"})
	require.NoError(t, err)
	assert.False(t, ok)
	p, err := l.CreateNamespace(ctx, testRepo, "main", []string{"a", "b"})
	require.NoError(t, err)
	assert.Equal(t, "_lakefs_tables/iceberg/a/b/_namespace.json", p)
	ok, err = l.NamespaceExists(ctx, testRepo, "main", []string{"a", "b"})
	require.NoError(t, err)
	assert.True(t, ok)
	p, err = l.CreateNamespace(ctx, testRepo, "main", []string{"a", "b"})
	require.NoError(t, err)
	assert.Empty(t, p, "already there: nothing staged")
}

func TestReadTableNotFoundAndInvalid(t *testing.T) {
	e, l := newLocatorEnv(t)
	ctx := context.Background()
	ref := TableRef{Repository: testRepo, Reference: "main", Namespace: []string{"db"}, Table: "missing"}

	_, err := l.ReadTable(ctx, ref)
	ae := requireStatus(t, err, http.StatusNotFound)
	assert.Contains(t, ae.Message, "table db.missing not found")

	_, err = l.ReadTable(ctx, TableRef{Repository: "norepo", Reference: "main", Namespace: []string{"db"}, Table: "t"})
	ae = requireStatus(t, err, http.StatusNotFound)
	assert.Contains(t, ae.Message, "repository not found")

	ref.Reference = "no-such-ref"
	_, err = l.ReadTable(ctx, ref)
	ae = requireStatus(t, err, http.StatusNotFound)
	assert.Contains(t, ae.Message, "no-such-ref")

	// Not Iceberg metadata: garbage, JSON of another shape, truncated gzip.
	notIceberg, err := json.Marshal(map[string]any{"format-version": 2, "hello": "world"})
	require.NoError(t, err)
	md := marshal(t, newMetadata(t, "s3://bucket/x"))
	for name, content := range map[string][]byte{
		"garbage":    []byte("this is not json"),
		"other-json": notIceberg,
		"bad-gzip":   gz(t, md)[:20],
	} {
		e.link(t, "main", "_lakefs_tables/iceberg/db/"+name+"/metadata.json", "s3://bucket/corrupt/"+name, content)
		_, err := l.ReadTable(ctx, TableRef{Repository: testRepo, Reference: "main", Namespace: []string{"db"}, Table: name})
		ae := requireStatus(t, err, http.StatusBadRequest)
		assert.Contains(t, ae.Message, "is not Iceberg table metadata", name)
	}

	// A gzip-compressed metadata file behind a pointer is decompressed.
	e.link(t, "main", "_lakefs_tables/iceberg/db/zipped/metadata.json", "s3://bucket/z/00001-x.gz.metadata.json", gz(t, md))
	st, err := l.ReadTable(ctx, TableRef{Repository: testRepo, Reference: "main", Namespace: []string{"db"}, Table: "zipped"})
	require.NoError(t, err)
	assert.Nil(t, st.CurrentSnapshotID)
}

func TestNameEscaping(t *testing.T) {
	e, l := newLocatorEnv(t)
	ctx := context.Background()

	for _, bad := range []TableRef{
		{Namespace: []string{".."}, Table: "t"},
		{Namespace: []string{"."}, Table: "t"},
		{Namespace: []string{""}, Table: "t"},
		{Namespace: []string{"db"}, Table: ".."},
		{Namespace: []string{"db"}, Table: ""},
		{Namespace: nil, Table: "t"},
	} {
		bad.Repository, bad.Reference = testRepo, "main"
		_, err := l.ReadTable(ctx, bad)
		requireStatus(t, err, http.StatusBadRequest)
		_, err = l.WriteTable(ctx, bad, TableWrite{PhysicalAddress: "s3://b/k", SizeBytes: 1})
		requireStatus(t, err, http.StatusBadRequest)
	}

	// Names with "/" or ".." inside stay one component inside their folder.
	for _, c := range []struct {
		ref  TableRef
		want string
	}{
		{TableRef{Namespace: []string{"../x"}, Table: "t"}, "_lakefs_tables/iceberg/..%2Fx/t/metadata.json"},
		{TableRef{Namespace: []string{"a/b"}, Table: "t"}, "_lakefs_tables/iceberg/a%2Fb/t/metadata.json"},
		{TableRef{Namespace: []string{"db"}, Table: "../../other/t"}, "_lakefs_tables/iceberg/db/..%2F..%2Fother%2Ft/metadata.json"},
		{TableRef{Namespace: []string{"db"}, Table: "%2F"}, "_lakefs_tables/iceberg/db/%252F/metadata.json"},
	} {
		c.ref.Repository, c.ref.Reference = testRepo, "main"
		p, err := l.paths(c.ref)
		require.NoError(t, err)
		assert.Equal(t, c.want, p.pointer)
	}
	hp, err := l.paths(TableRef{Repository: hadoopRepo, Reference: "main", Namespace: []string{"a/b", "c"}, Table: "t/.."})
	require.NoError(t, err)
	assert.Equal(t, "warehouse/a%2Fb/c/t%2F../metadata/", hp.metadataDir)

	// Namespace "a/b" is not namespace ["a","b"]: a table in one is not found in the other.
	loc, raw := metadataFile(t, e, "s3://bucket/w/ab", 0)
	e.link(t, "main", "_lakefs_tables/iceberg/a/b/t/metadata.json", loc, raw)
	_, err = l.ReadTable(ctx, TableRef{Repository: testRepo, Reference: "main", Namespace: []string{"a/b"}, Table: "t"})
	requireStatus(t, err, http.StatusNotFound)
	_, err = l.ReadTable(ctx, TableRef{Repository: testRepo, Reference: "main", Namespace: []string{"a", "b"}, Table: "t"})
	require.NoError(t, err)
}

func TestReadTableHadoopLayout(t *testing.T) {
	e, l := newLocatorEnv(t)
	ctx := context.Background()
	dir := "warehouse/db/sub/t/metadata/"
	ref := TableRef{Repository: hadoopRepo, Reference: "main", Namespace: []string{"db", "sub"}, Table: "t"}
	link := func(name string, content []byte) string {
		addr := "s3://bucket/hrepo/" + dir + name
		e.srv.PutBlock(addr, content)
		_, err := e.c.StageObject(ctx, hadoopRepo, "main", dir+name, addr, int64(len(content)), checksum(content), "")
		require.NoError(t, err)
		return addr
	}
	md1 := marshal(t, newMetadata(t, "s3://bucket/hrepo/warehouse/db/sub/t"))
	link("v1.metadata.json", md1)
	md2 := marshal(t, withSnapshot(t, newMetadata(t, "s3://bucket/hrepo/warehouse/db/sub/t"), "s3://bucket/hrepo/"+dir+"v1.metadata.json", 7))
	v2 := link("v2.metadata.json", md2)

	// No hint: the highest version wins.
	st, err := l.ReadTable(ctx, ref)
	require.NoError(t, err)
	assert.Equal(t, 2, st.Version)
	assert.Equal(t, dir+"v2.metadata.json", st.Path)
	assert.Equal(t, v2, st.MetadataLocation)
	require.NotNil(t, st.CurrentSnapshotID)
	assert.Equal(t, int64(7), *st.CurrentSnapshotID)
	assert.Equal(t, LayoutHadoop, st.Layout)

	// The hint decides when present (even if a higher file exists, e.g. an aborted commit).
	_, err = e.c.UploadObject(ctx, hadoopRepo, "main", dir+"version-hint.text", []byte("1\n"), false)
	require.NoError(t, err)
	link("v10.gz.metadata.json", gz(t, md2))
	st, err = l.ReadTable(ctx, ref)
	require.NoError(t, err)
	assert.Equal(t, 1, st.Version)
	assert.Nil(t, st.CurrentSnapshotID)

	// A hint naming a missing file falls back to the highest version: v10 (gzip, decompressed;
	// numeric, not lexical, order).
	_, err = e.c.UploadObject(ctx, hadoopRepo, "main", dir+"version-hint.text", []byte("5"), false)
	require.NoError(t, err)
	st, err = l.ReadTable(ctx, ref)
	require.NoError(t, err)
	assert.Equal(t, 10, st.Version)
	assert.Equal(t, dir+"v10.gz.metadata.json", st.Path)
	require.NotNil(t, st.CurrentSnapshotID)

	// The hint names a gzip version.
	_, err = e.c.UploadObject(ctx, hadoopRepo, "main", dir+"version-hint.text", []byte("10"), false)
	require.NoError(t, err)
	st, err = l.ReadTable(ctx, ref)
	require.NoError(t, err)
	assert.Equal(t, 10, st.Version)

	// Missing hadoop table.
	_, err = l.ReadTable(ctx, TableRef{Repository: hadoopRepo, Reference: "main", Namespace: []string{"db"}, Table: "none"})
	ae := requireStatus(t, err, http.StatusNotFound)
	assert.Contains(t, ae.Message, "table db.none not found")
}

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

	// Another writer's v4 appeared without a hint update: the next version is computed from
	// the highest file only when the hint is missing, so here v4 exists -> conflict.
	e.srv.PutObject(hadoopRepo, "main", dir+"v4.metadata.json", raw1)
	e.srv.CommitBranch(hadoopRepo, "main", "racing writer")
	_, err = l.WriteTable(ctx, ref, TableWrite{PhysicalAddress: loc2, SizeBytes: int64(len(raw2)), Message: "v4"})
	requireStatus(t, err, http.StatusConflict)
	assert.Empty(t, e.srv.Staged(hadoopRepo, "main"))
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

func TestReadTableRetriesWhenRepointedDuringRead(t *testing.T) {
	srv := lakefstest.NewServer(t, lakefstest.Options{})
	srv.AddUser("alice", aliceKey, aliceSecret, lakefstest.FullAccess)
	srv.CreateRepository(testRepo, "s3://bucket/repo", "main")
	e := &env{srv: srv}
	loc1, raw1 := metadataFile(t, e, "s3://bucket/w/db/t", 1)
	_, raw2 := metadataFile(t, e, "s3://bucket/w/db/t", 2)
	ptr := "_lakefs_tables/iceberg/db/t/metadata.json"

	// The first content read of the pointer races with another writer re-pointing it.
	var once sync.Once
	var newLoc string
	creds := func(ctx context.Context, req *http.Request) error {
		if req.Method == http.MethodGet && strings.HasSuffix(req.URL.Path, "/objects") && req.URL.Query().Get("path") == ptr {
			once.Do(func() { newLoc = srv.PutObject(testRepo, "main", ptr, raw2) })
		}
		return ServiceCredentials(aliceKey, aliceSecret)(ctx, req)
	}
	e.c = newClient(t, srv, creds)
	e.link(t, "main", ptr, loc1, raw1)
	l := NewLocator(e.c, testLayouts())

	st, err := l.ReadTable(context.Background(), TableRef{Repository: testRepo, Reference: "main", Namespace: []string{"db"}, Table: "t"})
	require.NoError(t, err)
	assert.Equal(t, newLoc, st.MetadataLocation, "location and content agree")
	require.NotNil(t, st.CurrentSnapshotID)
	assert.Equal(t, int64(2), *st.CurrentSnapshotID)
	assert.Equal(t, int64(len(raw2)), st.SizeBytes)
}
