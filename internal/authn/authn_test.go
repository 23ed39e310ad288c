package authn

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/apperr"
	"github.com/iceberg-remotes/iceberg-remotes/internal/config"
)

func claims(mod func(jwt.MapClaims)) jwt.MapClaims {
	c := jwt.MapClaims{
		"sub": "alice", "iss": "auth", "aud": "login", "jti": "t1",
		"iat": testNow.Add(-time.Minute).Unix(), "exp": testNow.Add(time.Hour).Unix(),
	}
	if mod != nil {
		mod(c)
	}
	return c
}

// tamper replaces the payload of a signed token with other claims, keeping the signature.
func tamper(t *testing.T, token string, c jwt.MapClaims) string {
	t.Helper()
	parts := strings.Split(token, ".")
	require.Len(t, parts, 3)
	other := strings.Split(signToken(t, jwt.SigningMethodHS256, "unrelated", c), ".")
	return parts[0] + "." + other[1] + "." + parts[2]
}

func noneToken(t *testing.T, c jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodNone, c).SignedString(jwt.UnsafeAllowNoneSignatureType)
	require.NoError(t, err)
	return s
}

func rsaToken(t *testing.T, c jwt.MapClaims) string {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	s, err := jwt.NewWithClaims(jwt.SigningMethodRS256, c).SignedString(key)
	require.NoError(t, err)
	return s
}

func esToken(t *testing.T, c jwt.MapClaims) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	s, err := jwt.NewWithClaims(jwt.SigningMethodES256, c).SignedString(key)
	require.NoError(t, err)
	return s
}

// badTokens are tokens that must never authenticate, whichever scheme carries them.
func badTokens(t *testing.T) map[string]string {
	valid := validToken(t, "alice")
	return map[string]string{
		"expired":            lakeFSLoginToken(t, testSecret, "alice", testNow.Add(-2*time.Hour), testNow.Add(-time.Hour)),
		"expires now":        signToken(t, jwt.SigningMethodHS256, testSecret, claims(func(c jwt.MapClaims) { c["exp"] = testNow.Unix() })),
		"not yet valid":      signToken(t, jwt.SigningMethodHS256, testSecret, claims(func(c jwt.MapClaims) { c["nbf"] = testNow.Add(time.Minute).Unix() })),
		"wrong signature":    lakeFSLoginToken(t, "another-secret", "alice", testNow, testNow.Add(time.Hour)),
		"tampered payload":   tamper(t, valid, claims(func(c jwt.MapClaims) { c["sub"] = "admin" })),
		"tampered sig":       valid[:len(valid)-4] + flip(valid[len(valid)-4:]),
		"wrong audience":     signToken(t, jwt.SigningMethodHS256, testSecret, claims(func(c jwt.MapClaims) { c["aud"] = "reset_password" })),
		"two audiences":      signToken(t, jwt.SigningMethodHS256, testSecret, claims(func(c jwt.MapClaims) { c["aud"] = []string{"login", "other"} })),
		"missing sub":        signToken(t, jwt.SigningMethodHS256, testSecret, claims(func(c jwt.MapClaims) { delete(c, "sub") })),
		"empty sub":          signToken(t, jwt.SigningMethodHS256, testSecret, claims(func(c jwt.MapClaims) { c["sub"] = "" })),
		"missing exp":        signToken(t, jwt.SigningMethodHS256, testSecret, claims(func(c jwt.MapClaims) { delete(c, "exp") })),
		"alg none":           noneToken(t, claims(nil)),
		"RS256 without JWKS": rsaToken(t, claims(nil)),
		"ES256 without JWKS": esToken(t, claims(nil)),
		"malformed":          "not.a.jwt",
		"garbage":            "eyJhbGciOiJIUzI1NiJ9",
	}
}

func flip(s string) string {
	b := []byte(s)
	for i := range b {
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
	}
	return string(b)
}

