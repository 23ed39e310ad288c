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
	"os"
	"os/signal"
	"syscall"

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
	logger := server.NewLogger(cfg.Logging, stderr)
	logger.Info("starting iceberg-remotes", "version", version, "config_file", *configPath)
	logger.Info("effective configuration (secrets redacted)", "config", cfg.String())
	return server.Run(ctx, cfg, logger, onListen)
}

func lookupEnv(environ []string, key string) string {
	for _, kv := range environ {
		if len(kv) > len(key) && kv[:len(key)] == key && kv[len(key)] == '=' {
			return kv[len(key)+1:]
		}
	}
	return ""
}
