// Package authn authenticates API callers exactly as lakeFS does, so that the official lakeFS
// SDKs and the lakeFS web UI reach this service with the credentials they already hold
// (docs/design.md section 3).
//
// The five lakeFS security schemes are tried in lakeFS's order: jwt_token (Authorization:
// Bearer), basic_auth (lakeFS access key id and secret), cookie_auth (internal_auth_session),
// oidc_auth (oidc_auth_session) and saml_auth (saml_auth_session). The first credential that
// is present decides: if it is invalid the request is refused with 401 and later schemes are
// not tried. A request with no credential at all is refused with the same 401.
//
// Tokens and cookies are verified locally with the secret shared with lakeFS
// (auth.encrypt.secret_key); optionally, Bearer tokens of one external issuer are verified
// with its published keys (auth.jwks). Access keys cannot be verified locally (the service cannot read
// lakeFS's credential store), so they are checked by asking lakeFS who the caller is
// (GET /api/v1/user) and the answer is cached briefly.
//
// The credential that authenticated is kept on the request context so that calls to lakeFS
// on behalf of the caller can carry it (ApplyCredential): lakeFS then applies its own RBAC.
package authn

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gorilla/securecookie"

	"github.com/iceberg-remotes/iceberg-remotes/internal/apperr"
	"github.com/iceberg-remotes/iceberg-remotes/internal/config"
	"github.com/iceberg-remotes/iceberg-remotes/internal/httpclient"
	"github.com/iceberg-remotes/iceberg-remotes/internal/requestctx"
)

// Scheme names, as lakeFS's OpenAPI security schemes call them.
const (
	SchemeJWT    = "jwt_token"
	SchemeBasic  = "basic_auth"
	SchemeCookie = "cookie_auth"
	SchemeOIDC   = "oidc_auth"
	SchemeSAML   = "saml_auth"
)

// Cookie names and session keys used by lakeFS (pkg/api/auth_middleware.go).
const (
	InternalAuthSessionName   = "internal_auth_session"
	TokenSessionKeyName       = "token"
	OIDCAuthSessionName       = "oidc_auth_session"
	IDTokenClaimsSessionKey   = "id_token_claims"
	SAMLAuthSessionName       = "saml_auth_session"
	SAMLTokenClaimsSessionKey = "saml_token_claims"
)

// sessionMaxAge is the max age gorilla/sessions' CookieStore gives its codecs, which lakeFS
// keeps: 30 days.
const sessionMaxAge = 86400 * 30

// defaultBasicCacheSize bounds the basic-auth cache so that a flood of distinct (valid)
// credentials cannot grow memory without limit.
const defaultBasicCacheSize = 10000

// User is the authenticated caller.
type User struct {
	ID     string
	Scheme string // one of the Scheme* constants
}

// credential is the caller's original credential, kept for forwarding to lakeFS. Exactly
// one of header and cookie is set.
type credential struct {
	header string       // the Authorization header value
	cookie *http.Cookie // the cookie that authenticated (name and value only)
}

type principal struct {
	user User
	cred *credential
}

type ctxKey struct{}

// UserFromContext returns the authenticated user on ctx.
func UserFromContext(ctx context.Context) (User, bool) {
	p, ok := ctx.Value(ctxKey{}).(*principal)
	if !ok || p == nil {
		return User{}, false
	}
	return p.user, true
}

// ContextWithUser returns ctx carrying u without any credential to forward. It is for tests
// and internal callers (for example webhooks that act with the service's own key).
func ContextWithUser(ctx context.Context, u User) context.Context {
	return context.WithValue(ctx, ctxKey{}, &principal{user: u})
}

// ErrNoCredential is returned by ApplyCredential when ctx carries no caller credential.
var ErrNoCredential = errors.New("authn: no caller credential on context")

