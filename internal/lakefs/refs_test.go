package lakefs

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/config"
)

// ProtectCommit creates a hidden branch at the commit, recognises its own earlier success
// (so it may be repeated after a lost answer), and refuses a same-named branch elsewhere;
// DeleteBranch treats a branch already gone as done. All through the contract-checked
// stand-in.
func TestProtectCommitAndDeleteBranch(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	head, _, _ := e.srv.Branch(testRepo, "main")

	require.NoError(t, e.c.ProtectCommit(ctx, testRepo, "iceberg-remotes-x-1", head))
	got, hidden, ok := e.srv.Branch(testRepo, "iceberg-remotes-x-1")
	require.True(t, ok)
	assert.Equal(t, head, got)
	assert.True(t, hidden)

	before := e.srv.Calls("getBranch")
	require.NoError(t, e.c.ProtectCommit(ctx, testRepo, "iceberg-remotes-x-1", head), "a repeated call succeeds")
	assert.Equal(t, 1, e.srv.Calls("getBranch")-before, "after the 409 it checks where the branch points")

	_, err := e.c.UploadObject(ctx, testRepo, "main", "f", []byte("1"), false)
	require.NoError(t, err)
	other, err := e.c.Commit(ctx, testRepo, "main", "another", nil)
	require.NoError(t, err)
	requireStatus(t, e.c.ProtectCommit(ctx, testRepo, "iceberg-remotes-x-1", other), http.StatusConflict)

	e.srv.FailNext("createBranch", 1, http.StatusBadGateway)
	require.NoError(t, e.c.ProtectCommit(ctx, testRepo, "iceberg-remotes-x-2", other), "an ambiguous failure is retried")

	bob := newClient(t, e.srv, ServiceCredentials(bobKey, bobSecret))
	requireStatus(t, bob.ProtectCommit(ctx, testRepo, "iceberg-remotes-x-3", other), http.StatusUnauthorized)
	requireStatus(t, bob.DeleteBranch(ctx, testRepo, "iceberg-remotes-x-1"), http.StatusUnauthorized)

	require.NoError(t, e.c.DeleteBranch(ctx, testRepo, "iceberg-remotes-x-1"))
	_, _, ok = e.srv.Branch(testRepo, "iceberg-remotes-x-1")
	assert.False(t, ok)
	require.NoError(t, e.c.DeleteBranch(ctx, testRepo, "iceberg-remotes-x-1"), "already gone is done")
	requireStatus(t, e.c.DeleteBranch(ctx, testRepo, "main"), http.StatusUnauthorized) // lakeFS: 403
}

// CommittedLocation reads the table in a commit, so that a branch read can be told
// committed from staged.
func TestCommittedLocation(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	l := NewLocator(e.c, func(string) config.TablesLayout {
		return config.TablesLayout{Layout: LayoutPointer, PointerPrefix: "_lakefs_tables/iceberg"}
	})
	ref := TableRef{Repository: testRepo, Reference: "main", Namespace: []string{"ns"}, Table: "t"}
	head, _, _ := e.srv.Branch(testRepo, "main")
	loc, err := l.CommittedLocation(ctx, ref, head)
	require.NoError(t, err)
	assert.Empty(t, loc, "absent in the commit")

	addr := e.srv.PutObject(testRepo, "main", "_lakefs_tables/iceberg/ns/t/metadata.json", []byte("{}"))
	loc, err = l.CommittedLocation(ctx, ref, head)
	require.NoError(t, err)
	assert.Empty(t, loc, "staged only")
	commit := e.srv.CommitBranch(testRepo, "main", "table")
	loc, err = l.CommittedLocation(ctx, ref, commit)
	require.NoError(t, err)
	assert.Equal(t, addr, loc)
}