func TestBearer(t *testing.T) {
	h := newHarness(t, defaultAuth(), nil)

	t.Run("lakeFS login token", func(t *testing.T) {
		res := h.serve(build(bearer(validToken(t, "alice"))))
		require.Equal(t, http.StatusNoContent, res.status, res.body)
		assert.Equal(t, User{ID: "alice", Scheme: SchemeJWT}, res.user)
		assert.Equal(t, "alice", res.logUser, "requestctx names the user for request logs")
	})
	for _, m := range []jwt.SigningMethod{jwt.SigningMethodHS256, jwt.SigningMethodHS384, jwt.SigningMethodHS512} {
		t.Run(m.Alg(), func(t *testing.T) {
			res := h.serve(build(bearer(signToken(t, m, testSecret, claims(nil)))))
			require.Equal(t, http.StatusNoContent, res.status, res.body)
			assert.Equal(t, "alice", res.user.ID)
		})
	}
	t.Run("no audience", func(t *testing.T) {
		res := h.serve(build(bearer(signToken(t, jwt.SigningMethodHS256, testSecret, claims(func(c jwt.MapClaims) { delete(c, "aud") })))))
		require.Equal(t, http.StatusNoContent, res.status, res.body)
	})
	t.Run("scheme word is case-insensitive", func(t *testing.T) {
		for _, word := range []string{"bearer", "BEARER", "BeArEr"} {
			r := newReq()
			r.Header.Set("Authorization", word+"  "+validToken(t, "alice"))
			res := h.serve(r)
			require.Equal(t, http.StatusNoContent, res.status, word)
			assert.Equal(t, SchemeJWT, res.user.Scheme)
		}
	})
	for name, tok := range badTokens(t) {
		t.Run(name, func(t *testing.T) {
			res := h.serve(build(bearer(tok)))
			assert.Equal(t, http.StatusUnauthorized, res.status)
			assert.Equal(t, authFailedBody, res.body)
			assert.False(t, res.ok)
			assert.Empty(t, res.logUser)
		})
	}
	t.Run("unknown scheme word is not a credential", func(t *testing.T) {
		for _, v := range []string{"Token " + validToken(t, "alice"), "Bearer", "Bearer a b", "Digest x"} {
			r := newReq()
			r.Header.Set("Authorization", v)
			res := h.serve(r)
			assert.Equal(t, http.StatusUnauthorized, res.status, v)
			assert.Equal(t, authFailedBody, res.body)
			assert.Contains(t, h.logs.String(), "no credentials", "treated as absent, like lakeFS")
		}
		// ...so a later scheme still decides.
		r := newReq()
		r.Header.Set("Authorization", "Token "+validToken(t, "alice"))
		withCookie(mintSession(t, testSecret, InternalAuthSessionName, map[any]any{"token": validToken(t, "carol")}))(r)
		res := h.serve(r)
		require.Equal(t, http.StatusNoContent, res.status)
		assert.Equal(t, User{ID: "carol", Scheme: SchemeCookie}, res.user)
	})
}

func TestNoCredentials(t *testing.T) {
	h := newHarness(t, defaultAuth(), nil)
	res := h.serve(newReq())
	assert.Equal(t, http.StatusUnauthorized, res.status)
	assert.Equal(t, authFailedBody, res.body)
	assert.False(t, res.ok)
}

