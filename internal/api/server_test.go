package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/api"
	"github.com/iceberg-remotes/iceberg-remotes/internal/api/apigen"
	"github.com/iceberg-remotes/iceberg-remotes/internal/apperr"
	"github.com/iceberg-remotes/iceberg-remotes/internal/requestctx"
)

// recordingService stands in for the push/pull service: it records what the handlers pass
// and answers with a configurable error.
type recordingService struct {
	mu      sync.Mutex
	pushes  []apigen.IcebergPushRequest
	pulls   []apigen.IcebergPullRequest
	users   []string
	dryRuns []bool
	pages   []string
	err     error
	panic   bool
	gate    chan struct{} // BulkPush: the second table waits for it
}

func (s *recordingService) plan(op string, dryRun bool) *apigen.IcebergPlan {
	p := &apigen.IcebergPlan{Operation: op, DryRun: dryRun, Status: 204,
		Checks: []apigen.IcebergPlanCheck{{Name: "remote_catalog", Ok: true}}, Actions: []string{op + " it"}}
	if s.err != nil {
		p.Status, p.Message = apperr.StatusOf(s.err), apperr.PublicMessage(s.err)
	}
	return p
}

func (s *recordingService) Push(ctx context.Context, catalog string, req apigen.IcebergPushRequest, dryRun bool) (*apigen.IcebergPlan, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.panic {
		panic("boom: secret-looking detail")
	}
	s.pushes = append(s.pushes, req)
	s.dryRuns = append(s.dryRuns, dryRun)
	s.users = append(s.users, requestctx.User(ctx)+"@"+catalog)
	return s.plan("push", dryRun), s.err
}

func (s *recordingService) Pull(ctx context.Context, catalog string, req apigen.IcebergPullRequest, dryRun bool) (*apigen.IcebergPlan, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pulls = append(s.pulls, req)
	s.dryRuns = append(s.dryRuns, dryRun)
	s.users = append(s.users, requestctx.User(ctx)+"@"+catalog)
	return s.plan("pull", dryRun), s.err
}

func (s *recordingService) RecordEvent(_ context.Context, ev apigen.LakeFSHookEvent) (apigen.IcebergHookAccepted, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pages = append(s.pages, "hook "+ev.EventType+" "+ev.RepositoryId+"@"+ev.BranchId)
	return apigen.IcebergHookAccepted{Id: 7}, s.err
}

func (s *recordingService) ListEvents(_ context.Context, repository, state, after string, amount int) (apigen.IcebergEventList, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pages = append(s.pages, fmt.Sprintf("events repository=%q state=%q after=%q amount=%d", repository, state, after, amount))
	return apigen.IcebergEventList{Results: []apigen.IcebergEvent{}}, s.err
}

func (s *recordingService) ListRemotes(context.Context) ([]apigen.IcebergRemote, error) {
	return []apigen.IcebergRemote{{Id: "glue", Type: "glue", Ready: true}}, s.err
}

func (s *recordingService) ListTables(_ context.Context, catalog, after string, amount int, repository, state string) (apigen.IcebergSyncedTableList, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pages = append(s.pages, fmt.Sprintf("tables %s after=%q amount=%d repository=%q state=%q", catalog, after, amount, repository, state))
	return apigen.IcebergSyncedTableList{Results: []apigen.IcebergSyncedTable{}}, s.err
}

func (s *recordingService) ListOperations(_ context.Context, catalog, after string, amount int) (apigen.IcebergRemoteOperationList, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pages = append(s.pages, fmt.Sprintf("operations %s after=%q amount=%d", catalog, after, amount))
	return apigen.IcebergRemoteOperationList{Results: []apigen.IcebergRemoteOperation{}}, s.err
}

// allowAs is an authentication middleware that authenticates every request as user.
func allowAs(user string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			requestctx.SetUser(r.Context(), user)
			next.ServeHTTP(w, r)
		})
	}
}

