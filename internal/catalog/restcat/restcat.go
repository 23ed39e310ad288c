// Package restcat is the catalog.Adapter for remotes of type `rest`: an Iceberg REST catalog
// (Polaris, Unity, Nessie, Gravitino, Glue's and S3 Tables' REST endpoints, ...), reached
// through iceberg-go's REST client.
//
// iceberg-go does the protocol (config negotiation, namespaces, load, register, drop); this
// package supplies what a long-running service needs around it:
//   - every HTTP call goes through internal/httpclient (its Policy: a timeout per attempt,
//     bounded retries with backoff; its Failure rule: POSTs are repeated only when they did
//     not reach the server or were refused, unless marked Idempotent because the adapter
//     recognises its own earlier success), handed to iceberg-go as its transport;
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
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/catalog/rest"
	"github.com/apache/iceberg-go/table"
	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
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
}

// Adapter is a REST remote. It is safe for concurrent use.
type Adapter struct {
	closeIdle func() // releases the connections of the transport New created, if any
	name      string
	cat       *rest.Catalog
	sess      *session
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

	a := &Adapter{name: name, sess: sess, closeIdle: closeIdle}
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

func tlsConfig(c config.TLS) (*tls.Config, error) {
	if !c.InsecureSkipVerify && c.CAFile == "" {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: c.InsecureSkipVerify} //nolint:gosec // explicit opt-in
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("read ca_file: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, errors.New("ca_file holds no PEM certificate")
		}
		cfg.RootCAs = pool
	}
	return cfg, nil
}

func awsConfig(ctx context.Context, s config.SigV4) (aws.Config, error) {
	if s.AccessKeyID != "" {
		return aws.Config{
			Region:      s.Region,
			Credentials: credentials.NewStaticCredentialsProvider(s.AccessKeyID, s.SecretAccessKey, ""),
		}, nil
	}
	var lo []func(*awsconfig.LoadOptions) error
	if s.Region != "" {
		lo = append(lo, awsconfig.WithRegion(s.Region))
	}
	return awsconfig.LoadDefaultConfig(ctx, lo...)
}

// Type implements catalog.Adapter.
func (a *Adapter) Type() string { return "rest" }

// NamespaceExists implements catalog.Adapter: every level must exist.
func (a *Adapter) NamespaceExists(ctx context.Context, ns []string) (bool, error) {
	// An existing namespace is success, so the POST may be repeated after an ambiguous failure.
	ctx = httpclient.Idempotent(ctx)
	for i := 1; i <= len(ns); i++ {
		c, st := track(ctx)
		ok, err := a.cat.CheckNamespaceExists(c, ns[:i])
		if err != nil {
			return false, a.mapErr(err, st, "check namespace %s", strings.Join(ns[:i], "."))
		}
		if !ok {
			return false, nil
		}
	}
	return len(ns) > 0, nil
}

// CreateNamespace implements catalog.Adapter. Parents are created first, for servers that
// require them; levels that already exist are left alone.
func (a *Adapter) CreateNamespace(ctx context.Context, ns []string) error {
	if len(ns) == 0 {
		return apperr.BadRequest("empty namespace")
	}
	// An existing namespace is success, so the POST may be repeated after an ambiguous failure.
	ctx = httpclient.Idempotent(ctx)
	for i := 1; i <= len(ns); i++ {
		c, st := track(ctx)
		err := a.cat.CreateNamespace(c, ns[:i], nil)
		if err != nil && !errors.Is(err, catalog.ErrNamespaceAlreadyExists) {
			return a.mapErr(err, st, "create namespace %s", strings.Join(ns[:i], "."))
		}
	}
	return nil
}

// LoadTable implements catalog.Adapter.
func (a *Adapter) LoadTable(ctx context.Context, id ourcatalog.Ident) (string, error) {
	c, st := track(ctx)
	tbl, err := a.cat.LoadTable(c, ident(id))
	if err != nil {
		return "", a.mapErr(err, st, "load table %s", id)
	}
	return tbl.MetadataLocation(), nil
}

