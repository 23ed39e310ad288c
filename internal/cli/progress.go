package cli

import (
	"fmt"
	"io"

	"github.com/schollz/progressbar/v3"

	"github.com/iceberg-remotes/iceberg-remotes/internal/api/apiclient"
)

// progress shows a bulk operation's stream as it arrives: a progress bar on a terminal,
// else one line per table (for logs and pipes).
type progress interface {
	table(r apiclient.IcebergBulkResult)
	// finish ends the display; the totals are printed by the caller.
	finish()
}

func newProgress(e *env, op string, noBar bool) progress {
	if !noBar && e.o.IsTerminal(e.stderr()) {
		return newBarProgress(e.stderr(), op)
	}
	return linePrinter{out: e.stdout()}
}

// linePrinter writes one line per table.
type linePrinter struct{ out io.Writer }

func (p linePrinter) table(r apiclient.IcebergBulkResult) { fmt.Fprintln(p.out, resultLine(r)) }
func (p linePrinter) finish()                             {}

func resultLine(r apiclient.IcebergBulkResult) string {
	line := fmt.Sprintf("%-9s %s -> %s", r.Outcome, dotted(r.Source.Namespace, r.Source.Table),
		dotted(r.Destination.Namespace, r.Destination.Table))
	if r.Outcome == apiclient.IcebergBulkResultOutcomeFailed || r.Outcome == apiclient.IcebergBulkResultOutcomeBlocked || str(r.Message) != "" {
		line += fmt.Sprintf(" (%d) %s", r.Status, str(r.Message))
	}
	return line
}

// barProgress is a progress bar on the terminal: the stream does not announce how many
// tables it will carry, so the bar counts tables and their rate, and failed tables are
// printed above it as they arrive.
type barProgress struct {
	out                   io.Writer
	bar                   *progressbar.ProgressBar
	op                    string
	done, failed, changed int
}

func newBarProgress(out io.Writer, op string) *barProgress {
	return &barProgress{out: out, op: op, bar: progressbar.NewOptions(-1,
		progressbar.OptionSetWriter(out),
		progressbar.OptionSetDescription(op),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("tables"),
		progressbar.OptionSpinnerType(14),
		progressbar.OptionFullWidth(),
		progressbar.OptionThrottle(0),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(out) }),
	)}
}

func (p *barProgress) table(r apiclient.IcebergBulkResult) {
	p.done++
	switch r.Outcome {
	case apiclient.IcebergBulkResultOutcomeFailed, apiclient.IcebergBulkResultOutcomeBlocked:
		p.failed++
		_ = p.bar.Clear()
		fmt.Fprintln(p.out, resultLine(r))
	case apiclient.IcebergBulkResultOutcomePushed, apiclient.IcebergBulkResultOutcomePulled, apiclient.IcebergBulkResultOutcomePlanned:
		p.changed++
	}
	p.bar.Describe(fmt.Sprintf("%s: %d tables, %d changed, %d unchanged, %d failed", p.op, p.done, p.changed, p.done-p.changed-p.failed, p.failed))
	_ = p.bar.Add(1)
}

func (p *barProgress) finish() { _ = p.bar.Finish() }