func TestInternalAuthSessionCookie(t *testing.T) {
	h := newHarness(t, defaultAuth(), nil)
	session := func(tok string) func(*http.Request) {
		return withCookie(mintSession(t, testSecret, InternalAuthSessionName, map[any]any{TokenSessionKeyName: tok}))
	}

	t.Run("valid", func(t *testing.T) {
		res := h.serve(build(session(validToken(t, "alice"))))
		require.Equal(t, http.StatusNoContent, res.status, res.body)
		assert.Equal(t, User{ID: "alice", Scheme: SchemeCookie}, res.user)
	})
	for name, tok := range badTokens(t) {
		t.Run("token "+name, func(t *testing.T) {
			res := h.serve(build(session(tok)))
			assert.Equal(t, http.StatusUnauthorized, res.status)
			assert.Equal(t, authFailedBody, res.body)
			assert.Contains(t, h.logs.String(), "scheme=cookie_auth")
		})
	}

	// Cookies that do not decode count as absent: with nothing else they end in the
	// no-credential 401, and a later scheme (here OIDC) still authenticates.
	oidc := withCookie(mintSession(t, testSecret, OIDCAuthSessionName, map[any]any{IDTokenClaimsSessionKey: Claims{"sub": "oscar"}}))
	good := mintSession(t, testSecret, InternalAuthSessionName, map[any]any{TokenSessionKeyName: validToken(t, "alice")})
	absent := map[string]func(*http.Request){
		"raw JWT as cookie": rawCookie(InternalAuthSessionName, validToken(t, "alice")),
		"other secret":      withCookie(mintSession(t, "another-secret", InternalAuthSessionName, map[any]any{TokenSessionKeyName: validToken(t, "alice")})),
		"tampered":          rawCookie(InternalAuthSessionName, good.Value[:20]+flip(good.Value[20:24])+good.Value[24:]),
		"older than 30 days": rawCookie(InternalAuthSessionName, encodeSessionAt(t, testSecret, InternalAuthSessionName,
			map[any]any{TokenSessionKeyName: validToken(t, "alice")}, time.Now().Add(-31*24*time.Hour))),
		"no token in session": withCookie(mintSession(t, testSecret, InternalAuthSessionName, map[any]any{"other": "x"})),
		"token not a string":  withCookie(mintSession(t, testSecret, InternalAuthSessionName, map[any]any{TokenSessionKeyName: 7})),
		"minted for another cookie name": rawCookie(InternalAuthSessionName,
			mintSession(t, testSecret, "other_session", map[any]any{TokenSessionKeyName: validToken(t, "alice")}).Value),
	}
	for name, c := range absent {
		t.Run(name, func(t *testing.T) {
			res := h.serve(build(c))
			assert.Equal(t, http.StatusUnauthorized, res.status)
			assert.Equal(t, authFailedBody, res.body)
			res = h.serve(build(c, oidc))
			require.Equal(t, http.StatusNoContent, res.status, "an undecodable internal_auth_session must not stop later schemes")
			assert.Equal(t, User{ID: "oscar", Scheme: SchemeOIDC}, res.user)
		})
	}
	t.Run("29 days old cookie still decodes", func(t *testing.T) {
		v := encodeSessionAt(t, testSecret, InternalAuthSessionName, map[any]any{TokenSessionKeyName: validToken(t, "alice")}, time.Now().Add(-29*24*time.Hour))
		res := h.serve(build(rawCookie(InternalAuthSessionName, v)))
		require.Equal(t, http.StatusNoContent, res.status)
		assert.Equal(t, "alice", res.user.ID)
	})
}

func TestSameTokenAsBearerAndCookie(t *testing.T) {
	h := newHarness(t, defaultAuth(), nil)
	tok := validToken(t, "alice")
	viaBearer := h.serve(build(bearer(tok)))
	viaCookie := h.serve(build(withCookie(mintSession(t, testSecret, InternalAuthSessionName, map[any]any{TokenSessionKeyName: tok}))))
	require.Equal(t, http.StatusNoContent, viaBearer.status)
	require.Equal(t, http.StatusNoContent, viaCookie.status)
	assert.Equal(t, User{ID: "alice", Scheme: SchemeJWT}, viaBearer.user)
	assert.Equal(t, User{ID: "alice", Scheme: SchemeCookie}, viaCookie.user)

	expired := lakeFSLoginToken(t, testSecret, "alice", testNow.Add(-2*time.Hour), testNow.Add(-time.Hour))
	assert.Equal(t, http.StatusUnauthorized, h.serve(build(bearer(expired))).status)
	assert.Equal(t, http.StatusUnauthorized, h.serve(build(withCookie(mintSession(t, testSecret, InternalAuthSessionName, map[any]any{TokenSessionKeyName: expired})))).status)
}