// RegisterTable implements catalog.Adapter. Provenance is not recorded: a REST catalog has
// no table properties that can be set without writing new metadata.
//
// The namespace is checked first because some servers create it implicitly: Apache
// Iceberg's reference server over a JDBC catalog registers a table in a namespace nobody
// created (and the namespace then exists). The contract is 404 for a missing namespace on
// every remote.
func (a *Adapter) RegisterTable(ctx context.Context, id ourcatalog.Ident, metadataLocation string, _ ourcatalog.Provenance) error {
	mu := a.lock(id)
	defer mu.Unlock()
	ok, err := a.NamespaceExists(ctx, id.Namespace)
	if err != nil {
		return err
	}
	if !ok {
		return apperr.NotFound("remote %q: register table %s: namespace does not exist", a.name, id)
	}
	return a.register(ctx, id, metadataLocation)
}

func (a *Adapter) register(ctx context.Context, id ourcatalog.Ident, metadataLocation string) error {
	// An existing table at the same location is success (below), so the POST may be repeated
	// after an ambiguous failure.
	c, st := track(httpclient.Idempotent(ctx))
	_, err := a.cat.RegisterTable(c, ident(id), metadataLocation)
	if err == nil {
		return nil
	}
	if !errors.Is(err, catalog.ErrTableAlreadyExists) {
		return a.mapErr(err, st, "register table %s", id)
	}
	cur, lerr := a.LoadTable(ctx, id)
	if lerr != nil {
		return lerr
	}
	if cur == metadataLocation {
		return nil
	}
	return apperr.Conflict("remote %q: table %s already exists at another metadata location", a.name, id)
}

// ReplaceTable implements catalog.Adapter; see the package comment for what "atomic" can
// mean on REST. When the server refuses "overwrite" (400/405/406/501, or 409 from a server
// that ignores the field), the table is dropped without purge and registered again, and
// atomic is false.
func (a *Adapter) ReplaceTable(ctx context.Context, id ourcatalog.Ident, expectedLocation, metadataLocation string, _ ourcatalog.Provenance) (bool, error) {
	mu := a.lock(id)
	defer mu.Unlock()
	cur, err := a.LoadTable(ctx, id)
	if err != nil {
		return false, err
	}
	if cur != expectedLocation {
		return false, apperr.Conflict("remote %q: table %s changed: it no longer points at the expected metadata location", a.name, id)
	}
	got, err := a.sess.registerOverwrite(ctx, id, metadataLocation)
	switch {
	case err == nil:
		if got != "" && got != metadataLocation {
			return false, apperr.New(502, "remote %q: register with overwrite of %s answered another metadata location", a.name, id)
		}
		return true, nil
	case !refusesOverwrite(err):
		return false, a.mapErr(err, nil, "re-point table %s", id)
	}
	// The server has no atomic re-point: drop without purge, then register.
	c, st := track(ctx)
	if err := a.cat.DropTable(c, ident(id)); err != nil {
		return false, a.mapErr(err, st, "drop table %s before re-registering", id)
	}
	if err := a.register(ctx, id, metadataLocation); err != nil {
		// Put the table back where it was so that a failed re-point does not lose it.
		if rerr := a.register(context.WithoutCancel(ctx), id, expectedLocation); rerr != nil {
			return false, apperr.Wrap(apperr.StatusOf(err), errors.Join(err, rerr),
				"remote %q: re-registering %s failed and restoring it failed too; the table is missing from the remote", a.name, id)
		}
		return false, err
	}
	return false, nil
}

