// Command loadgen is a bounded load generator for iceberg-remotes. It sends push, pull or
// listing requests (or a mix of the three) from N concurrent clients and prints throughput
// and latency percentiles. It only targets loopback addresses (127.0.0.0/8, ::1), and every
// run is bounded both by a request count and by a duration.
//
//	loadgen -url http://127.0.0.1:8001 -op push -catalog local -clients 8 -requests 2000 -duration 30s \
//	        -basic AKIA...:secret -body push.json
//
// -op mix sends push (-push-body), pull (-pull-body) and the tables listing in turn from
// each client. In a body, {{client}} is replaced by the client's number (0..clients-1), so
// that each client can work on a table of its own. With -sample-at, the server's resident
// memory and goroutines are read from its /metrics at that time (the clients pause, so that
// no request is in flight) and again when the run ends: a leak shows as growth between the
// two. With -profile-url (the server's admin listener, admin_address), each sample also
// counts the goroutines that are not an idle pooled connection's (service_goroutines), a
// figure that does not move with how many keep-alive connections the pools happen to hold.
package main

import (
	"bufio"
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
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/iceberg-remotes/iceberg-remotes/internal/proftext"
)

type options struct {
	baseURL, op, catalog, bodyFile, basic, bearer string
	pushBodyFile, pullBodyFile                    string
	profileURL                                    string
	clients, requests                             int
	duration, sampleAt                            time.Duration
}

func main() {
	var o options
	flag.StringVar(&o.baseURL, "url", "http://127.0.0.1:8001", "service base URL (loopback only)")
	flag.StringVar(&o.op, "op", "push", "push | pull | tables | health | mix (push, pull and tables in turn)")
	flag.StringVar(&o.catalog, "catalog", "local", "remote catalog id")
	flag.StringVar(&o.bodyFile, "body", "", "JSON request body file (push, pull)")
	flag.StringVar(&o.pushBodyFile, "push-body", "", "push request body file (mix)")
	flag.StringVar(&o.pullBodyFile, "pull-body", "", "pull request body file (mix)")
	flag.StringVar(&o.basic, "basic", "", "access_key_id:secret for basic auth")
	flag.StringVar(&o.bearer, "bearer", "", "bearer token")
	flag.IntVar(&o.clients, "clients", 1, "concurrent clients (1..256)")
	flag.IntVar(&o.requests, "requests", 1000, "total requests (1..1000000)")
	flag.DurationVar(&o.duration, "duration", 30*time.Second, "maximum run time (at most 10m)")
	flag.DurationVar(&o.sampleAt, "sample-at", 0, "read the server's memory and goroutines from /metrics at this time and at the end (0: never)")
	flag.StringVar(&o.profileURL, "profile-url", "", "the server's admin listener (e.g. http://127.0.0.1:6060): samples also count the goroutines outside idle pooled connections (loopback only)")
	flag.Parse()
	// Each client keeps its connection, as an SDK client does (the default keeps 2 per host,
	// so the others would open a new connection per request).
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = max(o.clients, 2)
	res, err := run(context.Background(), o, transport)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(2)
	}
	fmt.Println(res)
}

// Sample is the server's resident memory and goroutine count at one moment.
type Sample struct {
	At         time.Duration
	RSSBytes   float64
	Goroutines float64
	// ServiceGoroutines are Goroutines less those of idle pooled connections (-1: not read,
	// no -profile-url).
	ServiceGoroutines int
}

// Result summarizes a run.
type Result struct {
	Op               string
	Clients          int
	Requests, Errors int
	Statuses         map[int]int
	Elapsed          time.Duration
	P50, P90, P99    time.Duration
	// Samples are the server's memory and goroutines (-sample-at, then the end).
	Samples []Sample
}

func (r Result) String() string {
	rate := float64(r.Requests) / r.Elapsed.Seconds()
	s := fmt.Sprintf("loadgen op=%s clients=%d requests=%d errors=%d elapsed=%s throughput=%.1f/s p50=%s p90=%s p99=%s statuses=%v",
		r.Op, r.Clients, r.Requests, r.Errors, r.Elapsed.Round(time.Millisecond), rate, r.P50, r.P90, r.P99, r.Statuses)
	for i, smp := range r.Samples {
		name := "first"
		if i == len(r.Samples)-1 && i > 0 {
			name = "end"
		}
		s += fmt.Sprintf("\nloadgen sample=%s at=%s rss_bytes=%.0f goroutines=%.0f", name, smp.At.Round(time.Second), smp.RSSBytes, smp.Goroutines)
		if smp.ServiceGoroutines >= 0 {
			s += fmt.Sprintf(" service_goroutines=%d", smp.ServiceGoroutines)
		}
	}
	return s
}

