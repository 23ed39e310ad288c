package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/iceberg-remotes/iceberg-remotes/internal/api/apiclient"
)

func pushCommand(e *env) *cobra.Command {
	var repo, ref, tbl, remoteTbl string
	var force, createNS, dry bool
	cmd := &cobra.Command{
		Use:   "push CATALOG",
		Short: "Register a lakeFS table in a remote catalog",
		Long: `Register the table as it is at a lakeFS reference in remote catalog CATALOG. No data
is copied: the remote table points at the files lakeFS stores. Pushing the same state
again changes nothing; a remote table that exists with another state is a conflict
unless --force.`,
		Example: `  iceberg-remotes push local --repository example --ref main --table accounting.events
  iceberg-remotes push glue --repository example --ref etl-42 --table accounting.events \
      --remote-table analytics.events --create-namespace --force
  iceberg-remotes push local --repository example --ref main --table accounting.events --dry-run`,
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
			resp, err := c.api.PushIcebergTableWithResponse(cmd.Context(), args[0], apiclient.IcebergPushRequest{
				Source:          apiclient.IcebergLocalTable{RepositoryId: repo, ReferenceId: ref, Namespace: ns, Table: name},
				Destination:     apiclient.IcebergRemoteTable{Namespace: rns, Table: rname},
				ForceUpdate:     &force,
				CreateNamespace: &createNS,
			}, dryRun(dry))
			if err != nil {
				return c.callError(err)
			}
			return writeResult(e.stdout(), resp.StatusCode(), resp.Body,
				fmt.Sprintf("Pushed %s@%s %s to %s as %s.", repo, ref, tbl, args[0], dotted(rns, rname)))
		},
	}
	f := cmd.Flags()
	f.StringVar(&repo, "repository", "", "lakeFS repository (required)")
	f.StringVar(&ref, "ref", "", "lakeFS reference: branch, tag or commit (required)")
	f.StringVar(&tbl, "table", "", "the table in lakeFS, namespace.table (required)")
	f.StringVar(&remoteTbl, "remote-table", "", "the name in the remote catalog, namespace.table (default: --table)")
	f.BoolVar(&force, "force", false, "re-point a remote table that exists with another state")
	f.BoolVar(&createNS, "create-namespace", false, "create the remote namespace if it does not exist")
	f.BoolVar(&dry, "dry-run", false, "run every check and show the plan; change nothing")
	for _, r := range []string{"repository", "ref", "table"} {
		_ = cmd.MarkFlagRequired(r)
	}
	e.clientFlags(cmd)
	return cmd
}