// refusesOverwrite tells a server without register-with-overwrite from other failures:
// 405/406/501 (not supported), 409 (a server predating the field ignores it and finds the
// table exists; the table was just checked to exist at the expected location), and 400 only
// when the error names the field or an unsupported operation, because a 400 can also mean
// that the new metadata file is unreadable, which a drop-then-register must not follow.
func refusesOverwrite(err error) bool {
	var he *httpStatusError
	if !errors.As(err, &he) {
		return false
	}
	switch he.status {
	case http.StatusMethodNotAllowed, http.StatusNotAcceptable, http.StatusNotImplemented, http.StatusConflict:
		return true
	case http.StatusBadRequest:
		return he.typ == "UnsupportedOperationException" ||
			strings.Contains(strings.ToLower(he.message), "overwrite")
	}
	return false
}

// DropTable implements catalog.Adapter (purgeRequested=false: the files belong to lakeFS).
func (a *Adapter) DropTable(ctx context.Context, id ourcatalog.Ident) error {
	mu := a.lock(id)
	defer mu.Unlock()
	c, st := track(ctx)
	if err := a.cat.DropTable(c, ident(id)); err != nil {
		return a.mapErr(err, st, "drop table %s", id)
	}
	return nil
}

// Ping implements catalog.Adapter: GET /v1/config with the configured credentials.
func (a *Adapter) Ping(ctx context.Context) error {
	if _, err := a.sess.config(ctx); err != nil {
		return a.mapErr(err, nil, "ping")
	}
	return nil
}

// Close implements catalog.Adapter.
func (a *Adapter) Close() error {
	err := a.cat.Close()
	a.closeIdle()
	return err
}

func (a *Adapter) lock(id ourcatalog.Ident) *sync.Mutex {
	h := fnv.New32a()
	_, _ = h.Write([]byte(strings.Join(id.Namespace, "\x1f") + "\x00" + id.Table))
	mu := &a.tableMu[h.Sum32()%uint32(len(a.tableMu))]
	mu.Lock()
	return mu
}

func ident(id ourcatalog.Ident) table.Identifier {
	return append(append(table.Identifier{}, id.Namespace...), id.Table)
}

// session makes this package's own requests with the same transport, auth and headers as
// iceberg-go's client.
type session struct {
	hc      *http.Client
	auth    rest.ContextAuthManager
	headers map[string]string
	signer  *v4.Signer
	awsCfg  aws.Config
	service string

	// Resolved from /v1/config.
	base  *url.URL // .../v1[/prefix]
	nsSep string   // encoded namespace separator
	query url.Values
	uri   *url.URL
}

// resolve reads /v1/config and applies iceberg-go's precedence (server defaults < client
// settings < server overrides) to the keys this package needs.
func (s *session) resolve(ctx context.Context, base *url.URL, cfg config.RESTRemote) error {
	s.uri = base
	if cfg.Warehouse != "" {
		s.query = url.Values{"warehouse": {cfg.Warehouse}}
	}
	c, err := s.config(ctx)
	if err != nil {
		return err
	}
	props := maps.Clone(c.Defaults)
	if props == nil {
		props = map[string]string{}
	}
	if cfg.Prefix != "" {
		props["prefix"] = cfg.Prefix
	}
	maps.Copy(props, c.Overrides)
	root := base
	if u, ok := props["uri"]; ok && u != "" {
		if root, err = url.Parse(u); err != nil {
			return fmt.Errorf("server config has an invalid uri: %w", err)
		}
	}
	s.base = root.JoinPath("v1")
	if p := props["prefix"]; p != "" {
		s.base = s.base.JoinPath(p)
	}
	s.nsSep = props["namespace-separator"]
	if s.nsSep == "" {
		s.nsSep = "%1F"
	}
	return nil
}

type configResponse struct {
	Defaults  map[string]string `json:"defaults"`
	Overrides map[string]string `json:"overrides"`
}

