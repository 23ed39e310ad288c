package e2e

import (
	"context"
	"strings"
	"testing"

	icecatalog "github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/catalog/rest"
	"github.com/apache/iceberg-go/table"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog/restcat/resttest"
	"github.com/iceberg-remotes/iceberg-remotes/internal/config"
)

// restUnregister is the REST remote on a server that advertises the spec's unregisterTable.
func restUnregister() remoteKind {
	return remoteKind{name: "rest-unregister", setup: func(t *testing.T, dir string) (config.Remote, icecatalog.Catalog) {
		s := resttest.New(t, resttest.Options{Token: "tok", Unregister: true})
		rc := config.Remote{ID: remoteID, Type: "rest", REST: config.RESTRemote{URI: s.URL, Token: "tok"}}
		w, err := rest.NewCatalog(context.Background(), "writer", s.URL, rest.WithOAuthToken("tok"))
		require.NoError(t, err)
		t.Cleanup(func() { _ = w.Close() })
		return rc, w
	}}
}

func (e *env) unpublish(force, dryRun bool) resp {
	path := "/api/v1/iceberg/remotes/" + remoteID + "/unpublish"
	if dryRun {
		path += "?dry_run=true"
	}
	return e.call("POST", path, map[string]any{
		"source": map[string]any{"namespace": remoteNS, "table": tableName},
		"force":  force,
	})
}

// remoteLists reports whether the remote's own table listing (through the external
// writer's catalog client) names the table.
func (e *env) remoteLists() bool {
	e.t.Helper()
	for id, err := range e.writer.ListTables(ctx(e.t), table.Identifier(remoteNS)) {
		require.NoError(e.t, err)
		if strings.Join(id, ".") == strings.Join(append(append([]string{}, remoteNS...), tableName), ".") {
			return true
		}
	}
	return false
}

// TestUnpublish on every remote type: after an external writer committed (data files in
// the remote's warehouse) and the commit was pulled, un-publish removes the table from the
// remote's listing, and every metadata and data file is still in the object store (the
// whole store listed before and after); the record is retired, audited, and a later push
// registers the table again.
func TestUnpublish(t *testing.T) {
	var kinds []remoteKind
	kinds = append(kinds, sqlSQLite(), sqlPostgres(), restRemote(), restUnregister(), glueRemote(nil))
	for _, kind := range kinds {
		t.Run(kind.name, func(t *testing.T) {
			e := newEnv(t, kind, "pointer")
			r := e.push(pushOpts{createNS: true})
			require.Equal(t, 204, r.Status, r.Body)
			e.appendRemote(2)

			r = e.unpublish(false, false)
			assertError(t, r, 409, "pull it first")
			assert.True(t, e.remoteLists(), "a refused un-publish changes nothing")

			r = e.pull(pullOpts{})
			require.Equal(t, 204, r.Status, r.Body)
			r = e.unpublish(false, true)
			require.Equal(t, 200, r.Status, r.Body)
			p := decodePlan(t, r)
			assert.Equal(t, 204, p.Status, r.Body)
			assert.True(t, e.remoteLists(), "a dry run changes nothing")

			before := e.files()
			r = e.unpublish(false, false)
			require.Equal(t, 204, r.Status, r.Body)
			assert.Empty(t, r.Body)
			assert.False(t, e.remoteLists(), "the remote no longer lists the table")
			e.requirePreserved(before)
			assert.Equal(t, before, e.files(), "no file was added or removed")

			st := e.syncedTables()[tableName]
			assert.Equal(t, "unpublished", st.Status)
			assert.Equal(t, "missing", st.State)
			ops := e.operations()
			assert.Equal(t, "unpublish", ops[0].Operation)
			assert.Equal(t, "succeeded", ops[0].Outcome)
			assert.Equal(t, "alice", ops[0].User)

			assertError(t, e.pull(pullOpts{}), 404, "un-published")
			r = e.push(pushOpts{})
			require.Equal(t, 204, r.Status, r.Body)
			assert.True(t, e.remoteLists(), "a later push registers the table again")
			assert.Equal(t, "synced", e.syncedTables()[tableName].Status)
		})
	}
}
