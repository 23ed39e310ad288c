// Package server assembles the service from its configuration: logger, state store,
// authentication, lakeFS client, remote catalog adapters, object-store access, the
// push/pull service and the HTTP handler; Run serves it until its context ends, then shuts
// down gracefully (in-flight requests finish, the store is closed).
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
	"sync"
	"time"

	"github.com/apache/iceberg-go/table"

	"github.com/iceberg-remotes/iceberg-remotes/internal/api"
	"github.com/iceberg-remotes/iceberg-remotes/internal/apperr"
	"github.com/iceberg-remotes/iceberg-remotes/internal/authn"
	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog/registry"
	"github.com/iceberg-remotes/iceberg-remotes/internal/config"
	"github.com/iceberg-remotes/iceberg-remotes/internal/httpclient"
	"github.com/iceberg-remotes/iceberg-remotes/internal/lakefs"
	"github.com/iceberg-remotes/iceberg-remotes/internal/metafile"
	"github.com/iceberg-remotes/iceberg-remotes/internal/metrics"
	"github.com/iceberg-remotes/iceberg-remotes/internal/objstore"
	"github.com/iceberg-remotes/iceberg-remotes/internal/remotes"
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

// App is the assembled service.
type App struct {
	Handler http.Handler
	Service *remotes.Service
	Store   state.Store
	Metrics *metrics.Metrics
	remotes []registry.Entry
	// stopWorkers stops the event workers and waits for them (nil when none run).
	stopWorkers func()
	closeOnce   sync.Once
	closeErr    error
}

// timedReader measures object-store reads of remote metadata.
type timedReader struct {
	next remotes.MetadataReader
	m    *metrics.Metrics
}

func (t timedReader) ReadMetadata(ctx context.Context, location string) (md *remotes.RemoteMetadata, err error) {
	defer func(start time.Time) { t.m.Observe("object_store", "read_metadata", start, err) }(time.Now())
	return t.next.ReadMetadata(ctx, location)
}

// Close releases the store and the remote catalog connections.
// Closing twice does nothing more.
func (a *App) Close() error {
	a.closeOnce.Do(func() {
		if a.stopWorkers != nil {
			a.stopWorkers()
		}
		registry.Close(a.remotes)
		a.closeErr = a.Store.Close()
	})
	return a.closeErr
}

// New assembles the service from cfg.
func New(ctx context.Context, cfg *config.Config, logger *slog.Logger) (*App, error) {
	m := metrics.New()
	rawStore, err := state.Open(ctx, cfg.State, logger)
	if err != nil {
		return nil, err
	}
	store := m.Store(rawStore)
	m.Publications(store.CountSyncRecordsByStatus, publicationsRefresh, 5*time.Second)
	app := &App{Store: store, Metrics: m}
	ok := false
	defer func() {
		if !ok {
			app.Close()
		}
	}()

	// One retrying client for lakeFS: the generated client calls it directly (Do), the
	// basic-auth verifier through an *http.Client over the same retry loop and transport.
	lakeFSHTTP := httpclient.NewClient(httpclient.Options{
		Policy:    cfg.LakeFS.RetryPolicy(),
		Logger:    logger,
		Transport: m.RoundTripper("lakefs", http.DefaultTransport.(*http.Transport).Clone()),
	})
	authenticator, err := authn.New(authn.Options{
		Auth:   cfg.Auth,
		Basic:  authn.NewLakeFSBasicVerifier(cfg.LakeFS.Endpoint, lakeFSHTTP.Standard()),
		Logger: logger,
	})
	if err != nil {
		return nil, fmt.Errorf("auth: %w", err)
	}
	if cfg.Auth.Encrypt.SecretKey == "" {
		logger.Warn("auth.encrypt.secret_key is not set: only lakeFS access keys (basic auth) are accepted; " +
			"set it to lakeFS's auth.encrypt.secret_key to accept lakeFS tokens and session cookies")
	}

	lakeFSClient, err := lakefs.New(cfg.LakeFS, lakeFSCredentials(cfg.LakeFS), lakeFSHTTP)
	if err != nil {
		return nil, err
	}
	// One cap per metadata file and one budget for the bytes all reads buffer together,
	// shared by the reads through lakeFS and from the object store (docs/design.md section 13).
	limits := metafile.NewLimits(cfg.ObjectStore.MaxMetadataBytes, cfg.ObjectStore.MaxBufferedBytes)
	locator := lakefs.NewLocator(lakeFSClient, cfg.LayoutFor).WithLimits(limits)

	objects, err := objstore.New(cfg.ObjectStore, objstore.Options{Policy: cfg.ObjectStore.RetryPolicy(), Logger: logger})
	if err != nil {
		return nil, fmt.Errorf("object_store: %w", err)
	}

	ioProps, err := objstore.Properties(cfg.ObjectStore)
	if err != nil {
		return nil, fmt.Errorf("object_store: %w", err)
	}
	reader := timedReader{next: remotes.NewMetadataReader(objects, limits), m: m}
	app.remotes = registry.Open(ctx, cfg.IcebergCatalog.Remotes, registry.Options{IOProps: ioProps, Logger: logger,
		ReadMetadata: func(ctx context.Context, location string) (table.Metadata, error) {
			md, err := reader.ReadMetadata(ctx, location)
			if err != nil {
				return nil, err
			}
			return md.Metadata, nil
		}})
	var rs []*remotes.Remote
	for _, e := range app.remotes {
		r := &remotes.Remote{Config: e.Config, StartErr: e.Err}
		if e.Adapter != nil {
			r.Adapter = m.Adapter(e.Config.ID, e.Adapter)
		}
		if e.History != nil {
			r.History = m.History(e.Config.ID, e.History)
		}
		rs = append(rs, r)
	}
	app.Service = remotes.New(remotes.Options{
		Remotes:      rs,
		LakeFS:       locator,
		Reader:       reader,
		Store:        store,
		Logger:       logger,
		CheckAllowed: authn.CheckAllowed,
	})

	m.Events(app.Service.EventStats)
	if subscribed(cfg) {
		wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		done := make(chan struct{})
		go func() {
			defer close(done)
			app.Service.RunEventWorkers(wctx, cfg.IcebergCatalog.Publications)
		}()
		app.stopWorkers = func() { cancel(); <-done }
	}

	app.Handler, err = api.NewHandler(api.Options{
		Logger:       logger,
		Authenticate: authenticator.Middleware,
		Service:      apiService{svc: app.Service},
		Instrument:   m.Middleware,
		Metrics:      m.Handler(),
		Ready: []api.ReadyCheck{
			{Name: "state", Check: store.Ping},
			{Name: "lakefs", Check: lakeFSReady(cfg.LakeFS)},
			{Name: "remotes", Check: app.Service.Ready},
		},
	})
	if err != nil {
		return nil, err
	}
	ok = true
	return app, nil
}

