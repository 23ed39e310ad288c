// Command loadgen is a bounded load generator for iceberg-remotes. It sends push, pull or
// listing requests from N concurrent clients and prints throughput and latency
// percentiles. It only targets loopback addresses (127.0.0.0/8, ::1), and every run is
// bounded both by a request count and by a duration.
//
//	loadgen -url http://127.0.0.1:8001 -op push -catalog local -clients 8 -requests 2000 -duration 30s \
//	        -basic AKIA...:secret -body push.json
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

type options struct {
	baseURL, op, catalog, bodyFile, basic, bearer string
	clients, requests                             int
	duration                                      time.Duration
}

func main() {
	var o options
	flag.StringVar(&o.baseURL, "url", "http://127.0.0.1:8001", "service base URL (loopback only)")
	flag.StringVar(&o.op, "op", "push", "push | pull | tables | health")
	flag.StringVar(&o.catalog, "catalog", "local", "remote catalog id")
	flag.StringVar(&o.bodyFile, "body", "", "JSON request body file (push, pull)")
	flag.StringVar(&o.basic, "basic", "", "access_key_id:secret for basic auth")
	flag.StringVar(&o.bearer, "bearer", "", "bearer token")
	flag.IntVar(&o.clients, "clients", 1, "concurrent clients (1..256)")
	flag.IntVar(&o.requests, "requests", 1000, "total requests (1..1000000)")
	flag.DurationVar(&o.duration, "duration", 30*time.Second, "maximum run time (at most 10m)")
	flag.Parse()
	res, err := run(context.Background(), o, http.DefaultTransport)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(2)
	}
	fmt.Println(res)
}

// Result summarizes a run.
type Result struct {
	Requests, Errors int
	Statuses         map[int]int
	Elapsed          time.Duration
	P50, P90, P99    time.Duration
}

func (r Result) String() string {
	rate := float64(r.Requests) / r.Elapsed.Seconds()
	return fmt.Sprintf("requests=%d errors=%d elapsed=%s throughput=%.1f/s p50=%s p90=%s p99=%s statuses=%v",
		r.Requests, r.Errors, r.Elapsed.Round(time.Millisecond), rate, r.P50, r.P90, r.P99, r.Statuses)
}

func run(ctx context.Context, o options, transport http.RoundTripper) (Result, error) {
	u, err := url.Parse(o.baseURL)
	if err != nil {
		return Result{}, err
	}
	if err := loopbackOnly(u.Hostname()); err != nil {
		return Result{}, err
	}
	if o.clients < 1 || o.clients > 256 || o.requests < 1 || o.requests > 1_000_000 || o.duration <= 0 || o.duration > 10*time.Minute {
		return Result{}, fmt.Errorf("bounds: clients 1..256, requests 1..1000000, duration (0, 10m]")
	}
	method, path := http.MethodPost, "/api/v1/iceberg/remotes/"+url.PathEscape(o.catalog)+"/"+o.op
	switch o.op {
	case "push", "pull":
	case "tables":
		method = http.MethodGet
	case "health":
		method, path = http.MethodGet, "/_health"
	default:
		return Result{}, fmt.Errorf("unknown -op %q", o.op)
	}
	var body []byte
	if o.bodyFile != "" {
		if body, err = os.ReadFile(o.bodyFile); err != nil {
			return Result{}, err
		}
	}
	ctx, cancel := context.WithTimeout(ctx, o.duration)
	defer cancel()
	client := &http.Client{Transport: transport, Timeout: 60 * time.Second}

	var next atomic.Int64
	var mu sync.Mutex
	res := Result{Statuses: map[int]int{}}
	var latencies []time.Duration
	start := time.Now()
	var wg sync.WaitGroup
	for c := 0; c < o.clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(o.requests) && ctx.Err() == nil {
				req, _ := http.NewRequestWithContext(ctx, method, o.baseURL+path, bytes.NewReader(body))
				if body != nil {
					req.Header.Set("Content-Type", "application/json")
				}
				if o.basic != "" {
					id, secret, _ := strings.Cut(o.basic, ":")
					req.SetBasicAuth(id, secret)
				}
				if o.bearer != "" {
					req.Header.Set("Authorization", "Bearer "+o.bearer)
				}
				t0 := time.Now()
				resp, err := client.Do(req)
				d := time.Since(t0)
				mu.Lock()
				if err != nil {
					if ctx.Err() == nil {
						res.Errors++
					}
				} else {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					res.Requests++
					res.Statuses[resp.StatusCode]++
					latencies = append(latencies, d)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	res.Elapsed = time.Since(start)
	slices.Sort(latencies)
	pick := func(q float64) time.Duration {
		if len(latencies) == 0 {
			return 0
		}
		return latencies[int(q*float64(len(latencies)-1))]
	}
	res.P50, res.P90, res.P99 = pick(0.50), pick(0.90), pick(0.99)
	return res, nil
}

// loopbackOnly refuses any target that is not a loopback address: load is never sent to
// another machine.
func loopbackOnly(host string) error {
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("refusing to send load to %q: loopback addresses only (127.0.0.0/8, ::1, localhost)", host)
	}
	return nil
}