func newServer(t *testing.T, o api.Options) *httptest.Server {
	t.Helper()
	h, err := api.NewHandler(o)
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

type response struct {
	status int
	header http.Header
	body   string
}

func (r response) message(t *testing.T) string {
	t.Helper()
	assert.Equal(t, "application/json", r.header.Get("Content-Type"), "error bodies are JSON")
	var b struct {
		Message *string `json:"message"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.body), &b), "body: %s", r.body)
	require.NotNil(t, b.Message, "error body has a message: %s", r.body)
	return *b.Message
}

func do(t *testing.T, srv *httptest.Server, method, path, contentType, body string, headers ...string) response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, srv.URL+path, rd)
	require.NoError(t, err)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return response{status: resp.StatusCode, header: resp.Header, body: string(raw)}
}

const pushPath = "/api/v1/iceberg/remotes/glue/push"
const pullPath = "/api/v1/iceberg/remotes/glue/pull"

const validPush = `{"source":{"repository_id":"repo1","reference_id":"main","namespace":["accounting","tax"],"table":"events"},
 "destination":{"namespace":["analytics"],"table":"events"}}`
const validPull = `{"source":{"namespace":["analytics"],"table":"events"},
 "destination":{"repository_id":"repo1","reference_id":"etl-42","namespace":["accounting","tax"],"table":"events"},
 "force_update":true,"create_namespace":true}`

func TestHealthAndReady(t *testing.T) {
	failing := errors.New("dial tcp 10.0.0.1:5432: password=hunter2 refused")
	srv := newServer(t, api.Options{Ready: []api.ReadyCheck{
		{Name: "state", Check: func(context.Context) error { return nil }},
	}})
	r := do(t, srv, "GET", "/_health", "", "")
	assert.Equal(t, 200, r.status)
	assert.JSONEq(t, `{"status":"ok"}`, r.body)
	r = do(t, srv, "GET", "/_ready", "", "")
	assert.Equal(t, 200, r.status)
	assert.JSONEq(t, `{"status":"ok","checks":{"state":"ok"}}`, r.body)

	down := newServer(t, api.Options{Ready: []api.ReadyCheck{
		{Name: "state", Check: func(context.Context) error { return failing }},
		{Name: "lakefs", Check: func(context.Context) error { return apperr.New(503, "lakeFS unreachable") }},
	}})
	r = do(t, down, "GET", "/_ready", "", "")
	assert.Equal(t, 503, r.status)
	assert.JSONEq(t, `{"status":"unavailable","checks":{"state":"unavailable","lakefs":"lakeFS unreachable"}}`, r.body)
	assert.NotContains(t, r.body, "hunter2")
}

func TestUnauthenticatedByDefault(t *testing.T) {
	svc := &recordingService{}
	srv := newServer(t, api.Options{Service: svc}) // no authentication configured
	for _, path := range []string{pushPath, pullPath} {
		body := validPush
		if path == pullPath {
			body = validPull
		}
		r := do(t, srv, "POST", path, "application/json", body)
		assert.Equal(t, 401, r.status, path)
		assert.Equal(t, "error authenticating request", r.message(t))
	}
	assert.Empty(t, svc.pushes)
	assert.Empty(t, svc.pulls)
}

// TestRequestErrors checks every validation error against the real router over HTTP. The
// router runs without authentication (every request would be 401), so each case also shows
// that validation answers before authentication, as lakeFS does.
func TestRequestErrors(t *testing.T) {
	srv := newServer(t, api.Options{Service: &recordingService{}})
	big := `{"source":{"repository_id":"repo1","reference_id":"main","namespace":["a"],"table":"` +
		strings.Repeat("x", 1<<20) + `"},"destination":{"namespace":["a"],"table":"t"}}`
	cases := []struct {
		name        string
		method      string
		path        string
		contentType string
		body        string
		status      int
		message     string // substring
	}{
		{"unknown route", "POST", "/api/v1/iceberg/remotes/glue/shove", "application/json", validPush, 404, "invalid API endpoint"},
		{"unknown route outside api", "GET", "/nothing", "", "", 404, "invalid API endpoint"},
		{"unknown api root", "GET", "/api/v1", "", "", 404, "invalid API endpoint"},
		{"wrong method", "GET", pushPath, "", "", 405, "method not allowed"},
		{"wrong method on pull", "PUT", pullPath, "application/json", validPull, 405, "method not allowed"},
		{"missing body", "POST", pushPath, "application/json", "", 400, "missing request body"},
		{"whitespace body", "POST", pullPath, "application/json", "  \n", 400, "missing request body"},
		{"malformed JSON", "POST", pushPath, "application/json", `{"source": {`, 400, "malformed JSON body"},
		{"not an object", "POST", pushPath, "application/json", `[1,2]`, 400, "invalid request body"},
		{"wrong content type", "POST", pushPath, "text/plain", validPush, 400, "unsupported Content-Type"},
		{"missing source", "POST", pushPath, "application/json", `{"destination":{"namespace":["a"],"table":"t"}}`, 400, `"source" is missing`},
		{"missing repository_id", "POST", pushPath, "application/json",
			`{"source":{"reference_id":"main","namespace":["a"],"table":"t"},"destination":{"namespace":["a"],"table":"t"}}`, 400, `"repository_id" is missing`},
		{"missing destination table on pull", "POST", pullPath, "application/json",
			`{"source":{"namespace":["a"],"table":"t"},"destination":{"repository_id":"repo1","reference_id":"main","namespace":["a"]}}`, 400, `"table" is missing`},
		{"wrong type force_update", "POST", pushPath, "application/json",
			strings.Replace(validPush, `"destination"`, `"force_update":"yes","destination"`, 1), 400, "/force_update"},
		{"namespace not an array", "POST", pushPath, "application/json",
			`{"source":{"repository_id":"repo1","reference_id":"main","namespace":"a.b","table":"t"},"destination":{"namespace":["a"],"table":"t"}}`, 400, "/source/namespace"},
		{"namespace level not a string", "POST", pullPath, "application/json",
			`{"source":{"namespace":[1],"table":"t"},"destination":{"repository_id":"repo1","reference_id":"main","namespace":["a"],"table":"t"}}`, 400, "/source/namespace/0"},
		{"null table", "POST", pushPath, "application/json",
			`{"source":{"repository_id":"repo1","reference_id":"main","namespace":["a"],"table":null},"destination":{"namespace":["a"],"table":"t"}}`, 400, "/source/table"},
		{"body over 1 MiB", "POST", pushPath, "application/json", big, 413, "larger than"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, srv, tc.method, tc.path, tc.contentType, tc.body)
			assert.Equal(t, tc.status, r.status, r.body)
			assert.Contains(t, r.message(t), tc.message)
			if tc.status == 405 {
				assert.Equal(t, []string{"POST"}, r.header.Values("Allow"))
			}
		})
	}
}

// TestNameErrors needs an authenticated caller: names are checked by the handler.
func TestNameErrors(t *testing.T) {
	svc := &recordingService{}
	srv := newServer(t, api.Options{Service: svc, Authenticate: allowAs("alice")})
	push := func(srcNS, srcTable, dstNS, dstTable, repo, ref string) string {
		b, _ := json.Marshal(map[string]any{
			"source":      map[string]any{"repository_id": repo, "reference_id": ref, "namespace": json.RawMessage(srcNS), "table": srcTable},
			"destination": map[string]any{"namespace": json.RawMessage(dstNS), "table": dstTable},
		})
		return string(b)
	}
	long := strings.Repeat("n", 256)
	cases := []struct {
		name, body, message string
	}{
		{"empty namespace", push(`[]`, "t", `["a"]`, "t", "repo1", "main"), "source.namespace: must have at least one level"},
		{"empty level", push(`["a",""]`, "t", `["a"]`, "t", "repo1", "main"), "source.namespace[1]: must not be empty"},
		{"slash in level", push(`["a"]`, "t", `["a/b"]`, "t", "repo1", "main"), "destination.namespace[0]: must not contain '/'"},
		{"dot-dot level", push(`[".."]`, "t", `["a"]`, "t", "repo1", "main"), `source.namespace[0]: ".." is not a valid name`},
		{"dot table", push(`["a"]`, ".", `["a"]`, "t", "repo1", "main"), `source.table: "." is not a valid name`},
		{"empty table", push(`["a"]`, "t", `["a"]`, "", "repo1", "main"), "destination.table: must not be empty"},
		{"NUL in table", push(`["a"]`, "t\u0000x", `["a"]`, "t", "repo1", "main"), "source.table: must not contain control characters"},
		{"newline in level", push(`["a\nb"]`, "t", `["a"]`, "t", "repo1", "main"), "source.namespace[0]: must not contain control characters"},
		{"long table", push(`["a"]`, long, `["a"]`, "t", "repo1", "main"), "longer than 255 bytes"},
		{"bad repository", push(`["a"]`, "t", `["a"]`, "t", "Repo_1", "main"), "source.repository_id: invalid repository id"},
		{"empty reference", push(`["a"]`, "t", `["a"]`, "t", "repo1", ""), "source.reference_id: must not be empty"},
		{"space in reference", push(`["a"]`, "t", `["a"]`, "t", "repo1", "my branch"), "source.reference_id: invalid reference"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, srv, "POST", pushPath, "application/json", tc.body)
			assert.Equal(t, 400, r.status, r.body)
			assert.Contains(t, r.message(t), tc.message)
		})
	}
	pullBad := `{"source":{"namespace":["a","."],"table":"t"},"destination":{"repository_id":"repo1","reference_id":"main","namespace":["a"],"table":"t"}}`
	r := do(t, srv, "POST", pullPath, "application/json", pullBad)
	assert.Equal(t, 400, r.status)
	assert.Contains(t, r.message(t), "source.namespace[1]")
	assert.Empty(t, svc.pushes, "no invalid request reaches the service")
	assert.Empty(t, svc.pulls)
}

