// Package peers starts the third-party servers the interop suite runs the service against
// (Apache Iceberg's REST server, Nessie, Hive Metastore, moto, ...) as child processes on
// loopback, from packages installed out of the registries by pinned version and cached under
// the repository's ignored .cache/interop folder.
//
// This file holds what every peer shares: where installs are cached, free loopback ports,
// starting a process and waiting until it answers, stopping and restarting it (for the
// "remote unreachable mid-operation" scenarios), and its log.
package peers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/iceberg-remotes/iceberg-remotes/internal/testutil/tcptest"
)

// RepoRoot returns the repository's top folder (the one holding go.mod).
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatalf("peers: %v", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("peers: no go.mod above the working directory")
		}
		dir = parent
	}
}

// CacheDir returns (and creates) <repo>/.cache/interop/<sub>, the ignored folder where
// installs (virtualenvs, resolved classpaths, unpacked distributions) survive between runs.
// Maven's own artifacts stay in ~/.m2 as usual.
func CacheDir(t testing.TB, sub string) string {
	t.Helper()
	dir := filepath.Join(RepoRoot(t), ".cache", "interop", sub)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("peers: %v", err)
	}
	return dir
}

// WithInstallLock runs fn while holding an exclusive file lock named name in the cache, so
// that test packages running in parallel (go test runs packages concurrently) do not install
// the same peer at once.
func WithInstallLock(t testing.TB, name string, fn func()) {
	t.Helper()
	path := filepath.Join(CacheDir(t, "locks"), name+".lock")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		t.Fatalf("peers: lock %s: %v", name, err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatalf("peers: lock %s: %v", name, err)
	}
	defer func() { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN) }()
	fn()
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	_, port, err := net.SplitHostPort(tcptest.FreeAddr(t))
	n, aerr := strconv.Atoi(port)
	if err != nil || aerr != nil {
		t.Fatalf("peers: free port: %v %v", err, aerr)
	}
	return n
}

// Logf writes one line of the suite's log: what was installed or started, and how long it
// took. It goes to the test log (go test -v shows it) and is what the issue asks to see.
func Logf(t testing.TB, format string, args ...any) {
	t.Helper()
	t.Logf("interop: "+format, args...)
}

// Spec says how to start one peer.
type Spec struct {
	Name    string   // for logs: "apache-rest 1.10.0"
	Command string   // the program
	Args    []string // its arguments
	Env     []string // added to a minimal environment (PATH, HOME, JAVA_HOME, LANG)
	Dir     string   // working directory (default: a temp dir)
	// Ready reports nil once the peer serves requests. Start polls it.
	Ready func(ctx context.Context) error
	// StartTimeout bounds the wait for Ready (default 120s).
	StartTimeout time.Duration
}

// Process is a running peer.
type Process struct {
	t       testing.TB
	spec    Spec
	logPath string

	mu  sync.Mutex
	cmd *exec.Cmd
}

// Start starts the peer, waits until it is ready and stops it when the test ends. On failure
// it fails the test with the end of the peer's log.
func Start(t testing.TB, spec Spec) *Process {
	t.Helper()
	if spec.StartTimeout == 0 {
		spec.StartTimeout = 120 * time.Second
	}
	if spec.Dir == "" {
		spec.Dir = t.TempDir()
	}
	p := &Process{t: t, spec: spec, logPath: filepath.Join(t.TempDir(), "peer.log")}
	t.Cleanup(p.Stop)
	if err := p.start(); err != nil {
		t.Fatalf("peers: start %s: %v\n%s", spec.Name, err, p.LogTail(60))
	}
	return p
}

func (p *Process) start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil {
		return errors.New("already running")
	}
	logf, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(p.spec.Command, p.spec.Args...)
	cmd.Dir = p.spec.Dir
	cmd.Env = append(baseEnv(), p.spec.Env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	// Own process group: Stop signals the peer and every child it started.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	began := time.Now()
	if err := cmd.Start(); err != nil {
		logf.Close()
		return err
	}
	p.cmd = cmd
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait(); logf.Close() }()

	ctx, cancel := context.WithTimeout(context.Background(), p.spec.StartTimeout)
	defer cancel()
	for {
		rctx, rcancel := context.WithTimeout(ctx, 5*time.Second)
		err := p.spec.Ready(rctx)
		rcancel()
		if err == nil {
			Logf(p.t, "started %s (pid %d) in %s", p.spec.Name, cmd.Process.Pid, time.Since(began).Round(10*time.Millisecond))
			return nil
		}
		select {
		case werr := <-exited:
			p.cmd = nil
			return fmt.Errorf("exited before it was ready: %v", werr)
		case <-ctx.Done():
			p.killLocked()
			return fmt.Errorf("not ready after %s: %v", p.spec.StartTimeout, err)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// Stop stops the peer (SIGTERM to its process group, SIGKILL after 10s). Stopping a stopped
// peer does nothing.
func (p *Process) Stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.killLocked()
}

func (p *Process) killLocked() {
	if p.cmd == nil {
		return
	}
	pid := p.cmd.Process.Pid
	_ = syscall.Kill(-pid, syscall.SIGTERM)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if syscall.Kill(pid, 0) != nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	_ = syscall.Kill(-pid, syscall.SIGKILL)
	p.cmd = nil
	Logf(p.t, "stopped %s", p.spec.Name)
}

// Restart starts a stopped peer again with the same spec (same port, same data folder).
func (p *Process) Restart() {
	p.t.Helper()
	if err := p.start(); err != nil {
		p.t.Fatalf("peers: restart %s: %v\n%s", p.spec.Name, err, p.LogTail(60))
	}
}

// LogTail returns the last n lines the peer printed.
func (p *Process) LogTail(n int) string {
	b, _ := os.ReadFile(p.logPath)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// baseEnv is the little of this process's environment a peer needs: no credentials, proxies
// or cloud settings leak into it (so nothing it does can reach beyond loopback by accident).
func baseEnv() []string {
	var env []string
	for _, k := range []string{"PATH", "HOME", "JAVA_HOME", "LANG", "TMPDIR"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// HTTPReady returns a Ready check that passes once GET url answers with a status ok accepts.
func HTTPReady(url string, ok func(status int) bool) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		_, _ = b.ReadFrom(http.MaxBytesReader(nil, resp.Body, 4096))
		if !ok(resp.StatusCode) {
			return fmt.Errorf("GET %s: %d %s", url, resp.StatusCode, b.String())
		}
		return nil
	}
}

// TCPReady returns a Ready check that passes once addr accepts a TCP connection.
func TCPReady(addr string) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return err
		}
		return c.Close()
	}
}
