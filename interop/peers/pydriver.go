package peers

import (
	"bufio"
	"encoding/json"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Driver is a running interop/python/driver.py: pyiceberg and the lakeFS Python SDK behind a
// JSON-lines protocol (one request per line on its stdin, one answer per line on its stdout),
// so that the suite pays Python's and pyarrow's start-up once per environment.
type Driver struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout *bufio.Reader
	stderr *strings.Builder

	mu sync.Mutex
}

// DriverCallTimeout bounds one request (a scan, an append, an SDK push with its retries).
const DriverCallTimeout = 3 * time.Minute

// StartDriver starts the driver with the suite's virtualenv; it is stopped when the test ends.
func StartDriver(t testing.TB, py *Python) *Driver {
	t.Helper()
	began := time.Now()
	cmd := exec.Command(py.Bin, "-u", filepath.Join(py.Scripts, "driver.py"))
	// No AWS configuration of this machine leaks into boto3 or pyarrow.
	cmd.Env = append(baseEnv(), "AWS_CONFIG_FILE=/nonexistent", "AWS_SHARED_CREDENTIALS_FILE=/nonexistent",
		"AWS_EC2_METADATA_DISABLED=true", "PYICEBERG_HOME=/nonexistent", "PYTHONDONTWRITEBYTECODE=1",
		// The AWS SDKs' default request checksums (aws-chunked bodies with trailers, AWS SDK for
		// C++ inside pyarrow, boto3 >= 1.36) are not understood by gofakes3: UploadPart fails
		// with 411 MissingContentLength. Checksums only where an operation requires them.
		"AWS_REQUEST_CHECKSUM_CALCULATION=when_required", "AWS_RESPONSE_CHECKSUM_VALIDATION=when_required")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatalf("peers: driver: %v", err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatalf("peers: driver: %v", err)
	}
	d := &Driver{cmd: cmd, stdin: stdin, stdout: bufio.NewReaderSize(out, 1<<20), stderr: &strings.Builder{}}
	cmd.Stderr = &lockedWriter{w: d.stderr}
	if err := cmd.Start(); err != nil {
		t.Fatalf("peers: driver: %v", err)
	}
	t.Cleanup(func() {
		_ = stdin.Close()
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
	})
	v := d.Call(t, map[string]any{"op": "versions"})
	if v["remotes_api"] != true {
		t.Fatalf("peers: lakefs_sdk %v has no RemotesApi", v["lakefs_sdk"])
	}
	Logf(t, "started python driver (pyiceberg %v, lakefs_sdk %v) in %s", v["pyiceberg"], v["lakefs_sdk"], time.Since(began).Round(10*time.Millisecond))
	return d
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// Call sends one request and returns the answer; failures fail t (the calling test). A request the driver could not carry out
// ({"ok": false}) fails the test with the Python error; use Try to look at it instead.
func (d *Driver) Call(t testing.TB, req map[string]any) map[string]any {
	t.Helper()
	out := d.Try(t, req)
	if out["ok"] != true {
		t.Fatalf("peers: driver %v: %v\n%v", req["op"], out["error"], out["trace"])
	}
	return out
}

// Try sends one request and returns the answer, ok or not. It fails the test only when the
// driver itself is gone or does not answer within DriverCallTimeout.
func (d *Driver) Try(t testing.TB, req map[string]any) map[string]any {
	t.Helper()
	d.mu.Lock()
	defer d.mu.Unlock()
	raw, err := json.Marshal(req)
	if err != nil {
		t.Fatalf("peers: driver: %v", err)
	}
	if _, err := d.stdin.Write(append(raw, '\n')); err != nil {
		t.Fatalf("peers: driver %v: %v\n%s", req["op"], err, tail(d.stderrText(), 30))
	}
	type answer struct {
		line []byte
		err  error
	}
	ch := make(chan answer, 1)
	go func() {
		line, err := d.stdout.ReadBytes('\n')
		ch <- answer{line, err}
	}()
	select {
	case a := <-ch:
		if a.err != nil {
			t.Fatalf("peers: driver %v: %v\n%s", req["op"], a.err, tail(d.stderrText(), 30))
		}
		var out map[string]any
		if err := json.Unmarshal(a.line, &out); err != nil {
			t.Fatalf("peers: driver %v: bad answer %q: %v", req["op"], a.line, err)
		}
		return out
	case <-time.After(DriverCallTimeout):
		_ = syscall.Kill(-d.cmd.Process.Pid, syscall.SIGKILL)
		t.Fatalf("peers: driver %v: no answer within %s\n%s", req["op"], DriverCallTimeout, tail(d.stderrText(), 30))
		return nil
	}
}

func (d *Driver) stderrText() string {
	lw := d.cmd.Stderr.(*lockedWriter)
	lw.mu.Lock()
	defer lw.mu.Unlock()
	return d.stderr.String()
}
