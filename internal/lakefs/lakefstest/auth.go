package lakefstest

// lakeFS-style authentication: access keys, HS256 login JWTs and the login session cookie.

import (
	"net/http"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/gorilla/securecookie"
)

// AddUser registers a user with an access key; tokens for it come from Token.
func (s *Server) AddUser(id, accessKeyID, secretAccessKey string, access Access) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := &user{id: id, accessKey: accessKeyID, secret: secretAccessKey, access: access}
	s.users[id] = u
	if accessKeyID != "" {
		s.keys[accessKeyID] = u
	}
}

// SetAccess changes a user's access.
func (s *Server) SetAccess(userID string, access Access) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u, ok := s.users[userID]; ok {
		u.access = access
	}
}

// Token returns a lakeFS-style login JWT (HS256, sub = user, aud "login", iss "auth").
func (s *Server) Token(userID string, ttl time.Duration) string {
	now := time.Now()
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"sub": userID, "aud": "login", "iss": "auth",
		"iat": now.Unix(), "exp": now.Add(ttl).Unix(),
	})
	signed, err := tok.SignedString(s.opts.JWTSecret)
	if err != nil {
		s.t.Fatalf("lakefstest: sign token: %v", err)
	}
	return signed
}

// SessionCookieName is lakeFS's login session cookie (cookie_auth).
const SessionCookieName = "internal_auth_session"

// sessionCodec is lakeFS's cookie store codec: HMAC-SHA256 keyed by the JWT secret, no
// encryption, 30-day max age.
func (s *Server) sessionCodec() *securecookie.SecureCookie {
	return securecookie.New(s.opts.JWTSecret, nil).MaxAge(30 * 24 * 3600)
}

// SessionCookie returns a login session cookie for a user as lakeFS's UI sets it: a
// securecookie holding the gob-encoded session values {"token": <login JWT>}.
func (s *Server) SessionCookie(userID string, ttl time.Duration) *http.Cookie {
	values := map[any]any{"token": s.Token(userID, ttl)}
	enc, err := s.sessionCodec().Encode(SessionCookieName, values)
	if err != nil {
		s.t.Fatalf("lakefstest: encode session cookie: %v", err)
	}
	return &http.Cookie{Name: SessionCookieName, Value: enc, Path: "/"}
}

var writeOps = map[string]bool{
	"createRepository": true, "uploadObject": true, "stageObject": true, "commit": true, "resetBranch": true, "createBranch": true,
	"deleteBranch": true,
}

// authenticate returns the user, or writes lakeFS's 401 and returns nil. The first
// credential present decides, in lakeFS's order: bearer token, basic auth, session cookie.
// (The OIDC and SAML session cookies are not supported: they count as absent.)
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) (*user, bool) {
	authz := r.Header.Get("Authorization")
	if scheme, tok, ok := strings.Cut(authz, " "); ok && strings.EqualFold(scheme, "bearer") {
		if u := s.userFromToken(tok); u != nil {
			return u, true
		}
		writeErr(w, http.StatusUnauthorized, "error authenticating request")
		return nil, false
	}
	if key, secret, ok := r.BasicAuth(); ok {
		s.mu.Lock()
		u := s.keys[key]
		s.mu.Unlock()
		if u != nil && u.secret == secret {
			return u, true
		}
		writeErr(w, http.StatusUnauthorized, "error authenticating request")
		return nil, false
	}
	if tok, ok := s.sessionToken(r); ok {
		if u := s.userFromToken(tok); u != nil {
			return u, true
		}
		writeErr(w, http.StatusUnauthorized, "error authenticating request")
		return nil, false
	}
	writeErr(w, http.StatusUnauthorized, "error authenticating request")
	return nil, false
}

// sessionToken decodes the session cookie. A cookie that does not decode counts as absent,
// as in lakeFS.
func (s *Server) sessionToken(r *http.Request) (string, bool) {
	ck, err := r.Cookie(SessionCookieName)
	if err != nil {
		return "", false
	}
	values := map[any]any{}
	if s.sessionCodec().Decode(SessionCookieName, ck.Value, &values) != nil {
		return "", false
	}
	tok, _ := values["token"].(string)
	return tok, true
}

// userFromToken validates a lakeFS login JWT and returns its (known) user.
func (s *Server) userFromToken(tok string) *user {
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(strings.TrimSpace(tok), claims, func(*jwt.Token) (any, error) { return s.opts.JWTSecret, nil },
		jwt.WithValidMethods([]string{"HS256", "HS384", "HS512"}), jwt.WithExpirationRequired())
	if err != nil {
		return nil
	}
	sub, _ := claims.GetSubject()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.users[sub]
}

func (s *Server) getCurrentUser(w http.ResponseWriter, r *http.Request) {
	if _, hasSession := s.sessionToken(r); r.Header.Get("Authorization") == "" && !hasSession {
		// lakeFS answers 200 with an empty user when no credentials reach it.
		writeJSON(w, http.StatusOK, map[string]any{"user": map[string]any{"id": "", "creation_date": 0}})
		return
	}
	u, ok := s.authenticate(w, r)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"user": map[string]any{"id": u.id, "creation_date": s.clockSec}})
}
