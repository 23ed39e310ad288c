package remotes_test

import (
	"context"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/apperr"
	"github.com/iceberg-remotes/iceberg-remotes/internal/config"
	"github.com/iceberg-remotes/iceberg-remotes/internal/httpclient"
	"github.com/iceberg-remotes/iceberg-remotes/internal/lakefs"
	"github.com/iceberg-remotes/iceberg-remotes/internal/metafile"
	"github.com/iceberg-remotes/iceberg-remotes/internal/objstore"
	"github.com/iceberg-remotes/iceberg-remotes/internal/remotes"
	"github.com/iceberg-remotes/iceberg-remotes/internal/remotes/remotestest"
)

// requireRefusedUntouched asserts a pull was refused with status and that nothing was read
// or linked: no metadata read, no object-store request, nothing staged, lakeFS unchanged.
func (c *core) requireRefusedUntouched(err error, status int, s3 *remotestest.S3, lakeLoc string, stagesBefore int) {
	t := c.t
	t.Helper()
	require.Error(t, err)
	assert.Equal(t, status, apperr.StatusOf(err), "%v", err)
	if s3 != nil {
		assert.Empty(t, s3.Requests(), "nothing was requested from the object store")
	}
	assert.Empty(t, c.lake.Staged(testRepo, "main"), "nothing staged")
	assert.Equal(t, stagesBefore, c.lake.Calls("stageObject"), "nothing linked")
	assert.Equal(t, lakeLoc, c.lakeLocation("main"))
}

// docs/design.md section 13: pull reads and links a remote's metadata location only under the
// repository's storage namespace or a prefix the remote allows, and file:// only where the
// remote allows it. Each case would otherwise be read with the service's credentials and
// linked into lakeFS.
func TestPullRefusesLocationsOutsideTheTablesWorld(t *testing.T) {
	s3 := remotestest.NewS3(t, "lake", "other")
	for _, tc := range []struct {
		name   string
		mutate func(*config.Remote)
		loc    func(c *core, m1 string) string
	}{
		{"file on the service's disk", func(r *config.Remote) { r.AllowFileLocations, r.AllowedLocations = false, nil },
			func(*core, string) string { return "file:///etc/passwd" }},
		{"file outside the allowed folder", nil,
			func(*core, string) string { return "file:///etc/passwd" }},
		{"dot-dot out of the allowed folder", nil,
			func(c *core, _ string) string { return "file://" + c.dir + "/table/../../../../etc/passwd" }},
		{"another bucket", func(r *config.Remote) { r.AllowedLocations = append(r.AllowedLocations, "s3://lake/") },
			func(c *core, m1 string) string {
				// Valid metadata that descends from the synced state: only the location is wrong.
				return s3.Put(c.t, "other", "warehouse/events/metadata/00002-x.metadata.json",
					remotestest.Metadata(remotestest.Version{TableUUID: c.uuid, Location: "s3://other/warehouse/events", Snapshots: []int64{1, 2}, Previous: []string{m1}}))
			}},
		{"a sibling prefix of an allowed one", func(r *config.Remote) { r.AllowedLocations = []string{"s3://lake/warehouse"} },
			func(c *core, m1 string) string {
				return s3.Put(c.t, "lake", "warehouse-other/events/metadata/00002-x.metadata.json",
					remotestest.Metadata(remotestest.Version{TableUUID: c.uuid, Location: "s3://lake/warehouse-other/events", Snapshots: []int64{1, 2}, Previous: []string{m1}}))
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCoreWith(t, lakefs.LayoutPointer, tc.mutate, s3.Config(), nil)
			c.push()
			m1 := c.lakeLocation("main")
			loc := tc.loc(c, m1)
			before, stages := len(s3.Requests()), c.lake.Calls("stageObject")
			c.cat.SetTable(c.remoteID(), loc)
			for _, dry := range []bool{true, false} {
				_, err := c.pull(true, dry)
				c.requireRefusedUntouched(err, http.StatusConflict, nil, m1, stages)
				assert.Contains(t, apperr.PublicMessage(err), loc)
			}
			assert.Zero(t, c.reads.Load(), "no metadata read")
			assert.Len(t, s3.Requests(), before, "nothing was requested from the object store")
		})
	}
}

// A metadata file above the cap is refused from its size, before its body is buffered.
func TestPullRefusesOversizedMetadataBeforeBuffering(t *testing.T) {
	s3 := remotestest.NewS3(t, "lake")
	c := newCoreWith(t, lakefs.LayoutPointer, func(r *config.Remote) { r.AllowedLocations = []string{"s3://lake/"} }, s3.Config(), nil)
	c.push()
	m1 := c.lakeLocation("main")
	stages := c.lake.Calls("stageObject")
	c.cat.SetTable(c.remoteID(), s3.Huge("lake", "warehouse/events/metadata/00002-x.metadata.json", 300<<20))
	_, err := c.pull(false, false)
	c.requireRefusedUntouched(err, http.StatusBadRequest, nil, m1, stages)
	assert.Contains(t, apperr.PublicMessage(err), "max_metadata_bytes")
	t.Logf("requests %v, body bytes sent of the 300 MiB object: %d", s3.Requests(), s3.HugeBytesServed())
	assert.Less(t, s3.HugeBytesServed(), int64(8<<20), "at most what the network buffers was sent, nothing was read into memory")
}

// 64 concurrent reads of hostile metadata just under the cap buffer at most
// object_store.max_buffered_bytes at once, not 64 times the file.
func TestConcurrentMetadataReadsAreBoundedAsAWhole(t *testing.T) {
	const mib = 1 << 20
	s3 := remotestest.NewS3(t, "lake")
	loc := s3.Huge("lake", "hostile/00002-x.metadata.json", 8*mib)
	objects, err := objstore.New(s3.Config(), objstore.Options{Policy: httpclient.Policy{Timeout: time.Minute}})
	require.NoError(t, err)
	lim := metafile.NewLimits(10*mib, 24*mib)
	reader := remotes.NewMetadataReader(objects, lim)

	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	var peak atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		var ms runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
		}
	}()
	var wg sync.WaitGroup
	errs := make([]error, 64)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = reader.ReadMetadata(context.Background(), loc)
		}()
	}
	wg.Wait()
	close(stop)
	<-sampled
	for _, err := range errs {
		require.Error(t, err)
		assert.Equal(t, http.StatusBadGateway, apperr.StatusOf(err), "every read got its turn and found no metadata: %v", err)
	}
	assert.Equal(t, int64(64*8*mib), s3.HugeBytesServed(), "all 64 files were read whole")
	grown := int64(peak.Load()) - int64(base.HeapInuse)
	t.Logf("peak heap growth %d MiB for 64 reads of 8 MiB under a 24 MiB budget", grown/mib)
	assert.Less(t, grown, int64(120*mib), "unbounded, 64 reads would hold 512 MiB at once")
}
