package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/iceberg-remotes/iceberg-remotes/internal/api/apiclient"
)

// writeResult reports a single-table write (push, pull, unpublish): 204 is done; 200 is
// a dry run's plan (printed, and an error when the real call would fail); anything else
// is the server's error.
func writeResult(out io.Writer, status int, body []byte, done string) error {
	switch status {
	case http.StatusNoContent:
		fmt.Fprintln(out, done)
		return nil
	case http.StatusOK:
		var p apiclient.IcebergPlan
		if err := json.Unmarshal(body, &p); err != nil {
			return fmt.Errorf("reading the dry run's plan: %w", err)
		}
		return printPlan(out, p)
	}
	return apiError(status, body)
}

func printPlan(out io.Writer, p apiclient.IcebergPlan) error {
	fmt.Fprintf(out, "Dry run of %s: nothing was changed.\n\n", p.Operation)
	t := newTable(out, "CHECK", "OK", "MESSAGE")
	for _, c := range p.Checks {
		t.row(c.Name, yesNo(c.Ok), str(c.Message))
	}
	if err := t.flush(); err != nil {
		return err
	}
	if len(p.Actions) > 0 {
		fmt.Fprintln(out, "\nWould:")
		for _, a := range p.Actions {
			fmt.Fprintln(out, "  -", a)
		}
	}
	if p.Status >= 300 {
		fmt.Fprintln(out)
		return &APIError{Status: p.Status, Message: "the real call would fail: " + first(str(p.Message), http.StatusText(p.Status))}
	}
	fmt.Fprintf(out, "\nThe real call would answer %d.\n", p.Status)
	return nil
}

func yesNo(ok bool) string {
	if ok {
		return "yes"
	}
	return "NO"
}
