package metafile_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"encoding/json"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/apperr"
	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog/catalogtest"
	"github.com/iceberg-remotes/iceberg-remotes/internal/metafile"
	"github.com/iceberg-remotes/iceberg-remotes/internal/remotes/remotestest"
)

func gz(t *testing.T, raw []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, err := zw.Write(raw)
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

var version = remotestest.Version{TableUUID: "9c12d441-03fe-4693-9a96-a0705ddf69c1", Location: "s3://b/t", Snapshots: []int64{1, 2}}

// Plain and gzip metadata parse alike; gzip is recognised by its bytes, whatever the name.
func TestParsePlainAndGzip(t *testing.T) {
	l := metafile.NewLimits(0, 0)
	raw := remotestest.Metadata(version)
	for name, b := range map[string][]byte{"plain": raw, "gzip": gz(t, raw)} {
		md, err := l.Parse(context.Background(), "s3://b/t/x.metadata.json", b)
		require.NoError(t, err, name)
		assert.Equal(t, version.TableUUID, md.TableUUID().String())
		assert.Equal(t, int64(2), md.CurrentSnapshot().SnapshotID)
	}
	_, err := l.Parse(context.Background(), "x", []byte(`{"not": "metadata"}`))
	require.Error(t, err)
}

// A gzip file declaring more than the cap is refused before decompressing; one that
// decompresses to more than it declares is refused too.
func TestParseGzipBounds(t *testing.T) {
	raw := remotestest.Metadata(version)
	small := metafile.NewLimits(int64(len(raw))-1, 0)
	_, err := small.Parse(context.Background(), "s3://b/bomb", gz(t, raw))
	require.ErrorContains(t, err, "above the limit")

	lying := gz(t, raw)
	binary.LittleEndian.PutUint32(lying[len(lying)-4:], 10)
	_, err = metafile.NewLimits(0, 0).Parse(context.Background(), "s3://b/lie", lying)
	require.Error(t, err)
}

// Reserve refuses above the cap at once and bounds what all holders buffer together.
func TestReserveBoundsConcurrentReads(t *testing.T) {
	const mib = 1 << 20
	l := metafile.NewLimits(200*mib, 450*mib)
	_, err := l.Reserve(context.Background(), "s3://b/huge", 300*mib)
	require.Error(t, err)
	assert.Equal(t, http.StatusBadRequest, apperr.StatusOf(err))

	var held, peak atomic.Int64
	var wg sync.WaitGroup
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			release, err := l.Reserve(context.Background(), "s3://b/m", 200*mib)
			if !assert.NoError(t, err) {
				return
			}
			now := held.Add(200 * mib)
			for {
				p := peak.Load()
				if now <= p || peak.CompareAndSwap(p, now) {
					break
				}
			}
			time.Sleep(time.Millisecond)
			held.Add(-200 * mib)
			release()
		}()
	}
	wg.Wait()
	assert.LessOrEqual(t, peak.Load(), int64(450*mib))
	assert.Equal(t, int64(400*mib), peak.Load(), "two 200 MiB reads fit at once, never three")

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	release, err := l.Reserve(context.Background(), "a", 400*mib)
	require.Error(t, err, "400 MiB is above the per-file cap")
	assert.Nil(t, release)
	r1, err := l.Reserve(ctx, "a", 200*mib)
	require.NoError(t, err)
	r2, err := l.Reserve(ctx, "b", 200*mib)
	require.NoError(t, err)
	_, err = l.Reserve(ctx, "c", 200*mib)
	require.Error(t, err, "a third waits until its context ends")
	assert.Equal(t, http.StatusServiceUnavailable, apperr.StatusOf(err))
	r1()
	r2()
}

// Metadata written by iceberg-go in both format versions parses, plain and gzip; what is not
// metadata does not.
func TestParseFormatVersions(t *testing.T) {
	l := metafile.NewLimits(0, 0)
	for _, v := range []string{"1", "2"} {
		md, err := table.NewMetadata(catalogtest.TestSchema, iceberg.UnpartitionedSpec, table.UnsortedSortOrder,
			"s3://bucket/t", iceberg.Properties{"format-version": v})
		require.NoError(t, err)
		raw, err := json.Marshal(md)
		require.NoError(t, err)
		for name, content := range map[string][]byte{"plain": raw, "gzip": gz(t, raw)} {
			got, err := l.Parse(context.Background(), "x", content)
			require.NoError(t, err, name)
			assert.Equal(t, md.TableUUID(), got.TableUUID(), name)
			assert.Equal(t, md.Version(), got.Version(), name)
		}
	}
	for _, bad := range [][]byte{nil, []byte("{}"), []byte("[1,2]"), {0x1f, 0x8b, 0, 0}} {
		_, err := l.Parse(context.Background(), "x", bad)
		assert.Error(t, err, string(bad))
	}
}
