package authn

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/gob"
	"encoding/json"
	"fmt"
	"hash"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/testutil/fuzzseed"
)

// farFuture keeps the checked-in seed tokens valid.
var farFuture = time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)

// headerSafe reports whether s can travel in an HTTP header value.
func headerSafe(s string) bool {
	return !strings.ContainsFunc(s, func(r rune) bool { return r < ' ' && r != '\t' || r == 0x7f })
}

// checkVerdict holds for every request: the answer is 204 (authenticated) or lakeFS's 401,
// never anything else (no basic verifier is configured, so nothing is "unavailable"), and
// the credential never appears in the log.
func checkVerdict(t *testing.T, h *harness, res result, credential string) {
	t.Helper()
	switch res.status {
	case http.StatusNoContent:
		if !res.ok || res.user.ID == "" || res.logUser != res.user.ID {
			t.Fatalf("authenticated without a user: %+v", res)
		}
	case http.StatusUnauthorized:
		if res.body != authFailedBody || res.ok {
			t.Fatalf("401 with body %q", res.body)
		}
	default:
		t.Fatalf("status %d: %s", res.status, res.body)
	}
	if len(credential) >= 16 && strings.Contains(h.logs.String(), credential) {
		t.Fatal("the credential was logged")
	}
}

// FuzzBearerToken sends arbitrary bearer tokens. Accepted ones must be what lakeFS would
// accept: an HMAC signature with the shared secret, exp in the future, nbf not, a
// non-empty sub (the user), aud absent or "login".
func FuzzBearerToken(f *testing.F) {
	f.Add("")
	f.Add("a.b.c")
	f.Add("eyJhbGciOiJub25lIn0.eyJzdWIiOiJhbGljZSJ9.")
	f.Fuzz(func(t *testing.T, token string) {
		if !headerSafe(token) {
			t.Skip()
		}
		h := newHarness(t, defaultAuth(), nil)
		res := h.serve(build(func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+token) }))
		checkVerdict(t, h, res, token)
		if res.status != http.StatusNoContent {
			return
		}
		checkAcceptedToken(t, strings.TrimSpace(token), res.user.ID)
	})
}

// checkAcceptedToken re-checks an accepted token independently of verifyToken.
func checkAcceptedToken(t *testing.T, token, user string) {
	t.Helper()
	// The claims are read with Go's JSON rules, as lakeFS reads them (jwt.RegisteredClaims):
	// a key matches a claim whatever its case ("eXp" is exp), and the last duplicate wins. A
	// case-sensitive map would see no exp where both lakeFS and this service see one.
	claims := &jwt.RegisteredClaims{}
	parsed, err := jwt.NewParser(jwt.WithoutClaimsValidation()).ParseWithClaims(token, claims,
		func(*jwt.Token) (any, error) { return []byte(testSecret), nil })
	if err != nil {
		t.Fatalf("accepted a token whose signature does not verify: %v", err)
	}
	if _, ok := parsed.Method.(*jwt.SigningMethodHMAC); !ok {
		t.Fatalf("accepted a %s token", parsed.Method.Alg())
	}
	exp, err := claims.GetExpirationTime()
	if err != nil || exp == nil || !exp.After(testNow) {
		t.Fatalf("accepted a token without a future exp: %v %v", exp, err)
	}
	if nbf, err := claims.GetNotBefore(); err != nil || (nbf != nil && nbf.After(testNow)) {
		t.Fatalf("accepted a token not valid yet: %v %v", nbf, err)
	}
	if sub, _ := claims.GetSubject(); sub == "" || sub != user {
		t.Fatalf("user %q but sub %q", user, sub)
	}
	aud, _ := claims.GetAudience()
	if len(aud) > 1 || (len(aud) == 1 && aud[0] != loginAudience) {
		t.Fatalf("accepted audience %v", aud)
	}
}

