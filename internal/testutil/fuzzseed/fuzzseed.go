// Package fuzzseed writes seed inputs for `go test -fuzz` targets into the corpus folder the
// go command reads (testdata/fuzz/<FuzzTarget>/), in its "go test fuzz v1" format.
//
// Seeds that must be computed (signed tokens and cookies, metadata files written by
// iceberg-go) are produced by a TestWriteFuzzSeeds function beside each target, which runs
// only when ICEBERG_REMOTES_WRITE_FUZZ_SEEDS=1:
//
//	ICEBERG_REMOTES_WRITE_FUZZ_SEEDS=1 go test -run TestWriteFuzzSeeds ./internal/...
//
// The files are checked in; the fuzz targets run them as ordinary test cases in `make test`.
package fuzzseed

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// EnvWrite turns the seed writers on.
const EnvWrite = "ICEBERG_REMOTES_WRITE_FUZZ_SEEDS"

// Enabled skips t unless seeds are being written.
func Enabled(t *testing.T) {
	t.Helper()
	if os.Getenv(EnvWrite) != "1" {
		t.Skipf("writes fuzz seeds only with %s=1", EnvWrite)
	}
}

// Write stores one seed for target (the fuzz function's name) under name, with the
// fuzz function's arguments in order. Supported argument types: []byte, string, bool,
// uint8, int.
func Write(t *testing.T, target, name string, args ...any) {
	t.Helper()
	var b strings.Builder
	b.WriteString("go test fuzz v1\n")
	for _, a := range args {
		switch v := a.(type) {
		case []byte:
			fmt.Fprintf(&b, "[]byte(%s)\n", strconv.Quote(string(v)))
		case string:
			fmt.Fprintf(&b, "string(%s)\n", strconv.Quote(v))
		case bool:
			fmt.Fprintf(&b, "bool(%t)\n", v)
		case uint8:
			fmt.Fprintf(&b, "uint8(%d)\n", v)
		case int:
			fmt.Fprintf(&b, "int(%d)\n", v)
		default:
			t.Fatalf("fuzzseed: unsupported argument type %T", a)
		}
	}
	dir := filepath.Join("testdata", "fuzz", target)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	old, _ := filepath.Glob(filepath.Join(dir, name+"-*")) // a rewritten seed replaces its old version
	for _, f := range old {
		_ = os.Remove(f)
	}
	sum := sha256.Sum256([]byte(b.String()))
	file := filepath.Join(dir, name+"-"+hex.EncodeToString(sum[:4]))
	if err := os.WriteFile(file, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}
