package cli

import (
	"io"
	"os"

	"golang.org/x/term"
)

// isTerminal is Options.IsTerminal's default: w is a file open on a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
