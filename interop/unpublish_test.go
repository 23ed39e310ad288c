package interop

import (
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// unpublish calls POST /iceberg/remotes/{catalog}/unpublish (our extension).
func (e *env) unpublish(table string, force bool, a auth) sdkResult {
	e.t.Helper()
	return e.extension("/unpublish", map[string]any{"source": map[string]any{"namespace": remoteNS, "table": table}, "force": force}, a)
}

// remoteTables lists the table names of a namespace through the remote catalog (pyiceberg).
func (e *env) remoteTables(ns []string) []string {
	out := e.py.Call(e.t, map[string]any{"op": "list_tables", "catalog": remoteCatalog, "namespace": ns})
	var names []string
	for _, n := range out["tables"].([]any) {
		names = append(names, n.(string))
	}
	return names
}

// scUnpublish: an engine commits through the remote (new data and metadata files in S3);
// un-publish refuses while that commit is not pulled, then, after the pull, removes the
// table from the remote's listing while every object in the bucket stays byte for byte
// (the whole bucket listed before and after) and the last metadata still scans; the record
// is retired and audited, and a later push registers the table again.
func scUnpublish(t *testing.T, e *env) string {
	branch, _ := pushed(t, e, "retired", jwtAuth)
	e.remoteAppend(remoteNS, "retired", 2)
	n, m2 := e.remoteScan(remoteNS, "retired")
	require.Equal(t, 5, n)

	r := e.unpublish("retired", false, basicAuth)
	assert.Equal(t, 409, r.Status, r.Body)
	assert.Contains(t, r.Body, "pull it first")
	require.Contains(t, e.remoteTables(remoteNS), "retired", "a refused un-publish changes nothing")

	r = e.pull(pushArgs{ref: branch, table: "retired", auth: basicAuth}, localNS, remoteNS)
	require.Equal(t, 204, r.Status, r.Body)

	before := e.s3.List(t)
	files := 0
	for k := range before {
		if strings.HasSuffix(k, ".metadata.json") || strings.HasSuffix(k, ".parquet") || strings.HasSuffix(k, ".avro") {
			files++
		}
	}
	require.Positive(t, files, "the bucket holds the tables' metadata and data files")
	r = e.unpublish("retired", false, jwtAuth)
	require.Equal(t, 204, r.Status, r.Body)
	assert.NotContains(t, e.remoteTables(remoteNS), "retired", "the remote no longer lists the table")
	after := e.s3.List(t)
	for k, v := range before {
		assert.Equal(t, v, after[k], "object %s deleted or changed by the un-publish", k)
	}
	assert.Equal(t, 5, e.scanLocation(m2), "the remote's last metadata and its data files still read")
	st := e.synced()["retired"]
	assert.Equal(t, "unpublished", st.Status)
	ops := e.operations("retired")
	require.NotEmpty(t, ops)
	assert.Equal(t, "unpublish", ops[0].Operation)
	assert.Equal(t, "succeeded", ops[0].Outcome)

	loc := e.lakeFSLocation(branch, localNS, "retired")
	r = e.push(pushArgs{ref: branch, table: "retired", auth: basicAuth}, localNS, remoteNS)
	require.Equal(t, 204, r.Status, r.Body)
	assert.True(t, slices.Contains(e.remoteTables(remoteNS), "retired"), "a later push registers the table again")
	assertRemote(t, e, "retired", loc, 5) // pulled: lakeFS has the remote's commit
	assert.Equal(t, "in_sync", e.synced()["retired"].State)
	return ""
}
