package proftext_test

import (
	"bytes"
	"runtime/pprof"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/proftext"
)

// Records are read with their counts and their frames' function names, offsets dropped; a
// heap profile's first line reads as a record without frames, its closing "# MemStats"
// comments as nothing.
func TestReadRecords(t *testing.T) {
	const profile = "heap profile: 3: 96 [5: 160] @ heap/1048576\n" +
		"1: 32 [2: 64] @ 0x1 0x2\n" +
		"#\t0x1\tgithub.com/x/y.(*T).M+0x2c\t/y.go:10\n" +
		"#\t0x2\tmain.main+0x10\t/main.go:3\n" +
		"\n" +
		"2: 64 [3: 96] @ 0x3\n" +
		"#\t0x3\tnet/http.(*conn).serve+0x5\t/server.go:2000\n" +
		"\n# runtime.MemStats\n# Alloc = 1\n"
	var got []proftext.Record
	require.NoError(t, proftext.Read(strings.NewReader(profile), func(r proftext.Record) error {
		got = append(got, proftext.Record{Counts: r.Counts, Funcs: append([]string(nil), r.Funcs...)})
		return nil
	}))
	assert.Equal(t, []proftext.Record{
		{Counts: "heap profile: 3: 96 [5: 160]"},
		{Counts: "1: 32 [2: 64]", Funcs: []string{"github.com/x/y.(*T).M", "main.main"}},
		{Counts: "2: 64 [3: 96]", Funcs: []string{"net/http.(*conn).serve"}},
	}, got)
	assert.True(t, got[1].Has("main.main"))
	assert.False(t, got[1].Has("main"), "whole names only")
}

// Go's own goroutine profile reads as records, one of them this test's own stack.
func TestReadGoroutineProfile(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, pprof.Lookup("goroutine").WriteTo(&buf, 1))
	found := false
	require.NoError(t, proftext.Read(&buf, func(r proftext.Record) error {
		found = found || r.Has("github.com/iceberg-remotes/iceberg-remotes/internal/proftext_test.TestReadGoroutineProfile")
		return nil
	}))
	assert.True(t, found)
}
