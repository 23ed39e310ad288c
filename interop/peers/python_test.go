package peers

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Every requirement is pinned with ==, so a fresh machine installs what the suite last ran.
func TestRequirementsArePinned(t *testing.T) {
	path := filepath.Join(RepoRoot(t), "interop", "python", "requirements.txt")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range strings.Split(string(raw), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		n++
		if !strings.Contains(line, "==") || strings.ContainsAny(line, "<>~*") {
			t.Errorf("requirement not pinned with ==: %q", line)
		}
	}
	pins := pinned(path)
	if len(pins) != n {
		t.Errorf("%d requirement lines, %d parsed pins", n, len(pins))
	}
	for name, want := range map[string]string{"moto": "5.2.5", "pyiceberg": "0.12.0", "lakefs-sdk": "1.80.0"} {
		if pins[name] != want {
			t.Errorf("%s pinned at %q, want %q", name, pins[name], want)
		}
	}
}

// The virtualenv is reused while requirements.txt is unchanged, and the driver speaks to the
// pinned lakefs_sdk, which has RemotesApi.
func TestVenvAndDriver(t *testing.T) {
	Venv(t)
	began := time.Now()
	py := Venv(t)
	if d := time.Since(began); d > 5*time.Second {
		t.Errorf("a second Venv took %s: the install was not reused", d)
	}
	d := StartDriver(t, py)
	v := d.Call(t, map[string]any{"op": "versions"})
	if v["lakefs_sdk"] != py.Pinned(t, "lakefs-sdk") || v["pyiceberg"] != py.Pinned(t, "pyiceberg") {
		t.Errorf("driver runs %v, requirements pin lakefs-sdk %s and pyiceberg %s", v, py.Pinned(t, "lakefs-sdk"), py.Pinned(t, "pyiceberg"))
	}
	bad := d.Try(t, map[string]any{"op": "scan", "catalog": "none", "namespace": []string{"a"}, "table": "b"})
	if bad["ok"] != false || !strings.Contains(bad["error"].(string), "KeyError") {
		t.Errorf("a failing request answers ok=false with the Python error, got %v", bad)
	}
}