func TestOIDCSession(t *testing.T) {
	auth := defaultAuth()
	auth.CookieAuthVerification.ValidateIDTokenClaims = map[string]any{"email_verified": "true"}
	h := newHarness(t, auth, nil)
	oidc := func(c any) func(*http.Request) {
		return withCookie(mintSession(t, testSecret, OIDCAuthSessionName, map[any]any{IDTokenClaimsSessionKey: c}))
	}
	t.Run("valid", func(t *testing.T) {
		res := h.serve(build(oidc(Claims{"sub": "oscar", "email_verified": "true", "groups": []any{"admins", "devs"}})))
		require.Equal(t, http.StatusNoContent, res.status, res.body)
		assert.Equal(t, User{ID: "oscar", Scheme: SchemeOIDC}, res.user)
	})
	invalid := map[string]func(*http.Request){
		"missing sub":               oidc(Claims{"email_verified": "true"}),
		"sub not a string":          oidc(Claims{"sub": 12, "email_verified": "true"}),
		"required claim missing":    oidc(Claims{"sub": "oscar"}),
		"required claim wrong":      oidc(Claims{"sub": "oscar", "email_verified": "false"}),
		"required claim not string": oidc(Claims{"sub": "oscar", "email_verified": true}),
		"other secret": withCookie(mintSession(t, "another-secret", OIDCAuthSessionName,
			map[any]any{IDTokenClaimsSessionKey: Claims{"sub": "oscar", "email_verified": "true"}})),
		"older than 30 days": rawCookie(OIDCAuthSessionName, encodeSessionAt(t, testSecret, OIDCAuthSessionName,
			map[any]any{IDTokenClaimsSessionKey: Claims{"sub": "oscar", "email_verified": "true"}}, time.Now().Add(-31*24*time.Hour))),
		"garbage": rawCookie(OIDCAuthSessionName, "garbage"),
	}
	for name, c := range invalid {
		t.Run(name, func(t *testing.T) {
			res := h.serve(build(c))
			assert.Equal(t, http.StatusUnauthorized, res.status)
			assert.Equal(t, authFailedBody, res.body)
			assert.Contains(t, h.logs.String(), "scheme=oidc_auth")
		})
	}
	t.Run("undecodable OIDC cookie stops the chain, as in lakeFS", func(t *testing.T) {
		saml := withCookie(mintSession(t, testSecret, SAMLAuthSessionName, map[any]any{SAMLTokenClaimsSessionKey: Claims{"samlUserId": "sam", "email_verified": "true"}}))
		assert.Equal(t, http.StatusNoContent, h.serve(build(saml)).status)
		assert.Equal(t, http.StatusUnauthorized, h.serve(build(rawCookie(OIDCAuthSessionName, "garbage"), saml)).status)
	})
	t.Run("session without claims is not a credential", func(t *testing.T) {
		saml := withCookie(mintSession(t, testSecret, SAMLAuthSessionName, map[any]any{SAMLTokenClaimsSessionKey: Claims{"samlUserId": "sam", "email_verified": "true"}}))
		for name, values := range map[string]map[any]any{
			"no claims key": {"state": "abc"},
			// lakeFS: .(oidcencoding.Claims) fails, leaving a nil map → "no session".
			"claims of another type": {IDTokenClaimsSessionKey: map[string]any{"sub": "oscar", "email_verified": "true"}},
		} {
			empty := withCookie(mintSession(t, testSecret, OIDCAuthSessionName, values))
			res := h.serve(build(empty, saml))
			require.Equal(t, http.StatusNoContent, res.status, name)
			assert.Equal(t, User{ID: "sam", Scheme: SchemeSAML}, res.user, name)
			assert.Equal(t, http.StatusUnauthorized, h.serve(build(empty)).status, name)
		}
	})
}

func TestSAMLSession(t *testing.T) {
	h := newHarness(t, defaultAuth(), nil)
	saml := func(secret string, c any) func(*http.Request) {
		return withCookie(mintSession(t, secret, SAMLAuthSessionName, map[any]any{SAMLTokenClaimsSessionKey: c}))
	}
	res := h.serve(build(saml(testSecret, Claims{"samlUserId": "sam", "sub": "ignored"})))
	require.Equal(t, http.StatusNoContent, res.status, res.body)
	assert.Equal(t, User{ID: "sam", Scheme: SchemeSAML}, res.user, "the user is the configured claim, not sub")

	for name, c := range map[string]func(*http.Request){
		"claim missing":    saml(testSecret, Claims{"sub": "sam"}),
		"claim not string": saml(testSecret, Claims{"samlUserId": []any{"sam"}}),
		"other secret":     saml("another-secret", Claims{"samlUserId": "sam"}),
		"tampered":         rawCookie(SAMLAuthSessionName, "x"+mintSession(t, testSecret, SAMLAuthSessionName, map[any]any{SAMLTokenClaimsSessionKey: Claims{"samlUserId": "sam"}}).Value[1:]),
	} {
		t.Run(name, func(t *testing.T) {
			res := h.serve(build(c))
			assert.Equal(t, http.StatusUnauthorized, res.status)
			assert.Equal(t, authFailedBody, res.body)
		})
	}

	t.Run("claim name not configured", func(t *testing.T) {
		auth := defaultAuth()
		auth.CookieAuthVerification.ExternalUserIDClaimName = ""
		h := newHarness(t, auth, nil)
		assert.Equal(t, http.StatusUnauthorized, h.serve(build(saml(testSecret, Claims{"samlUserId": "sam"}))).status)
	})
}