// hmacSign signs header.claims as a JWT with the shared secret, whatever the header says.
func hmacSign(alg uint8, header, claims []byte) string {
	hashes := []func() hash.Hash{sha256.New, sha512.New384, sha512.New}
	signing := base64.RawURLEncoding.EncodeToString(header) + "." + base64.RawURLEncoding.EncodeToString(claims)
	m := hmac.New(hashes[int(alg)%len(hashes)], []byte(testSecret))
	m.Write([]byte(signing))
	return signing + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// FuzzTokenClaims signs arbitrary JOSE headers and claims with the shared secret (as a
// holder of the secret could), so the fuzzer reaches the claim checks behind the signature.
// An accepted token must still satisfy every claim rule.
func FuzzTokenClaims(f *testing.F) {
	f.Add(uint8(0), []byte(`{"alg":"HS256","typ":"JWT"}`), []byte(`{"sub":"alice","exp":4102444800,"aud":"login"}`))
	f.Fuzz(func(t *testing.T, alg uint8, header, claims []byte) {
		h := newHarness(t, defaultAuth(), nil)
		token := hmacSign(alg, header, claims)
		res := h.serve(build(bearer(token)))
		checkVerdict(t, h, res, token)
		if res.status == http.StatusNoContent {
			checkAcceptedToken(t, token, res.user.ID)
		}
	})
}

// signSession writes gorilla/securecookie's format around arbitrary payload bytes (what
// lakeFS's session store would gob-encode), signed with the shared secret and stamped now.
func signSession(name string, payload []byte) string {
	value := base64.URLEncoding.EncodeToString(payload)
	signed := fmt.Sprintf("%s|%d|%s", name, time.Now().Unix(), value)
	m := hmac.New(sha256.New, []byte(testSecret))
	m.Write([]byte(signed))
	return base64.URLEncoding.EncodeToString(append([]byte(signed[len(name)+1:]+"|"), m.Sum(nil)...))
}

var sessionCookies = []string{InternalAuthSessionName, OIDCAuthSessionName, SAMLAuthSessionName}

// FuzzSessionCookie puts arbitrary gob payloads into correctly signed session cookies, so
// the fuzzer reaches the gob decoding and the claim rules behind the signature. Properties:
// no panic, 204 or 401 only, and an accepted session names its user the way lakeFS does.
func FuzzSessionCookie(f *testing.F) {
	f.Add(uint8(0), []byte{})
	f.Fuzz(func(t *testing.T, which uint8, payload []byte) {
		name := sessionCookies[int(which)%len(sessionCookies)]
		h := newHarness(t, defaultAuth(), nil)
		value := signSession(name, payload)
		res := h.serve(build(rawCookie(name, value)))
		checkVerdict(t, h, res, value)
		if res.status != http.StatusNoContent {
			return
		}
		values := map[any]any{}
		require.NoError(t, gob.NewDecoder(bytes.NewReader(payload)).Decode(&values), "accepted a payload gob refuses")
		switch name {
		case InternalAuthSessionName:
			tok, _ := values[TokenSessionKeyName].(string)
			checkAcceptedToken(t, tok, res.user.ID)
		case OIDCAuthSessionName:
			claims, _ := values[IDTokenClaimsSessionKey].(Claims)
			if sub, _ := claims["sub"].(string); sub != res.user.ID {
				t.Fatalf("OIDC user %q but sub %q", res.user.ID, sub)
			}
		case SAMLAuthSessionName:
			claims, _ := values[SAMLTokenClaimsSessionKey].(Claims)
			if id, _ := claims["samlUserId"].(string); id != res.user.ID {
				t.Fatalf("SAML user %q but claim %q", res.user.ID, id)
			}
		}
	})
}

// FuzzCookieValue sends arbitrary session cookie values. One that authenticates must carry
// a valid HMAC-SHA256 with the shared secret over its name, timestamp and value (checked
// here by hand, not with the library that decoded it): nothing else may get in.
func FuzzCookieValue(f *testing.F) {
	f.Add(uint8(0), "")
	f.Fuzz(func(t *testing.T, which uint8, value string) {
		if !headerSafe(value) || strings.ContainsAny(value, "; \"\\,") {
			t.Skip() // not a cookie value net/http would send
		}
		name := sessionCookies[int(which)%len(sessionCookies)]
		h := newHarness(t, defaultAuth(), nil)
		// The header carries the value byte for byte: http.Request.AddCookie would drop
		// bytes a cookie may not hold, and the check below must see what the server saw.
		res := h.serve(build(func(r *http.Request) { r.Header.Add("Cookie", name+"="+value) }))
		checkVerdict(t, h, res, value)
		if res.status == http.StatusNoContent && !signedWithTestSecret(name, value) {
			t.Fatalf("a %s cookie not signed with the secret authenticated %q", name, res.user.ID)
		}
	})
}

// signedWithTestSecret checks gorilla/securecookie's format by hand:
// base64url(date "|" value "|" HMAC-SHA256(name "|" date "|" value)).
func signedWithTestSecret(name, cookie string) bool {
	raw, err := base64.URLEncoding.DecodeString(cookie)
	if err != nil {
		return false
	}
	parts := bytes.SplitN(raw, []byte("|"), 3)
	if len(parts) != 3 {
		return false
	}
	m := hmac.New(sha256.New, []byte(testSecret))
	m.Write([]byte(name + "|" + string(parts[0]) + "|" + string(parts[1])))
	return hmac.Equal(m.Sum(nil), parts[2])
}

// TestWriteFuzzSeeds writes the authentication corpora: tokens and cookies minted the way
// lakeFS mints them, with the test secret, valid until 2100, plus expired, foreign-secret
// and wrong-audience variants.
func TestWriteFuzzSeeds(t *testing.T) {
	fuzzseed.Enabled(t)
	iat := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	login := lakeFSLoginToken(t, testSecret, "alice", iat, farFuture)
	fuzzseed.Write(t, "FuzzBearerToken", "lakefs-login", login)
	fuzzseed.Write(t, "FuzzBearerToken", "lakefs-login-expired", lakeFSLoginToken(t, testSecret, "alice", iat, iat.Add(time.Hour)))
	fuzzseed.Write(t, "FuzzBearerToken", "other-secret", lakeFSLoginToken(t, "another-secret", "alice", iat, farFuture))
	fuzzseed.Write(t, "FuzzBearerToken", "reset-password", signToken(t, jwt.SigningMethodHS256, testSecret,
		jwt.MapClaims{"sub": "alice", "aud": "reset_password", "exp": farFuture.Unix()}))
	fuzzseed.Write(t, "FuzzBearerToken", "hs512-aud-list", signToken(t, jwt.SigningMethodHS512, testSecret,
		jwt.MapClaims{"sub": "bob", "aud": []string{"login"}, "exp": farFuture.Unix(), "nbf": iat.Unix()}))

	for i, tok := range []string{login, signToken(t, jwt.SigningMethodHS384, testSecret, jwt.MapClaims{"sub": "carol", "exp": farFuture.Unix()})} {
		parts := strings.Split(tok, ".")
		header, err := base64.RawURLEncoding.DecodeString(parts[0])
		require.NoError(t, err)
		claims, err := base64.RawURLEncoding.DecodeString(parts[1])
		require.NoError(t, err)
		var alg struct{ Alg string }
		require.NoError(t, json.Unmarshal(header, &alg))
		fuzzseed.Write(t, "FuzzTokenClaims", fmt.Sprintf("token-%d", i), map[string]uint8{"HS256": 0, "HS384": 1, "HS512": 2}[alg.Alg], header, claims)
	}

	gobOf := func(values map[any]any) []byte {
		var buf bytes.Buffer
		require.NoError(t, gob.NewEncoder(&buf).Encode(values))
		return buf.Bytes()
	}
	fuzzseed.Write(t, "FuzzSessionCookie", "login-session", uint8(0), gobOf(map[any]any{TokenSessionKeyName: login}))
	fuzzseed.Write(t, "FuzzSessionCookie", "login-session-raw-token", uint8(0), gobOf(map[any]any{TokenSessionKeyName: 42}))
	fuzzseed.Write(t, "FuzzSessionCookie", "oidc-session", uint8(1), gobOf(map[any]any{IDTokenClaimsSessionKey: Claims{
		"sub": "oscar", "email": "oscar@example.com", "groups": []any{"admins", "etl"}, "extra": map[string]any{"tier": "gold"}}}))
	fuzzseed.Write(t, "FuzzSessionCookie", "saml-session", uint8(2), gobOf(map[any]any{SAMLTokenClaimsSessionKey: Claims{
		"samlUserId": "sam", "name": "Sam"}}))

	// Cookies carry their signing time: after 30 days these two are refused as expired, and
	// stay useful seeds of the format.
	fuzzseed.Write(t, "FuzzCookieValue", "login-cookie", uint8(0), mintSession(t, testSecret, InternalAuthSessionName, map[any]any{TokenSessionKeyName: login}).Value)
	fuzzseed.Write(t, "FuzzCookieValue", "raw-token-as-cookie", uint8(0), login)
	fuzzseed.Write(t, "FuzzCookieValue", "oidc-cookie", uint8(1), mintSession(t, testSecret, OIDCAuthSessionName, map[any]any{IDTokenClaimsSessionKey: Claims{"sub": "oscar"}}).Value)
}
