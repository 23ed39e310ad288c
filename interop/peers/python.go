package peers

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Python is the suite's virtualenv: moto, pyiceberg and the lakeFS Python SDK, installed
// from PyPI at the versions pinned in interop/python/requirements.txt.
type Python struct {
	Dir          string // the virtualenv
	Bin          string // its python
	Requirements string // the requirements file it was built from
	Scripts      string // interop/python, where the driver scripts live
}

// virtualenvVersion is the PyPI virtualenv used where python3 -m venv cannot work.
const virtualenvVersion = "21.15.11"

// venvInstallTimeout bounds a cold install (PyPI downloads of pyarrow, moto, ...).
const venvInstallTimeout = 15 * time.Minute

// Venv returns the suite's virtualenv under .cache/interop/venv, creating it with
// `python3 -m venv` and `pip install -r requirements.txt` when it is missing or was built
// from another requirements file (a hash marker records which). Test packages running in
// parallel share one install through an install lock.
func Venv(t testing.TB) *Python {
	t.Helper()
	root := RepoRoot(t)
	req := filepath.Join(root, "interop", "python", "requirements.txt")
	raw, err := os.ReadFile(req)
	if err != nil {
		t.Fatalf("peers: %v", err)
	}
	sum := sha256.Sum256(raw)
	want := hex.EncodeToString(sum[:])
	dir := filepath.Join(CacheDir(t, ""), "venv")
	marker := filepath.Join(dir, ".requirements.sha256")
	py := &Python{Dir: dir, Bin: filepath.Join(dir, "bin", "python"), Requirements: req,
		Scripts: filepath.Join(root, "interop", "python")}

	WithInstallLock(t, "venv", func() {
		if got, err := os.ReadFile(marker); err == nil && strings.TrimSpace(string(got)) == want {
			return
		}
		began := time.Now()
		Logf(t, "installing the Python peers into %s (requirements changed or no virtualenv yet)", dir)
		if err := os.RemoveAll(dir); err != nil {
			t.Fatalf("peers: %v", err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), venvInstallTimeout)
		defer cancel()
		run := func(env []string, name string, args ...string) error {
			cmd := exec.CommandContext(ctx, name, args...)
			cmd.Env = append(append(installEnv(), "PIP_DISABLE_PIP_VERSION_CHECK=1", "PIP_NO_INPUT=1"), env...)
			out, err := cmd.CombinedOutput()
			if err != nil {
				return fmt.Errorf("%s %s: %v\n%s", name, strings.Join(args, " "), err, tail(string(out), 40))
			}
			return nil
		}
		if err := run(nil, pythonInterpreter(), "-m", "venv", dir); err != nil {
			// Debian's python3 without python3-venv has no ensurepip: build the virtualenv
			// with the virtualenv package from PyPI instead, installed beside it.
			Logf(t, "python3 -m venv failed, using virtualenv %s from PyPI: %v", virtualenvVersion, err)
			_ = os.RemoveAll(dir)
			boot := filepath.Join(CacheDir(t, ""), "virtualenv-"+virtualenvVersion)
			// --target writes only into the cache; PEP 668 (Debian's externally managed
			// python) does not concern that folder.
			if err := run([]string{"PIP_BREAK_SYSTEM_PACKAGES=1"}, pythonInterpreter(), "-m", "pip", "install", "--quiet", "--target", boot, "virtualenv=="+virtualenvVersion); err != nil {
				t.Fatalf("peers: %v", err)
			}
			if err := run([]string{"PYTHONPATH=" + boot}, pythonInterpreter(), "-m", "virtualenv", dir); err != nil {
				t.Fatalf("peers: %v", err)
			}
		}
		if err := run(nil, py.Bin, "-m", "pip", "install", "--quiet", "-r", req); err != nil {
			t.Fatalf("peers: %v", err)
		}
		if err := os.WriteFile(marker, []byte(want+"\n"), 0o644); err != nil {
			t.Fatalf("peers: %v", err)
		}
		Logf(t, "installed the Python peers (%s) in %s", strings.Join(topLevel(req), ", "), time.Since(began).Round(time.Second))
	})
	return py
}

// installEnv is baseEnv plus what reaching the registry may need on this machine (pip's
// own settings, proxies, CA bundles). Only installs get it; the peers never do.
func installEnv() []string {
	env := baseEnv()
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(k, "PIP_"), strings.EqualFold(k, "HTTPS_PROXY"), strings.EqualFold(k, "HTTP_PROXY"),
			strings.EqualFold(k, "NO_PROXY"), k == "SSL_CERT_FILE", k == "REQUESTS_CA_BUNDLE":
			env = append(env, kv)
		}
	}
	return env
}

// pythonInterpreter is the python that builds the virtualenv: $INTEROP_PYTHON or python3.
func pythonInterpreter() string {
	if p := os.Getenv("INTEROP_PYTHON"); p != "" {
		return p
	}
	return "python3"
}

// Pinned returns the version requirements.txt pins for package name ("moto" for
// "moto[server]==5.2.5"), or fails the test.
func (p *Python) Pinned(t testing.TB, name string) string {
	t.Helper()
	v, ok := pinned(p.Requirements)[strings.ToLower(name)]
	if !ok {
		t.Fatalf("peers: %s is not pinned in %s", name, p.Requirements)
	}
	return v
}

// pinned reads name==version lines (extras dropped, names lower-cased).
func pinned(path string) map[string]string {
	out := map[string]string{}
	f, err := os.Open(path)
	if err != nil {
		return out
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		name, version, ok := strings.Cut(line, "==")
		if !ok || strings.HasPrefix(line, "#") {
			continue
		}
		if i := strings.Index(name, "["); i >= 0 {
			name = name[:i]
		}
		out[strings.ToLower(strings.TrimSpace(name))] = strings.TrimSpace(version)
	}
	return out
}

// topLevel lists the requirements above the "Transitive" comment, for the install log.
func topLevel(path string) []string {
	raw, _ := os.ReadFile(path)
	var out []string
	for _, line := range strings.Split(string(raw), "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "# Transitive") {
			break
		}
		if line != "" && !strings.HasPrefix(line, "#") {
			out = append(out, line)
		}
	}
	return out
}

// Run runs a driver script from interop/python with the virtualenv's python, bounded by
// timeout, with env added to a minimal environment; it returns the script's stdout and fails
// the test (with stderr) when the script exits non-zero.
func (p *Python) Run(t testing.TB, timeout time.Duration, env []string, script string, args ...string) string {
	t.Helper()
	out, stderr, err := p.RunErr(timeout, env, script, args...)
	if err != nil {
		t.Fatalf("peers: %s %s: %v\nstderr:\n%s\nstdout:\n%s", script, strings.Join(args, " "), err, tail(stderr, 40), tail(out, 20))
	}
	return out
}

// RunErr is Run that returns the error (and stderr) instead of failing the test.
func (p *Python) RunErr(timeout time.Duration, env []string, script string, args ...string) (stdout, stderr string, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, p.Bin, append([]string{filepath.Join(p.Scripts, script)}, args...)...)
	cmd.Env = append(baseEnv(), env...)
	var so, se strings.Builder
	cmd.Stdout, cmd.Stderr = &so, &se
	err = cmd.Run()
	if ctx.Err() != nil {
		err = fmt.Errorf("timed out after %s: %w", timeout, err)
	}
	return so.String(), se.String(), err
}