type request struct {
	method, path string
	body         []byte
}

// plan returns the requests one client cycles through.
func plan(o options, client int) ([]request, error) {
	base := "/api/v1/iceberg/remotes/" + url.PathEscape(o.catalog) + "/"
	read := func(file string) ([]byte, error) {
		if file == "" {
			return nil, nil
		}
		raw, err := os.ReadFile(file)
		return bytes.ReplaceAll(raw, []byte("{{client}}"), []byte(strconv.Itoa(client))), err
	}
	switch o.op {
	case "push", "pull":
		body, err := read(o.bodyFile)
		return []request{{http.MethodPost, base + o.op, body}}, err
	case "tables":
		return []request{{http.MethodGet, base + "tables", nil}}, nil
	case "health":
		return []request{{http.MethodGet, "/_health", nil}}, nil
	case "mix":
		if o.pushBodyFile == "" || o.pullBodyFile == "" {
			return nil, fmt.Errorf("-op mix needs -push-body and -pull-body")
		}
		push, err := read(o.pushBodyFile)
		if err != nil {
			return nil, err
		}
		pull, err := read(o.pullBodyFile)
		return []request{{http.MethodPost, base + "push", push}, {http.MethodPost, base + "pull", pull},
			{http.MethodGet, base + "tables", nil}}, err
	default:
		return nil, fmt.Errorf("unknown -op %q", o.op)
	}
}

func run(ctx context.Context, o options, transport http.RoundTripper) (Result, error) {
	u, err := url.Parse(o.baseURL)
	if err != nil {
		return Result{}, err
	}
	if err := loopbackOnly(u.Hostname()); err != nil {
		return Result{}, err
	}
	if o.profileURL != "" {
		pu, err := url.Parse(o.profileURL)
		if err != nil {
			return Result{}, err
		}
		if err := loopbackOnly(pu.Hostname()); err != nil {
			return Result{}, err
		}
	}
	if o.clients < 1 || o.clients > 256 || o.requests < 1 || o.requests > 1_000_000 || o.duration <= 0 || o.duration > 10*time.Minute {
		return Result{}, fmt.Errorf("bounds: clients 1..256, requests 1..1000000, duration (0, 10m]")
	}
	plans := make([][]request, o.clients)
	for c := range plans {
		if plans[c], err = plan(o, c); err != nil {
			return Result{}, err
		}
	}
	// The duration bounds when requests start; one already sent finishes (within the
	// client's timeout), so that the run ends with no request in flight.
	reqCtx := ctx
	ctx, cancel := context.WithTimeout(ctx, o.duration)
	defer cancel()
	client := &http.Client{Transport: transport, Timeout: 60 * time.Second}

	var next atomic.Int64
	var mu sync.Mutex
	// pause: every request holds it for reading; a sample takes it for writing, so that
	// it reads the server with no request in flight.
	var pause sync.RWMutex
	res := Result{Op: o.op, Clients: o.clients, Statuses: map[int]int{}}
	var latencies []time.Duration
	start := time.Now()
	var wg sync.WaitGroup
	for c := 0; c < o.clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; next.Add(1) <= int64(o.requests) && ctx.Err() == nil; k++ {
				rq := plans[c][k%len(plans[c])]
				pause.RLock()
				d, status, err := send(reqCtx, client, o, rq)
				pause.RUnlock()
				mu.Lock()
				if err != nil {
					res.Errors++
				} else {
					res.Requests++
					res.Statuses[status]++
					latencies = append(latencies, d)
				}
				mu.Unlock()
			}
		}()
	}
	var sampleErr error
	if o.sampleAt > 0 && o.sampleAt < o.duration {
		select {
		case <-time.After(o.sampleAt):
			pause.Lock()
			var s Sample
			s, sampleErr = sample(client, o.baseURL, o.profileURL)
			s.At = time.Since(start)
			res.Samples = append(res.Samples, s)
			pause.Unlock()
		case <-ctx.Done():
		}
	}
	wg.Wait()
	res.Elapsed = time.Since(start)
	if o.sampleAt > 0 && sampleErr == nil {
		// Read with a context of its own: the run's may have ended with the time bound.
		var s Sample
		s, sampleErr = sample(client, o.baseURL, o.profileURL)
		s.At = res.Elapsed
		res.Samples = append(res.Samples, s)
	}
	if sampleErr != nil {
		return res, sampleErr
	}
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

