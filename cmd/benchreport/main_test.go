package main

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const beforeOut = `goos: linux
BenchmarkPushExisting-2     	     200	   4142702 ns/op	         4.000 lakefs-calls/op	         0 objstore-reads/op	       768.6 own-µs/op	         2.000 remote-calls/op	  142593 B/op	    2186 allocs/op
BenchmarkPullNewState-2                     	     200	  36221812 ns/op	        14.00 lakefs-calls/op	         1.000 objstore-reads/op	      4537 own-µs/op	         1.000 remote-calls/op	  427882 B/op	    5820 allocs/op
PASS
`

const afterOut = `BenchmarkPushExisting-2   	     100	   8164759 ns/op	         2.000 lakefs-calls/op	         0 objstore-reads/op	      514 own-allocs/op	      1304 own-µs/op	         1.000 remote-calls/op	  142016 B/op	    1152 allocs/op
BenchmarkPullNewState-2   	     100	   5192671 ns/op	         8.000 lakefs-calls/op	         1.000 objstore-reads/op	       640.0 own-allocs-lakefs/op	        23.00 own-allocs-objstore/op	       204.2 own-allocs-parse/op	        46.00 own-allocs-remote/op	       359.4 own-allocs-rest/op	       339.4 own-allocs-state/op	        62.00 own-allocs-validation/op	      1674 own-allocs/op	       948.0 own-µs/op	         1.000 remote-calls/op	  279762 B/op	    3690 allocs/op
BenchmarkBulkPush10k-2   	     1	   9000000000 ns/op	         11.00 lakefs-calls/page	         3.000 remote-calls/page
`

const loadOut = `loadgen op=mix clients=64 requests=6525 errors=0 elapsed=10m5.193s throughput=10.8/s p50=2.9s p90=15.3s p99=21.8s statuses=map[200:2169 204:4356]
loadgen sample=first at=1m4s rss_bytes=130764800 goroutines=25 service_goroutines=15
loadgen sample=end at=10m5s rss_bytes=144076800 goroutines=24 service_goroutines=15
`

// The report shows before → after from the outputs alone, keeps benchmarks that only one
// side has (and their own units) without failing, and summarizes the load run.
func TestRender(t *testing.T) {
	before, err := parseBench(strings.NewReader(beforeOut))
	require.NoError(t, err)
	after, err := parseBench(strings.NewReader(afterOut))
	require.NoError(t, err)
	require.Equal(t, []string{"PushExisting", "PullNewState", "BulkPush10k"}, after.Order)
	var out strings.Builder
	require.NoError(t, render(&out, Inputs{Before: before, After: after, Load: parseLoad(loadOut),
		Machine: Machine{Cores: 2, MemoryGiB: 24, GoVersion: "go1.26.8", OS: "linux", Arch: "amd64"}, Date: time.Date(2026, 11, 30, 17, 0, 0, 0, time.UTC)}))
	s := out.String()
	assert.Contains(t, s, "2 cores, 24 GiB memory, go1.26.8")
	assert.Contains(t, s, "2026-11-30 17:00 UTC")
	assert.Contains(t, s, "| push, remote already at this state | `PushExisting` | 4 + 2 → 2 + 1 | ≤ 2 + 1 |")
	assert.Contains(t, s, "| pull, new remote state | `PullNewState` | 14 + 1 + 1 read → 8 + 1 + 1 read |")
	assert.Contains(t, s, "| `PushExisting` | 769 µs → 1.3 ms | – → 514 | 2,186 → 1,152 |")
	assert.Contains(t, s, "lakefs-calls/page")
	assert.Contains(t, s, "| `BulkPush10k` | 1 | 9.00 s |")
	assert.NotContains(t, s, "PullInSync", "absent from both: no row")
	assert.Contains(t, s, "| 6,525 | 0 | 10m5.193s | 10.8/s | 2.9s | 21.8s | 130.8 MB | 144.1 MB | +13.3 MB (limit 50 MB) | 25 → 24 | 15 → 15 |")
	assert.Contains(t, s, "admin_address")
	assert.Contains(t, s, "| `PullNewState` | 1,674 | 640 (8 × 80) | 339 | 46 | 204 | 23 | 62 | 359 |",
		"own allocations by part, with the lakeFS client's per call")
	assert.NotContains(t, s, "| `PushExisting` | 514 |", "a benchmark without parts has no row there")
	assert.NotContains(t, s, "own-allocs-lakefs/op |", "the parts are not columns of the table of every benchmark")
}
