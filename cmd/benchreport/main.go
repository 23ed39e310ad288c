// Command benchreport renders BENCHMARKS.md from the benchmarks' own output: the raw
// `go test -bench` output before and after a change, and the load run's loadgen output
// (scripts/benchmarks.sh runs all three and pipes them here). Every figure in the file comes
// from those outputs; benchmarks present in only one of them are shown with a blank on the
// other side, so benchmarks added later appear without changes here.
//
//	benchreport -before before.txt -after after.txt -load load.txt > BENCHMARKS.md
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

func main() {
	before := flag.String("before", "", "benchmark output before the change")
	after := flag.String("after", "", "benchmark output after the change")
	load := flag.String("load", "", "loadgen output of the load run (optional)")
	flag.Parse()
	if *before == "" || *after == "" {
		fmt.Fprintln(os.Stderr, "benchreport: -before and -after are required")
		os.Exit(2)
	}
	in := Inputs{Machine: thisMachine(), Date: time.Now().UTC()}
	var err error
	if in.Before, err = readFile(*before); err == nil {
		in.After, err = readFile(*after)
	}
	if err == nil && *load != "" {
		var raw []byte
		if raw, err = os.ReadFile(*load); err == nil {
			in.Load = parseLoad(string(raw))
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchreport:", err)
		os.Exit(1)
	}
	if err := render(os.Stdout, in); err != nil {
		fmt.Fprintln(os.Stderr, "benchreport:", err)
		os.Exit(1)
	}
}

// Result is one benchmark's line: its metrics by unit (ns/op, allocs/op, lakefs-calls/op...).
type Result struct {
	Name    string
	N       int
	Metrics map[string]float64
}

// Results are a run's benchmarks in output order.
type Results struct {
	Order  []string
	ByName map[string]Result
}

func (r Results) get(name, unit string) (float64, bool) {
	res, ok := r.ByName[name]
	if !ok {
		return 0, false
	}
	v, ok := res.Metrics[unit]
	return v, ok
}

var procsSuffix = regexp.MustCompile(`-\d+$`)

// parseBench reads `go test -bench` output; lines that are not results are skipped.
func parseBench(r io.Reader) (Results, error) {
	out := Results{ByName: map[string]Result{}}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		n, err := strconv.Atoi(f[1])
		if err != nil {
			continue
		}
		res := Result{Name: procsSuffix.ReplaceAllString(strings.TrimPrefix(f[0], "Benchmark"), ""), N: n, Metrics: map[string]float64{}}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				return out, fmt.Errorf("%s: metric %q: %w", res.Name, f[i], err)
			}
			res.Metrics[f[i+1]] = v
		}
		if _, dup := out.ByName[res.Name]; !dup {
			out.Order = append(out.Order, res.Name)
		}
		out.ByName[res.Name] = res
	}
	return out, sc.Err()
}

func readFile(path string) (Results, error) {
	f, err := os.Open(path)
	if err != nil {
		return Results{}, err
	}
	defer f.Close()
	return parseBench(f)
}

// Load is the load run's summary.
type Load struct {
	Summary                       string
	Requests, Errors, Clients     int
	Elapsed, Throughput           string
	RSSFirst, RSSEnd              float64
	GoroutinesFirst, GoroutineEnd int
	// ServiceFirst and ServiceEnd are the goroutines outside idle pooled connections (-1:
	// not in the output).
	ServiceFirst, ServiceEnd int
	FirstAt, EndAt           string
	P50, P99                 string
}

var (
	loadLine   = regexp.MustCompile(`loadgen op=(\S+) clients=(\d+) requests=(\d+) errors=(\d+) elapsed=(\S+) throughput=(\S+) p50=(\S+) p90=\S+ p99=(\S+)`)
	sampleLine = regexp.MustCompile(`loadgen sample=(first|end) at=(\S+) rss_bytes=(\d+) goroutines=(\d+)(?: service_goroutines=(\d+))?`)
)

