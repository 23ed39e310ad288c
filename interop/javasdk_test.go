package interop

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/interop/peers"
)

// The official lakeFS Java SDK is a client of the service too: on the SQLite remote of the
// scenario suite, a push with basic auth, a refused re-push (lakeFS's error body) and a pull
// with a lakeFS JWT go through it, and the pulled state is the one pyiceberg committed
// through the remote catalog.
func TestJavaSDKPushAndPull(t *testing.T) {
	e := newEnv(t, remoteKind{name: "sql-sqlite", start: startSQLite}, peers.Venv(t))
	const table = "javasdk"
	branch, loc := prepare(e, table)
	base := e.api.URL + "/api/v1"
	basic := peers.SDKAuth{AccessKeyID: "AKIAALICE", SecretAccessKey: "alice-secret"}
	bearer := peers.SDKAuth{Token: e.token}

	push, err := json.Marshal(map[string]any{
		"source":           map[string]any{"repository_id": repoID, "reference_id": branch, "namespace": localNS, "table": table},
		"destination":      map[string]any{"namespace": remoteNS, "table": table},
		"create_namespace": true,
	})
	require.NoError(t, err)
	status, body := peers.RunJavaSDK(t, base, basic, "push", remoteID, push)
	require.Equal(t, http.StatusNoContent, status, body)
	assertRemote(t, e, table, loc, 3)

	// An external engine appends through the remote catalog.
	e.remoteAppend(remoteNS, table, 2)
	rows, remoteLoc := e.remoteScan(remoteNS, table)
	require.Equal(t, 5, rows)

	// The same push again is refused now that the remote moved on, with lakeFS's error body.
	status, body = peers.RunJavaSDK(t, base, bearer, "push", remoteID, push)
	assert.Equal(t, http.StatusConflict, status)
	var msg struct{ Message string }
	require.NoError(t, json.Unmarshal([]byte(body), &msg), body)
	assert.NotEmpty(t, msg.Message)

	pull, err := json.Marshal(map[string]any{
		"source":      map[string]any{"namespace": remoteNS, "table": table},
		"destination": map[string]any{"repository_id": repoID, "reference_id": branch, "namespace": localNS, "table": table},
	})
	require.NoError(t, err)
	status, body = peers.RunJavaSDK(t, base, bearer, "pull", remoteID, pull)
	require.Equal(t, http.StatusNoContent, status, body)

	got := e.lakeFSLocation(branch, localNS, table)
	assert.Equal(t, remoteLoc, got, "the branch now points at the writer's metadata")
	assert.Equal(t, 5, e.scanLocation(got))
	assert.Equal(t, loc, e.lakeFSLocation("main", localNS, table), "main is untouched")
}