// ApplyCredential puts the caller's original credential (the Authorization header, or the
// cookie that authenticated) on an outbound request to lakeFS. Any Authorization or Cookie
// header already on req is removed first, so that lakeFS sees exactly the caller's
// credential and nothing that could take precedence over it in lakeFS's scheme order.
func ApplyCredential(ctx context.Context, req *http.Request) error {
	p, ok := ctx.Value(ctxKey{}).(*principal)
	if !ok || p == nil || p.cred == nil {
		return ErrNoCredential
	}
	req.Header.Del("Authorization")
	req.Header.Del("Cookie")
	if p.cred.header != "" {
		req.Header.Set("Authorization", p.cred.header)
		return nil
	}
	req.AddCookie(&http.Cookie{Name: p.cred.cookie.Name, Value: p.cred.cookie.Value})
	return nil
}

// CheckAllowed enforces a remote's allowed_users list: an empty list admits every
// authenticated user; otherwise the user id must be listed. A caller outside the list gets
// 401 "insufficient permissions: ..." (lakeFS's status and wording for RBAC refusals).
func CheckAllowed(ctx context.Context, remote config.Remote) error {
	if len(remote.AllowedUsers) == 0 {
		return nil
	}
	u, ok := UserFromContext(ctx)
	if !ok {
		return apperr.Unauthorized(apperr.MsgAuthenticationFailed)
	}
	if slices.Contains(remote.AllowedUsers, u.ID) {
		return nil
	}
	return apperr.Unauthorized("%s: user %q may not use remote catalog %q",
		apperr.MsgInsufficientPerms, u.ID, remote.ID)
}

// Options configure an Authenticator.
type Options struct {
	Auth config.Auth
	// Basic verifies lakeFS access keys (normally NewLakeFSBasicVerifier). When nil, basic
	// credentials are refused.
	Basic  BasicVerifier
	Logger *slog.Logger
	// Now is the clock for token expiry and the basic-auth cache (default time.Now). The
	// securecookie timestamp check uses the wall clock: that library has no clock hook.
	Now func() time.Time
	// BasicCacheSize bounds the number of cached basic-auth successes (default 10000).
	BasicCacheSize int
	// JWKSClient fetches auth.jwks.url (default: httpclient.New with a 10s timeout and 2
	// retries).
	JWKSClient *http.Client
}

// Authenticator is the lakeFS-compatible authentication chain.
type Authenticator struct {
	secret       []byte
	methods      []string // JWT algorithms accepted: HS* with a secret, asymmetric with JWKS
	jwks         *jwksCache
	jwksIssuer   string
	jwksAudience string
	codec        *securecookie.SecureCookie // nil when no secret is configured
	basic        BasicVerifier
	cache        *basicCache // nil when caching is disabled
	tokens       *basicCache // verified lakeFS tokens (nil without the shared secret)
	cacheKey     []byte      // HMAC key for cache keys, random per process
	claimName    string
	validateIDs  map[string]string
	logger       *slog.Logger
	now          func() time.Time
}