func TestSchemeOrder(t *testing.T) {
	lakefs := newLakeFSStandIn(t)
	h := newHarness(t, defaultAuth(), lakefs.verifier())
	aliceBasic := basicAuth("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
	badBasic := basicAuth("AKIAIOSFODNN7EXAMPLE", "wrong")
	cookie := func(user string) func(*http.Request) {
		return withCookie(mintSession(t, testSecret, InternalAuthSessionName, map[any]any{TokenSessionKeyName: validToken(t, user)}))
	}
	badCookie := withCookie(mintSession(t, testSecret, InternalAuthSessionName, map[any]any{TokenSessionKeyName: "bad"}))
	oidc := withCookie(mintSession(t, testSecret, OIDCAuthSessionName, map[any]any{IDTokenClaimsSessionKey: Claims{"sub": "oscar"}}))
	badOIDC := rawCookie(OIDCAuthSessionName, "garbage")
	saml := withCookie(mintSession(t, testSecret, SAMLAuthSessionName, map[any]any{SAMLTokenClaimsSessionKey: Claims{"samlUserId": "sam"}}))
	expired := lakeFSLoginToken(t, testSecret, "alice", testNow.Add(-2*time.Hour), testNow.Add(-time.Hour))

	cases := []struct {
		name   string
		mods   []func(*http.Request)
		want   User // zero = 401
		lakeFS bool // whether lakeFS must have been asked
	}{
		{"valid bearer before invalid basic (second header)", []func(*http.Request){bearer(validToken(t, "alice")), badBasic}, User{"alice", SchemeJWT}, false},
		{"invalid basic (first header) before valid bearer", []func(*http.Request){badBasic, bearer(validToken(t, "alice"))}, User{}, true},
		{"valid bearer before invalid cookie", []func(*http.Request){bearer(validToken(t, "alice")), badCookie}, User{"alice", SchemeJWT}, false},
		{"invalid bearer before valid cookie", []func(*http.Request){bearer(expired), cookie("carol")}, User{}, false},
		{"valid basic before invalid cookies", []func(*http.Request){aliceBasic, badCookie, badOIDC}, User{"alice", SchemeBasic}, true},
		{"invalid basic before valid cookie", []func(*http.Request){badBasic, cookie("carol")}, User{}, true},
		{"cookie before OIDC", []func(*http.Request){cookie("carol"), oidc}, User{"carol", SchemeCookie}, false},
		{"valid cookie before undecodable OIDC", []func(*http.Request){cookie("carol"), badOIDC}, User{"carol", SchemeCookie}, false},
		{"invalid cookie token before valid OIDC", []func(*http.Request){badCookie, oidc}, User{}, false},
		{"OIDC before SAML", []func(*http.Request){oidc, saml}, User{"oscar", SchemeOIDC}, false},
		{"undecodable OIDC before SAML", []func(*http.Request){badOIDC, saml}, User{}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := lakefs.hits.Load()
			res := h.serve(build(tc.mods...))
			if tc.want == (User{}) {
				assert.Equal(t, http.StatusUnauthorized, res.status)
				assert.Equal(t, authFailedBody, res.body)
			} else {
				require.Equal(t, http.StatusNoContent, res.status, res.body)
				assert.Equal(t, tc.want, res.user)
			}
			if !tc.lakeFS {
				assert.Equal(t, before, lakefs.hits.Load(), "lakeFS must not be asked")
			}
		})
	}
}

