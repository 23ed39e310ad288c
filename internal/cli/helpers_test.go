package cli_test

import (
	"bytes"
	"context"
	"io"
	"testing"
	"time"

	"github.com/iceberg-remotes/iceberg-remotes/internal/cli"
)

// result is what one command run printed and returned.
type result struct {
	stdout, stderr string
	err            error
}

// execute runs the client as the binary would, with environ as its whole environment
// (HOME included, so no real ~/.lakectl.yaml is read) and stdout/stderr captured; tty
// says whether stderr counts as a terminal.
func execute(t *testing.T, environ []string, tty bool, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	root := cli.NewRootCommand(cli.Options{
		Environ: append([]string{"HOME=" + t.TempDir()}, environ...),
		Stdout:  &out, Stderr: &errOut,
		IsTerminal: func(io.Writer) bool { return tty },
	})
	root.SetArgs(args)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := root.ExecuteContext(ctx)
	return result{stdout: out.String(), stderr: errOut.String(), err: err}
}
