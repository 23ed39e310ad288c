package authn

import (
	"encoding/gob"
	"errors"

	"github.com/golang-jwt/jwt/v5"
)

// loginAudience is the audience lakeFS puts in login tokens (auth.GenerateJWTLogin).
const loginAudience = "login"

// hmacMethods are the only algorithms a lakeFS token can use: lakeFS signs with HS256 and
// accepts any HMAC method. Everything else, "none" included, is refused before the
// signature is looked at.
var hmacMethods = []string{"HS256", "HS384", "HS512"}

// verifyToken validates a lakeFS login JWT and returns its subject (the lakeFS user id).
// Required: a valid HMAC signature with the shared secret, "exp" in the future, a non-empty
// "sub"; "nbf", when present, in the past; "aud" absent or "login" (a lakeFS
// password-reset token, audience "reset_password", is not a login credential).
func (a *Authenticator) verifyToken(token string) (string, error) {
	if len(a.secret) == 0 {
		return "", invalid("token: auth.encrypt.secret_key is not configured")
	}
	var claims jwt.RegisteredClaims
	_, err := jwt.ParseWithClaims(token, &claims,
		func(*jwt.Token) (any, error) { return a.secret, nil },
		jwt.WithValidMethods(hmacMethods),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(a.now),
	)
	if err != nil {
		return "", invalid("token: %s", tokenReason(err))
	}
	if claims.Subject == "" {
		return "", invalid("token: missing sub")
	}
	switch {
	case len(claims.Audience) == 0:
	case len(claims.Audience) == 1 && claims.Audience[0] == loginAudience:
	default:
		return "", invalid("token: audience is not %q", loginAudience)
	}
	return claims.Subject, nil
}

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
// lakeFS's rules: no claims → "" (not a credential); claims of another type, a missing or
// non-string id claim, or a claim that fails validate_id_token_claims → invalid.
func (a *Authenticator) userFromClaims(scheme string, raw any) (string, error) {
	if raw == nil {
		return "", nil
	}
	claims, ok := raw.(Claims)
	if !ok {
		return "", invalid("%s: session claims have type %T", scheme, raw)
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
