package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/api"
	"github.com/iceberg-remotes/iceberg-remotes/internal/api/apigen"
	"github.com/iceberg-remotes/iceberg-remotes/internal/names"
	"github.com/iceberg-remotes/iceberg-remotes/internal/testutil/fuzzseed"
)

// fuzzOps are the operations FuzzRequest sends to, chosen by the input's first argument.
var fuzzOps = []struct{ method, path string }{
	{http.MethodPost, "/api/v1/iceberg/remotes/%s/push"},
	{http.MethodPost, "/api/v1/iceberg/remotes/%s/pull"},
	{http.MethodPost, "/api/v1/iceberg/remotes/hooks/lakefs"},
	{http.MethodGet, "/api/v1/iceberg/remotes/%s/tables"},
	{http.MethodGet, "/api/v1/iceberg/remotes/%s/operations"},
	{http.MethodGet, "/api/v1/iceberg/remotes"},
}

// specRouter routes requests to the operations of api/openapi.yaml, to validate answers.
func specRouter(t testing.TB) routers.Router {
	spec, err := apigen.GetSpec()
	require.NoError(t, err)
	r, err := gorillamux.NewRouter(spec)
	require.NoError(t, err)
	return r
}

// FuzzRequest sends arbitrary bodies, query strings, content types and catalog names to
// every operation, through the whole handler (routing, size limit, validation, decoding,
// name checks) with a service that always succeeds. Properties:
//   - never a 5xx: whatever the caller sends, a refusal is the caller's fault (4xx);
//   - every error is lakeFS's {"message": "..."} JSON, and every answer to a routed request
//     matches the operation's responses in the spec (dry-run plans excepted: the lakeFS
//     operations cannot declare them);
//   - what reaches the service passes the name rules and round-trips through JSON unchanged.
func FuzzRequest(f *testing.F) {
	f.Add(uint8(0), "glue", "", "application/json", []byte(`{"source":{"repository_id":"example","reference_id":"main","namespace":["accounting","tax"],"table":"events"},"destination":{"namespace":["analytics"],"table":"events"},"create_namespace":true}`))
	f.Add(uint8(1), "glue", "dry_run=true", "application/json", []byte(`{"source":{"namespace":["analytics"],"table":"events"},"destination":{"repository_id":"example","reference_id":"etl-42","namespace":["accounting","tax"],"table":"events"},"force_update":true}`))
	f.Add(uint8(2), "", "", "application/json", []byte(`{"event_type":"post-commit","event_time":"2026-11-30T10:00:00Z","action_name":"push","hook_id":"iceberg_remotes","repository_id":"example","branch_id":"main","source_ref":"main","commit_id":"c0ffee","commit_message":"add rows","committer":"alice"}`))
	f.Add(uint8(3), "glue", "after=x&amount=10", "", []byte(nil))
	f.Add(uint8(4), "glue", "after=12&amount=-1", "", []byte(nil))
	f.Add(uint8(5), "", "", "", []byte(nil))

	svc := &recordingService{}
	h, err := api.NewHandler(api.Options{Service: conformingService{svc}, Authenticate: allowAs("fuzzer")})
	require.NoError(f, err)
	router := specRouter(f)

	f.Fuzz(func(t *testing.T, op uint8, catalog, query, contentType string, body []byte) {
		o := fuzzOps[int(op)%len(fuzzOps)]
		target := strings.Replace(o.path, "%s", url.PathEscape(catalog), 1)
		if query != "" {
			target += "?" + query
		}
		u, err := url.ParseRequestURI(target)
		if err != nil || strings.ContainsFunc(target, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
			t.Skip() // not a request line a client can send
		}
		req := httptest.NewRequest(o.method, "http://127.0.0.1"+u.RequestURI(), bytes.NewReader(body))
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		svc.mu.Lock()
		svc.pushes, svc.pulls, svc.pages = nil, nil, nil
		svc.mu.Unlock()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		res := rec.Result()
		respBody, _ := io.ReadAll(res.Body)

		if res.StatusCode >= 500 {
			t.Fatalf("%s %s: status %d for a caller's input: %s", o.method, target, res.StatusCode, respBody)
		}
		if res.StatusCode >= 400 {
			var e struct {
				Message *string `json:"message"`
			}
			if res.Header.Get("Content-Type") != "application/json" || json.Unmarshal(respBody, &e) != nil || e.Message == nil || *e.Message == "" {
				t.Fatalf("status %d without a lakeFS error body: %q %q", res.StatusCode, res.Header.Get("Content-Type"), respBody)
			}
		}
		dryRun := res.StatusCode == http.StatusOK && (op%uint8(len(fuzzOps)) <= 1)
		if route, params, err := router.FindRoute(req); err == nil && !dryRun {
			in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
				Options: &openapi3filter.Options{IncludeResponseStatus: true, AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}}
			if err := openapi3filter.ValidateResponse(context.Background(), &openapi3filter.ResponseValidationInput{
				RequestValidationInput: in, Status: res.StatusCode, Header: res.Header,
				Body: io.NopCloser(bytes.NewReader(respBody)), Options: in.Options,
			}); err != nil {
				t.Fatalf("%s %s: answer %d does not match the spec: %v\n%s", o.method, target, res.StatusCode, err, respBody)
			}
		}

		svc.mu.Lock()
		defer svc.mu.Unlock()
		for _, p := range svc.pushes {
			checkLocal(t, p.Source)
			checkRemote(t, p.Destination)
			roundTrip(t, body, p)
		}
		for _, p := range svc.pulls {
			checkRemote(t, p.Source)
			checkLocal(t, p.Destination)
			roundTrip(t, body, p)
		}
	})
}