func parseLoad(s string) *Load {
	m := loadLine.FindStringSubmatch(s)
	if m == nil {
		return nil
	}
	l := &Load{Summary: m[0], Elapsed: m[5], Throughput: m[6], P50: m[7], P99: m[8], ServiceFirst: -1, ServiceEnd: -1}
	l.Clients, _ = strconv.Atoi(m[2])
	l.Requests, _ = strconv.Atoi(m[3])
	l.Errors, _ = strconv.Atoi(m[4])
	for _, sm := range sampleLine.FindAllStringSubmatch(s, -1) {
		rss, _ := strconv.ParseFloat(sm[3], 64)
		g, _ := strconv.Atoi(sm[4])
		svc := -1
		if sm[5] != "" {
			svc, _ = strconv.Atoi(sm[5])
		}
		if sm[1] == "first" {
			l.FirstAt, l.RSSFirst, l.GoroutinesFirst, l.ServiceFirst = sm[2], rss, g, svc
		} else {
			l.EndAt, l.RSSEnd, l.GoroutineEnd, l.ServiceEnd = sm[2], rss, g, svc
		}
	}
	return l
}

// Machine describes where the benchmarks ran.
type Machine struct {
	Cores     int
	MemoryGiB float64
	GoVersion string
	OS, Arch  string
	CPU       string
}

func thisMachine() Machine {
	m := Machine{Cores: runtime.NumCPU(), GoVersion: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH}
	if raw, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb float64
		if _, err := fmt.Sscanf(strings.SplitN(string(raw), "\n", 2)[0], "MemTotal: %f kB", &kb); err == nil {
			m.MemoryGiB = kb / (1 << 20)
		}
	}
	return m
}

// Inputs are everything the report is rendered from.
type Inputs struct {
	Before, After Results
	Load          *Load
	Machine       Machine
	Date          time.Time
}

// target is a row of the round-trip table.
type target struct {
	bench, what, target string
	perPage             bool
}

var targets = []target{
	{"PushExisting", "push, remote already at this state", "≤ 2 + 1", false},
	{"PushNewTable", "push, new table (create_namespace: the namespace is created if missing, without asking)", "≤ 3 + 3 (new namespace)", false},
	{"PushChanged", "push, changed table in a new commit (re-point); lakeFS calls include moving the GC protection: 1 branch created, 1 deleted", "≤ 3 + 2 (re-point)", false},
	{"PullInSync", "pull, nothing new on the remote", "≤ 1 + 1", false},
	{"PullNewState", "pull, new remote state", "≤ 4 + 1 + 1 object-store read, plus the commit", false},
	{"ListTables10k/remote=sql", "live listing, one 1,000-row page of 10,000 records, SQL remote (per page)", "≤ 3 + ≤ 10", true},
	{"ListTables10k/remote=glue", "live listing, one 1,000-row page of 10,000 records, Glue remote (per page; remote = adapter batch reads, each up to ⌈namespace/100⌉ GetTables requests)", "≤ 3 + ≤ 10", true},
}

// allocPartPrefix starts the units of the own allocations' parts (own-allocs-lakefs/op...),
// which have a table of their own.
const allocPartPrefix = "own-allocs-"

// allocParts are the parts the benchmarks split their own allocations into
// (internal/bench, allocParts), in the report's order, with their column titles.
var allocParts = []struct{ unit, title string }{
	{"lakefs", "lakeFS client (per call)"},
	{"state", "state store"},
	{"remote", "remote catalog client"},
	{"parse", "metadata parse (iceberg-go)"},
	{"objstore", "object-store read"},
	{"validation", "request validation (kin-openapi)"},
	{"rest", "the rest"},
}

