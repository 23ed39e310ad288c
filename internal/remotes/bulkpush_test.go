package remotes_test

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/apperr"
	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog"
	"github.com/iceberg-remotes/iceberg-remotes/internal/lakefs"
	"github.com/iceberg-remotes/iceberg-remotes/internal/remotes"
)

func count(calls []string, name string) int {
	n := 0
	for _, c := range calls {
		if c == name {
			n++
		}
	}
	return n
}

func (c *core) bulk(req remotes.BulkPushRequest) ([]remotes.BulkResult, remotes.BulkTotals, error) {
	req.Catalog, req.Repository, req.Reference = testRemote, testRepo, "main"
	var (
		mu  sync.Mutex
		out []remotes.BulkResult
	)
	totals, err := c.svc.BulkPush(ctxT(c.t), req, func(r remotes.BulkResult) {
		mu.Lock()
		defer mu.Unlock()
		out = append(out, r)
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Destination.String() < out[j].Destination.String() })
	return out, totals, err
}

// A bulk push creates each namespace once, reads the remote with its batch read, and on a
// second run makes no per-table remote call and reads no metadata.
func TestBulkPushBatches(t *testing.T) {
	c := newCore(t, lakefs.LayoutPointer, nil)
	// Six more tables in two namespaces, each at its own metadata file.
	for i := 0; i < 6; i++ {
		loc := c.version(i+2, nil, 1)
		c.linkAt("main", []string{fmt.Sprintf("n%d", i%2)}, fmt.Sprintf("t%d", i), loc)
	}
	_, err := c.client.Commit(ctxT(t), testRepo, "main", "six tables", nil) // pushes publish commits (GC safety)
	require.NoError(t, err)
	req := remotes.BulkPushRequest{Namespace: "n*", DestinationNamespace: "r_{namespace}", CreateNamespace: true, Parallelism: 3}
	res, totals, err := c.bulk(req)
	require.NoError(t, err)
	assert.Equal(t, remotes.BulkTotals{Total: 6, Changed: 6, Status: http.StatusOK}, totals)
	for _, r := range res {
		assert.Equal(t, remotes.OutcomePushed, r.Outcome)
		assert.Equal(t, "r_"+r.Source.Namespace[0], r.Destination.Namespace[0])
	}
	calls := c.cat.Calls()
	assert.Equal(t, 2, count(calls, "CreateNamespace"), "once per namespace: %v", calls)
	assert.Equal(t, 2, count(calls, "LoadTables"), "one batch read per namespace")
	assert.Zero(t, count(calls, "LoadTable"), "the batch read is trusted for tables nobody pushed since")
	assert.Equal(t, 6, count(calls, "RegisterTable"))

	n, reads := len(c.cat.Calls()), c.lake.Calls("getObject")
	_, totals, err = c.bulk(req)
	require.NoError(t, err)
	assert.Equal(t, remotes.BulkTotals{Total: 6, Unchanged: 6, Status: http.StatusOK}, totals)
	assert.Equal(t, []string{"LoadTables", "LoadTables"}, c.cat.Calls()[n:], "nothing per table")
	assert.Equal(t, reads, c.lake.Calls("getObject"), "no metadata read")

	// The remote moved for one table after the batch read would see it: a table whose
	// record disagrees with the batch read is loaded under its lock.
	c.cat.SetTable(catalog.Ident{Namespace: []string{"r_n0"}, Table: "t0"}, c.version(9, nil, 2))
	res, totals, err = c.bulk(req)
	require.NoError(t, err)
	assert.Equal(t, 1, totals.Failed)
	assert.Equal(t, http.StatusConflict, totals.Status)
	assert.Equal(t, http.StatusConflict, res[0].Status)
	assert.Contains(t, res[0].Message, "force_update")

	// Refused before any change.
	n = len(c.cat.Calls())
	for _, bad := range []remotes.BulkPushRequest{
		{Namespace: "n*", DestinationTable: "x"},
		{Namespace: "[", DestinationTable: "x"},
		{DestinationNamespace: "{repository}"},
	} {
		_, _, err := c.bulk(bad)
		require.Error(t, err)
		assert.Equal(t, http.StatusBadRequest, apperr.StatusOf(err), err)
	}
	assert.Len(t, c.cat.Calls(), n, "no remote call")
}

// linkAt stages location as table ns.name on branch (pointer layout).
func (c *core) linkAt(branch string, ns []string, name, location string) {
	c.t.Helper()
	raw, err := readFile(ctxT(c.t), location)
	require.NoError(c.t, err)
	sum := md5.Sum(raw)
	path := "_lakefs_tables/iceberg/" + strings.Join(ns, "/") + "/" + name + "/metadata.json"
	_, err = c.client.StageObject(ctxT(c.t), testRepo, branch, path, location, int64(len(raw)), hex.EncodeToString(sum[:]), "application/json")
	require.NoError(c.t, err)
}