// New builds an Authenticator.
//
// When auth.encrypt.secret_key is empty the schemes that need the shared secret (jwt_token
// with lakeFS tokens, cookie_auth, oidc_auth, saml_auth) cannot verify anything: such a
// credential is refused with 401, and only basic_auth (and JWKS tokens, when configured) can
// succeed. auth.jwks.url and auth.jwks.issuer go together; the key set is fetched on first
// use, not here, so that the service starts while the identity provider is down.
func New(o Options) (*Authenticator, error) {
	if (o.Auth.JWKS.URL == "") != (o.Auth.JWKS.Issuer == "") {
		return nil, errors.New("auth.jwks: url and issuer must be set together")
	}
	if o.Auth.JWKS.Audience != "" && o.Auth.JWKS.URL == "" {
		return nil, errors.New("auth.jwks.audience: needs auth.jwks.url and auth.jwks.issuer")
	}
	if o.Auth.BasicCacheTTL < 0 {
		return nil, errors.New("auth.basic_cache_ttl: must not be negative")
	}
	a := &Authenticator{
		secret:    []byte(o.Auth.Encrypt.SecretKey),
		basic:     o.Basic,
		claimName: o.Auth.CookieAuthVerification.ExternalUserIDClaimName,
		logger:    o.Logger,
		now:       o.Now,
	}
	if a.logger == nil {
		a.logger = slog.New(slog.DiscardHandler)
	}
	if a.now == nil {
		a.now = time.Now
	}
	if len(a.secret) > 0 {
		a.methods = append(a.methods, hmacMethods...)
		// lakeFS: sessions.NewCookieStore(secret) = securecookie.New(secret, nil) (HMAC-SHA256,
		// no encryption, gob) with MaxAge 30 days.
		a.codec = securecookie.New(a.secret, nil)
		a.codec.MaxAge(sessionMaxAge)
		a.tokens = newBasicCache(tokenCacheTTL, tokenCacheSize)
	}
	if o.Auth.JWKS.URL != "" {
		client := o.JWKSClient
		if client == nil {
			client = httpclient.New(httpclient.Options{Policy: httpclient.Policy{Timeout: 10 * time.Second, MaxRetries: 2}})
		}
		a.jwks = &jwksCache{url: o.Auth.JWKS.URL, client: client, now: a.now}
		a.jwksIssuer, a.jwksAudience = o.Auth.JWKS.Issuer, o.Auth.JWKS.Audience
		a.methods = append(a.methods, asymmetricMethods...)
	}
	// lakeFS's validate_id_token_claims is a map of strings; YAML may give numbers or
	// booleans, which lakeFS's configuration loader would have turned into strings.
	if len(o.Auth.CookieAuthVerification.ValidateIDTokenClaims) > 0 {
		a.validateIDs = make(map[string]string, len(o.Auth.CookieAuthVerification.ValidateIDTokenClaims))
		for k, v := range o.Auth.CookieAuthVerification.ValidateIDTokenClaims {
			a.validateIDs[k] = fmt.Sprint(v)
		}
	}
	if o.Auth.BasicCacheTTL > 0 {
		size := o.BasicCacheSize
		if size <= 0 {
			size = defaultBasicCacheSize
		}
		a.cache = newBasicCache(o.Auth.BasicCacheTTL, size)
		a.cacheKey = make([]byte, 32)
		if _, err := rand.Read(a.cacheKey); err != nil {
			return nil, fmt.Errorf("basic auth cache key: %w", err)
		}
	}
	return a, nil
}

// invalidError marks a present but invalid credential; its text is a log-safe reason.
type invalidError struct{ reason string }

func (e *invalidError) Error() string { return e.reason }

func invalid(format string, args ...any) error {
	return &invalidError{reason: fmt.Sprintf(format, args...)}
}

// Middleware authenticates every request; on success the next handler sees the user on the
// context (UserFromContext) and in requestctx, on failure the caller gets lakeFS's 401.
func (a *Authenticator) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		p, scheme, err := a.authenticate(r)
		if err != nil {
			var ae *apperr.Error
			if errors.As(err, &ae) {
				// Not a verdict on the credential: lakeFS (or the identity provider) could not be
				// asked, so the caller gets a retryable status rather than 401.
				a.logger.LogAttrs(ctx, slog.LevelWarn, "authentication unavailable",
					slog.String("scheme", scheme), slog.String("error", err.Error()))
				apperr.Write(w, err)
				return
			}
			a.logger.LogAttrs(ctx, slog.LevelInfo, "authentication failed",
				slog.String("scheme", scheme), slog.String("reason", err.Error()))
			apperr.WriteStatus(w, http.StatusUnauthorized, apperr.MsgAuthenticationFailed)
			return
		}
		if p == nil {
			a.logger.LogAttrs(ctx, slog.LevelDebug, "authentication failed", slog.String("reason", "no credentials"))
			apperr.WriteStatus(w, http.StatusUnauthorized, apperr.MsgAuthenticationFailed)
			return
		}
		requestctx.SetUser(ctx, p.user.ID)
		next.ServeHTTP(w, r.WithContext(context.WithValue(ctx, ctxKey{}, p)))
	})
}