// renderAllocParts writes where each operation's own allocations are made (after only):
// the measured floor of what the service's libraries cost per call.
func renderAllocParts(b *strings.Builder, in Inputs) {
	var rows []string
	for _, name := range ownOps {
		total, ok := in.After.get(name, "own-allocs/op")
		if _, split := in.After.get(name, allocPartPrefix+"rest/op"); !ok || !split {
			continue
		}
		row := fmt.Sprintf("| `%s` | %s |", name, num(total))
		for _, p := range allocParts {
			v, _ := in.After.get(name, allocPartPrefix+p.unit+"/op")
			c := num(v)
			if calls, _ := in.After.get(name, "lakefs-calls/op"); p.unit == "lakefs" && calls > 0 {
				c += fmt.Sprintf(" (%s × %s)", num(calls), num(v/calls))
			}
			row += " " + c + " |"
		}
		rows = append(rows, row)
	}
	if len(rows) == 0 {
		return
	}
	b.WriteString("### Where the own allocations are made (after)\n\n")
	b.WriteString("Each allocation on the request path counted once, in the first of these parts its stack passes\n" +
		"through: the metadata parse (iceberg-go's `table.ParseMetadataBytes`, wherever it runs), the\n" +
		"lakeFS client with all below it (the generated client, go-retryablehttp, net/http, JSON), the\n" +
		"state store (database/sql and the SQLite driver), the remote catalog's adapter with its driver\n" +
		"(here the SQL catalog on SQLite), the object-store read, request validation; *the rest* is\n" +
		"routing, authentication, logging, metrics and the service's own logic.\n\n")
	b.WriteString("| benchmark | own allocs/op |")
	for _, p := range allocParts {
		b.WriteString(" " + p.title + " |")
	}
	b.WriteString("\n| --- | --- |" + strings.Repeat(" --- |", len(allocParts)) + "\n")
	b.WriteString(strings.Join(rows, "\n") + "\n\n")
}

// ownOps are the single operations whose own CPU and allocations the issue targets.
var ownOps = []string{"PushExisting", "PushNewTable", "PushChanged", "PullInSync", "PullNewState"}

