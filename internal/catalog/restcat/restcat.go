// Package restcat is the catalog.Adapter for remotes of type `rest`: an Iceberg REST catalog
// (Polaris, Unity, Nessie, Gravitino, Glue's and S3 Tables' REST endpoints, ...), reached
// through iceberg-go's REST client.
//
// iceberg-go does the protocol (config negotiation, namespaces, load, register, drop); this
// package supplies what a long-running service needs around it:
//   - every HTTP call goes through internal/httpclient (its Policy: a timeout per attempt,
//     bounded retries with backoff; its Failure rule: POSTs are repeated only when they did
//     not reach the server or were refused, unless marked Idempotent because the adapter
//     recognises its own earlier success, or carry an Idempotency-Key because the server
//     advertised idempotency-key-lifetime: idempotency.go), handed to iceberg-go as its
//     transport;
//   - authentication is one AuthManager shared by iceberg-go's client and this package's own
//     requests (a static bearer token, or OAuth2 client credentials whose token fetches go
//     through the same retrying client), or SigV4 signing for AWS endpoints;
//   - re-pointing an existing table, which iceberg-go cannot do (its RegisterTable never sends
//     "overwrite"), is a register request with `"overwrite": true` posted by this package over
//     the same session;
//   - iceberg-go's errors become *apperr.Error with the statuses the service answers.
//
// Compare-and-swap on REST: the protocol's register-with-overwrite carries no expected
// location, and a commit (CommitTableRequest with requirements) can only apply metadata
// updates, not point the table at an existing metadata file. So ReplaceTable loads the table,
// compares its location with the expected one, then registers with overwrite, holding a
// per-table lock so that callers within this process are serialised. A writer outside this
// process that commits between the load and the overwrite is silently replaced: that window
// (one round trip) is the remaining race, and it is inherent to the REST protocol.
package restcat

import (
	"context"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/apache/iceberg-go/catalog/rest"
	"github.com/apache/iceberg-go/table"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/iceberg-remotes/iceberg-remotes/internal/apperr"
	ourcatalog "github.com/iceberg-remotes/iceberg-remotes/internal/catalog"
	"github.com/iceberg-remotes/iceberg-remotes/internal/config"
	"github.com/iceberg-remotes/iceberg-remotes/internal/httpclient"
)

// Options are the service-side settings of a REST remote (config.Remote's retry policy,
// and the logger).
type Options struct {
	// Name is the remote's id, used in error messages and as iceberg-go's catalog name.
	Name string
	// Policy bounds each HTTP attempt by Policy.Timeout and repeats a failed one at most
	// Policy.MaxRetries times (0: never), as httpclient's Failure rule allows.
	Policy httpclient.Policy
	// Logger receives retry notices (default: discarded).
	Logger *slog.Logger
	// Transport replaces the underlying transport (below retries and auth), for tests.
	// When set, the TLS settings of the remote are not applied.
	Transport http.RoundTripper
	// HistoryPageSize and HistoryLimit bound a walk of a Nessie server's commit log
	// (History): log entries per request, and in all (0: 100 and 1,000).
	HistoryPageSize, HistoryLimit int
	// ReadMetadata reads and parses the Iceberg metadata file at a location as the remote
	// sees it (the service's object-store reader, under its size caps). A Nessie server's
	// table is re-pointed atomically with it (Nessie's content needs the file's current
	// snapshot, schema, spec and sort order ids); without it, as on other servers.
	ReadMetadata func(ctx context.Context, location string) (table.Metadata, error)
}

// Adapter is a REST remote. It is safe for concurrent use.
type Adapter struct {
	closeIdle func() // releases the connections of the transport New created, if any
	name      string
	cat       *rest.Catalog
	sess      *session
	readMD    func(ctx context.Context, location string) (table.Metadata, error)
	history   historyBounds  // of a Nessie history walk
	tableMu   [64]sync.Mutex // serialises check-then-act on one table within this process
}

var _ ourcatalog.Adapter = (*Adapter)(nil)

