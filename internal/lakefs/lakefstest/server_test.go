package lakefstest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// violations captures the stand-in's contract reports instead of failing the test.
type violations struct {
	mu   sync.Mutex
	msgs []string
}

func (v *violations) Errorf(format string, args ...any) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.msgs = append(v.msgs, fmt.Sprintf(format, args...))
}

func (v *violations) take() []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	out := v.msgs
	v.msgs = nil
	return out
}

func newCaptured(t *testing.T) (*Server, *violations) {
	v := &violations{}
	s := NewServer(t, Options{Errorf: v.Errorf})
	s.AddUser("alice", "AK", "SK", FullAccess)
	s.CreateRepository("repo", "s3://bucket/repo", "main")
	return s, v
}

func do(t *testing.T, method, url, body string, hdr map[string]string) (int, http.Header, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	require.NoError(t, err)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	if _, ok := hdr["Authorization"]; !ok && hdr != nil {
		req.SetBasicAuth("AK", "SK")
	}
	rsp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	require.NoError(t, err)
	defer func() { _ = rsp.Body.Close() }()
	b, err := io.ReadAll(rsp.Body)
	require.NoError(t, err)
	return rsp.StatusCode, rsp.Header, string(b)
}

var authed = map[string]string{}

func TestContractCheckCatchesWrongResponse(t *testing.T) {
	s, v := newCaptured(t)

	status, _, _ := do(t, "GET", s.URL()+"/repositories/repo", "", authed)
	require.Equal(t, http.StatusOK, status)
	require.Empty(t, v.take(), "a correct answer passes")

	// A response missing a required field is caught and answered 500.
	s.TamperResponse("getRepository", func(status int, _ http.Header, body []byte) (int, []byte) {
		var m map[string]any
		require.NoError(t, json.Unmarshal(body, &m))
		delete(m, "storage_namespace")
		out, _ := json.Marshal(m)
		return status, out
	})
	status, _, _ = do(t, "GET", s.URL()+"/repositories/repo", "", authed)
	assert.Equal(t, http.StatusInternalServerError, status)
	got := v.take()
	require.Len(t, got, 1)
	assert.Contains(t, got[0], "violates the lakeFS API contract")
	assert.Contains(t, got[0], "storage_namespace")

	// A wrong type is caught too.
	s.TamperResponse("getBranch", func(status int, _ http.Header, _ []byte) (int, []byte) {
		return status, []byte(`{"id":"main","commit_id":42}`)
	})
	status, _, _ = do(t, "GET", s.URL()+"/repositories/repo/branches/main", "", authed)
	assert.Equal(t, http.StatusInternalServerError, status)
	assert.Len(t, v.take(), 1)

	// A status the operation does not declare (getCurrentUser declares only 200).
	s.FailNext("getCurrentUser", 1, http.StatusServiceUnavailable)
	status, _, _ = do(t, "GET", s.URL()+"/user", "", authed)
	assert.Equal(t, http.StatusInternalServerError, status)
	assert.Len(t, v.take(), 1)
}

func TestContractCheckCatchesWrongRequest(t *testing.T) {
	s, v := newCaptured(t)
	// size_bytes must be an integer; physical_address is required.
	status, _, _ := do(t, "PUT", s.URL()+"/repositories/repo/branches/main/objects?path=p",
		`{"physical_address":"s3://b/k","checksum":"c","size_bytes":"ten"}`, map[string]string{"Content-Type": "application/json"})
	assert.Equal(t, http.StatusBadRequest, status)
	got := v.take()
	require.Len(t, got, 1)
	assert.Contains(t, got[0], "request PUT")

	// Malformed and unauthenticated: 400 before authentication, as lakeFS does.
	status, _, _ = do(t, "PUT", s.URL()+"/repositories/repo/branches/main/objects?path=p", `{"physical_address":`,
		map[string]string{"Content-Type": "application/json", "Authorization": ""})
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Len(t, v.take(), 1)

	// Missing required query parameter.
	status, _, _ = do(t, "GET", s.URL()+"/repositories/repo/refs/main/objects/stat", "", authed)
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Len(t, v.take(), 1)
	assert.Empty(t, s.Staged("repo", "main"))
}