// subscribed reports whether any remote has auto_push subscriptions (only then do event
// workers run).
func subscribed(cfg *config.Config) bool {
	for _, r := range cfg.IcebergCatalog.Remotes {
		if len(r.AutoPush) > 0 {
			return true
		}
	}
	return false
}

// lakeFSCredentials chooses, per call, whose credential goes to lakeFS: the caller's own
// (forward mode, so lakeFS RBAC decides) or the service's key (service mode, and calls made
// for webhooks, which carry no user credential).
func lakeFSCredentials(cfg config.LakeFS) lakefs.Credentials {
	service := lakefs.ServiceCredentials(cfg.AccessKeyID, cfg.SecretAccessKey)
	return func(ctx context.Context, req *http.Request) error {
		if cfg.Credentials == "service" || remotes.IsServiceIdentity(ctx) {
			if cfg.AccessKeyID == "" {
				return apperr.New(http.StatusInternalServerError,
					"this call needs the service's own lakeFS key: set lakefs.access_key_id and lakefs.secret_access_key")
			}
			return service(ctx, req)
		}
		if err := authn.ApplyCredential(ctx, req); err != nil {
			return apperr.Unauthorized("%s", apperr.MsgAuthenticationFailed)
		}
		return nil
	}
}

// lakeFSReady checks lakeFS answers its health check (no credentials needed).
func lakeFSReady(cfg config.LakeFS) func(ctx context.Context) error {
	client := httpclient.New(httpclient.Options{Policy: httpclient.Policy{Timeout: 2 * time.Second}})
	url := strings.TrimRight(cfg.Endpoint, "/") + "/healthcheck"
	return func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err != nil {
			return apperr.New(http.StatusServiceUnavailable, "lakeFS is not reachable at %s", cfg.Endpoint)
		}
		resp.Body.Close()
		if resp.StatusCode >= 300 {
			return apperr.New(http.StatusServiceUnavailable, "lakeFS health check answered %d", resp.StatusCode)
		}
		return nil
	}
}

// Run serves until ctx ends. onListen, if not nil, is called with the bound address once
// the server accepts connections.
func Run(ctx context.Context, cfg *config.Config, logger *slog.Logger, onListen func(addr string)) error {
	app, err := New(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer app.Close()

	ln, err := net.Listen("tcp", cfg.ListenAddress)
	if err != nil {
		return fmt.Errorf("listen_address: %w", err)
	}
	srv := &http.Server{
		Handler:           app.Handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      10 * time.Minute, // a pull may wait on lakeFS and the remote
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	// The admin listener is bound before the API is announced, so that both accept
	// connections once onListen is called.
	var admin *http.Server
	var aln net.Listener
	if cfg.AdminAddress != "" {
		aln, err = net.Listen("tcp", cfg.AdminAddress)
		if err != nil {
			_ = ln.Close()
			return fmt.Errorf("admin_address: %w", err)
		}
		admin = &http.Server{
			Handler:           adminHandler(),
			ReadHeaderTimeout: 10 * time.Second,
			WriteTimeout:      2 * time.Minute, // a CPU profile or trace runs for its ?seconds=
			ErrorLog:          srv.ErrorLog,
		}
		logger.Info("admin listener (pprof)", "address", aln.Addr().String())
	}
	logger.Info("listening", "address", ln.Addr().String())
	if onListen != nil {
		onListen(ln.Addr().String())
	}

	serveErr := make(chan error, 2)
	go func() { serveErr <- srv.Serve(ln) }()

	servers := []*http.Server{srv}
	if admin != nil {
		servers = append(servers, admin)
		go func() { serveErr <- admin.Serve(aln) }()
	}

	select {
	case err := <-serveErr:
		for _, s := range servers {
			_ = s.Close()
		}
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down", "timeout", cfg.ShutdownTimeout)
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	for _, s := range servers {
		if err := s.Shutdown(shutdownCtx); err != nil {
			return fmt.Errorf("graceful shutdown: %w", err)
		}
	}
	for range servers {
		if err := <-serveErr; err != nil && !errors.Is(err, http.ErrServerClosed) {
			return err
		}
	}
	logger.Info("stopped")
	return nil
}
