package remotes_test

import (
	"bytes"
	"compress/gzip"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/apperr"
	"github.com/iceberg-remotes/iceberg-remotes/internal/lakefs"
)

// A plain pull brings the remote's newer state onto the branch and commits it.
func TestPullBringsRemoteState(t *testing.T) {
	for _, layout := range []string{lakefs.LayoutPointer, lakefs.LayoutHadoop} {
		t.Run(layout, func(t *testing.T) {
			c := newCore(t, layout, nil)
			c.push()
			m1 := c.lakeLocation("main")
			m2 := c.version(2, []string{m1}, 2)
			c.cat.SetTable(c.remoteID(), m2)
			_, err := c.pull(false, false)
			require.NoError(t, err)
			assert.Equal(t, m2, c.lakeLocation("main"))
			assert.Empty(t, c.lake.Staged(testRepo, "main"))
		})
	}
}

// Defect 1: a commit that lands on the branch between the pull's checks and its write must
// not be overwritten: the write is conditional on the location the checks saw.
func TestPullRefusesConcurrentLakeFSCommit(t *testing.T) {
	for _, layout := range []string{lakefs.LayoutPointer, lakefs.LayoutHadoop} {
		t.Run(layout, func(t *testing.T) {
			c := newCore(t, layout, nil)
			c.push()
			m1 := c.lakeLocation("main")
			m2 := c.version(2, []string{m1}, 2)
			c.cat.SetTable(c.remoteID(), m2)
			other := c.version(3, []string{m1}, 3)
			c.before = func(string) { // someone commits on main while the pull reads the remote
				c.before = nil
				c.link("main", other, 2)
				_, err := c.client.Commit(ctxT(t), testRepo, "main", "someone else", nil)
				require.NoError(t, err)
			}
			_, err := c.pull(false, false)
			require.Error(t, err)
			assert.Equal(t, http.StatusConflict, apperr.StatusOf(err), "%v", err)
			assert.Equal(t, other, c.lakeLocation("main"), "the concurrent commit is kept")
			assert.Empty(t, c.lake.Staged(testRepo, "main"))
		})
	}
}

// Defect 8: one parser for metadata files: gzip is recognised by its bytes, so a remote
// whose writer compressed a file without the .gz name (and one with the name but plain
// content) is read like lakeFS's side reads it.
func TestPullReadsGzipByContent(t *testing.T) {
	c := newCore(t, lakefs.LayoutPointer, nil)
	c.push()
	m1 := c.lakeLocation("main")
	m2 := c.version(2, []string{m1}, 2)
	p := strings.TrimPrefix(m2, "file://")
	raw, err := os.ReadFile(p)
	require.NoError(t, err)
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, err = zw.Write(raw)
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	require.NoError(t, os.WriteFile(p, buf.Bytes(), 0o644))
	c.cat.SetTable(c.remoteID(), m2)
	_, err = c.pull(false, false)
	require.NoError(t, err)
	assert.Equal(t, m2, c.lakeLocation("main"))

	m3 := c.version(3, []string{m1, m2}, 3)
	plainGz := strings.TrimSuffix(m3, ".metadata.json") + ".gz.metadata.json"
	require.NoError(t, os.Rename(strings.TrimPrefix(m3, "file://"), strings.TrimPrefix(plainGz, "file://")))
	c.cat.SetTable(c.remoteID(), plainGz)
	_, err = c.pull(false, false)
	require.NoError(t, err)
	assert.Equal(t, plainGz, c.lakeLocation("main"))
}
