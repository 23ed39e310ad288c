package authn

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/config"
	"github.com/iceberg-remotes/iceberg-remotes/internal/httpclient"
)

const idpIssuer = "https://idp.example"

// idpStandIn serves an RFC 7517 key set; keys can be rotated and failures injected.
type idpStandIn struct {
	srv  *httptest.Server
	hits atomic.Int64
	fail atomic.Bool

	mu   sync.Mutex
	keys []map[string]string
}

func newIdP(t *testing.T) *idpStandIn {
	s := &idpStandIn{}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		if s.fail.Load() {
			http.Error(w, "down", http.StatusInternalServerError)
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": s.keys})
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func enc(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func (s *idpStandIn) addRSA(kid string, k *rsa.PrivateKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys = append(s.keys, map[string]string{"kty": "RSA", "use": "sig", "kid": kid,
		"n": enc(k.N.Bytes()), "e": enc(big.NewInt(int64(k.E)).Bytes())})
}

func (s *idpStandIn) addEC(kid string, k *ecdsa.PrivateKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	pub, err := k.PublicKey.Bytes() // 0x04 || X || Y
	if err != nil {
		panic(err)
	}
	size := (len(pub) - 1) / 2
	s.keys = append(s.keys, map[string]string{"kty": "EC", "kid": kid, "crv": k.Curve.Params().Name,
		"x": enc(pub[1 : 1+size]), "y": enc(pub[1+size:])})
}

func signWith(t *testing.T, m jwt.SigningMethod, kid string, key any, c jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(m, c)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	require.NoError(t, err)
	return s
}

func idpClaims(mod func(jwt.MapClaims)) jwt.MapClaims {
	c := jwt.MapClaims{"sub": "ext-user", "iss": idpIssuer, "aud": []string{"lakefs", "other"},
		"exp": testNow.Add(time.Hour).Unix(), "iat": testNow.Unix()}
	if mod != nil {
		mod(c)
	}
	return c
}

func TestJWKS(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	idp := newIdP(t)
	idp.addRSA("r1", rsaKey)
	idp.addEC("e1", ecKey)

	auth := defaultAuth()
	auth.JWKS = config.JWKS{URL: idp.srv.URL + "/jwks.json", Issuer: idpIssuer, Audience: "lakefs"}
	h := &harness{logs: &logBuffer{}, clock: &fakeClock{now: testNow}}
	h.a, err = New(Options{Auth: auth, Now: h.clock.Now,
		JWKSClient: httpclient.New(httpclient.Options{Policy: httpclient.Policy{Timeout: 5 * time.Second, MaxRetries: 1, MinBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond}})})
	require.NoError(t, err)
	assert.Zero(t, idp.hits.Load(), "keys are fetched on first use, not at start")

	ok := map[string]string{
		"RS256": signWith(t, jwt.SigningMethodRS256, "r1", rsaKey, idpClaims(nil)),
		"PS384": signWith(t, jwt.SigningMethodPS384, "r1", rsaKey, idpClaims(nil)),
		"ES256": signWith(t, jwt.SigningMethodES256, "e1", ecKey, idpClaims(nil)),
	}
	for name, tok := range ok {
		t.Run(name, func(t *testing.T) {
			res := h.serve(build(bearer(tok)))
			require.Equal(t, http.StatusNoContent, res.status, res.body)
			assert.Equal(t, User{ID: "ext-user", Scheme: SchemeJWT}, res.user)
		})
	}
	assert.EqualValues(t, 1, idp.hits.Load(), "one fetch serves all keys")

	t.Run("lakeFS tokens still work beside JWKS", func(t *testing.T) {
		require.Equal(t, http.StatusNoContent, h.serve(build(bearer(validToken(t, "alice")))).status)
	})

	otherRSA, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	pubDER, err := x509.MarshalPKIXPublicKey(&rsaKey.PublicKey)
	require.NoError(t, err)
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	bad := map[string]string{
		"wrong issuer":     signWith(t, jwt.SigningMethodRS256, "r1", rsaKey, idpClaims(func(c jwt.MapClaims) { c["iss"] = "https://evil.example" })),
		"no issuer":        signWith(t, jwt.SigningMethodRS256, "r1", rsaKey, idpClaims(func(c jwt.MapClaims) { delete(c, "iss") })),
		"wrong audience":   signWith(t, jwt.SigningMethodRS256, "r1", rsaKey, idpClaims(func(c jwt.MapClaims) { c["aud"] = "other" })),
		"expired":          signWith(t, jwt.SigningMethodRS256, "r1", rsaKey, idpClaims(func(c jwt.MapClaims) { c["exp"] = testNow.Add(-time.Second).Unix() })),
		"missing exp":      signWith(t, jwt.SigningMethodRS256, "r1", rsaKey, idpClaims(func(c jwt.MapClaims) { delete(c, "exp") })),
		"missing sub":      signWith(t, jwt.SigningMethodRS256, "r1", rsaKey, idpClaims(func(c jwt.MapClaims) { delete(c, "sub") })),
		"wrong key":        signWith(t, jwt.SigningMethodRS256, "r1", otherRSA, idpClaims(nil)),
		"kid of EC key":    signWith(t, jwt.SigningMethodRS256, "e1", rsaKey, idpClaims(nil)),
		"no kid, two keys": signWith(t, jwt.SigningMethodRS256, "", rsaKey, idpClaims(nil)),
		// Algorithm confusion: HMAC keyed with the issuer's public key must not pass.
		"HS256 keyed with the public key": signWith(t, jwt.SigningMethodHS256, "r1", pubPEM, idpClaims(nil)),
		"alg none":                        noneToken(t, idpClaims(nil)),
	}
	for name, tok := range bad {
		t.Run(name, func(t *testing.T) {
			res := h.serve(build(bearer(tok)))
			assert.Equal(t, http.StatusUnauthorized, res.status)
			assert.Equal(t, authFailedBody, res.body)
		})
	}

	t.Run("rotation: an unknown kid refetches, throttled", func(t *testing.T) {
		rotated, err := rsa.GenerateKey(rand.Reader, 2048)
		require.NoError(t, err)
		tok := signWith(t, jwt.SigningMethodRS256, "r2", rotated, idpClaims(nil))
		before := idp.hits.Load()
		assert.Equal(t, http.StatusUnauthorized, h.serve(build(bearer(tok))).status)
		assert.Equal(t, before, idp.hits.Load(), "unknown kids within a minute of the last fetch do not refetch")

		h.clock.Advance(jwksMinRefresh)
		assert.Equal(t, http.StatusUnauthorized, h.serve(build(bearer(tok))).status, "not published yet")
		assert.Equal(t, before+1, idp.hits.Load())
		assert.Equal(t, http.StatusUnauthorized, h.serve(build(bearer(tok))).status)
		assert.Equal(t, before+1, idp.hits.Load(), "refetch throttled")

		idp.addRSA("r2", rotated)
		h.clock.Advance(jwksMinRefresh)
		res := h.serve(build(bearer(tok)))
		require.Equal(t, http.StatusNoContent, res.status, res.body)
		assert.Equal(t, before+2, idp.hits.Load())
		// Known kids are served from the cache.
		require.Equal(t, http.StatusNoContent, h.serve(build(bearer(ok["RS256"]))).status)
		assert.Equal(t, before+2, idp.hits.Load())
	})

	t.Run("identity provider down", func(t *testing.T) {
		idp2 := newIdP(t)
		idp2.fail.Store(true)
		auth := defaultAuth()
		auth.JWKS = config.JWKS{URL: idp2.srv.URL, Issuer: idpIssuer}
		h2 := newHarness(t, auth, nil)
		tok := signWith(t, jwt.SigningMethodRS256, "r1", rsaKey, idpClaims(nil))
		res := h2.serve(build(bearer(tok)))
		assert.Equal(t, http.StatusServiceUnavailable, res.status, "not a verdict on the token")
		assert.JSONEq(t, `{"message":"error authenticating request: identity provider keys unavailable"}`, res.body)
		res = h2.serve(build(bearer(tok)))
		assert.Equal(t, http.StatusServiceUnavailable, res.status, "throttled, still unavailable")

		// After recovery (and the throttle window) the key set loads.
		idp2.fail.Store(false)
		idp2.addRSA("r1", rsaKey)
		h2.clock.Advance(jwksMinRefresh)
		require.Equal(t, http.StatusNoContent, h2.serve(build(bearer(tok))).status)
	})
}

func TestParseJWKS(t *testing.T) {
	_, err := parseJWKS([]byte(`{"keys":[]}`))
	require.Error(t, err)
	_, err = parseJWKS([]byte(`not json`))
	require.Error(t, err)
	_, err = parseJWKS([]byte(`{"keys":[{"kty":"EC","kid":"x","crv":"P-256","x":"AAAA","y":"AAAA"}]}`))
	require.Error(t, err, "coordinates of the wrong size")
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(t, err)
	_, err = parseJWKS([]byte(`{"keys":[{"kty":"RSA","kid":"s","n":"` + enc(small.N.Bytes()) + `","e":"AQAB"}]}`))
	require.Error(t, err, "RSA keys under 2048 bits are refused")

	// A point not on the curve is refused.
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	pub, err := k.PublicKey.Bytes()
	require.NoError(t, err)
	y := append([]byte(nil), pub[33:]...)
	y[31] ^= 1
	_, err = parseJWKS([]byte(`{"keys":[{"kty":"EC","kid":"e","crv":"P-256","x":"` + enc(pub[1:33]) + `","y":"` + enc(y) + `"}]}`))
	require.Error(t, err)

	// Encryption keys and unknown key types are skipped, not fatal.
	keys, err := parseJWKS([]byte(`{"keys":[{"kty":"OKP","kid":"o","crv":"Ed25519","x":"AAAA"},
		{"kty":"RSA","use":"enc","kid":"enc","n":"AAAA","e":"AQAB"},
		{"kty":"EC","kid":"e","crv":"P-256","x":"` + enc(pub[1:33]) + `","y":"` + enc(pub[33:]) + `"}]}`))
	require.NoError(t, err)
	assert.Len(t, keys, 1)
	assert.Contains(t, keys, "e")
}
