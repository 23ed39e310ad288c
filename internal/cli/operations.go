package cli

import (
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/iceberg-remotes/iceberg-remotes/internal/api/apiclient"
)

func operationsCommand(e *env) *cobra.Command {
	var p pageFlags
	cmd := &cobra.Command{
		Use:     "operations CATALOG",
		Aliases: []string{"ops", "log"},
		Short:   "Show the audit log of a remote catalog, newest first",
		Long: `Show the audit log of remote catalog CATALOG, newest first: every push, pull and
automatic push, who ran it, its outcome and HTTP status, and the lakeFS commit it made.`,
		Example: `  iceberg-remotes operations local
  iceberg-remotes operations local --amount 20
  iceberg-remotes operations local --all -o json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := p.check(); err != nil {
				return err
			}
			c, err := e.client()
			if err != nil {
				return err
			}
			var rows []apiclient.IcebergRemoteOperation
			pg, err := p.pages(func(after string) (apiclient.Pagination, error) {
				params := &apiclient.ListIcebergRemoteOperationsParams{Amount: &p.amount}
				if after != "" {
					params.After = &after
				}
				resp, err := c.api.ListIcebergRemoteOperationsWithResponse(cmd.Context(), args[0], params)
				if err != nil {
					return apiclient.Pagination{}, c.callError(err)
				}
				if resp.JSON200 == nil {
					return apiclient.Pagination{}, apiError(resp.StatusCode(), resp.Body)
				}
				rows = append(rows, resp.JSON200.Results...)
				return resp.JSON200.Pagination, nil
			})
			if err != nil {
				return err
			}
			if p.output == "json" {
				return writeJSON(e.stdout(), apiclient.IcebergRemoteOperationList{Results: rows, Pagination: pg})
			}
			t := newTable(e.stdout(), "ID", "STARTED", "OPERATION", "OUTCOME", "STATUS", "USER", "REMOTE TABLE", "SOURCE", "COMMIT", "DURATION", "ERROR")
			for _, r := range rows {
				status, duration, source := "", "", ""
				if r.StatusCode != nil {
					status = strconv.Itoa(*r.StatusCode)
				}
				if r.DurationMs != nil {
					duration = (time.Duration(*r.DurationMs) * time.Millisecond).String()
				}
				if r.RepositoryId != nil {
					source = *r.RepositoryId + "@" + str(r.ReferenceId)
					if r.Table != nil {
						source += " " + dotted(deref(r.Namespace), *r.Table)
					}
				}
				remote := ""
				if r.RemoteTable != nil {
					remote = dotted(deref(r.RemoteNamespace), *r.RemoteTable)
				}
				t.row(strconv.FormatInt(r.Id, 10), when(&r.StartedAt), string(r.Operation), string(r.Outcome), status,
					str(r.User), remote, source, short(str(r.LakefsCommit), 12), duration, short(str(r.Error), 80))
			}
			if err := t.flush(); err != nil {
				return err
			}
			moreHint(e.stdout(), pg)
			return nil
		},
	}
	p.add(cmd)
	e.clientFlags(cmd)
	return cmd
}

func deref(ns *apiclient.IcebergNamespaceRef) []string {
	if ns == nil {
		return nil
	}
	return *ns
}
