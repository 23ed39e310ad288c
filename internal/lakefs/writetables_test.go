package lakefs

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/lakefs/lakefstest"
)

// WriteTables links several tables (both layouts' rules, a shared new namespace marker
// staged once) and commits them in one commit with the given message and metadata; a
// refused commit leaves nothing staged, and writes on two branches are refused before
// anything is staged.
func TestWriteTablesOneCommit(t *testing.T) {
	e, l := newLocatorEnv(t)
	ctx := context.Background()
	var writes []TableWriteAt
	for _, name := range []string{"a", "b", "c"} {
		loc, raw := metadataFile(t, e, "s3://bucket/w/db/"+name, 7)
		writes = append(writes, TableWriteAt{
			Ref:   TableRef{Repository: testRepo, Reference: "main", Namespace: []string{"fresh"}, Table: name},
			Write: TableWrite{PhysicalAddress: loc, SizeBytes: int64(len(raw)), Checksum: checksum(raw), CreateNamespace: true},
		})
	}
	commits := e.srv.Calls("commit")

	e.srv.SetPreCommitHook(func(lakefstest.HookEvent) error { return errors.New("not now") })
	_, err := l.WriteTables(ctx, writes, "three tables", nil)
	requireStatus(t, err, http.StatusPreconditionFailed)
	assert.Empty(t, e.srv.Staged(testRepo, "main"), "a refused commit leaves nothing staged")
	e.srv.SetPreCommitHook(nil)

	other := writes[1]
	other.Ref.Reference = "dev"
	_, err = l.WriteTables(ctx, []TableWriteAt{writes[0], other}, "m", nil)
	requireStatus(t, err, http.StatusBadRequest)

	id, err := l.WriteTables(ctx, writes, "three tables", map[string]string{"k": "v"})
	require.NoError(t, err)
	assert.Equal(t, commits+2, e.srv.Calls("commit"), "the refused commit and this one")
	ci, _ := e.srv.GetCommit(testRepo, "main")
	assert.Equal(t, id, ci.ID)
	assert.Equal(t, "three tables", ci.Message)
	assert.Equal(t, map[string]string{"k": "v"}, ci.Metadata)
	assert.Contains(t, ci.Paths, "_lakefs_tables/iceberg/fresh/_namespace.json")
	for _, w := range writes {
		assert.Equal(t, w.Write.PhysicalAddress, ci.Paths["_lakefs_tables/iceberg/fresh/"+w.Ref.Table+"/metadata.json"])
	}
	assert.Empty(t, e.srv.Staged(testRepo, "main"))

	// Two writes of one table in one commit cannot both win.
	_, err = l.WriteTables(ctx, []TableWriteAt{writes[0], writes[0]}, "m", nil)
	requireStatus(t, err, http.StatusBadRequest)
	assert.Empty(t, e.srv.Staged(testRepo, "main"))
}
