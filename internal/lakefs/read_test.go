package lakefs

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/lakefs/lakefstest"
)

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

func TestReadTableHadoopLayout(t *testing.T) {
	e, l := newLocatorEnv(t)
	ctx := context.Background()
	dir := "warehouse/db/sub/t/metadata/"
	ref := TableRef{Repository: hadoopRepo, Reference: "main", Namespace: []string{"db", "sub"}, Table: "t"}
	link := func(name string, content []byte) string { return e.linkHadoop(t, dir, name, content) }
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

	// With a hint, Iceberg's HadoopTableOperations goes on from it while the next version
	// exists (v2: a writer stopped before updating the hint) and stops at the first missing
	// one (v3), whatever lies beyond (v10).
	_, err = e.c.UploadObject(ctx, hadoopRepo, "main", dir+"version-hint.text", []byte("1\n"), false)
	require.NoError(t, err)
	link("v10.gz.metadata.json", gz(t, md2))
	st, err = l.ReadTable(ctx, ref)
	require.NoError(t, err)
	assert.Equal(t, 2, st.Version)
	assert.Equal(t, v2, st.MetadataLocation)

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

// A branch read resolves once, stats once and reads once: the object read is checked
// against the stat by the answer's ETag, size and mtime instead of a second stat. An
// answer without an ETag falls back to that second stat. LocateTable reads no content.
func TestReadTableRoundTrips(t *testing.T) {
	e, l := newLocatorEnv(t)
	ctx := context.Background()
	loc, raw := metadataFile(t, e, "s3://bucket/w/db/t", 3)
	e.link(t, "main", "_lakefs_tables/iceberg/db/t/metadata.json", loc, raw)
	ref := TableRef{Repository: testRepo, Reference: "main", Namespace: []string{"db"}, Table: "t"}
	calls := func() [3]int {
		return [3]int{e.srv.Calls("getBranch"), e.srv.Calls("statObject"), e.srv.Calls("getObject")}
	}
	delta := func(before [3]int) [3]int {
		now := calls()
		return [3]int{now[0] - before[0], now[1] - before[1], now[2] - before[2]}
	}

	before := calls()
	located, err := l.LocateTable(ctx, ref)
	require.NoError(t, err)
	assert.Equal(t, [3]int{1, 1, 0}, delta(before), "locate: no content read")
	assert.Equal(t, loc, located.MetadataLocation)
	assert.Nil(t, located.Metadata)

	before = calls()
	st, err := l.ReadTable(ctx, ref)
	require.NoError(t, err)
	assert.Equal(t, [3]int{1, 1, 1}, delta(before), "read: no second stat")
	require.NotNil(t, st.CurrentSnapshotID)
	assert.Equal(t, int64(3), *st.CurrentSnapshotID)

	e.srv.TamperResponse("getObject", func(status int, h http.Header, body []byte) (int, []byte) {
		h.Del("ETag")
		return status, body
	})
	before = calls()
	st, err = l.ReadTable(ctx, ref)
	require.NoError(t, err)
	assert.Equal(t, [3]int{1, 2, 1}, delta(before), "no ETag: the read is confirmed by a second stat")
	assert.Equal(t, loc, st.MetadataLocation)
}

// A hint far behind the versions present (more than maxHintLag) is not walked version by
// version: the highest version present is read, with one listing.
func TestReadTableHadoopHintFarBehind(t *testing.T) {
	e, l := newLocatorEnv(t)
	ctx := context.Background()
	dir := "warehouse/db/far/metadata/"
	ref := TableRef{Repository: hadoopRepo, Reference: "main", Namespace: []string{"db"}, Table: "far"}
	md := marshal(t, newMetadata(t, "s3://bucket/hrepo/warehouse/db/far"))
	last := ""
	for n := 1; n <= maxHintLag+4; n++ {
		last = e.linkHadoop(t, dir, fmt.Sprintf("v%d.metadata.json", n), md)
	}
	_, err := e.c.UploadObject(ctx, hadoopRepo, "main", dir+"version-hint.text", []byte("1"), false)
	require.NoError(t, err)
	lists := e.srv.Calls("listObjects")
	st, err := l.ReadTable(ctx, ref)
	require.NoError(t, err)
	assert.Equal(t, maxHintLag+4, st.Version)
	assert.Equal(t, last, st.MetadataLocation)
	assert.Equal(t, maxHintLag+1, e.srv.Calls("listObjects")-lists, "maxHintLag versions looked up, then one listing of all")
}
