package objstore_test

import (
	"crypto/md5" //nolint:gosec // checksum under test
	"encoding/hex"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/iceberg-go/table"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/apperr"
	"github.com/iceberg-remotes/iceberg-remotes/internal/config"
)

// A table iceberg-go wrote on the local file system (the default local setup) reads back
// through file://.
func TestReadLocalFile(t *testing.T) {
	ctx := testCtx(t)
	dir := t.TempDir()
	loc := writeTable(t, "file://"+dir, nil)
	require.True(t, strings.HasPrefix(loc, "file://"+dir+"/"), loc)

	store := newStore(t, config.ObjectStore{}, fastOpts())
	data, info, err := store.Read(ctx, loc, 1<<20)
	require.NoError(t, err)
	md, err := table.ParseMetadataBytes(data)
	require.NoError(t, err)
	require.NotNil(t, md.CurrentSnapshot())
	assert.Equal(t, "3", md.CurrentSnapshot().Summary.Properties["added-records"])

	path := strings.TrimPrefix(loc, "file://")
	onDisk, err := os.ReadFile(path)
	require.NoError(t, err)
	st, err := os.Stat(path)
	require.NoError(t, err)
	sum := md5.Sum(onDisk) //nolint:gosec
	assert.Equal(t, onDisk, data)
	assert.Equal(t, st.Size(), info.SizeBytes)
	assert.Equal(t, hex.EncodeToString(sum[:]), info.Checksum)

	viaLocalhost := "file://localhost" + path
	data2, info2, err := store.Read(ctx, viaLocalhost, 1<<20)
	require.NoError(t, err)
	assert.Equal(t, data, data2)
	assert.Equal(t, info.Checksum, info2.Checksum)

	_, _, err = store.Read(ctx, loc, int64(len(data))-1)
	requireStatus(t, err, http.StatusBadRequest)

	missing := "file://" + filepath.Join(dir, "nope", "v9.metadata.json")
	_, _, err = store.Read(ctx, missing, 1<<20)
	requireStatus(t, err, http.StatusNotFound)
	assert.Contains(t, apperr.PublicMessage(err), missing)

	_, _, err = store.Read(ctx, "file://"+dir, 1<<20)
	requireStatus(t, err, http.StatusBadRequest)
}

func TestUnsupportedOrMalformedLocationsAre400(t *testing.T) {
	ctx := testCtx(t)
	store := newStore(t, config.ObjectStore{}, fastOpts())
	for _, loc := range []string{
		"",
		"relative/path/v1.metadata.json",
		"/abs/path/v1.metadata.json",
		"http://127.0.0.1/x/v1.metadata.json",
		"https://bucket.s3.amazonaws.com/x/v1.metadata.json",
		"oss://bucket/x/v1.metadata.json",
		"hdfs://nn/x/v1.metadata.json",
		"S3://bucket/x/v1.metadata.json",
		"s3://bucket",
		"s3://bucket/",
		"s3:///key",
		"gs://bucket/",
		"abfss://account.dfs.core.windows.net/x/v1.metadata.json", // no container
		"abfss://container@account.dfs.core.windows.net/",
		"file://otherhost/x/v1.metadata.json",
		"file://",
	} {
		_, _, err := store.Read(ctx, loc, 1<<20)
		requireStatus(t, err, http.StatusBadRequest)
	}
}