func TestObservedLakeFSBehaviours(t *testing.T) {
	s, v := newCaptured(t)
	defer func() { assert.Empty(t, v.take(), "none of these is a contract violation") }()

	// Unknown route or wrong method: 404 "invalid API endpoint", even without credentials.
	status, _, body := do(t, "GET", s.URL()+"/no/such/route", "", nil)
	assert.Equal(t, http.StatusNotFound, status)
	assert.JSONEq(t, `{"message":"invalid API endpoint"}`, body)
	status, _, _ = do(t, "PATCH", s.URL()+"/repositories/repo", "", authed)
	assert.Equal(t, http.StatusNotFound, status)

	// /user without credentials: 200 with an empty id; with bad ones 401.
	status, _, body = do(t, "GET", s.URL()+"/user", "", nil)
	assert.Equal(t, http.StatusOK, status)
	var cu struct {
		User struct {
			ID string `json:"id"`
		} `json:"user"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &cu))
	assert.Equal(t, "", cu.User.ID)
	status, _, _ = do(t, "GET", s.URL()+"/user", "", map[string]string{"Authorization": "Basic QUs6d3Jvbmc="})
	assert.Equal(t, http.StatusUnauthorized, status)
	status, _, body = do(t, "GET", s.URL()+"/user", "", map[string]string{"Authorization": "Bearer " + s.Token("alice", time.Minute)})
	assert.Equal(t, http.StatusOK, status)
	assert.Contains(t, body, `"alice"`)

	// The login session cookie authenticates; a raw JWT in the cookie does not decode and
	// counts as absent.
	ck := s.SessionCookie("alice", time.Minute)
	status, _, body = do(t, "GET", s.URL()+"/user", "", map[string]string{"Cookie": ck.String(), "Authorization": ""})
	assert.Equal(t, http.StatusOK, status)
	assert.Contains(t, body, `"alice"`)
	status, _, _ = do(t, "GET", s.URL()+"/repositories/repo", "", map[string]string{"Cookie": ck.String(), "Authorization": ""})
	assert.Equal(t, http.StatusOK, status)
	raw := SessionCookieName + "=" + s.Token("alice", time.Minute)
	status, _, body = do(t, "GET", s.URL()+"/user", "", map[string]string{"Cookie": raw, "Authorization": ""})
	assert.Equal(t, http.StatusOK, status)
	require.NoError(t, json.Unmarshal([]byte(body), &cu))
	assert.Equal(t, "", cu.User.ID)
	status, _, _ = do(t, "GET", s.URL()+"/repositories/repo", "", map[string]string{"Cookie": raw, "Authorization": ""})
	assert.Equal(t, http.StatusUnauthorized, status)
	expiredCk := s.SessionCookie("alice", -time.Minute)
	status, _, _ = do(t, "GET", s.URL()+"/repositories/repo", "", map[string]string{"Cookie": expiredCk.String(), "Authorization": ""})
	assert.Equal(t, http.StatusUnauthorized, status)

	// Other operations without credentials: 401.
	status, _, body = do(t, "GET", s.URL()+"/repositories/repo", "", nil)
	assert.Equal(t, http.StatusUnauthorized, status)
	assert.JSONEq(t, `{"message":"error authenticating request"}`, body)
	// A token signed with another secret.
	other := NewServer(t, Options{JWTSecret: []byte("another")})
	other.AddUser("alice", "", "", FullAccess)
	status, _, _ = do(t, "GET", s.URL()+"/repositories/repo", "", map[string]string{"Authorization": "Bearer " + other.Token("alice", time.Minute)})
	assert.Equal(t, http.StatusUnauthorized, status)

	// createBranch: 201 with the bare commit id as text/plain.
	head := s.CreateBranch("repo", "tmp", "main")
	status, hdr, body := do(t, "POST", s.URL()+"/repositories/repo/branches", `{"name":"dev","source":"main"}`,
		map[string]string{"Content-Type": "application/json"})
	assert.Equal(t, http.StatusCreated, status)
	assert.True(t, strings.HasPrefix(hdr.Get("Content-Type"), "text/plain"), hdr.Get("Content-Type"))
	assert.Equal(t, head, body)

	// Commit with nothing staged: 400 "commit: no changes".
	status, _, body = do(t, "POST", s.URL()+"/repositories/repo/branches/main/commits", `{"message":"m"}`,
		map[string]string{"Content-Type": "application/json"})
	assert.Equal(t, http.StatusBadRequest, status)
	assert.JSONEq(t, `{"message":"commit: no changes"}`, body)

	// Upload (octet-stream), then If-None-Match: * on an existing object: 412.
	status, _, _ = do(t, "POST", s.URL()+"/repositories/repo/branches/main/objects?path=f", "data",
		map[string]string{"Content-Type": "application/octet-stream", "If-None-Match": "*"})
	assert.Equal(t, http.StatusCreated, status)
	status, _, _ = do(t, "POST", s.URL()+"/repositories/repo/branches/main/objects?path=f", "data",
		map[string]string{"Content-Type": "application/octet-stream", "If-None-Match": "*"})
	assert.Equal(t, http.StatusPreconditionFailed, status)

	// stageObject links any address; a read returns exactly size_bytes bytes; stat gives the
	// physical address as given.
	s.PutBlock("s3://other-bucket/k", []byte("abcdefgh"))
	status, _, _ = do(t, "PUT", s.URL()+"/repositories/repo/branches/main/objects?path=linked",
		`{"physical_address":"s3://other-bucket/k","checksum":"c","size_bytes":3}`, map[string]string{"Content-Type": "application/json"})
	assert.Equal(t, http.StatusCreated, status)
	status, _, body = do(t, "GET", s.URL()+"/repositories/repo/refs/main/objects?path=linked", "", authed)
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, "abc", body)
	status, _, body = do(t, "GET", s.URL()+"/repositories/repo/refs/main/objects/stat?path=linked", "", authed)
	assert.Equal(t, http.StatusOK, status)
	assert.Contains(t, body, `"physical_address":"s3://other-bucket/k"`)

	// A read-only user gets 401 insufficient permissions on writes.
	s.AddUser("ro", "ROK", "ROS", ReadOnly)
	status, _, body = do(t, "POST", s.URL()+"/repositories/repo/branches/main/objects?path=g", "x",
		map[string]string{"Content-Type": "application/octet-stream", "Authorization": "Basic Uk9LOlJPUw=="})
	assert.Equal(t, http.StatusUnauthorized, status)
	assert.JSONEq(t, `{"message":"insufficient permissions"}`, body)

	// Pre-commit hook refusal: 412, nothing committed.
	s.SetPreCommitHook(func(HookEvent) error { return fmt.Errorf("nope") })
	status, _, _ = do(t, "POST", s.URL()+"/repositories/repo/branches/main/commits", `{"message":"m"}`,
		map[string]string{"Content-Type": "application/json"})
	assert.Equal(t, http.StatusPreconditionFailed, status)
	assert.Equal(t, []string{"f", "linked"}, s.Staged("repo", "main"))
}

func TestReadPhysicalOption(t *testing.T) {
	var mu sync.Mutex
	var asked []string
	s := NewServer(t, Options{ReadPhysical: func(_ context.Context, addr string) ([]byte, error) {
		mu.Lock()
		defer mu.Unlock()
		asked = append(asked, addr)
		if addr == "s3://ext/k" {
			return []byte("external"), nil
		}
		return nil, fmt.Errorf("no such key")
	}})
	s.AddUser("alice", "AK", "SK", FullAccess)
	s.CreateRepository("repo", "s3://bucket/repo", "main")
	for _, c := range []struct{ addr, path string }{{"s3://ext/k", "a"}, {"s3://ext/missing", "b"}} {
		status, _, _ := do(t, "PUT", s.URL()+"/repositories/repo/branches/main/objects?path="+c.path,
			fmt.Sprintf(`{"physical_address":%q,"checksum":"c","size_bytes":8}`, c.addr), map[string]string{"Content-Type": "application/json"})
		require.Equal(t, http.StatusCreated, status)
	}
	status, _, body := do(t, "GET", s.URL()+"/repositories/repo/refs/main/objects?path=a", "", authed)
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, "external", body)
	status, _, _ = do(t, "GET", s.URL()+"/repositories/repo/refs/main/objects?path=b", "", authed)
	assert.Equal(t, http.StatusGone, status)
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []string{"s3://ext/k", "s3://ext/missing"}, asked)
}
