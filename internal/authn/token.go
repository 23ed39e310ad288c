package authn

import (
	"context"
	"crypto/sha256"
	"encoding/gob"
	"errors"
	"slices"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// loginAudience is the audience lakeFS puts in login tokens (auth.GenerateJWTLogin).
const loginAudience = "login"

// hmacMethods are the only algorithms a lakeFS token can use: lakeFS signs with HS256 and
// accepts any HMAC method. Everything else, "none" included, is refused before the
// signature is looked at.
var hmacMethods = []string{"HS256", "HS384", "HS512"}

// verifyToken validates a bearer token and returns its subject (the user id).
//
// A lakeFS login token (HMAC) needs a valid signature with the shared secret, "exp" in the
// future, a non-empty "sub", "nbf" (when present) in the past and "aud" absent or "login" (a
// lakeFS password-reset token, audience "reset_password", is not a login credential).
//
// A token of the configured JWKS issuer (RS*, PS*, ES*) needs a valid signature with the
// issuer's key named by "kid", "iss" equal to auth.jwks.issuer, "aud" containing
// auth.jwks.audience when that is set, and the same exp/nbf/sub rules. The key is chosen by
// the algorithm family, never by the token: an HMAC token is always checked with the shared
// secret, so a public key can never be abused as an HMAC secret.
func (a *Authenticator) verifyToken(ctx context.Context, token string) (string, error) {
	if len(a.methods) == 0 {
		return "", invalid("token: auth.encrypt.secret_key is not configured")
	}
	// A token signed with the shared secret verifies the same way until it expires, so a
	// success is remembered (keyed by its hash, for at most tokenCacheTTL and never past its
	// exp): a client's every request need not decode and check it again.
	var key [sha256.Size]byte
	if a.tokens != nil {
		key = sha256.Sum256([]byte(token))
		if id, ok := a.tokens.get(key, a.now()); ok {
			return id, nil
		}
	}
	var (
		claims   jwt.RegisteredClaims
		external bool
		keyErr   error
	)
	_, err := jwt.ParseWithClaims(token, &claims,
		func(t *jwt.Token) (any, error) {
			if _, ok := t.Method.(*jwt.SigningMethodHMAC); ok {
				return a.secret, nil
			}
			external = true
			kid, _ := t.Header["kid"].(string)
			k, err := a.jwks.key(ctx, kid)
			keyErr = err
			return k, err
		},
		jwt.WithValidMethods(a.methods),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(a.now),
	)
	if err != nil {
		if keyErr != nil {
			return "", keyErr // an *invalidError, or an *apperr.Error when the keys are unavailable
		}
		return "", invalid("token: %s", tokenReason(err))
	}
	if claims.Subject == "" {
		return "", invalid("token: missing sub")
	}
	if external {
		if claims.Issuer != a.jwksIssuer {
			return "", invalid("token: issuer is not the configured JWKS issuer")
		}
		if a.jwksAudience != "" && !slices.Contains(claims.Audience, a.jwksAudience) {
			return "", invalid("token: audience does not include %q", a.jwksAudience)
		}
		return claims.Subject, nil
	}
	switch {
	case len(claims.Audience) == 0:
	case len(claims.Audience) == 1 && claims.Audience[0] == loginAudience:
	default:
		return "", invalid("token: audience is not %q", loginAudience)
	}
	if a.tokens != nil && claims.ExpiresAt != nil {
		a.tokens.putUntil(key, claims.Subject, a.now(), claims.ExpiresAt.Time)
	}
	return claims.Subject, nil
}

// The verified-token cache: how long a success is remembered at most, and how many.
const (
	tokenCacheTTL  = time.Minute
	tokenCacheSize = 4096
)

// tokenReason classifies a jwt error for the log. The library's own messages can quote
// decoding errors of the token's bytes, so only fixed phrases are logged.
func tokenReason(err error) string {
	for _, e := range []error{
		jwt.ErrTokenExpired, jwt.ErrTokenNotValidYet, jwt.ErrTokenSignatureInvalid,
		jwt.ErrTokenUnverifiable, jwt.ErrTokenRequiredClaimMissing, jwt.ErrTokenMalformed,
		jwt.ErrTokenUsedBeforeIssued, jwt.ErrInvalidType,
	} {
		if errors.Is(err, e) {
			return e.Error()
		}
	}
	return "token is invalid"
}

// Claims is the map lakeFS stores OIDC and SAML claims in (lakeFS
// pkg/auth/oidc/encoding.Claims). gob writes the registered name of an interface value's
// type into the stream, so it must be registered under lakeFS's exact name for sessions
// written by lakeFS (or by its SSO companion) to decode here.
type Claims map[string]any

// OIDCClaimsGobName is the gob type name lakeFS registers Claims under
// (encoding.OIDCClaimsSerdeNickname): kept from when Claims lived in pkg/auth/oidc.
const OIDCClaimsGobName = "github.com/treeverse/lakefs/pkg/auth/oidc.Claims"

//nolint:gochecknoinits // gob registration must happen before any decode.
func init() {
	gob.RegisterName(OIDCClaimsGobName, Claims{})
	// Identity providers put lists (groups) and nested objects in claims; decoded from JSON
	// they are []any and map[string]any, which gob can carry inside an interface only when
	// registered. gob.Register uses their default names, as any encoder would.
	gob.Register([]any{})
	gob.Register(map[string]any{})
}

// decodeSession decodes a gorilla/sessions CookieStore value the way lakeFS's store does.
func (a *Authenticator) decodeSession(name, value string) (map[any]any, error) {
	if a.codec == nil {
		return nil, errors.New("auth.encrypt.secret_key is not configured")
	}
	// sessions.Session.Values is map[interface{}]interface{}; gob only decodes into the same
	// map type.
	values := map[any]any{}
	if err := a.codec.Decode(name, value, &values); err != nil {
		return nil, err
	}
	return values, nil
}

// userFromClaims returns the user id from an OIDC or SAML session's claims, applying
// lakeFS's rules: no claims, or claims of another type → "" (not a credential: lakeFS's
// type assertion yields a nil map, which it treats as no session); a missing or non-string
// id claim, or a claim that fails validate_id_token_claims → invalid.
func (a *Authenticator) userFromClaims(scheme string, raw any) (string, error) {
	claims, _ := raw.(Claims)
	if claims == nil {
		return "", nil
	}
	idClaim := "sub"
	if scheme == SchemeSAML {
		idClaim = a.claimName
		if idClaim == "" {
			return "", invalid("%s: auth.cookie_auth_verification.external_user_id_claim_name is not configured", scheme)
		}
	}
	id, ok := claims[idClaim].(string)
	if !ok || id == "" {
		return "", invalid("%s: claim %q missing or not a string", scheme, idClaim)
	}
	for name, want := range a.validateIDs {
		got, ok := claims[name].(string)
		if !ok || got != want {
			return "", invalid("%s: claim %q does not have the required value", scheme, name)
		}
	}
	return id, nil
}
