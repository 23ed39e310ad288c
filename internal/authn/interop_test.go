package authn

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestInteropLakeFSLogin plays a lakeFS login end to end: a lakeFS stand-in answers
// POST /api/v1/auth/login exactly as lakeFS's Controller.Login does (token from
// GenerateJWTLogin's claims, stored under "token" in the internal_auth_session of a
// sessions.NewCookieStore(secret) store), with request and response validated against the
// lakeFS OpenAPI. A client with a cookie jar then calls this service on the same host: the
// cookie lakeFS set, and the token lakeFS returned, both authenticate.
func TestInteropLakeFSLogin(t *testing.T) {
	store := lakeFSStore(testSecret)
	const loginDuration = 7 * 24 * time.Hour

	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v1/auth/login", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		require.NoError(t, err)
		validateLakeFSRequest(t, r, body)
		var in struct {
			AccessKeyID     string `json:"access_key_id"`
			SecretAccessKey string `json:"secret_access_key"`
		}
		require.NoError(t, json.Unmarshal(body, &in))
		if in.AccessKeyID != aliceKey || in.SecretAccessKey != aliceSecret {
			http.Error(w, `{"message":"Unauthorized"}`, http.StatusUnauthorized)
			return
		}
		loginTime := time.Now()
		expires := loginTime.Add(loginDuration)
		token := lakeFSLoginToken(t, testSecret, "alice", loginTime, expires)
		session, _ := store.Get(r, InternalAuthSessionName)
		session.Values[TokenSessionKeyName] = token
		require.NoError(t, store.Save(r, w, session))
		out, err := json.Marshal(map[string]any{"token": token, "token_expiration": expires.Unix()})
		require.NoError(t, err)
		h := http.Header{"Content-Type": []string{"application/json"}}
		require.NoError(t, validateLakeFSResponse(t, r, http.StatusOK, h, out))
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(out)
	})
	lakefs := httptest.NewServer(mux)
	t.Cleanup(lakefs.Close)

	// This service, authenticating with the real clock (tokens are minted with time.Now).
	a, err := New(Options{Auth: defaultAuth()})
	require.NoError(t, err)
	svc := httptest.NewServer(a.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := UserFromContext(r.Context())
		_ = json.NewEncoder(w).Encode(u)
	})))
	t.Cleanup(svc.Close)

	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	client := &http.Client{Jar: jar, Timeout: 5 * time.Second}

	resp, err := client.Post(lakefs.URL+"/api/v1/auth/login", "application/json",
		strings.NewReader(`{"access_key_id":"`+aliceKey+`","secret_access_key":"`+aliceSecret+`"}`))
	require.NoError(t, err)
	var login struct {
		Token string `json:"token"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&login))
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	set := resp.Cookies()
	require.Len(t, set, 1)
	assert.Equal(t, InternalAuthSessionName, set[0].Name)
	assert.Equal(t, 30*24*3600, set[0].MaxAge, "gorilla/sessions' CookieStore default, kept by lakeFS")

	call := func(mod func(*http.Request)) (int, User) {
		req, err := http.NewRequest(http.MethodPost, svc.URL+"/api/v1/iceberg/remotes/local/push", nil)
		require.NoError(t, err)
		if mod != nil {
			mod(req)
		}
		resp, err := client.Do(req) // the jar adds the lakeFS cookie: same host, any port
		require.NoError(t, err)
		defer resp.Body.Close()
		var u User
		if resp.StatusCode == http.StatusOK {
			require.NoError(t, json.NewDecoder(resp.Body).Decode(&u))
		}
		return resp.StatusCode, u
	}
	status, u := call(nil)
	require.Equal(t, http.StatusOK, status)
	assert.Equal(t, User{ID: "alice", Scheme: SchemeCookie}, u)

	status, u = call(func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+login.Token) })
	require.Equal(t, http.StatusOK, status)
	assert.Equal(t, User{ID: "alice", Scheme: SchemeJWT}, u)

	// lakeFS's own SDK sends the cookie through api_key['cookie_auth']: a bare Cookie header.
	jarless := &http.Client{Timeout: 5 * time.Second}
	req, err := http.NewRequest(http.MethodGet, svc.URL+"/api/v1/x", nil)
	require.NoError(t, err)
	req.Header.Set("Cookie", InternalAuthSessionName+"="+set[0].Value)
	resp, err = jarless.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	// The raw JWT put where the cookie goes is ignored by lakeFS; here too (docs/design.md section 12).
	req.Header.Set("Cookie", InternalAuthSessionName+"="+login.Token)
	resp, err = jarless.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
}

// TestInteropSessionEncoding pins the wire format down independently of gorilla's code: a
// cookie written by lakeFS's store has the securecookie layout, HMAC-SHA256 keyed with the
// raw secret, and its gob payload names the claims type exactly as lakeFS registers it.
func TestInteropSessionEncoding(t *testing.T) {
	c := mintSession(t, testSecret, OIDCAuthSessionName, map[any]any{IDTokenClaimsSessionKey: Claims{"sub": "oscar"}})
	raw, err := base64.URLEncoding.DecodeString(c.Value)
	require.NoError(t, err)
	parts := bytes.SplitN(raw, []byte("|"), 3)
	require.Len(t, parts, 3, "date|value|mac")
	payload, err := base64.URLEncoding.DecodeString(string(parts[1]))
	require.NoError(t, err)
	assert.Contains(t, string(payload), "github.com/treeverse/lakefs/pkg/auth/oidc.Claims")
	assert.Contains(t, string(payload), "id_token_claims")

	// The hand-made encoding (same layout, same MAC) is accepted by lakeFS's store and by us.
	hand := encodeSessionAt(t, testSecret, OIDCAuthSessionName, map[any]any{IDTokenClaimsSessionKey: Claims{"sub": "oscar"}}, time.Now())
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.AddCookie(&http.Cookie{Name: OIDCAuthSessionName, Value: hand})
	session, err := lakeFSStore(testSecret).Get(r, OIDCAuthSessionName)
	require.NoError(t, err, "lakeFS's store decodes the hand-made cookie")
	assert.Equal(t, Claims{"sub": "oscar"}, session.Values[IDTokenClaimsSessionKey])

	h := newHarness(t, defaultAuth(), nil)
	res := h.serve(build(rawCookie(OIDCAuthSessionName, hand)))
	require.Equal(t, http.StatusNoContent, res.status)
	assert.Equal(t, User{ID: "oscar", Scheme: SchemeOIDC}, res.user)
}

func validateLakeFSRequest(t *testing.T, r *http.Request, body []byte) {
	t.Helper()
	_, router := lakeFSSpec(t)
	clone := r.Clone(context.Background())
	clone.Body = io.NopCloser(bytes.NewReader(body))
	route, params, err := router.FindRoute(clone)
	require.NoError(t, err)
	require.NoError(t, openapi3filter.ValidateRequest(context.Background(), &openapi3filter.RequestValidationInput{
		Request: clone, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
	}))
}