func TestEmptySecretDisablesLocalSchemes(t *testing.T) {
	lakefs := newLakeFSStandIn(t)
	auth := defaultAuth()
	auth.Encrypt.SecretKey = ""
	h := newHarness(t, auth, lakefs.verifier())
	assert.Equal(t, http.StatusUnauthorized, h.serve(build(bearer(signToken(t, jwt.SigningMethodHS256, "", claims(nil))))).status,
		"an empty key must not validate tokens signed with an empty key")
	assert.Equal(t, http.StatusUnauthorized, h.serve(build(bearer(validToken(t, "alice")))).status)
	assert.Equal(t, http.StatusUnauthorized, h.serve(build(withCookie(mintSession(t, testSecret, InternalAuthSessionName, map[any]any{TokenSessionKeyName: validToken(t, "alice")})))).status)
	assert.Equal(t, http.StatusUnauthorized, h.serve(build(withCookie(mintSession(t, testSecret, OIDCAuthSessionName, map[any]any{IDTokenClaimsSessionKey: Claims{"sub": "o"}})))).status)
	res := h.serve(build(basicAuth("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")))
	require.Equal(t, http.StatusNoContent, res.status)
	assert.Equal(t, User{ID: "alice", Scheme: SchemeBasic}, res.user)
}

func TestNewRejectsUnsupportedConfig(t *testing.T) {
	auth := defaultAuth()
	auth.JWKS = config.JWKS{URL: "https://idp.example/jwks.json"}
	_, err := New(Options{Auth: auth})
	require.ErrorContains(t, err, "auth.jwks")
	auth.JWKS = config.JWKS{Audience: "x"}
	_, err = New(Options{Auth: auth})
	require.ErrorContains(t, err, "auth.jwks")

	auth = defaultAuth()
	auth.BasicCacheTTL = -time.Second
	_, err = New(Options{Auth: auth})
	require.Error(t, err)
}

// TestNoSecretsInLogs runs every kind of failure and success with debug logging on and checks
// that no secret, token, password or cookie value reached the log.
func TestNoSecretsInLogs(t *testing.T) {
	lakefs := newLakeFSStandIn(t)
	h := newHarness(t, defaultAuth(), lakefs.verifier())
	var secrets []string
	add := func(s string) string { secrets = append(secrets, s); return s }

	for _, tok := range badTokens(t) {
		if len(tok) > 20 {
			add(tok)
		}
		h.serve(build(bearer(tok)))
		c := mintSession(t, testSecret, InternalAuthSessionName, map[any]any{TokenSessionKeyName: tok})
		add(c.Value)
		h.serve(build(withCookie(c)))
	}
	h.serve(build(bearer(add(validToken(t, "alice")))))
	h.serve(build(basicAuth("AKIAIOSFODNN7EXAMPLE", add("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"))))
	h.serve(build(basicAuth("AKIAIOSFODNN7EXAMPLE", add("a-wrong-secret-value"))))
	h.serve(build(rawCookie(OIDCAuthSessionName, add("garbage-oidc-cookie-value"))))
	oidc := mintSession(t, testSecret, OIDCAuthSessionName, map[any]any{IDTokenClaimsSessionKey: Claims{"email": "x@example.com"}})
	h.serve(build(withCookie(oidc)))
	add(oidc.Value)
	add(testSecret)
	add(base64.StdEncoding.EncodeToString([]byte("AKIAIOSFODNN7EXAMPLE:wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")))

	logs := h.logs.String()
	require.NotEmpty(t, logs)
	for _, s := range secrets {
		assert.NotContains(t, logs, s)
	}
	// Signature parts alone are secrets too (a token minus its signature is not).
	assert.NotContains(t, logs, strings.Split(validToken(t, "alice"), ".")[2])
}