func num(v float64) string {
	switch {
	case v == float64(int64(v)) && v < 1e6:
		return groupThousands(int64(v))
	case v >= 100:
		return groupThousands(int64(v + 0.5))
	default:
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
}

func groupThousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func dur(ns float64) string {
	switch {
	case ns >= 1e9:
		return strconv.FormatFloat(ns/1e9, 'f', 2, 64) + " s"
	case ns >= 1e6:
		return strconv.FormatFloat(ns/1e6, 'f', 1, 64) + " ms"
	default:
		return strconv.FormatFloat(ns/1e3, 'f', 0, 64) + " µs"
	}
}

// cell renders before → after of one metric (blank where a run lacks it).
func cell(in Inputs, name, unit string, format func(float64) string) string {
	b, okB := in.Before.get(name, unit)
	a, okA := in.After.get(name, unit)
	switch {
	case okB && okA:
		return format(b) + " → " + format(a)
	case okA:
		return "– → " + format(a)
	case okB:
		return format(b) + " → –"
	}
	return ""
}

func calls(in Inputs, name string) string {
	side := func(r Results) string {
		// The listing benchmark reports per page and, since it has a sub-benchmark per
		// remote, under "<name>/remote=…"; the runs before that were one SQL benchmark per op.
		get := func(metric string) (float64, bool) {
			base, _, _ := strings.Cut(name, "/remote=sql")
			for _, n := range []string{name, base} {
				for _, unit := range []string{metric + "/op", metric + "/page"} {
					if v, ok := r.get(n, unit); ok {
						return v, true
					}
				}
			}
			return 0, false
		}
		l, ok1 := get("lakefs-calls")
		rm, ok2 := get("remote-calls")
		if !ok1 || !ok2 {
			return "–"
		}
		s := num(l) + " + " + num(rm)
		if o, ok := get("objstore-reads"); ok && o > 0 {
			s += " + " + num(o) + " read"
		}
		return s
	}
	return side(in.Before) + " → " + side(in.After)
}

func render(w io.Writer, in Inputs) error {
	var b strings.Builder
	m := in.Machine
	fmt.Fprintf(&b, "# Benchmarks\n\n")
	fmt.Fprintf(&b, "Generated by `scripts/benchmarks.sh` (`cmd/benchreport`) on %s from the benchmarks' own output;\n", in.Date.Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(&b, "do not edit by hand. Machine: %d cores, %.0f GiB memory, %s, %s/%s. ", m.Cores, m.MemoryGiB, m.GoVersion, m.OS, m.Arch)
	b.WriteString("The machine is shared with other work, so times are noisy;\ncall counts and allocations are exact.\n\n")
	b.WriteString("The backends are in-process: the lakeFS stand-in (`internal/lakefs/lakefstest`, with its OpenAPI\n" +
		"validation switched off for benchmarks, `lakefstest.Options.SkipValidation`, so CPU and allocation\n" +
		"figures are the service's), a real SQL remote catalog on SQLite, SQLite state, metadata written\n" +
		"by iceberg-go on `file://`; all traffic on loopback. *Before* is `internal/bench/testdata/before.txt`\n" +
		"(the same benchmarks on the code before issue 14), *after* is `internal/bench/testdata/after.txt`.\n\n")
	b.WriteString("Reproduce everything (benchmarks, the 10-minute load run, this file):\n\n```sh\nscripts/benchmarks.sh\n```\n\n")

	b.WriteString("## Round trips per operation (lakeFS calls + remote calls, before → after)\n\n")
	b.WriteString("Counted by the stand-ins' and the service's own per-backend counters, printed by every benchmark\n" +
		"(`lakefs-calls/op`, `remote-calls/op`, `objstore-reads/op`).\n\n")
	b.WriteString("| operation | benchmark | before → after | target |\n| --- | --- | --- | --- |\n")
	for _, t := range targets {
		if _, a := in.After.ByName[t.bench]; !a {
			if _, bb := in.Before.ByName[t.bench]; !bb {
				continue
			}
		}
		fmt.Fprintf(&b, "| %s | `%s` | %s | %s |\n", t.what, t.bench, calls(in, t.bench), t.target)
	}
	b.WriteString("\n")

	b.WriteString("## The service's own CPU and allocations per operation (before → after)\n\n")
	b.WriteString("`own time` is wall time minus the time spent waiting on lakeFS, the remote, the object store and\n" +
		"the state store (the service's Prometheus histograms). `own allocs` are the allocations on the\n" +
		"service's request path (every stack through its outermost HTTP middleware: routing, validation,\n" +
		"authentication, the service, its state store and its outbound clients), counted by the Go memory\n" +
		"profiler at full rate over 20 extra runs (for the listing, which reads its rows on other\n" +
		"goroutines, that is only the request goroutine's share); `allocs` counts the whole benchmark\n" +
		"process (stand-ins and client included).\n\n")
	b.WriteString("| benchmark | own time/op | own allocs/op | allocs/op (process) | B/op | time/op |\n| --- | --- | --- | --- | --- | --- |\n")
	for _, name := range ownOps {
		if _, a := in.After.ByName[name]; !a {
			continue
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s | %s |\n", name,
			cell(in, name, "own-µs/op", func(v float64) string { return dur(v * 1e3) }),
			cell(in, name, "own-allocs/op", num), cell(in, name, "allocs/op", num),
			cell(in, name, "B/op", func(v float64) string { return num(v/1024) + " KiB" }),
			cell(in, name, "ns/op", dur))
	}
	b.WriteString("\n")

	renderAllocParts(&b, in)

	b.WriteString("## Every benchmark (after; before in parentheses)\n\n")
	units := []string{"ns/op", "lakefs-calls/op", "remote-calls/op", "objstore-reads/op", "own-µs/op", "own-allocs/op", "allocs/op", "B/op"}
	extra := map[string]bool{}
	for _, r := range []Results{in.After, in.Before} {
		for _, name := range r.Order {
			for u := range r.ByName[name].Metrics {
				if !slices.Contains(units, u) && !strings.HasPrefix(u, allocPartPrefix) {
					extra[u] = true
				}
			}
		}
	}
	more := make([]string, 0, len(extra))
	for u := range extra {
		more = append(more, u)
	}
	slices.Sort(more)
	units = append(units, more...)
	b.WriteString("| benchmark | runs |")
	for _, u := range units {
		b.WriteString(" " + u + " |")
	}
	b.WriteString("\n| --- | --- |" + strings.Repeat(" --- |", len(units)) + "\n")
	names := slices.Clone(in.After.Order)
	for _, n := range in.Before.Order {
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	for _, name := range names {
		runs := in.After.ByName[name].N
		if runs == 0 {
			runs = in.Before.ByName[name].N
		}
		fmt.Fprintf(&b, "| `%s` | %d |", name, runs)
		for _, u := range units {
			a, okA := in.After.get(name, u)
			bv, okB := in.Before.get(name, u)
			format := num
			if u == "ns/op" {
				format = dur
			}
			switch {
			case okA && okB:
				fmt.Fprintf(&b, " %s (%s) |", format(a), format(bv))
			case okA:
				fmt.Fprintf(&b, " %s |", format(a))
			case okB:
				fmt.Fprintf(&b, " – (%s) |", format(bv))
			default:
				b.WriteString(" |")
			}
		}
		b.WriteString("\n")
	}
	b.WriteString("\n")

	b.WriteString("## Memory under load\n\n")
	if l := in.Load; l != nil {
		fmt.Fprintf(&b, "`scripts/load.sh 10m` (`internal/bench/TestLoad`): the real server (`server.Run`) on loopback with the\n"+
			"lakeFS stand-in and a SQL remote in its process, driven by `cmd/loadgen -op mix` from another\n"+
			"process: %d clients, each pushing, pulling and listing its own table in turn. The resident\n"+
			"memory and goroutines are read from the server's `/metrics` (`process_resident_memory_bytes`,\n"+
			"`go_goroutines`) after the first minute and at the end, with no request in flight and the\n"+
			"clients' idle connections closed. Pools inside the server (idle keep-alive connections to\n"+
			"the lakeFS stand-in, 3 goroutines each with the stand-in's side, and the database pool's\n"+
			"cleaner) come and go with timing, so the two counts may differ by a few; a leak would grow\n"+
			"with the requests. The goroutines outside those pools are counted from the goroutine\n"+
			"profile on the admin listener (`loadgen -profile-url`); `TestLoad` requires them equal.\n\n", l.Clients)
		fmt.Fprintf(&b, "| requests | errors | elapsed | throughput | p50 | p99 | RSS at %s | RSS at %s | growth | goroutines at %s → %s | outside pools |\n",
			l.FirstAt, l.EndAt, l.FirstAt, l.EndAt)
		b.WriteString("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n")
		service := "–"
		if l.ServiceFirst >= 0 && l.ServiceEnd >= 0 {
			service = fmt.Sprintf("%d → %d", l.ServiceFirst, l.ServiceEnd)
		}
		fmt.Fprintf(&b, "| %s | %d | %s | %s | %s | %s | %.1f MB | %.1f MB | %+.1f MB (limit 50 MB) | %d → %d | %s |\n\n",
			groupThousands(int64(l.Requests)), l.Errors, l.Elapsed, l.Throughput, l.P50, l.P99,
			l.RSSFirst/1e6, l.RSSEnd/1e6, (l.RSSEnd-l.RSSFirst)/1e6, l.GoroutinesFirst, l.GoroutineEnd, service)
	} else {
		b.WriteString("No load run output was given.\n\n")
	}

	b.WriteString("## Profiling\n\n")
	b.WriteString("Set `admin_address` (off by default; refused on the API's address) to serve Go's profiler\n" +
		"(`/debug/pprof/`) on a listener of its own, e.g. `admin_address: 127.0.0.1:6060`, then\n" +
		"`go tool pprof -sample_index=alloc_objects http://127.0.0.1:6060/debug/pprof/allocs` or\n" +
		"`.../debug/pprof/profile?seconds=30`. For a benchmark:\n" +
		"`go test -run '^$' -bench PushExisting -benchtime 500x -memprofile mem.out ./internal/bench/`.\n")
	_, err := io.WriteString(w, b.String())
	return err
}
