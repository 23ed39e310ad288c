package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"time"

	"github.com/iceberg-remotes/iceberg-remotes/internal/api/apiclient"
)

const ndjson = "application/x-ndjson"

// maxLine bounds one NDJSON line (a table's result with its message).
const maxLine = 1 << 20

// runBulk sends a bulk call asking for NDJSON, feeds every table's line to the progress
// display and prints the totals. It fails when the call fails, when any table failed or
// was blocked, and when the stream ends without its totals.
func runBulk(ctx context.Context, e *env, op string, noBar bool, call func(ctx context.Context, c *client, editors ...apiclient.RequestEditorFn) (*http.Response, error)) error {
	c, err := e.client()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	resp, err := call(ctx, c, func(_ context.Context, req *http.Request) error {
		req.Header.Set("Accept", ndjson)
		return nil
	})
	if err != nil {
		return c.callError(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, maxLine))
		return apiError(resp.StatusCode, body)
	}
	p := newProgress(e, op, noBar)
	totals, err := readStream(ctx, cancel, resp, c.timeout, p.table)
	p.finish()
	if err != nil {
		return c.callError(err)
	}
	printTotals(e.stdout(), op, totals)
	if totals.Failed > 0 || deref0(totals.Blocked) > 0 || totals.Status >= 300 {
		return fmt.Errorf("%s: %d of %d tables failed, %d blocked (status %d%s)", op, totals.Failed, totals.Total,
			deref0(totals.Blocked), totals.Status, prefixed(": ", str(totals.Message)))
	}
	return nil
}

// readStream reads the answer: NDJSON (one IcebergBulkResult per line, then one
// IcebergBulkTotals), or the plain JSON IcebergBulkResponse of a server that ignored
// Accept. A stream silent for longer than idle is cut.
func readStream(ctx context.Context, cancel context.CancelCauseFunc, resp *http.Response, idle time.Duration,
	onTable func(apiclient.IcebergBulkResult)) (apiclient.IcebergBulkTotals, error) {
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != ndjson {
		var all apiclient.IcebergBulkResponse
		if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<30)).Decode(&all); err != nil {
			return apiclient.IcebergBulkTotals{}, fmt.Errorf("reading the answer: %w", err)
		}
		for _, r := range all.Results {
			onTable(r)
		}
		return all.Totals, nil
	}
	watchdog := time.AfterFunc(idle, func() {
		cancel(fmt.Errorf("no progress from the server for %s (raise --timeout)", idle))
	})
	defer watchdog.Stop()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), maxLine)
	for sc.Scan() {
		watchdog.Reset(idle)
		line := sc.Bytes()
		if len(line) == 0 {
			continue
		}
		var kind struct {
			Type string `json:"type"`
		}
		if err := json.Unmarshal(line, &kind); err != nil {
			return apiclient.IcebergBulkTotals{}, fmt.Errorf("reading the stream: %w", err)
		}
		switch kind.Type {
		case string(apiclient.Table):
			var r apiclient.IcebergBulkResult
			if err := json.Unmarshal(line, &r); err != nil {
				return apiclient.IcebergBulkTotals{}, fmt.Errorf("reading a table's line: %w", err)
			}
			onTable(r)
		case string(apiclient.Totals):
			var t apiclient.IcebergBulkTotals
			if err := json.Unmarshal(line, &t); err != nil {
				return t, fmt.Errorf("reading the totals: %w", err)
			}
			return t, nil
		}
		// Other line types are a newer server's: skipped, as unknown JSON fields are.
	}
	if cause := context.Cause(ctx); cause != nil && ctx.Err() != nil {
		return apiclient.IcebergBulkTotals{}, cause
	}
	if err := sc.Err(); err != nil {
		return apiclient.IcebergBulkTotals{}, fmt.Errorf("reading the stream: %w", err)
	}
	return apiclient.IcebergBulkTotals{}, fmt.Errorf("the stream ended before its totals line: the outcome of the remaining tables is unknown (see the status and operations commands)")
}

func printTotals(out io.Writer, op string, t apiclient.IcebergBulkTotals) {
	fmt.Fprintf(out, "%s: %d tables: %d changed, %d unchanged, %d failed, %d blocked.", op, t.Total, t.Changed,
		t.Unchanged, t.Failed, deref0(t.Blocked))
	if id := str(t.CommitId); id != "" {
		fmt.Fprintf(out, " lakeFS commit %s.", id)
	}
	if m := str(t.Message); m != "" {
		fmt.Fprintf(out, " %s", m)
	}
	fmt.Fprintln(out)
}

func deref0(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}

func prefixed(prefix, s string) string {
	if s == "" {
		return ""
	}
	return prefix + s
}
