package remotes_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog"
	"github.com/iceberg-remotes/iceberg-remotes/internal/lakefs"
	"github.com/iceberg-remotes/iceberg-remotes/internal/remotes"
	"github.com/iceberg-remotes/iceberg-remotes/internal/requestctx"
)

// A push hands the remote the full provenance: source repository, reference, the commit it
// resolved to, the lakeFS-side table and the user who pushed; an automatic push (service
// identity) names the service instead of a user.
func TestPushRecordsProvenance(t *testing.T) {
	c := newCore(t, lakefs.LayoutPointer, nil)
	ctx, _ := requestctx.With(ctxT(t), "req-1")
	requestctx.SetUser(ctx, "alice")
	_, err := c.svc.Push(ctx, remotes.PushRequest{Catalog: testRemote, Source: c.ref("main"),
		Destination: c.remoteID(), CreateNamespace: true})
	require.NoError(t, err)
	commit := c.record().ResolvedCommit
	require.NotEmpty(t, commit)
	assert.Equal(t, catalog.Provenance{Repository: testRepo, Reference: "main", Commit: commit,
		Table: "accounting.events", PushedBy: "alice"}, c.cat.Provenance(c.remoteID()))

	// The service re-points it on its own (as automatic push does): pushed_by is the service.
	c.link("main", c.version(2, nil, 2), 2)
	head, err := c.client.Commit(ctxT(t), testRepo, "main", "v2", nil)
	require.NoError(t, err)
	ctx, _ = requestctx.With(remotes.WithServiceIdentity(ctxT(t)), "req-2")
	requestctx.SetUser(ctx, "lakefs-hook")
	_, err = c.svc.Push(ctx, remotes.PushRequest{Catalog: testRemote, Source: c.ref(head),
		Destination: c.remoteID(), ForceUpdate: true})
	require.NoError(t, err)
	assert.Equal(t, catalog.Provenance{Repository: testRepo, Reference: head, Commit: head,
		Table: "accounting.events", PushedBy: remotes.ServiceIdentity}, c.cat.Provenance(c.remoteID()))
}