// authenticate walks lakeFS's schemes in order. It returns (nil, "", nil) when no credential
// is present, an *invalidError for a present but invalid credential, and an *apperr.Error
// when a credential could not be checked at all.
func (a *Authenticator) authenticate(r *http.Request) (*principal, string, error) {
	ctx := r.Context()

	// 1. jwt_token: lakeFS takes the header only when it is exactly "<Bearer> <token>";
	// anything else (another scheme word, extra fields) is not a Bearer credential.
	authz := r.Header.Get("Authorization")
	if authz != "" {
		if parts := strings.Fields(authz); len(parts) == 2 && strings.EqualFold(parts[0], "Bearer") {
			sub, err := a.verifyToken(ctx, parts[1])
			if err != nil {
				return nil, SchemeJWT, err
			}
			return &principal{user: User{ID: sub, Scheme: SchemeJWT}, cred: &credential{header: authz}}, SchemeJWT, nil
		}
	}

	// 2. basic_auth: present when net/http can parse it, as in lakeFS (r.BasicAuth()).
	if _, _, ok := r.BasicAuth(); ok {
		id, err := a.verifyBasic(ctx, authz)
		if err != nil {
			return nil, SchemeBasic, err
		}
		return &principal{user: User{ID: id, Scheme: SchemeBasic}, cred: &credential{header: authz}}, SchemeBasic, nil
	}

	// 3. cookie_auth: lakeFS ignores decoding errors here, so a cookie that does not decode
	// (wrong secret, expired, a raw JWT) or carries no token counts as absent.
	if c, err := r.Cookie(InternalAuthSessionName); err == nil {
		if values, err := a.decodeSession(InternalAuthSessionName, c.Value); err == nil {
			if token, _ := values[TokenSessionKeyName].(string); token != "" {
				sub, err := a.verifyToken(ctx, token)
				if err != nil {
					return nil, SchemeCookie, err
				}
				return &principal{user: User{ID: sub, Scheme: SchemeCookie}, cred: cookieCred(c)}, SchemeCookie, nil
			}
		}
	}

	// 4. oidc_auth and 5. saml_auth: unlike cookie_auth, lakeFS fails the request when the
	// session cookie is present but does not decode.
	for _, s := range []struct{ scheme, cookie, key string }{
		{SchemeOIDC, OIDCAuthSessionName, IDTokenClaimsSessionKey},
		{SchemeSAML, SAMLAuthSessionName, SAMLTokenClaimsSessionKey},
	} {
		c, err := r.Cookie(s.cookie)
		if err != nil {
			continue
		}
		values, err := a.decodeSession(s.cookie, c.Value)
		if err != nil {
			return nil, s.scheme, invalid("session cookie does not decode: %v", err)
		}
		id, err := a.userFromClaims(s.scheme, values[s.key])
		if err != nil {
			return nil, s.scheme, err
		}
		if id == "" {
			continue // a session without claims, as lakeFS: not a credential
		}
		return &principal{user: User{ID: id, Scheme: s.scheme}, cred: cookieCred(c)}, s.scheme, nil
	}
	return nil, "", nil
}

func cookieCred(c *http.Cookie) *credential {
	return &credential{cookie: &http.Cookie{Name: c.Name, Value: c.Value}}
}

// verifyBasic checks an access key through the BasicVerifier, with a success cache keyed by
// an HMAC-SHA256 of the whole header (never the header itself).
func (a *Authenticator) verifyBasic(ctx context.Context, header string) (string, error) {
	if a.basic == nil {
		return "", invalid("basic authentication is not configured")
	}
	var key [sha256.Size]byte
	if a.cache != nil {
		m := hmac.New(sha256.New, a.cacheKey)
		m.Write([]byte(header))
		copy(key[:], m.Sum(nil))
		if id, ok := a.cache.get(key, a.now()); ok {
			return id, nil
		}
	}
	id, err := a.basic.VerifyBasic(ctx, header)
	if err != nil {
		var ae *apperr.Error
		if errors.As(err, &ae) && ae.Status != http.StatusUnauthorized {
			return "", err
		}
		return "", invalid("access key rejected: %v", err)
	}
	if id == "" {
		return "", invalid("access key rejected: no user id")
	}
	if a.cache != nil {
		a.cache.put(key, id, a.now())
	}
	return id, nil
}