func TestApplyCredential(t *testing.T) {
	lakefs := newLakeFSStandIn(t)
	h := newHarness(t, defaultAuth(), lakefs.verifier())
	tok := validToken(t, "alice")
	internal := mintSession(t, testSecret, InternalAuthSessionName, map[any]any{TokenSessionKeyName: tok})
	oidc := mintSession(t, testSecret, OIDCAuthSessionName, map[any]any{IDTokenClaimsSessionKey: Claims{"sub": "oscar"}})
	basicHeader := "Basic " + base64.StdEncoding.EncodeToString([]byte("AKIAIOSFODNN7EXAMPLE:wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"))

	// forward authenticates a request, then makes the outbound call a handler would make to
	// lakeFS and returns the headers lakeFS received.
	forward := func(t *testing.T, in *http.Request) http.Header {
		t.Helper()
		var sent http.Header
		next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			out, err := http.NewRequestWithContext(r.Context(), http.MethodGet, lakefs.endpoint()+"/user", nil)
			require.NoError(t, err)
			out.Header.Set("Authorization", "Bearer service-default") // must be replaced
			out.AddCookie(&http.Cookie{Name: "stale", Value: "x"})
			require.NoError(t, ApplyCredential(r.Context(), out))
			resp, err := http.DefaultClient.Do(out)
			require.NoError(t, err)
			resp.Body.Close()
			lakefs.mu.Lock()
			sent = lakefs.lastHeaders
			lakefs.mu.Unlock()
			w.WriteHeader(http.StatusNoContent)
		})
		rec := httptest.NewRecorder()
		h.a.Middleware(next).ServeHTTP(rec, in)
		require.Equal(t, http.StatusNoContent, rec.Code)
		return sent
	}

	t.Run("bearer", func(t *testing.T) {
		in := build(bearer(tok), withCookie(oidc))
		sent := forward(t, in)
		assert.Equal(t, []string{"Bearer " + tok}, sent.Values("Authorization"))
		assert.Empty(t, sent.Values("Cookie"))
	})
	t.Run("basic", func(t *testing.T) {
		in := newReq()
		in.Header.Set("Authorization", basicHeader)
		sent := forward(t, in)
		assert.Equal(t, []string{basicHeader}, sent.Values("Authorization"))
		assert.Empty(t, sent.Values("Cookie"))
	})
	t.Run("internal_auth_session cookie", func(t *testing.T) {
		in := build(withCookie(internal), rawCookie("unrelated", "y"))
		sent := forward(t, in)
		assert.Empty(t, sent.Values("Authorization"))
		assert.Equal(t, []string{InternalAuthSessionName + "=" + internal.Value}, sent.Values("Cookie"))
	})
	t.Run("oidc cookie", func(t *testing.T) {
		in := build(rawCookie(InternalAuthSessionName, "undecodable"), withCookie(oidc))
		sent := forward(t, in)
		assert.Equal(t, []string{OIDCAuthSessionName + "=" + oidc.Value}, sent.Values("Cookie"),
			"only the cookie that authenticated is forwarded")
	})
	t.Run("no credential on context", func(t *testing.T) {
		out, _ := http.NewRequest(http.MethodGet, "http://127.0.0.1/", nil)
		require.ErrorIs(t, ApplyCredential(context.Background(), out), ErrNoCredential)
		ctx := ContextWithUser(context.Background(), User{ID: "svc", Scheme: "service"})
		u, ok := UserFromContext(ctx)
		require.True(t, ok)
		assert.Equal(t, "svc", u.ID)
		require.ErrorIs(t, ApplyCredential(ctx, out), ErrNoCredential)
	})
}

func TestCheckAllowed(t *testing.T) {
	alice := ContextWithUser(context.Background(), User{ID: "alice", Scheme: SchemeJWT})
	open := config.Remote{ID: "glue"}
	restricted := config.Remote{ID: "glue", AllowedUsers: []string{"bob", "alice"}}
	onlyBob := config.Remote{ID: "glue", AllowedUsers: []string{"bob"}}

	require.NoError(t, CheckAllowed(alice, open))
	require.NoError(t, CheckAllowed(alice, restricted))
	err := CheckAllowed(alice, onlyBob)
	require.Error(t, err)
	assert.Equal(t, http.StatusUnauthorized, apperr.StatusOf(err))
	assert.True(t, strings.HasPrefix(apperr.PublicMessage(err), "insufficient permissions"), apperr.PublicMessage(err))
	err = CheckAllowed(context.Background(), onlyBob)
	assert.Equal(t, http.StatusUnauthorized, apperr.StatusOf(err))
	assert.NoError(t, CheckAllowed(context.Background(), open))
	assert.Error(t, CheckAllowed(ContextWithUser(context.Background(), User{ID: "Alice"}), onlyBob), "ids compare exactly")
}
