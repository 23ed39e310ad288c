package authn

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/gob"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"github.com/gorilla/sessions"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/config"
	"github.com/iceberg-remotes/iceberg-remotes/internal/requestctx"
)

const testSecret = "lakefs-shared-secret-for-tests-0123456789"

// fixed "now" for token validity; cookies are stamped with the wall clock by securecookie,
// which is fine because the tokens inside carry their own times.
var testNow = time.Now().Truncate(time.Second)

// lakeFSLoginClaims reproduces lakeFS's auth.LoginClaims JSON shape (aud as a plain string).
type lakeFSLoginClaims struct {
	ID        string           `json:"jti,omitempty"`
	Issuer    string           `json:"iss,omitempty"`
	Subject   string           `json:"sub,omitempty"`
	Audience  string           `json:"aud,omitempty"`
	IssuedAt  *jwt.NumericDate `json:"iat,omitempty"`
	ExpiresAt *jwt.NumericDate `json:"exp,omitempty"`
}

func (c lakeFSLoginClaims) GetIssuer() (string, error)  { return c.Issuer, nil }
func (c lakeFSLoginClaims) GetSubject() (string, error) { return c.Subject, nil }
func (c lakeFSLoginClaims) GetAudience() (jwt.ClaimStrings, error) {
	return jwt.ClaimStrings{c.Audience}, nil
}
func (c lakeFSLoginClaims) GetExpirationTime() (*jwt.NumericDate, error) { return c.ExpiresAt, nil }
func (c lakeFSLoginClaims) GetNotBefore() (*jwt.NumericDate, error)      { return nil, nil }
func (c lakeFSLoginClaims) GetIssuedAt() (*jwt.NumericDate, error)       { return c.IssuedAt, nil }

// lakeFSLoginToken mints a token the way lakeFS's auth.GenerateJWTLogin does: HS256 over the
// raw secret bytes, iss "auth", a uuid jti, aud "login".
func lakeFSLoginToken(t *testing.T, secret, userID string, issuedAt, expiresAt time.Time) string {
	t.Helper()
	claims := lakeFSLoginClaims{
		Issuer:    "auth",
		ID:        uuid.NewString(),
		Audience:  "login",
		Subject:   userID,
		IssuedAt:  jwt.NewNumericDate(issuedAt),
		ExpiresAt: jwt.NewNumericDate(expiresAt),
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(secret))
	require.NoError(t, err)
	return s
}

func validToken(t *testing.T, user string) string {
	return lakeFSLoginToken(t, testSecret, user, testNow.Add(-time.Minute), testNow.Add(time.Hour))
}

// signToken signs arbitrary claims with an HMAC method.
func signToken(t *testing.T, m jwt.SigningMethod, secret string, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(m, claims).SignedString([]byte(secret))
	require.NoError(t, err)
	return s
}

// lakeFSStore is the session store lakeFS builds: sessions.NewCookieStore(sharedSecret).
func lakeFSStore(secret string) *sessions.CookieStore {
	return sessions.NewCookieStore([]byte(secret))
}

// mintSession saves a session the way lakeFS's handlers do (store.Get, set Values,
// store.Save) and returns the cookie lakeFS would have set.
func mintSession(t *testing.T, secret, name string, values map[any]any) *http.Cookie {
	t.Helper()
	store := lakeFSStore(secret)
	r := httptest.NewRequest(http.MethodPost, "/api/v1/auth/login", nil)
	session, err := store.Get(r, name)
	require.NoError(t, err)
	for k, v := range values {
		session.Values[k] = v
	}
	rec := httptest.NewRecorder()
	require.NoError(t, store.Save(r, rec, session))
	cookies := rec.Result().Cookies()
	require.Len(t, cookies, 1)
	require.Equal(t, name, cookies[0].Name)
	return cookies[0]
}

// encodeSessionAt writes gorilla/securecookie's format by hand with a chosen timestamp:
// base64url(date "|" base64url(gob(values)) "|" HMAC-SHA256(name "|" date "|" value)).
// It is independent of the library, so it also pins the format down.
func encodeSessionAt(t *testing.T, secret, name string, values map[any]any, ts time.Time) string {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, gob.NewEncoder(&buf).Encode(values))
	value := base64.URLEncoding.EncodeToString(buf.Bytes())
	signed := fmt.Sprintf("%s|%d|%s", name, ts.Unix(), value)
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(signed))
	b := append([]byte(signed[len(name)+1:]+"|"), m.Sum(nil)...)
	return base64.URLEncoding.EncodeToString(b)
}

// logBuffer collects everything the authenticator logs, at every level.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

type harness struct {
	a     *Authenticator
	logs  *logBuffer
	clock *fakeClock
}

func defaultAuth() config.Auth {
	return config.Auth{
		Encrypt:       config.Encrypt{SecretKey: testSecret},
		BasicCacheTTL: 30 * time.Second,
		CookieAuthVerification: config.CookieAuthVerification{
			ExternalUserIDClaimName: "samlUserId",
		},
	}
}

func newHarness(t *testing.T, auth config.Auth, basic BasicVerifier) *harness {
	t.Helper()
	h := &harness{logs: &logBuffer{}, clock: &fakeClock{now: testNow}}
	a, err := New(Options{
		Auth:   auth,
		Basic:  basic,
		Logger: slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Now:    h.clock.Now,
	})
	require.NoError(t, err)
	h.a = a
	return h
}

type result struct {
	status  int
	body    string
	user    User
	ok      bool
	logUser string // what requestctx saw
}

// serve runs req through the middleware to a handler that records the user.
func (h *harness) serve(req *http.Request) result {
	var res result
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res.user, res.ok = UserFromContext(r.Context())
		w.WriteHeader(http.StatusNoContent)
	})
	ctx, info := requestctx.With(req.Context(), "req-1")
	rec := httptest.NewRecorder()
	h.a.Middleware(next).ServeHTTP(rec, req.WithContext(ctx))
	res.status = rec.Code
	body, _ := io.ReadAll(rec.Body)
	res.body = string(body)
	res.logUser = info.User()
	return res
}

func newReq() *http.Request {
	return httptest.NewRequest(http.MethodPost, "/api/v1/iceberg/remotes/local/push", nil)
}

func bearer(token string) func(*http.Request) {
	return func(r *http.Request) { r.Header.Add("Authorization", "Bearer "+token) }
}

func withCookie(c *http.Cookie) func(*http.Request) {
	return func(r *http.Request) { r.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value}) }
}

func rawCookie(name, value string) func(*http.Request) {
	return func(r *http.Request) { r.AddCookie(&http.Cookie{Name: name, Value: value}) }
}

func basicAuth(id, secret string) func(*http.Request) {
	return func(r *http.Request) {
		r.Header.Add("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(id+":"+secret)))
	}
}

func build(mods ...func(*http.Request)) *http.Request {
	r := newReq()
	for _, m := range mods {
		m(r)
	}
	return r
}

const authFailedBody = `{"message":"error authenticating request"}` + "\n"
