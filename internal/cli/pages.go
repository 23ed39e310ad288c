package cli

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/iceberg-remotes/iceberg-remotes/internal/api/apiclient"
)

// pageFlags are a listing's lakeFS-style pagination: one page of --amount after --after,
// or every page with --all.
type pageFlags struct {
	amount int
	after  string
	all    bool
	output string
}

func (p *pageFlags) add(cmd *cobra.Command) {
	f := cmd.Flags()
	f.IntVar(&p.amount, "amount", 100, "rows per page (at most 1000)")
	f.StringVar(&p.after, "after", "", "start after this token (the previous page's next token)")
	f.BoolVar(&p.all, "all", false, "follow every page")
	f.StringVarP(&p.output, "output", "o", "table", "table or json")
}

func (p *pageFlags) check() error {
	if p.output != "table" && p.output != "json" {
		return fmt.Errorf("--output %q: want table or json", p.output)
	}
	if p.amount < 1 || p.amount > 1000 {
		return fmt.Errorf("--amount %d: want 1 to 1000", p.amount)
	}
	return nil
}

// maxPages bounds --all, so a server that never ends its pagination cannot loop us.
const maxPages = 100000

// pages calls fetch from p.after on, once or (with --all) until the last page, and
// returns the pagination of the last page fetched.
func (p *pageFlags) pages(fetch func(after string) (apiclient.Pagination, error)) (apiclient.Pagination, error) {
	after := p.after
	for i := 0; ; i++ {
		pg, err := fetch(after)
		if err != nil || !p.all || !pg.HasMore {
			return pg, err
		}
		if i >= maxPages || pg.NextOffset == after {
			return pg, fmt.Errorf("the server's pagination does not end (next token %q)", pg.NextOffset)
		}
		after = pg.NextOffset
	}
}

// moreHint tells how to get the next page, as lakectl does.
func moreHint(w io.Writer, pg apiclient.Pagination) {
	if pg.HasMore {
		fmt.Fprintf(w, "\nMore results: run again with --after %s (or --all).\n", pg.NextOffset)
	}
}
