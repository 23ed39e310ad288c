package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/iceberg-remotes/iceberg-remotes/internal/api/apiclient"
)

func unpublishCommand(e *env) *cobra.Command {
	var remoteTbl string
	var force, dry bool
	cmd := &cobra.Command{
		Use:   "unpublish CATALOG",
		Short: "Remove a table from a remote catalog, keeping every file",
		Long: `Remove the registration of a pushed table from remote catalog CATALOG without deleting
or purging any metadata or data file, and retire its sync record. A table this service did
not push is refused unless --force.`,
		Example: `  iceberg-remotes unpublish local --remote-table analytics.events
  iceberg-remotes unpublish glue --remote-table analytics.events --dry-run`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rns, rname, err := splitTable("remote-table", remoteTbl)
			if err != nil {
				return err
			}
			c, err := e.client()
			if err != nil {
				return err
			}
			resp, err := c.api.UnpublishIcebergTableWithResponse(cmd.Context(), args[0], apiclient.IcebergUnpublishRequest{
				Source: apiclient.IcebergRemoteTable{Namespace: rns, Table: rname},
				Force:  &force,
			}, dryRun(dry))
			if err != nil {
				return c.callError(err)
			}
			return writeResult(e.stdout(), resp.StatusCode(), resp.Body,
				fmt.Sprintf("Unpublished %s from %s (no file was deleted).", remoteTbl, args[0]))
		},
	}
	f := cmd.Flags()
	f.StringVar(&remoteTbl, "remote-table", "", "the table in the remote catalog, namespace.table (required)")
	f.BoolVar(&force, "force", false, "un-publish a table this service did not push")
	f.BoolVar(&dry, "dry-run", false, "show the plan; change nothing")
	_ = cmd.MarkFlagRequired("remote-table")
	e.clientFlags(cmd)
	return cmd
}
