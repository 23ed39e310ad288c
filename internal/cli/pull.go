package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/iceberg-remotes/iceberg-remotes/internal/api/apiclient"
)

func pullCommand(e *env) *cobra.Command {
	var repo, branch, tbl, remoteTbl string
	var force, createNS, dry bool
	cmd := &cobra.Command{
		Use:   "pull CATALOG",
		Short: "Commit a pushed table's newer remote state back onto its lakeFS branch",
		Long: `Take a table previously pushed to remote catalog CATALOG and commit its current remote
state onto a branch of the repository it was pushed from, in one lakeFS commit. No data is
copied. Nothing is committed when the remote is unchanged. When the branch changed too,
the pull is a conflict unless --force.`,
		Example: `  iceberg-remotes pull local --remote-table analytics.events \
      --repository example --branch etl-42 --table accounting.events
  iceberg-remotes pull local --table accounting.events --repository example --branch etl-42 --dry-run`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ns, name, rns, rname, err := splitTables(tbl, remoteTbl)
			if err != nil {
				return err
			}
			c, err := e.client()
			if err != nil {
				return err
			}
			resp, err := c.api.PullIcebergTableWithResponse(cmd.Context(), args[0], apiclient.IcebergPullRequest{
				Source:          apiclient.IcebergRemoteTable{Namespace: rns, Table: rname},
				Destination:     apiclient.IcebergLocalTable{RepositoryId: repo, ReferenceId: branch, Namespace: ns, Table: name},
				ForceUpdate:     &force,
				CreateNamespace: &createNS,
			}, dryRun(dry))
			if err != nil {
				return c.callError(err)
			}
			return writeResult(e.stdout(), resp.StatusCode(), resp.Body,
				fmt.Sprintf("Pulled %s from %s onto %s@%s %s.", dotted(rns, rname), args[0], repo, branch, tbl))
		},
	}
	f := cmd.Flags()
	f.StringVar(&repo, "repository", "", "lakeFS repository the table was pushed from (required)")
	f.StringVar(&branch, "branch", "", "lakeFS branch to commit onto (required)")
	f.StringVar(&tbl, "table", "", "the table in lakeFS, namespace.table (required)")
	f.StringVar(&remoteTbl, "remote-table", "", "the table in the remote catalog, namespace.table (default: --table)")
	f.BoolVar(&force, "force", false, "overwrite the branch's table when both sides changed")
	f.BoolVar(&createNS, "create-namespace", false, "create the namespace in lakeFS if it does not exist")
	f.BoolVar(&dry, "dry-run", false, "run every check and show the plan; change nothing")
	for _, r := range []string{"repository", "branch", "table"} {
		_ = cmd.MarkFlagRequired(r)
	}
	e.clientFlags(cmd)
	return cmd
}
