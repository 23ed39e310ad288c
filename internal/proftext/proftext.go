// Package proftext reads Go profiles in their debug=1 text form (runtime/pprof's
// Profile.WriteTo(w, 1), net/http/pprof's /debug/pprof/<name>?debug=1): records of a
// header line "<counts> @ <pcs>" followed by one line per frame,
// "#\t<pc>\t<function>+<offset>\t<file>:<line>". The benchmarks count allocations by stack
// with it, and loadgen counts goroutines by stack.
package proftext

import (
	"bufio"
	"io"
	"strings"
)

// Record is one stack of a profile.
type Record struct {
	// Counts is the header before " @ ": "<n>" in a goroutine profile,
	// "<inuse objects>: <inuse bytes> [<alloc objects>: <alloc bytes>]" in a heap one.
	Counts string
	// Funcs are the frames' functions, innermost first.
	Funcs []string
}

// Has tells whether function fn is one of r's frames.
func (r Record) Has(fn string) bool {
	for _, f := range r.Funcs {
		if f == fn {
			return true
		}
	}
	return false
}

// Read calls fn for every record of the profile in r, in order; fn's error stops it. The
// Funcs slice is reused from one record to the next.
func Read(r io.Reader, fn func(Record) error) error {
	var rec Record
	in := false
	flush := func() error {
		if !in {
			return nil
		}
		in = false
		return fn(rec)
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "#"):
			if !in {
				continue // a comment before the first record
			}
			// "#\t<pc>\t<function>+<offset>\t<file>:<line>"
			fields := strings.Split(line, "\t")
			if len(fields) < 3 {
				continue
			}
			name, _, _ := strings.Cut(fields[2], "+")
			rec.Funcs = append(rec.Funcs, name)
		case strings.Contains(line, " @ "):
			if err := flush(); err != nil {
				return err
			}
			rec.Counts, _, _ = strings.Cut(line, " @ ")
			rec.Funcs, in = rec.Funcs[:0], true
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	return flush()
}