func TestSuccessAndServiceErrors(t *testing.T) {
	svc := &recordingService{}
	srv := newServer(t, api.Options{Service: svc, Authenticate: allowAs("alice")})

	// Unknown fields are ignored (SDKs may be newer than us); content type may be omitted.
	body := strings.Replace(validPush, `"destination"`, `"future_field":{"x":1},"destination"`, 1)
	r := do(t, srv, "POST", pushPath, "", body, "X-Request-ID", "my-request-1")
	assert.Equal(t, 204, r.status, r.body)
	assert.Empty(t, r.body)
	assert.Empty(t, r.header.Get("Content-Type"), "204 carries no Content-Type")
	assert.Equal(t, "my-request-1", r.header.Get("X-Request-ID"))
	require.Len(t, svc.pushes, 1)
	got := svc.pushes[0]
	assert.Equal(t, "repo1", got.Source.RepositoryId)
	assert.Equal(t, "main", got.Source.ReferenceId)
	assert.Equal(t, []string{"accounting", "tax"}, got.Source.Namespace)
	assert.Equal(t, []string{"analytics"}, got.Destination.Namespace)
	assert.Equal(t, "alice@glue", svc.users[0], "user and catalog reach the service")

	r = do(t, srv, "POST", pullPath, "application/json; charset=utf-8", validPull, "X-Request-ID", "bad id with spaces")
	assert.Equal(t, 204, r.status, r.body)
	assert.NotEqual(t, "bad id with spaces", r.header.Get("X-Request-ID"))
	assert.Len(t, r.header.Get("X-Request-ID"), 36, "a generated UUID replaces an unusable id")
	require.Len(t, svc.pulls, 1)
	assert.True(t, svc.pulls[0].ForceUpdate)
	assert.True(t, svc.pulls[0].CreateNamespace)
	assert.Equal(t, []bool{false, false}, svc.dryRuns)
	assert.Equal(t, "etl-42", svc.pulls[0].Destination.ReferenceId)

	svc.err = apperr.Conflict("table analytics.events already exists")
	r = do(t, srv, "POST", pushPath, "application/json", validPush)
	assert.Equal(t, 409, r.status)
	assert.Equal(t, "table analytics.events already exists", r.message(t))

	svc.err = errors.New("pq: password authentication failed for user secret-user")
	r = do(t, srv, "POST", pushPath, "application/json", validPush)
	assert.Equal(t, 500, r.status)
	assert.Equal(t, "internal server error", r.message(t), "internal errors are not shown")

	svc.err, svc.panic = nil, true
	r = do(t, srv, "POST", pushPath, "application/json", validPush)
	assert.Equal(t, 500, r.status)
	assert.Equal(t, "internal server error", r.message(t))
	assert.NotContains(t, r.body, "secret-looking")
	assert.NotContains(t, r.body, "goroutine")
}