// conformingService answers the webhook with a complete result, as the real service does
// (recordingService's short answer is enough for the handler tests but not spec-complete).
type conformingService struct{ *recordingService }

func (s conformingService) RecordEvent(ctx context.Context, ev apigen.LakeFSHookEvent) (apigen.IcebergHookAccepted, error) {
	if _, err := s.recordingService.RecordEvent(ctx, ev); err != nil {
		return apigen.IcebergHookAccepted{}, err
	}
	return apigen.IcebergHookAccepted{Id: 42, Message: "recorded"}, nil
}

func checkLocal(t *testing.T, l apigen.IcebergLocalTable) {
	t.Helper()
	for _, err := range []error{names.Repository("r", l.RepositoryId), names.Reference("ref", l.ReferenceId),
		names.Namespace("ns", l.Namespace), names.Name("t", l.Table)} {
		if err != nil {
			t.Fatalf("the service got a local table that breaks the name rules: %v (%+v)", err, l)
		}
	}
}

func checkRemote(t *testing.T, r apigen.IcebergRemoteTable) {
	t.Helper()
	if err := names.Namespace("ns", r.Namespace); err != nil {
		t.Fatalf("the service got a remote namespace that breaks the name rules: %v", err)
	}
	if err := names.Name("t", r.Table); err != nil {
		t.Fatalf("the service got a remote table name that breaks the name rules: %v", err)
	}
}

// roundTrip checks that the request the service received is what the body says: decoding
// the body with encoding/json gives the same value, and re-encoding it decodes to it again.
func roundTrip[T any](t *testing.T, body []byte, got T) {
	t.Helper()
	if hasCaseVariantKey(body) {
		// encoding/json matches keys case-insensitively, while the spec validator fills in
		// the exact key's default (force_update: false) before the handler decodes, and the
		// exact key wins: "Force_Update": true is thus ignored like an unknown field. The
		// plain decode below is no oracle for such bodies.
		return
	}
	var direct T
	if err := json.Unmarshal(body, &direct); err != nil {
		t.Fatalf("the service got a request from a body encoding/json refuses: %v", err)
	}
	if !reflect.DeepEqual(direct, got) {
		t.Fatalf("decoded request differs:\n handler: %+v\n json:    %+v", got, direct)
	}
	enc, err := json.Marshal(got)
	require.NoError(t, err)
	var again T
	require.NoError(t, json.Unmarshal(enc, &again))
	if !reflect.DeepEqual(again, got) {
		t.Fatalf("request does not survive encode/decode: %+v vs %+v", again, got)
	}
}

