package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/iceberg-go/table"
	"github.com/stretchr/testify/require"
)

// TestCLIDemo is the demo scripts/cli-demo.sh runs (skipped without it): the built
// iceberg-remotes binary, in a tmux terminal, bulk-pushes CLI_DEMO_TABLES tables (default
// 200) from lakeFS (the stand-in) to a SQL remote with its progress bar; then some tables
// are changed on the remote, some in lakeFS, one on both sides and one dropped, and
// `status` shows the mix. The terminal is captured into CLI_DEMO_DIR: bulk-push.frames.txt
// (every screen while the bar ran), bulk-push.txt (the last screen) and status.txt.
func TestCLIDemo(t *testing.T) {
	dir, bin := os.Getenv("CLI_DEMO_DIR"), os.Getenv("CLI_DEMO_BIN")
	if dir == "" || bin == "" {
		t.Skip("the demo of scripts/cli-demo.sh: set CLI_DEMO_DIR and CLI_DEMO_BIN")
	}
	n := 200
	if v := os.Getenv("CLI_DEMO_TABLES"); v != "" {
		var err error
		n, err = strconv.Atoi(v)
		require.NoError(t, err, "CLI_DEMO_TABLES")
		require.True(t, n >= 8 && n <= 5000, "CLI_DEMO_TABLES: 8 to 5000")
	}
	e := newEnv(t, sqlSQLite(), "pointer")
	namespaces := []string{"sales", "marketing", "finance"}
	type tbl struct {
		ns   []string
		name string
		loc  string
	}
	tables := make([]tbl, n)
	for i := range tables {
		tables[i] = tbl{ns: []string{namespaces[i%len(namespaces)]}, name: fmt.Sprintf("t%04d", i)}
		tables[i].loc = e.authorTable(tables[i].ns, tables[i].name, 1)
		e.link("main", tables[i].ns, tables[i].name, tables[i].loc, 1)
	}
	_, err := e.client.Commit(ctx(t), repo, "main", fmt.Sprintf("add %d tables", n), nil)
	require.NoError(t, err)

	term := newTmux(t, dir, bin, []string{"ICEBERG_REMOTES_URL=" + e.api.URL, "ICEBERG_REMOTES_TOKEN=" + e.token})
	out, code := term.run("bulk-push", "iceberg-remotes bulk-push "+remoteID+" --repository "+repo+" --ref main --create-namespace")
	if strings.Contains(out, "501 Not Implemented") {
		t.Fatalf("the server answers 501 to bulk push: it is not implemented on this branch (merge the bulk push work first). Screen:\n%s", out)
	}
	require.Equal(t, 0, code, "bulk-push failed:\n%s", out)
	require.Contains(t, out, fmt.Sprintf("bulk-push: %d tables: %d changed, 0 unchanged, 0 failed", n+1, n+1), out)

	// A mix of states: k tables changed by an engine on the remote, k changed in lakeFS,
	// one on both sides, one dropped from the remote.
	k := max(1, n/10)
	for i := 0; i < k; i++ {
		e.appendRemoteAt(tables[i].ns, tables[i].name, 1)
		e.appendOnBranchAt("main", tables[k+i].ns, tables[k+i].name, tables[k+i].loc, 1)
	}
	both := tables[2*k]
	e.appendRemoteAt(both.ns, both.name, 1)
	e.appendOnBranchAt("main", both.ns, both.name, both.loc, 1)
	gone := tables[2*k+1]
	require.NoError(t, e.writer.DropTable(ctx(t), append(append(table.Identifier{}, gone.ns...), gone.name)))

	out, code = term.run("status", "iceberg-remotes status "+remoteID+" --all")
	require.Equal(t, 0, code, out)
	for state, want := range map[string]int{"remote_ahead": k, "lakefs_ahead": k, "diverged": 1, "missing": 1, "in_sync": n + 1 - 2*k - 2} {
		got := len(regexp.MustCompile(`(?m)^\S+\s+`+state+`\s`).FindAllString(out, -1))
		require.Equal(t, want, got, "tables in state %s:\n%s", state, out)
	}
	t.Logf("demo captured in %s", dir)
}

// tmuxTerm is one tmux session on a private server (its own socket, so the user's tmux is
// untouched), running a plain bash with the binary on its PATH.
type tmuxTerm struct {
	t      *testing.T
	dir    string
	socket string
}

func newTmux(t *testing.T, dir, bin string, environ []string) *tmuxTerm {
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Fatal("the demo needs tmux")
	}
	require.NoError(t, os.MkdirAll(dir, 0o755))
	abs, err := filepath.Abs(bin)
	require.NoError(t, err)
	binDir := filepath.Join(t.TempDir(), "bin")
	require.NoError(t, os.MkdirAll(binDir, 0o755))
	require.NoError(t, os.Symlink(abs, filepath.Join(binDir, "iceberg-remotes")))
	m := &tmuxTerm{t: t, dir: dir, socket: filepath.Join(t.TempDir(), "tmux.sock")}
	args := []string{"new-session", "-d", "-s", "demo", "-x", "150", "-y", "45", "-e", "HOME=" + t.TempDir()}
	for _, kv := range environ {
		args = append(args, "-e", kv)
	}
	m.tmux(append(args, "bash", "--norc", "--noprofile")...)
	t.Cleanup(func() { _ = exec.Command("tmux", "-S", m.socket, "kill-server").Run() })
	// An interactive bash sets its own PATH and prompt: set them inside.
	m.tmux("send-keys", "-t", "demo", "export PATH="+binDir+":$PATH PS1='$ '", "Enter")
	return m
}

func (m *tmuxTerm) tmux(args ...string) string {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(c, "tmux", append([]string{"-S", m.socket}, args...)...).CombinedOutput()
	require.NoError(m.t, err, "tmux %v: %s", args, out)
	return string(out)
}

var exitLine = regexp.MustCompile(`(?m)^exit=(\d+)\s*$`)

// run clears the screen, types command, records every distinct screen into
// <name>.frames.txt until the command has finished (at most 5 minutes), saves the last
// screen with its scrollback to <name>.txt, and returns it with the exit code.
func (m *tmuxTerm) run(name, command string) (string, int) {
	m.tmux("send-keys", "-t", "demo", "clear", "Enter")
	time.Sleep(300 * time.Millisecond)
	m.tmux("clear-history", "-t", "demo")
	m.tmux("send-keys", "-t", "demo", command+`; echo "exit=$?"`, "Enter")
	var frames strings.Builder
	last := ""
	deadline := time.Now().Add(5 * time.Minute)
	for {
		screen := m.tmux("capture-pane", "-p", "-t", "demo")
		if screen != last {
			fmt.Fprintf(&frames, "----- frame at %s -----\n%s", time.Now().UTC().Format("15:04:05.000"), screen)
			last = screen
		}
		if exitLine.MatchString(screen) {
			break
		}
		require.True(m.t, time.Now().Before(deadline), "%s did not finish in 5 minutes:\n%s", name, screen)
		time.Sleep(50 * time.Millisecond)
	}
	full := m.tmux("capture-pane", "-p", "-t", "demo", "-S", "-", "-E", "-")
	full = strings.TrimRight(full, "\n") + "\n"
	require.NoError(m.t, os.WriteFile(filepath.Join(m.dir, name+".frames.txt"), []byte(frames.String()), 0o644))
	require.NoError(m.t, os.WriteFile(filepath.Join(m.dir, name+".txt"), []byte(full), 0o644))
	code, _ := strconv.Atoi(exitLine.FindStringSubmatch(full)[1])
	return full, code
}
