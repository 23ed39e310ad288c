package cli

import (
	"context"
	"net/http"

	"github.com/spf13/cobra"

	"github.com/iceberg-remotes/iceberg-remotes/internal/api/apiclient"
)

func bulkPushCommand(e *env) *cobra.Command {
	var repo, ref, nsGlob, tableGlob, toNS, toTable string
	var force, createNS, dry, noBar bool
	var parallelism int
	cmd := &cobra.Command{
		Use:   "bulk-push CATALOG",
		Short: "Push every table selected at a lakeFS reference to a remote catalog",
		Long: `Push every table found at a lakeFS reference whose namespace and name match the globs
into remote catalog CATALOG, each with the checks of a single push, several at once. A
progress bar follows the server's stream on a terminal; elsewhere one line per table is
printed. The totals come last; the exit code is 1 when any table failed.

Globs match one namespace level each ("sales.*" selects sales.eu but not sales.eu.x).
Destination templates use {namespace} and {table}.`,
		Example: `  iceberg-remotes bulk-push local --repository example --ref main
  iceberg-remotes bulk-push glue --repository example --ref main --namespace 'sales.*' --table 'orders_*' \
      --to-namespace 'lakefs_{namespace}' --create-namespace
  iceberg-remotes bulk-push local --repository example --ref v1.2 --dry-run`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			body := apiclient.IcebergBulkPushRequest{ForceUpdate: &force, CreateNamespace: &createNS}
			body.Source.RepositoryId, body.Source.ReferenceId = repo, ref
			body.Source.Namespace, body.Source.Table = optional(nsGlob), optional(tableGlob)
			if toNS != "" || toTable != "" {
				body.Destination = &struct {
					Namespace *string `json:"namespace,omitempty"`
					Table     *string `json:"table,omitempty"`
				}{Namespace: optional(toNS), Table: optional(toTable)}
			}
			if cmd.Flags().Changed("parallelism") {
				body.Parallelism = &parallelism
			}
			return runBulk(cmd.Context(), e, "bulk-push", noBar, func(ctx context.Context, c *client, editors ...apiclient.RequestEditorFn) (*http.Response, error) {
				return c.stream.BulkPushIcebergTables(ctx, args[0], body, append(editors, dryRun(dry))...)
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&repo, "repository", "", "lakeFS repository (required)")
	f.StringVar(&ref, "ref", "", "lakeFS reference: branch, tag or commit (required)")
	f.StringVar(&nsGlob, "namespace", "", "glob over namespace levels, dotted (default: every namespace)")
	f.StringVar(&tableGlob, "table", "", "glob over table names (default: every table)")
	f.StringVar(&toNS, "to-namespace", "", "remote namespace template over {namespace} and {table} (default: the same namespace)")
	f.StringVar(&toTable, "to-table", "", "remote table template over {namespace} and {table} (default: the same name)")
	f.BoolVar(&force, "force", false, "re-point remote tables that exist with another state")
	f.BoolVar(&createNS, "create-namespace", false, "create missing remote namespaces")
	f.IntVar(&parallelism, "parallelism", 8, "tables pushed at once (1 to 64)")
	f.BoolVar(&dry, "dry-run", false, "plan every table; change nothing")
	f.BoolVar(&noBar, "no-progress", false, "print one line per table even on a terminal")
	_ = cmd.MarkFlagRequired("repository")
	_ = cmd.MarkFlagRequired("ref")
	e.clientFlags(cmd)
	return cmd
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