func (s *session) config(ctx context.Context) (configResponse, error) {
	var out configResponse
	u := s.uri.JoinPath("v1", "config")
	u.RawQuery = s.query.Encode()
	st, body, err := s.do(ctx, http.MethodGet, u, nil)
	if err != nil {
		return out, err
	}
	if st != http.StatusOK {
		return out, remoteError(st, body)
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return out, fmt.Errorf("decode config: %w", err)
	}
	return out, nil
}

// registerOverwrite posts {"name","metadata-location","overwrite":true} to the register
// endpoint and returns the metadata location the server answered.
func (s *session) registerOverwrite(ctx context.Context, id ourcatalog.Ident, loc string) (string, error) {
	levels := make([]string, len(id.Namespace))
	for i, l := range id.Namespace {
		levels[i] = url.PathEscape(l)
	}
	u := s.base.JoinPath("namespaces", strings.Join(levels, s.nsSep), "register")
	payload, err := json.Marshal(map[string]any{"name": id.Table, "metadata-location": loc, "overwrite": true})
	if err != nil {
		return "", err
	}
	st, body, err := s.do(ctx, http.MethodPost, u, payload)
	if err != nil {
		return "", err
	}
	if st != http.StatusOK {
		return "", remoteError(st, body)
	}
	var res struct {
		MetadataLocation string `json:"metadata-location"`
	}
	if err := json.Unmarshal(body, &res); err != nil {
		return "", fmt.Errorf("decode register response: %w", err)
	}
	return res.MetadataLocation, nil
}

// do sends one request as iceberg-go's session does: default headers, configured headers,
// the auth header, then the SigV4 signature over the final request.
func (s *session) do(ctx context.Context, method string, u *url.URL, body []byte) (int, []byte, error) {
	var rdr io.Reader
	if body != nil {
		rdr = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rdr)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Client-Version", "0.14.1")
	req.Header.Set("User-Agent", "iceberg-remotes")
	for k, v := range s.headers {
		req.Header.Set(k, v)
	}
	if s.auth != nil {
		k, v, err := s.auth.AuthHeaderWithContext(ctx)
		if err != nil {
			return 0, nil, err
		}
		req.Header.Set(k, v)
	}
	if s.signer != nil {
		sum := sha256.Sum256(body)
		hash := hex.EncodeToString(sum[:])
		creds, err := s.awsCfg.Credentials.Retrieve(ctx)
		if err != nil {
			return 0, nil, err
		}
		req.Header.Set("x-amz-content-sha256", hash)
		if err := s.signer.SignHTTP(ctx, creds, req, hash, s.service, s.awsCfg.Region, time.Now()); err != nil {
			return 0, nil, err
		}
	}
	rsp, err := s.hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer rsp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(rsp.Body, 64<<20))
	if err != nil {
		return rsp.StatusCode, nil, err
	}
	return rsp.StatusCode, data, nil
}

// staticAuth is the bearer `token` of the remote.
type staticAuth struct{ token string }

func (s staticAuth) AuthHeader() (string, string, error) {
	return "Authorization", "Bearer " + s.token, nil
}

func (s staticAuth) AuthHeaderWithContext(context.Context) (string, string, error) {
	return s.AuthHeader()
}

// oauthAuth is OAuth2 client credentials; the token source caches and renews the token.
type oauthAuth struct{ src oauth2.TokenSource }

func (o *oauthAuth) AuthHeader() (string, string, error) {
	tok, err := o.src.Token()
	if err != nil {
		return "", "", &authError{err: err}
	}
	return "Authorization", "Bearer " + tok.AccessToken, nil
}

func (o *oauthAuth) AuthHeaderWithContext(ctx context.Context) (string, string, error) {
	if err := ctx.Err(); err != nil {
		return "", "", err
	}
	return o.AuthHeader()
}

// authError marks a failure to obtain a token from the remote's OAuth2 server.
type authError struct{ err error }

func (e *authError) Error() string { return "obtaining an OAuth2 token: " + e.err.Error() }
func (e *authError) Unwrap() error { return e.err }
