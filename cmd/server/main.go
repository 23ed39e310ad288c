// Command server is the iceberg-remotes binary: the server of the lakeFS Iceberg remotes API
// (push and pull of Iceberg tables between lakeFS and external catalogs) and its
// command-line client (internal/cli).
//
//	iceberg-remotes [serve] [--config FILE] [--version] [--healthcheck]
//	iceberg-remotes push|pull|bulk-push|bulk-pull|unpublish|status|operations ...
//
// Without --config (or ICEBERG_REMOTES_CONFIG) the server starts with built-in defaults:
// 127.0.0.1:8001, SQLite state under ./data, a local SQL remote named "local", and lakeFS at
// http://127.0.0.1:8000/api/v1. Every key can be overridden with ICEBERG_REMOTES_* variables.
package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/iceberg-remotes/iceberg-remotes/internal/cli"
	"github.com/iceberg-remotes/iceberg-remotes/internal/config"
	"github.com/iceberg-remotes/iceberg-remotes/internal/server"
)

// version is set at build time: -ldflags "-X main.version=v1.2.3".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Environ(), os.Stdout, os.Stderr, nil); err != nil {
		fmt.Fprintln(os.Stderr, "iceberg-remotes:", err)
		stop()
		os.Exit(1)
	}
}

// run is the whole binary: the server with no command (or "serve"), else a client command.
func run(ctx context.Context, args, environ []string, stdout, stderr io.Writer, onListen func(string)) error {
	root := cli.NewRootCommand(cli.Options{
		Version: version, Environ: environ, Stdout: stdout, Stderr: stderr,
		Serve: serveCommand(environ, stdout, stderr, onListen),
	})
	root.SetArgs(longFlags(args))
	return root.ExecuteContext(ctx)
}

// serveFlags are the server's flags, spelled with one dash or two as Go's flag package
// (which parsed them before the client commands existed) accepted.
var serveFlags = []string{"config", "version", "healthcheck"}

// longFlags rewrites -config, -version and -healthcheck to their two-dash form, so that
// scripts written for the earlier flag parsing keep working.
func longFlags(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = a
		if a == "--" {
			copy(out[i:], args[i:])
			break
		}
		for _, f := range serveFlags {
			if a == "-"+f || strings.HasPrefix(a, "-"+f+"=") {
				out[i] = "-" + a
			}
		}
	}
	return out
}

func serveCommand(environ []string, stdout, stderr io.Writer, onListen func(string)) *cobra.Command {
	var configPath string
	var showVersion, healthcheck bool
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the server (the default with no command)",
		Long: `Run the iceberg-remotes server. Without --config (or ICEBERG_REMOTES_CONFIG) it starts
with built-in defaults: 127.0.0.1:8001, SQLite state under ./data, a local SQL remote
named "local", and lakeFS at http://127.0.0.1:8000/api/v1. Every key can be overridden
with ICEBERG_REMOTES_* variables.`,
		Example: `  iceberg-remotes --config config.yaml
  ICEBERG_REMOTES_LISTEN_ADDRESS=0.0.0.0:8001 iceberg-remotes serve
  iceberg-remotes --healthcheck       # exit 0 when the configured server answers /_health`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if showVersion {
				fmt.Fprintln(stdout, "iceberg-remotes", version)
				return nil
			}
			if configPath == "" {
				configPath = lookupEnv(environ, "ICEBERG_REMOTES_CONFIG")
			}
			cfg, err := config.Load(configPath, environ)
			if err != nil {
				return fmt.Errorf("configuration: %w", err)
			}
			if healthcheck {
				return checkHealth(cfg.ListenAddress)
			}
			logger := server.NewLogger(cfg.Logging, stderr)
			logger.Info("starting iceberg-remotes", "version", version, "config_file", configPath)
			logger.Info("effective configuration (secrets redacted)", "config", cfg.String())
			return server.Run(cmd.Context(), cfg, logger, onListen)
		},
	}
	f := cmd.Flags()
	f.StringVar(&configPath, "config", "", "YAML configuration file (default: built-in defaults; env ICEBERG_REMOTES_CONFIG)")
	f.BoolVar(&showVersion, "version", false, "print the version and exit")
	f.BoolVar(&healthcheck, "healthcheck", false, "check that a server with this configuration answers /_health, exit 0 if so (for container HEALTHCHECK)")
	return cmd
}

// checkHealth asks the server listening on addr for /_health (a wildcard host is reached
// on loopback). Distroless images have no curl: the binary checks itself.
func checkHealth(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	client := &http.Client{Timeout: 3 * time.Second}
	resp, err := client.Get("http://" + net.JoinHostPort(host, port) + "/_health")
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: /_health answered %d", resp.StatusCode)
	}
	return nil
}

func lookupEnv(environ []string, key string) string {
	for _, kv := range environ {
		if len(kv) > len(key) && kv[:len(key)] == key && kv[len(key)] == '=' {
			return kv[len(key)+1:]
		}
	}
	return ""
}