// TestWriteFuzzSeeds writes FuzzRequest's checked-in corpus: the requests of the README and
// the lakeFS SDKs, a real lakeFS webhook body, and the listing queries.
func TestWriteFuzzSeeds(t *testing.T) {
	fuzzseed.Enabled(t)
	push := `{"source":{"repository_id":"example","reference_id":"main","namespace":["accounting","tax"],"table":"events"},"destination":{"namespace":["analytics"],"table":"events"},"create_namespace":true}`
	pull := `{"source":{"namespace":["analytics"],"table":"events"},"destination":{"repository_id":"example","reference_id":"etl-42","namespace":["accounting","tax"],"table":"events"}}`
	// The body lakeFS's webhook sends on post-commit (pkg/actions/webhook.go's EventInfo).
	hook := `{"event_type":"post-commit","event_time":"2026-11-30T10:15:00Z","action_name":"push iceberg tables to the warehouse","hook_id":"iceberg_remotes","repository_id":"example","branch_id":"main","source_ref":"main","commit_id":"8a1f5c0e3a0c4b6f9d2e7b1a5c3d9e0f1a2b3c4d5e6f708192a3b4c5d6e7f809","commit_message":"add rows","committer":"alice","commit_metadata":{"owner":"etl"}}`
	fuzzseed.Write(t, "FuzzRequest", "push", uint8(0), "glue_us_east_1", "", "application/json", []byte(push))
	fuzzseed.Write(t, "FuzzRequest", "push-dry-run", uint8(0), "polaris", "dry_run=true", "application/json; charset=utf-8", []byte(push))
	fuzzseed.Write(t, "FuzzRequest", "push-force", uint8(0), "local", "", "", []byte(strings.Replace(push, `"create_namespace":true`, `"force_update":true`, 1)))
	fuzzseed.Write(t, "FuzzRequest", "pull", uint8(1), "glue_us_east_1", "", "application/json", []byte(pull))
	fuzzseed.Write(t, "FuzzRequest", "pull-tag", uint8(1), "rest", "", "application/json", []byte(strings.Replace(pull, `"etl-42"`, `"v1.0~2"`, 1)))
	fuzzseed.Write(t, "FuzzRequest", "hook-commit", uint8(2), "", "", "application/json", []byte(hook))
	fuzzseed.Write(t, "FuzzRequest", "hook-merge", uint8(2), "", "", "application/json", []byte(strings.Replace(hook, "post-commit", "post-merge", 1)))
	fuzzseed.Write(t, "FuzzRequest", "hook-pre-commit", uint8(2), "", "", "application/json", []byte(strings.Replace(hook, "post-commit", "pre-commit", 1)))
	fuzzseed.Write(t, "FuzzRequest", "tables", uint8(3), "warehouse_db", "after=accounting.events&amount=2", "", []byte(nil))
	fuzzseed.Write(t, "FuzzRequest", "operations", uint8(4), "warehouse_db", "after=120&amount=-1", "", []byte(nil))
	fuzzseed.Write(t, "FuzzRequest", "remotes", uint8(5), "", "", "", []byte(nil))
}

// hasCaseVariantKey reports whether any object key in the JSON body is not all lower case
// while its lower-case form is a field of the request models (whose names are all
// lower-case snake_case).
func hasCaseVariantKey(body []byte) bool {
	var v any
	if json.Unmarshal(body, &v) != nil {
		return false
	}
	var walk func(any) bool
	walk = func(v any) bool {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				if k != strings.ToLower(k) && requestFields[strings.ToLower(k)] {
					return true
				}
				if walk(e) {
					return true
				}
			}
		case []any:
			for _, e := range x {
				if walk(e) {
					return true
				}
			}
		}
		return false
	}
	return walk(v)
}

// requestFields are the JSON field names of the push and pull request models.
var requestFields = map[string]bool{
	"source": true, "destination": true, "force_update": true, "create_namespace": true,
	"repository_id": true, "reference_id": true, "namespace": true, "table": true,
}

// A key that differs from a field only in case does not set it: the exact key's default
// wins, so "Force_Update": true is ignored like an unknown field (the case FuzzRequest
// found, kept in its corpus).
func TestCaseVariantKeyDoesNotSetAField(t *testing.T) {
	svc := &recordingService{}
	h, err := api.NewHandler(api.Options{Service: conformingService{svc}, Authenticate: allowAs("alice")})
	require.NoError(t, err)
	body := `{"source":{"repository_id":"example","reference_id":"main","namespace":["a"],"table":"t"},` +
		`"destination":{"namespace":["b"],"table":"t"},"Force_Update":true}`
	req := httptest.NewRequest(http.MethodPost, "http://127.0.0.1/api/v1/iceberg/remotes/glue/push", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	require.Equal(t, http.StatusNoContent, rec.Code, rec.Body.String())
	require.Len(t, svc.pushes, 1)
	require.False(t, svc.pushes[0].ForceUpdate)
}
