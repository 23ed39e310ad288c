package cli

import (
	"context"
	"net/http"

	"github.com/spf13/cobra"

	"github.com/iceberg-remotes/iceberg-remotes/internal/api/apiclient"
)

func bulkPullCommand(e *env) *cobra.Command {
	var repo, branch, nsGlob, tableGlob, message string
	var force, dry, noBar bool
	cmd := &cobra.Command{
		Use:   "bulk-pull CATALOG",
		Short: "Pull every selected table back onto one lakeFS branch in one commit",
		Long: `Pull every table of remote catalog CATALOG that was pushed from the repository and
matches the globs back onto one branch, in one lakeFS commit: every table is checked as a
single pull checks it, and if one fails nothing is committed (the others are "blocked").
A progress bar follows the server's stream on a terminal; elsewhere one line per table.
The exit code is 1 when any table failed.`,
		Example: `  iceberg-remotes bulk-pull local --repository example --branch etl-42
  iceberg-remotes bulk-pull local --repository example --branch etl-42 --namespace analytics --table 'events_*' \
      --message "Pull the nightly job's tables"
  iceberg-remotes bulk-pull local --repository example --branch etl-42 --dry-run`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			body := apiclient.IcebergBulkPullRequest{ForceUpdate: &force, Message: optional(message)}
			body.Destination.RepositoryId, body.Destination.ReferenceId = repo, branch
			if nsGlob != "" || tableGlob != "" {
				body.Source = &struct {
					Namespace *string `json:"namespace,omitempty"`
					Table     *string `json:"table,omitempty"`
				}{Namespace: optional(nsGlob), Table: optional(tableGlob)}
			}
			return runBulk(cmd.Context(), e, "bulk-pull", noBar, func(ctx context.Context, c *client, editors ...apiclient.RequestEditorFn) (*http.Response, error) {
				return c.stream.BulkPullIcebergTables(ctx, args[0], body, append(editors, dryRun(dry))...)
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&repo, "repository", "", "lakeFS repository the tables were pushed from (required)")
	f.StringVar(&branch, "branch", "", "lakeFS branch to commit onto (required)")
	f.StringVar(&nsGlob, "namespace", "", "glob over remote namespace levels, dotted (default: every namespace)")
	f.StringVar(&tableGlob, "table", "", "glob over remote table names (default: every table)")
	f.StringVar(&message, "message", "", "commit message (default: names every table)")
	f.BoolVar(&force, "force", false, "per table, overwrite the branch's table when both sides changed")
	f.BoolVar(&dry, "dry-run", false, "run the checks only; commit nothing")
	f.BoolVar(&noBar, "no-progress", false, "print one line per table even on a terminal")
	_ = cmd.MarkFlagRequired("repository")
	_ = cmd.MarkFlagRequired("branch")
	e.clientFlags(cmd)
	return cmd
}