// New connects to the REST catalog described by cfg: it fetches the server's configuration
// (GET /v1/config, authenticating first), so a wrong URI or rejected credentials fail here.
func New(ctx context.Context, cfg config.RESTRemote, opts Options) (*Adapter, error) {
	if opts.Name == "" {
		opts.Name = "rest"
	}
	name := opts.Name
	if cfg.URI == "" {
		return nil, apperr.BadRequest("remote %q: rest.uri is required", name)
	}
	base, err := url.Parse(cfg.URI)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, apperr.BadRequest("remote %q: rest.uri must be an http(s) URL", name)
	}
	if cfg.SigV4.Enabled && (cfg.Token != "" || cfg.Credential != "") {
		// SigV4 signing writes the Authorization header, so a bearer token would be lost.
		return nil, apperr.BadRequest("remote %q: rest.sigv4 cannot be combined with token or credential", name)
	}
	if cfg.SigV4.Enabled && cfg.SigV4.Service == "" {
		// iceberg-go defaults to "execute-api", which Glue ("glue") and S3 Tables ("s3tables")
		// reject; make the choice explicit.
		return nil, apperr.BadRequest("remote %q: rest.sigv4.service must be set (glue, s3tables or execute-api)", name)
	}
	if cfg.Token != "" && cfg.Credential != "" {
		return nil, apperr.BadRequest("remote %q: set either rest.token or rest.credential, not both", name)
	}

	transport := opts.Transport
	closeIdle := func() {}
	if transport == nil {
		tlsCfg, err := tlsConfig(cfg.TLS)
		if err != nil {
			return nil, apperr.Wrap(400, err, "remote %q: rest.tls", name)
		}
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.TLSClientConfig = tlsCfg
		transport = t
		closeIdle = t.CloseIdleConnections
	}
	hc := httpclient.New(httpclient.Options{
		Policy:    opts.Policy,
		Transport: transport,
		Logger:    opts.Logger,
	})
	// statusTransport sits between iceberg-go's session (auth, headers, signing) and the
	// retrying client, so that the status of the final attempt is known when mapping errors
	// that iceberg-go reports without it (e.g. 429).
	wire := statusTransport{next: hc.Transport}

	sess := &session{hc: &http.Client{Transport: wire}, headers: maps.Clone(cfg.Headers)}
	ropts := []rest.Option{rest.WithCustomTransport(wire)}
	switch {
	case cfg.Token != "":
		sess.auth = staticAuth{token: cfg.Token}
	case cfg.Credential != "":
		tokenURL := cfg.OAuthServerURI
		if tokenURL == "" {
			tokenURL = base.JoinPath("v1", "oauth", "tokens").String()
		}
		id, secret, found := strings.Cut(cfg.Credential, ":")
		if !found {
			id, secret = "", cfg.Credential
		}
		scope := cfg.OAuthScope
		if scope == "" {
			scope = "catalog"
		}
		cc := &clientcredentials.Config{
			ClientID: id, ClientSecret: secret, TokenURL: tokenURL,
			Scopes: []string{scope}, AuthStyle: oauth2.AuthStyleInParams,
		}
		// The token source caches the token and fetches a new one when it expires; its
		// fetches use the same retrying client (context.Background: it outlives requests).
		// A client-credentials token request changes nothing on the server, so it may be
		// repeated after an ambiguous failure although it is a POST.
		tctx := context.WithValue(httpclient.Idempotent(context.Background()), oauth2.HTTPClient, &http.Client{Transport: wire})
		sess.auth = &oauthAuth{src: cc.TokenSource(tctx)}
	}
	if sess.auth != nil {
		ropts = append(ropts, rest.WithAuthManager(sess.auth))
	}
	if len(cfg.Headers) > 0 {
		ropts = append(ropts, rest.WithHeaders(maps.Clone(cfg.Headers)))
	}
	if cfg.Warehouse != "" {
		ropts = append(ropts, rest.WithWarehouseLocation(cfg.Warehouse))
	}
	if cfg.Prefix != "" {
		ropts = append(ropts, rest.WithPrefix(cfg.Prefix))
	}
	if cfg.SigV4.Enabled {
		awsCfg, err := awsConfig(ctx, cfg.SigV4)
		if err != nil {
			return nil, apperr.Wrap(502, err, "remote %q: cannot load AWS credentials for SigV4", name)
		}
		sess.signer, sess.awsCfg, sess.service = v4.NewSigner(), awsCfg, cfg.SigV4.Service
		ropts = append(ropts, rest.WithSigV4RegionSvc(cfg.SigV4.Region, cfg.SigV4.Service), rest.WithAwsConfig(awsCfg))
	}

	a := &Adapter{name: name, sess: sess, closeIdle: closeIdle, readMD: opts.ReadMetadata, history: boundsOf(opts)}
	c, st := track(ctx)
	cat, err := rest.NewCatalog(c, name, cfg.URI, ropts...)
	if err != nil {
		closeIdle()
		return nil, a.mapErr(err, st, "connect")
	}
	a.cat = cat
	// iceberg-go keeps the negotiated prefix, URI and namespace separator to itself; this
	// package needs them for its own register request, so it reads /v1/config once too.
	if err := sess.resolve(ctx, base, cfg); err != nil {
		_ = cat.Close()
		closeIdle()
		return nil, a.mapErr(err, nil, "read config")
	}
	return a, nil
}
