// Command server runs iceberg-remotes: the lakeFS Iceberg remotes API (push and pull of
// Iceberg tables between lakeFS and external catalogs).
//
//	server [--config FILE] [--version]
//
// Without --config (or ICEBERG_REMOTES_CONFIG) the server starts with built-in defaults:
// 127.0.0.1:8001, SQLite state under ./data, a local SQL remote named "local", and lakeFS at
// http://127.0.0.1:8000/api/v1. Every key can be overridden with ICEBERG_REMOTES_* variables.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

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
		os.Exit(1)
	}
}

func run(ctx context.Context, args, environ []string, stdout, stderr io.Writer, onListen func(string)) error {
	fs := flag.NewFlagSet("iceberg-remotes", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "", "YAML configuration file (default: built-in defaults; env ICEBERG_REMOTES_CONFIG)")
	showVersion := fs.Bool("version", false, "print the version and exit")
	healthcheck := fs.Bool("healthcheck", false, "check that a server with this configuration answers /_health, exit 0 if so (for container HEALTHCHECK)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *showVersion {
		fmt.Fprintln(stdout, "iceberg-remotes", version)
		return nil
	}
	if *configPath == "" {
		*configPath = lookupEnv(environ, "ICEBERG_REMOTES_CONFIG")
	}
	cfg, err := config.Load(*configPath, environ)
	if err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	if *healthcheck {
		return checkHealth(cfg.ListenAddress)
	}
	logger := server.NewLogger(cfg.Logging, stderr)
	logger.Info("starting iceberg-remotes", "version", version, "config_file", *configPath)
	logger.Info("effective configuration (secrets redacted)", "config", cfg.String())
	return server.Run(ctx, cfg, logger, onListen)
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
