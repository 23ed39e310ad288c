package authn

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/httpclient"
)

const lakeFSSpecPath = "../../third_party/lakefs/lakefs-swagger.yml"

var (
	specOnce   sync.Once
	specDoc    *openapi3.T
	specRouter routers.Router
	specErr    error
)

func lakeFSSpec(t *testing.T) (*openapi3.T, routers.Router) {
	t.Helper()
	specOnce.Do(func() {
		loader := openapi3.NewLoader()
		specDoc, specErr = loader.LoadFromFile(lakeFSSpecPath)
		if specErr != nil {
			return
		}
		if specErr = specDoc.Validate(loader.Context); specErr != nil {
			return
		}
		specRouter, specErr = legacy.NewRouter(specDoc)
	})
	require.NoError(t, specErr)
	return specDoc, specRouter
}

// validateLakeFSResponse checks a response of the stand-in against the lakeFS OpenAPI. The
// spec declares only 200 for GET /user, but a real lakeFS (1.84, docs/design.md section 12) answers
// 401 with its standard Unauthorized body to bad keys; such an answer is validated against
// components/responses/Unauthorized instead of being let through unchecked.
func validateLakeFSResponse(t *testing.T, req *http.Request, status int, header http.Header, body []byte) error {
	t.Helper()
	doc, router := lakeFSSpec(t)
	route, params, err := router.FindRoute(req)
	if err != nil {
		return err
	}
	if route.Operation.Responses.Status(status) == nil && status == http.StatusUnauthorized {
		op := *route.Operation
		op.Responses = openapi3.NewResponses()
		for code, ref := range route.Operation.Responses.Map() {
			op.Responses.Set(code, ref)
		}
		op.Responses.Set("401", doc.Components.Responses["Unauthorized"])
		r := *route
		r.Operation = &op
		route = &r
	}
	return openapi3filter.ValidateResponse(context.Background(), &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request: req, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
		},
		Status:  status,
		Header:  header,
		Body:    newBody(body),
		Options: &openapi3filter.Options{IncludeResponseStatus: true},
	})
}

// lakeFSStandIn answers GET /api/v1/user like lakeFS: 200 with the user for a valid access
// key, 200 with an empty id when no credential reaches it, 401 for a bad key. Every answer
// is validated against the vendored lakeFS OpenAPI before it is sent.
type lakeFSStandIn struct {
	t      *testing.T
	srv    *httptest.Server
	keys   map[string][2]string // access key id -> {secret, user id}
	hits   atomic.Int64
	status atomic.Int64 // when non-zero, answer this status instead (failure injection)

	mu          sync.Mutex
	lastHeaders http.Header
}

func newLakeFSStandIn(t *testing.T) *lakeFSStandIn {
	t.Helper()
	s := &lakeFSStandIn{t: t, keys: map[string][2]string{
		"AKIAIOSFODNN7EXAMPLE": {"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "alice"},
		"AKIAJBOBEXAMPLE00000": {"bob-secret-0000000000000000000000000000", "bob"},
	}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.handle))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *lakeFSStandIn) endpoint() string { return s.srv.URL + "/api/v1" }

func (s *lakeFSStandIn) handle(w http.ResponseWriter, r *http.Request) {
	s.hits.Add(1)
	s.mu.Lock()
	s.lastHeaders = r.Header.Clone()
	s.mu.Unlock()
	if code := s.status.Load(); code != 0 {
		http.Error(w, `{"message":"injected"}`, int(code))
		return
	}
	if r.Method != http.MethodGet || r.URL.Path != "/api/v1/user" {
		s.write(w, r, http.StatusNotFound, map[string]any{"message": "invalid API endpoint"})
		return
	}
	id, secret, ok := r.BasicAuth()
	switch {
	case !ok: // lakeFS does not protect GET /user: no credential → 200, empty user
		s.write(w, r, http.StatusOK, map[string]any{"user": map[string]any{"id": "", "creation_date": 0}})
	case s.keys[id][0] == secret && secret != "":
		user := map[string]any{"id": s.keys[id][1], "creation_date": time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC).Unix()}
		s.write(w, r, http.StatusOK, map[string]any{"user": user})
	default:
		s.write(w, r, http.StatusUnauthorized, map[string]any{"message": "error authenticating request"})
	}
}

func (s *lakeFSStandIn) write(w http.ResponseWriter, r *http.Request, status int, v any) {
	body, err := json.Marshal(v)
	require.NoError(s.t, err)
	h := http.Header{"Content-Type": []string{"application/json"}}
	if err := validateLakeFSResponse(s.t, r, status, h, body); err != nil {
		s.t.Errorf("lakeFS stand-in answer breaks the lakeFS API contract: %v", err)
		status, body = http.StatusInternalServerError, []byte(`{"message":"stand-in contract violation"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func (s *lakeFSStandIn) verifier() BasicVerifier {
	return NewLakeFSBasicVerifier(s.endpoint(), httpclient.New(httpclient.Options{Policy: httpclient.Policy{
		Timeout: 5 * time.Second, MaxRetries: 1, MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond,
	}}))
}

type readCloser struct{ *bytes.Reader }

func (readCloser) Close() error { return nil }

func newBody(b []byte) readCloser { return readCloser{bytes.NewReader(b)} }