// send makes one request and returns its latency and status.
func send(ctx context.Context, client *http.Client, o options, rq request) (time.Duration, int, error) {
	var body io.Reader
	if rq.body != nil {
		body = bytes.NewReader(rq.body)
	}
	req, _ := http.NewRequestWithContext(ctx, rq.method, o.baseURL+rq.path, body)
	if rq.body != nil {
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
	if err != nil {
		return d, 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return d, resp.StatusCode, nil
}

// sampleSettle is how long a sample waits for the server to see closed connections go.
const sampleSettle = 500 * time.Millisecond

// sample reads process_resident_memory_bytes and go_goroutines from the server's /metrics,
// and, with a profileURL, the goroutines outside idle pooled connections from its goroutine
// profile. The clients' idle connections are closed first (none is in use during a
// sample), so that the count is the server's own goroutines plus the one serving this read,
// not however many keep-alive connections happen to be open.
func sample(client *http.Client, baseURL, profileURL string) (Sample, error) {
	client.CloseIdleConnections()
	time.Sleep(sampleSettle)
	s := Sample{ServiceGoroutines: -1}
	found := 0
	err := get(client, baseURL+"/metrics", func(body io.Reader) error {
		sc := bufio.NewScanner(body)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			name, value, ok := strings.Cut(sc.Text(), " ")
			if !ok {
				continue
			}
			dst := map[string]*float64{"process_resident_memory_bytes": &s.RSSBytes, "go_goroutines": &s.Goroutines}[name]
			if dst == nil {
				continue
			}
			var err error
			if *dst, err = strconv.ParseFloat(strings.TrimSpace(value), 64); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			found++
		}
		return sc.Err()
	})
	if err == nil && found < 2 {
		err = fmt.Errorf("read /metrics: process_resident_memory_bytes or go_goroutines missing")
	}
	if err != nil || profileURL == "" {
		return s, err
	}
	// The fewest of a few reads: a goroutine that a background job starts for a moment is
	// not in all of them, a leaked one is.
	for i := 0; i < profileReads; i++ {
		if i > 0 {
			time.Sleep(profileReadGap)
		}
		var g goroutines
		if err := get(client, strings.TrimSuffix(profileURL, "/")+"/debug/pprof/goroutine?debug=1", func(body io.Reader) (err error) {
			g, err = countGoroutines(body)
			return err
		}); err != nil {
			return s, err
		}
		if n := g.service(); s.ServiceGoroutines < 0 || n < s.ServiceGoroutines {
			s.ServiceGoroutines = n
		}
	}
	return s, nil
}

// profileReads goroutine profiles, profileReadGap apart, make one sample's service count.
const (
	profileReads   = 3
	profileReadGap = 200 * time.Millisecond
)

// get reads url's body with read.
func get(client *http.Client, url string, read func(io.Reader) error) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("read %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("read %s: status %d", url, resp.StatusCode)
	}
	if err := read(resp.Body); err != nil {
		return fmt.Errorf("read %s: %w", url, err)
	}
	return nil
}

// poolFrames mark the goroutines of pooled connections: an HTTP client connection's two
// loops, a served connection (with no request in flight, an idle keep-alive one; the
// sample's own read is one too) and database/sql's idle-connection cleaner. Their number
// follows how many connections the pools hold at that moment, not leaks.
var poolFrames = []string{
	"net/http.(*persistConn).readLoop", "net/http.(*persistConn).writeLoop",
	"net/http.(*conn).serve", "database/sql.(*DB).connectionCleaner",
}

// goroutines counts a goroutine profile's goroutines, in all and in pooled connections.
type goroutines struct{ total, pooled int }

// service is the count of goroutines outside pooled connections.
func (g goroutines) service() int { return g.total - g.pooled }

// countGoroutines reads a goroutine profile in its debug=1 text form (proftext), whose
// record headers are the number of goroutines with that stack.
func countGoroutines(profile io.Reader) (goroutines, error) {
	var g goroutines
	err := proftext.Read(profile, func(r proftext.Record) error {
		n, err := strconv.Atoi(strings.TrimSpace(r.Counts))
		if err != nil {
			return fmt.Errorf("goroutine profile: %q: %w", r.Counts, err)
		}
		g.total += n
		if slices.ContainsFunc(poolFrames, r.Has) {
			g.pooled += n
		}
		return nil
	})
	return g, err
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
