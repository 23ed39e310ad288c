package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// bulkTables is the size of the bulk benchmark's selection.
const bulkTables = 10_000

// bulkPush pushes every table of accounting into namespace dest with one bulk call and
// returns its totals.
func (e *env) bulkPush(b *testing.B, client *http.Client, dest string) (changed, unchanged int) {
	body := fmt.Sprintf(`{"source":{"repository_id":"example","reference_id":"main","namespace":"accounting"},
		"destination":{"namespace":%q},"create_namespace":true,"parallelism":8}`, dest)
	req, _ := http.NewRequest("POST", e.api.URL+"/api/v1/iceberg/remotes/local/bulk/push", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+e.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out struct {
		Totals struct{ Total, Changed, Unchanged, Failed int }
	}
	if resp.StatusCode != 200 || json.Unmarshal(raw, &out) != nil || out.Totals.Total != bulkTables || out.Totals.Failed != 0 {
		b.Fatalf("bulk push: %d %.500s", resp.StatusCode, raw)
	}
	return out.Totals.Changed, out.Totals.Unchanged
}

// phase runs fn once and reports its seconds and its lakeFS and remote calls under name.
func phase(b *testing.B, e *env, name string, fn func()) float64 {
	lake0, remote0 := e.lakeFSCalls(), e.remoteCalls(b)
	start := time.Now()
	fn()
	secs := time.Since(start).Seconds()
	b.ReportMetric(secs, name+"-s")
	b.ReportMetric(float64(e.lakeFSCalls()-lake0), name+"-lakefs-calls")
	b.ReportMetric(e.remoteCalls(b)-remote0, name+"-remote-calls")
	return secs
}

// BenchmarkBulkPush10k: one bulk push of 10,000 tables (new, then unchanged) against the
// stand-ins, and the same 10,000 tables pushed one by one from 8 clients (new, then
// unchanged) in the same run, with the ratio single/bulk. Run it once: -benchtime=1x.
func BenchmarkBulkPush10k(b *testing.B) {
	e := newEnv(b, bulkTables)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8}}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		bulkNS, singleNS := fmt.Sprintf("bulk%d", i), fmt.Sprintf("single%d", i)
		bulkNew := phase(b, e, "bulk-new", func() {
			if changed, _ := e.bulkPush(b, client, bulkNS); changed != bulkTables {
				b.Fatalf("bulk push changed %d tables", changed)
			}
		})
		bulkSame := phase(b, e, "bulk-unchanged", func() {
			if _, unchanged := e.bulkPush(b, client, bulkNS); unchanged != bulkTables {
				b.Fatalf("bulk push left %d tables unchanged", unchanged)
			}
		})
		singles := func() {
			var wg sync.WaitGroup
			for c := 0; c < 8; c++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for t := c; t < bulkTables; t += 8 {
						e.pushTo(b, client, fmt.Sprintf("t%d", t), singleNS, fmt.Sprintf("t%d", t))
					}
				}()
			}
			wg.Wait()
		}
		singleNew := phase(b, e, "single-new", singles)
		singleSame := phase(b, e, "single-unchanged", singles)
		b.ReportMetric(singleNew/bulkNew, "ratio-new-single/bulk")
		b.ReportMetric(singleSame/bulkSame, "ratio-unchanged-single/bulk")
	}
}
