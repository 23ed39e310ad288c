package cli

import (
	"strconv"

	"github.com/spf13/cobra"

	"github.com/iceberg-remotes/iceberg-remotes/internal/api/apiclient"
)

func statusCommand(e *env) *cobra.Command {
	var p pageFlags
	var state, repo string
	cmd := &cobra.Command{
		Use:   "status CATALOG",
		Short: "List the tables pushed to a remote catalog with their live state",
		Long: `List the tables pushed to remote catalog CATALOG with their live state, read now from the
remote and lakeFS:

  in_sync        both sides are where the last push or pull left them
  remote_ahead   the remote changed: a pull would bring the changes
  lakefs_ahead   lakeFS changed: a push would publish them
  diverged       both changed
  missing        the remote table is gone
  unknown        the state could not be read (see ERROR)

STATUS is the outcome of the last operation (synced, pending, failed, unpublished).`,
		Example: `  iceberg-remotes status local
  iceberg-remotes status local --state remote_ahead --repository example
  iceberg-remotes status local --all -o json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := p.check(); err != nil {
				return err
			}
			c, err := e.client()
			if err != nil {
				return err
			}
			var rows []apiclient.IcebergSyncedTable
			pg, err := p.pages(func(after string) (apiclient.Pagination, error) {
				params := &apiclient.ListIcebergRemoteTablesParams{Amount: &p.amount}
				if after != "" {
					params.After = &after
				}
				if state != "" {
					s := apiclient.ListIcebergRemoteTablesParamsState(state)
					params.State = &s
				}
				if repo != "" {
					params.Repository = &repo
				}
				resp, err := c.api.ListIcebergRemoteTablesWithResponse(cmd.Context(), args[0], params)
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
				return writeJSON(e.stdout(), apiclient.IcebergSyncedTableList{Results: rows, Pagination: pg})
			}
			t := newTable(e.stdout(), "REMOTE TABLE", "STATE", "STATUS", "REPOSITORY", "REF", "TABLE", "BEHIND", "UPDATED", "ERROR")
			for _, r := range rows {
				behind := ""
				if r.CommitsBehind != nil {
					behind = strconv.Itoa(*r.CommitsBehind)
				}
				t.row(dotted(r.RemoteNamespace, r.RemoteTable), string(r.State), string(r.Status), r.RepositoryId,
					r.ReferenceId, dotted(r.Namespace, r.Table), behind, when(r.UpdatedAt),
					short(first(str(r.Error), str(r.LastError)), 80))
			}
			if err := t.flush(); err != nil {
				return err
			}
			moreHint(e.stdout(), pg)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&state, "state", "", "only tables in this state: in_sync, remote_ahead, lakefs_ahead, diverged, missing, unknown")
	f.StringVar(&repo, "repository", "", "only tables published from this lakeFS repository")
	p.add(cmd)
	e.clientFlags(cmd)
	return cmd
}