func TestDryRunAndListings(t *testing.T) {
	svc := &recordingService{}
	srv := newServer(t, api.Options{Service: svc, Authenticate: allowAs("alice")})

	r := do(t, srv, "POST", pushPath+"?dry_run=true", "application/json", validPush)
	assert.Equal(t, 200, r.status, r.body)
	assert.Equal(t, "application/json", r.header.Get("Content-Type"))
	var plan apigen.IcebergPlan
	require.NoError(t, json.Unmarshal([]byte(r.body), &plan))
	assert.True(t, plan.DryRun)
	assert.Equal(t, 204, plan.Status)

	// A dry run of an operation that would fail still answers 200, with the would-be status.
	svc.err = apperr.Conflict("table exists")
	r = do(t, srv, "POST", pullPath+"?dry_run=1", "application/json", validPull)
	assert.Equal(t, 200, r.status, r.body)
	require.NoError(t, json.Unmarshal([]byte(r.body), &plan))
	assert.Equal(t, 409, plan.Status)
	assert.Equal(t, "table exists", plan.Message)
	svc.err = nil

	r = do(t, srv, "POST", pushPath+"?dry_run=maybe", "application/json", validPush)
	assert.Equal(t, 400, r.status)
	assert.Contains(t, r.message(t), "dry_run")
	assert.Equal(t, []bool{true, true}, svc.dryRuns, "an invalid dry_run never reaches the service")

	r = do(t, srv, "GET", "/api/v1/iceberg/remotes", "", "")
	assert.Equal(t, 200, r.status)
	assert.JSONEq(t, `{"results":[{"id":"glue","type":"glue","ready":true}]}`, r.body)

	r = do(t, srv, "GET", "/api/v1/iceberg/remotes/glue/tables", "", "")
	assert.Equal(t, 200, r.status, r.body)
	r = do(t, srv, "GET", "/api/v1/iceberg/remotes/glue/tables?after=x&amount=-1", "", "")
	assert.Equal(t, 200, r.status, r.body)
	r = do(t, srv, "GET", "/api/v1/iceberg/remotes/glue/operations?after=17&amount=5", "", "")
	assert.Equal(t, 200, r.status, r.body)
	r = do(t, srv, "GET", "/api/v1/iceberg/remotes/glue/tables?repository=repo1&state=diverged", "", "")
	assert.Equal(t, 200, r.status, r.body)
	assert.Equal(t, []string{
		`tables glue after="" amount=100 repository="" state=""`,
		`tables glue after="x" amount=1000 repository="" state=""`,
		`operations glue after="17" amount=5`,
		`tables glue after="" amount=100 repository="repo1" state="diverged"`,
	}, svc.pages[:4])

	for _, bad := range []string{"/api/v1/iceberg/remotes/glue/tables?amount=1001", "/api/v1/iceberg/remotes/glue/tables?amount=ten",
		"/api/v1/iceberg/remotes/glue/tables?state=lost",
		"/api/v1/iceberg/remotes/glue/operations?after=abc"} {
		r = do(t, srv, "GET", bad, "", "")
		assert.Equal(t, 400, r.status, bad)
	}

	hook := `{"event_type":"post-commit","repository_id":"repo1","branch_id":"main","commit_id":"abc","extra":1}`
	r = do(t, srv, "POST", "/api/v1/iceberg/remotes/hooks/lakefs", "application/json", hook)
	assert.Equal(t, 202, r.status, r.body)
	assert.JSONEq(t, `{"id":7}`, r.body, "recorded: the workers publish it")
	svc.err = apperr.New(503, "state store down")
	r = do(t, srv, "POST", "/api/v1/iceberg/remotes/hooks/lakefs", "application/json", hook)
	assert.Equal(t, 503, r.status, "an event that could not be recorded is reported to lakeFS")
	svc.err = nil

	r = do(t, srv, "GET", "/api/v1/iceberg/remotes/events?repository=repo1&state=pending&after=12&amount=3", "", "")
	assert.Equal(t, 200, r.status, r.body)
	assert.Equal(t, `events repository="repo1" state="pending" after="12" amount=3`, svc.pages[len(svc.pages)-1])
	for _, bad := range []string{"?state=sleeping", "?after=abc", "?amount=1001"} {
		r = do(t, srv, "GET", "/api/v1/iceberg/remotes/events"+bad, "", "")
		assert.Equal(t, 400, r.status, bad)
	}
	r = do(t, srv, "POST", "/api/v1/iceberg/remotes/hooks/lakefs", "application/json", `{"repository_id":"repo1"}`)
	assert.Equal(t, 400, r.status, "event_type is required")

	unauth := newServer(t, api.Options{Service: svc})
	r = do(t, unauth, "GET", "/api/v1/iceberg/remotes", "", "")
	assert.Equal(t, 401, r.status, "the additions need authentication too")
}
