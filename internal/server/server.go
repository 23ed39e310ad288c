// Package server assembles the service from its configuration: logger, state store,
// authentication, the push/pull service and the HTTP handler, and runs the HTTP server
// until its context ends, then shuts down gracefully (in-flight requests finish, the store
// is closed).
package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/iceberg-remotes/iceberg-remotes/internal/api"
	"github.com/iceberg-remotes/iceberg-remotes/internal/authn"
	"github.com/iceberg-remotes/iceberg-remotes/internal/config"
	"github.com/iceberg-remotes/iceberg-remotes/internal/httpclient"
	"github.com/iceberg-remotes/iceberg-remotes/internal/state"
)

// NewLogger returns the slog logger the configuration asks for.
func NewLogger(cfg config.Logging, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.Level)) // validated by config
	opts := &slog.HandlerOptions{Level: level}
	if strings.EqualFold(cfg.Format, "json") {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// Run serves until ctx ends. onListen, if not nil, is called with the bound address once
// the server accepts connections.
func Run(ctx context.Context, cfg *config.Config, logger *slog.Logger, onListen func(addr string)) error {
	store, err := state.Open(ctx, cfg.State, logger)
	if err != nil {
		return err
	}
	defer store.Close()

	lakeFSHTTP := httpclient.New(httpclient.Options{
		Timeout:    cfg.LakeFS.Timeout,
		MaxRetries: cfg.LakeFS.MaxRetries,
		Logger:     logger,
	})
	authenticator, err := authn.New(authn.Options{
		Auth:   cfg.Auth,
		Basic:  authn.NewLakeFSBasicVerifier(cfg.LakeFS.Endpoint, lakeFSHTTP),
		Logger: logger,
	})
	if err != nil {
		return fmt.Errorf("auth: %w", err)
	}
	if cfg.Auth.Encrypt.SecretKey == "" {
		logger.Warn("auth.encrypt.secret_key is not set: only lakeFS access keys (basic auth) are accepted; " +
			"set it to lakeFS's auth.encrypt.secret_key to accept lakeFS tokens and session cookies")
	}

	handler, err := api.NewHandler(api.Options{
		Logger:       logger,
		Authenticate: authenticator.Middleware,
		Ready: []api.ReadyCheck{
			{Name: "state", Check: store.Ping},
		},
	})
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", cfg.ListenAddress)
	if err != nil {
		return fmt.Errorf("listen_address: %w", err)
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      10 * time.Minute, // a pull may wait on lakeFS and the remote
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	logger.Info("listening", "address", ln.Addr().String())
	if onListen != nil {
		onListen(ln.Addr().String())
	}

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()

	select {
	case err := <-serveErr:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down", "timeout", cfg.ShutdownTimeout)
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("graceful shutdown: %w", err)
	}
	if err := <-serveErr; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	logger.Info("stopped")
	return nil
}
