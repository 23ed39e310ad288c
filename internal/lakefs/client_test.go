package lakefs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/apperr"
	"github.com/iceberg-remotes/iceberg-remotes/internal/config"
	"github.com/iceberg-remotes/iceberg-remotes/internal/httpclient"
	"github.com/iceberg-remotes/iceberg-remotes/internal/lakefs/lakefstest"
	"github.com/iceberg-remotes/iceberg-remotes/internal/requestctx"
)

func TestRepositoryBranchAndRefs(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()

	r, err := e.c.GetRepository(ctx, testRepo)
	require.NoError(t, err)
	assert.Equal(t, Repository{ID: testRepo, DefaultBranch: "main", StorageNamespace: "s3://bucket/repo"}, *r)

	e.srv.PutObject(testRepo, "main", "a.txt", []byte("a"))
	c1 := e.srv.CommitBranch(testRepo, "main", "first")
	tagged := e.srv.CreateTag(testRepo, "v1", "main")
	require.Equal(t, c1, tagged)

	b, err := e.c.GetBranch(ctx, testRepo, "main")
	require.NoError(t, err)
	assert.Equal(t, Branch{ID: "main", CommitID: c1}, *b)

	// createBranch answers a bare text/plain commit id.
	id, err := e.c.CreateBranch(ctx, testRepo, "dev", "main")
	require.NoError(t, err)
	assert.Equal(t, c1, id)
	_, err = e.c.CreateBranch(ctx, testRepo, "dev", "main")
	ae := requireStatus(t, err, http.StatusConflict)
	assert.Equal(t, "branch already exists", ae.Message)

	for ref, want := range map[string]ResolvedRef{
		"main": {CommitID: c1, IsBranch: true},
		"dev":  {CommitID: c1, IsBranch: true},
		"v1":   {CommitID: c1},
		c1:     {CommitID: c1},
	} {
		got, err := e.c.ResolveRef(ctx, testRepo, ref)
		require.NoError(t, err, ref)
		assert.Equal(t, want, *got, ref)
	}
	_, err = e.c.ResolveRef(ctx, testRepo, "nope")
	ae = requireStatus(t, err, http.StatusNotFound)
	assert.Contains(t, ae.Message, `reference "nope" not found`)
	assert.Contains(t, ae.Message, "commit: not found", "lakeFS's own message is kept")

	_, err = e.c.GetRepository(ctx, "missing")
	ae = requireStatus(t, err, http.StatusNotFound)
	assert.Equal(t, "repository not found", ae.Message)
	_, err = e.c.GetBranch(ctx, testRepo, "missing")
	ae = requireStatus(t, err, http.StatusNotFound)
	assert.Equal(t, "branch not found", ae.Message)
}

func TestObjectsUploadStatGetListStage(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()

	o, err := e.c.UploadObject(ctx, testRepo, "main", "dir/one.txt", []byte("hello"), true)
	require.NoError(t, err)
	assert.Equal(t, int64(5), o.SizeBytes)
	assert.True(t, strings.HasPrefix(o.PhysicalAddress, "s3://bucket/repo/"), o.PhysicalAddress)

	// If-None-Match: * refuses an existing object (staged or committed).
	_, err = e.c.UploadObject(ctx, testRepo, "main", "dir/one.txt", []byte("again"), true)
	requireStatus(t, err, http.StatusPreconditionFailed)
	_, err = e.c.UploadObject(ctx, testRepo, "main", "dir/one.txt", []byte("again!"), false)
	require.NoError(t, err)

	st, err := e.c.StatObject(ctx, testRepo, "main", "dir/one.txt")
	require.NoError(t, err)
	assert.Equal(t, int64(6), st.SizeBytes)
	assert.Equal(t, checksum([]byte("again!")), st.Checksum)

	data, err := e.c.GetObject(ctx, testRepo, "main", "dir/one.txt", 100)
	require.NoError(t, err)
	assert.Equal(t, "again!", string(data))
	_, err = e.c.GetObject(ctx, testRepo, "main", "dir/one.txt", 3)
	requireStatus(t, err, http.StatusBadRequest)
	assert.ErrorIs(t, err, ErrTooLarge)

	_, err = e.c.StatObject(ctx, testRepo, "main", "dir/missing")
	ae := requireStatus(t, err, http.StatusNotFound)
	assert.Equal(t, "not found", ae.Message)
	_, err = e.c.GetObject(ctx, testRepo, "main", "dir/missing", 10)
	requireStatus(t, err, http.StatusNotFound)

	// stageObject links any physical address as given; reads return exactly size_bytes bytes.
	e.srv.PutBlock("s3://elsewhere/file.json", []byte("0123456789"))
	linked, err := e.c.StageObject(ctx, testRepo, "main", "dir/linked.json", "s3://elsewhere/file.json", 4, "etag-1", "application/json")
	require.NoError(t, err)
	assert.Equal(t, "s3://elsewhere/file.json", linked.PhysicalAddress)
	st, err = e.c.StatObject(ctx, testRepo, "main", "dir/linked.json")
	require.NoError(t, err)
	assert.Equal(t, Object{Path: "dir/linked.json", PhysicalAddress: "s3://elsewhere/file.json", Checksum: "etag-1",
		ContentType: "application/json", SizeBytes: 4, Mtime: st.Mtime}, *st)
	data, err = e.c.GetObject(ctx, testRepo, "main", "dir/linked.json", 100)
	require.NoError(t, err)
	assert.Equal(t, "0123", string(data))

	// Listing follows every page.
	for i := range 5 {
		_, err := e.c.UploadObject(ctx, testRepo, "main", fmt.Sprintf("list/%d", i), []byte{byte(i)}, false)
		require.NoError(t, err)
	}
	e.c.pageSize = 2
	before := e.srv.Calls("listObjects")
	objs, err := e.c.ListObjects(ctx, testRepo, "main", "list/")
	require.NoError(t, err)
	require.Len(t, objs, 5)
	for i, o := range objs {
		assert.Equal(t, fmt.Sprintf("list/%d", i), o.Path)
	}
	assert.Equal(t, 3, e.srv.Calls("listObjects")-before, "5 objects in pages of 2")
}

func TestDiffCommitReset(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.c.pageSize = 2

	// Nothing staged: lakeFS refuses the commit with 400, and 400 is not retried.
	_, err := e.c.Commit(ctx, testRepo, "main", "empty", nil)
	ae := requireStatus(t, err, http.StatusBadRequest)
	assert.Equal(t, "commit: no changes", ae.Message)
	assert.Equal(t, 1, e.srv.Calls("commit"))

	for _, p := range []string{"x/1", "x/2", "x/3"} {
		_, err := e.c.UploadObject(ctx, testRepo, "main", p, []byte(p), false)
		require.NoError(t, err)
	}
	changes, err := e.c.DiffBranchUncommitted(ctx, testRepo, "main")
	require.NoError(t, err)
	require.Len(t, changes, 3)
	assert.Equal(t, Change{Path: "x/1", Type: "added", PathType: "object", SizeBytes: 3}, changes[0])

	require.NoError(t, e.c.ResetObject(ctx, testRepo, "main", "x/2"))
	assert.Equal(t, []string{"x/1", "x/3"}, e.srv.Staged(testRepo, "main"))

	id, err := e.c.Commit(ctx, testRepo, "main", "add x", map[string]string{"k": "v"})
	require.NoError(t, err)
	ci, ok := e.srv.GetCommit(testRepo, "main")
	require.True(t, ok)
	assert.Equal(t, id, ci.ID)
	assert.Equal(t, "add x", ci.Message)
	assert.Equal(t, map[string]string{"k": "v"}, ci.Metadata)
	assert.Contains(t, ci.Paths, "x/1")
	assert.NotContains(t, ci.Paths, "x/2")
	changes, err = e.c.DiffBranchUncommitted(ctx, testRepo, "main")
	require.NoError(t, err)
	assert.Empty(t, changes)

	// A pre-commit hook refusal is 412 with lakeFS's message.
	e.srv.SetPreCommitHook(func(lakefstest.HookEvent) error { return errors.New("no commits on main") })
	_, err = e.c.UploadObject(ctx, testRepo, "main", "x/4", []byte("4"), false)
	require.NoError(t, err)
	_, err = e.c.Commit(ctx, testRepo, "main", "refused", nil)
	ae = requireStatus(t, err, http.StatusPreconditionFailed)
	assert.Contains(t, ae.Message, "no commits on main")
}

func TestGetCurrentUser(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()

	id, err := e.c.GetCurrentUser(ctx)
	require.NoError(t, err)
	assert.Equal(t, "alice", id)

	// Forwarded bearer token (forward mode).
	tok := e.srv.Token("bob", time.Minute)
	bearer := newClient(t, e.srv, func(_ context.Context, req *http.Request) error {
		req.Header.Set("Authorization", "Bearer "+tok)
		return nil
	})
	id, err = bearer.GetCurrentUser(ctx)
	require.NoError(t, err)
	assert.Equal(t, "bob", id)

	// lakeFS answers 200 with an empty id without credentials: that is not a success.
	anon := newClient(t, e.srv, nil)
	_, err = anon.GetCurrentUser(ctx)
	ae := requireStatus(t, err, http.StatusUnauthorized)
	assert.Equal(t, apperr.MsgAuthenticationFailed, ae.Message)

	bad := newClient(t, e.srv, ServiceCredentials(aliceKey, "wrong"))
	_, err = bad.GetCurrentUser(ctx)
	requireStatus(t, err, http.StatusUnauthorized)

	expired := newClient(t, e.srv, func(_ context.Context, req *http.Request) error {
		req.Header.Set("Authorization", "Bearer "+e.srv.Token("alice", -time.Minute))
		return nil
	})
	_, err = expired.GetCurrentUser(ctx)
	requireStatus(t, err, http.StatusUnauthorized)
}

func TestErrorMapping(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	readOnly := newClient(t, e.srv, ServiceCredentials(bobKey, bobSecret))
	denied := newClient(t, e.srv, ServiceCredentials(eveKey, eveSecret))
	badKey := newClient(t, e.srv, ServiceCredentials(aliceKey, "wrong"))

	// Permissions: lakeFS 401 -> 401 "insufficient permissions...".
	_, err := readOnly.GetRepository(ctx, testRepo)
	require.NoError(t, err, "read-only users may read")
	_, err = readOnly.UploadObject(ctx, testRepo, "main", "f", []byte("x"), false)
	ae := requireStatus(t, err, http.StatusUnauthorized)
	assert.Equal(t, "insufficient permissions", ae.Message)
	_, err = denied.GetBranch(ctx, testRepo, "main")
	ae = requireStatus(t, err, http.StatusUnauthorized)
	assert.True(t, strings.HasPrefix(ae.Message, "insufficient permissions"), ae.Message)
	_, err = badKey.GetRepository(ctx, testRepo)
	ae = requireStatus(t, err, http.StatusUnauthorized)
	assert.Equal(t, "insufficient permissions: error authenticating request", ae.Message)
	assert.NotContains(t, ae.Error(), "wrong", "secrets never in errors")

	// 403 (protected branch / read-only repository) -> 401 too.
	e.srv.FailNext("getRepository", 1, http.StatusForbidden)
	_, err = e.c.GetRepository(ctx, testRepo)
	ae = requireStatus(t, err, http.StatusUnauthorized)
	assert.Equal(t, "insufficient permissions: injected fault: Forbidden", ae.Message)

	// 409, 412 keep lakeFS's message.
	e.srv.FailNext("stageObject", 1, http.StatusConflict)
	_, err = e.c.StageObject(ctx, testRepo, "main", "p", "s3://b/k", 1, "c", "")
	ae = requireStatus(t, err, http.StatusConflict)
	assert.Equal(t, "injected fault: Conflict", ae.Message)
	e.srv.FailNext("commit", 1, http.StatusPreconditionFailed)
	_, err = e.c.Commit(ctx, testRepo, "main", "m", nil)
	requireStatus(t, err, http.StatusPreconditionFailed)

	// 400 keeps lakeFS's message and is not retried.
	e.srv.FailNext("getRepository", 1, http.StatusBadRequest)
	before := e.srv.Calls("getRepository")
	_, err = e.c.GetRepository(ctx, testRepo)
	ae = requireStatus(t, err, http.StatusBadRequest)
	assert.Equal(t, "injected fault: Bad Request", ae.Message)
	assert.Equal(t, 1, e.srv.Calls("getRepository")-before)

	// 5xx (after the retries httpclient.Failure allows) -> 502 naming lakeFS. 500 is
	// ambiguous: a read is retried, a commit is not.
	e.srv.FailNext("getRepository", 4, http.StatusInternalServerError)
	before = e.srv.Calls("getRepository")
	_, err = e.c.GetRepository(ctx, testRepo)
	ae = requireStatus(t, err, http.StatusBadGateway)
	assert.Equal(t, "lakeFS: get repository failed: injected fault: Internal Server Error", ae.Message)
	assert.Equal(t, 4, e.srv.Calls("getRepository")-before, "1 attempt + 3 retries")
	e.srv.FailNext("commit", 1, http.StatusInternalServerError)
	before = e.srv.Calls("commit")
	_, err = e.c.Commit(ctx, testRepo, "main", "m", nil)
	requireStatus(t, err, http.StatusBadGateway)
	assert.Equal(t, 1, e.srv.Calls("commit")-before, "a commit is not repeated after 500")
	e.srv.FailNext("getBranch", 4, http.StatusServiceUnavailable)
	before = e.srv.Calls("getBranch")
	_, err = e.c.GetBranch(ctx, testRepo, "main")
	ae = requireStatus(t, err, http.StatusBadGateway)
	assert.Contains(t, ae.Message, "lakeFS")
	assert.Equal(t, 4, e.srv.Calls("getBranch")-before, "1 attempt + 3 retries")

	// 429 persisting through the retries -> 429.
	e.srv.FailNext("statObject", 4, http.StatusTooManyRequests)
	_, err = e.c.StatObject(ctx, testRepo, "main", "p")
	ae = requireStatus(t, err, http.StatusTooManyRequests)
	assert.Contains(t, ae.Message, "lakeFS")

	// Unreachable lakeFS -> 503 naming lakeFS.
	gone, err := New(config.LakeFS{Endpoint: "http://127.0.0.1:1/api/v1"}, nil, testHTTPClient(time.Second, 1))
	require.NoError(t, err)
	_, err = gone.GetRepository(ctx, testRepo)
	ae = requireStatus(t, err, http.StatusServiceUnavailable)
	assert.Equal(t, "lakeFS: get repository: lakeFS is unreachable", ae.Message)
}

func TestRetryPolicy(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()

	t.Run("flaky then succeeds", func(t *testing.T) {
		e.srv.FailNext("getRepository", 2, http.StatusServiceUnavailable)
		before := e.srv.Calls("getRepository")
		r, err := e.c.GetRepository(ctx, testRepo)
		require.NoError(t, err)
		assert.Equal(t, testRepo, r.ID)
		assert.Equal(t, 3, e.srv.Calls("getRepository")-before)
	})
	t.Run("429 retried", func(t *testing.T) {
		e.srv.FailNext("getCommit", 1, http.StatusTooManyRequests)
		before := e.srv.Calls("getCommit")
		_, err := e.c.ResolveRef(ctx, testRepo, "nope")
		requireStatus(t, err, http.StatusNotFound)
		assert.Equal(t, 2, e.srv.Calls("getCommit")-before)
	})
	t.Run("non-idempotent commit retried after 503", func(t *testing.T) {
		_, err := e.c.UploadObject(ctx, testRepo, "main", "r/1", []byte("1"), false)
		require.NoError(t, err)
		e.srv.FailNext("commit", 1, http.StatusServiceUnavailable)
		before := e.srv.Calls("commit")
		_, err = e.c.Commit(ctx, testRepo, "main", "after a 503", nil)
		require.NoError(t, err, "the server said it did nothing, the request body is replayed")
		assert.Equal(t, 2, e.srv.Calls("commit")-before)
	})
	t.Run("404 not retried", func(t *testing.T) {
		before := e.srv.Calls("getRepository")
		_, err := e.c.GetRepository(ctx, "missing")
		requireStatus(t, err, http.StatusNotFound)
		assert.Equal(t, 1, e.srv.Calls("getRepository")-before)
	})
	t.Run("hung attempt hits the per-attempt timeout and is retried", func(t *testing.T) {
		c, err := New(config.LakeFS{Endpoint: e.srv.URL()}, ServiceCredentials(aliceKey, aliceSecret), testHTTPClient(time.Second, 2))
		require.NoError(t, err)
		e.srv.HangNext("getRepository", 1)
		before := e.srv.Calls("getRepository")
		_, err = c.GetRepository(ctx, testRepo)
		require.NoError(t, err)
		assert.Equal(t, 2, e.srv.Calls("getRepository")-before)
	})
	t.Run("always hung gives 504 after bounded attempts", func(t *testing.T) {
		c, err := New(config.LakeFS{Endpoint: e.srv.URL()}, ServiceCredentials(aliceKey, aliceSecret), testHTTPClient(200*time.Millisecond, 2))
		require.NoError(t, err)
		e.srv.HangNext("getRepository", 3)
		before := e.srv.Calls("getRepository")
		start := time.Now()
		_, err = c.GetRepository(ctx, testRepo)
		ae := requireStatus(t, err, http.StatusGatewayTimeout)
		assert.Equal(t, "lakeFS: get repository: timed out waiting for lakeFS", ae.Message)
		assert.Equal(t, 3, e.srv.Calls("getRepository")-before)
		assert.Less(t, time.Since(start), 5*time.Second, "bounded: 3 attempts of 200ms plus short backoffs")
	})
	t.Run("caller deadline", func(t *testing.T) {
		e.srv.HangNext("getRepository", 1)
		dctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		defer cancel()
		_, err := e.c.GetRepository(dctx, testRepo)
		requireStatus(t, err, http.StatusGatewayTimeout)
	})
}

func TestNewRequiresEndpoint(t *testing.T) {
	_, err := New(config.LakeFS{}, nil, nil)
	require.Error(t, err)
	c, err := New(config.LakeFS{Endpoint: "http://127.0.0.1:8000/api/v1", Timeout: time.Second}, nil, nil)
	require.NoError(t, err)
	require.NotNil(t, c)
}

func TestForwardedCredentialAndRequestID(t *testing.T) {
	e := newEnv(t)
	type credKey struct{}
	// Forward mode: the caller's own header, taken from the request context.
	forward := func(ctx context.Context, req *http.Request) error {
		v, _ := ctx.Value(credKey{}).(string)
		if v == "" {
			return errors.New("no caller credential")
		}
		req.Header.Set("Authorization", v)
		return nil
	}
	c := newClient(t, e.srv, forward)
	ctx, _ := requestctx.With(context.Background(), "req-123")
	ctx = context.WithValue(ctx, credKey{}, "Bearer "+e.srv.Token("bob", time.Minute))

	_, err := c.GetRepository(ctx, testRepo)
	require.NoError(t, err)
	h := e.srv.LastRequestHeader("getRepository")
	assert.Equal(t, "req-123", h.Get(httpclient.RequestIDHeader))
	assert.True(t, strings.HasPrefix(h.Get("Authorization"), "Bearer "))

	// lakeFS RBAC decides: bob is read-only.
	_, err = c.UploadObject(ctx, testRepo, "main", "f", []byte("x"), false)
	requireStatus(t, err, http.StatusUnauthorized)

	// Forwarding the caller's lakeFS session cookie.
	ck := e.srv.SessionCookie("alice", time.Minute)
	cookieClient := newClient(t, e.srv, func(_ context.Context, req *http.Request) error {
		req.AddCookie(ck)
		return nil
	})
	id, err := cookieClient.GetCurrentUser(ctx)
	require.NoError(t, err)
	assert.Equal(t, "alice", id)
	_, err = cookieClient.UploadObject(ctx, testRepo, "main", "f", []byte("x"), false)
	require.NoError(t, err)

	// A credential function that fails stops the call before it is sent.
	before := e.srv.Calls("getRepository")
	_, err = c.GetRepository(context.Background(), testRepo)
	require.Error(t, err)
	assert.Equal(t, before, e.srv.Calls("getRepository"))
}

// Defect 4 (issue 11): a commit that lakeFS made, answered by a proxy in front of it with
// 504, must not be sent again (the repeat would fail with "no changes" and report a
// successful commit as a failure). The caller gets lakeFS's 5xx answer (502), not a 400.
func TestCommitBehindAProxysGatewayTimeoutIsNotRepeated(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	target, err := url.Parse(e.srv.URL())
	require.NoError(t, err)
	var swallowed atomic.Int32
	proxy := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: target.Scheme, Host: target.Host})
	proxy.ModifyResponse = func(resp *http.Response) error {
		if resp.Request.Method == http.MethodPost && strings.HasSuffix(resp.Request.URL.Path, "/commits") &&
			resp.StatusCode < 300 && swallowed.Add(1) == 1 {
			// The proxy gave up waiting: lakeFS committed, the client hears 504.
			_ = resp.Body.Close()
			resp.StatusCode, resp.Status = http.StatusGatewayTimeout, "504 Gateway Timeout"
			resp.Body = io.NopCloser(strings.NewReader(`{"message":"upstream timed out"}`))
			resp.ContentLength = -1
			resp.Header.Del("Content-Length")
		}
		return nil
	}
	front := httptest.NewServer(proxy)
	t.Cleanup(front.Close)
	c, err := New(config.LakeFS{Endpoint: front.URL + target.Path}, ServiceCredentials(aliceKey, aliceSecret), testHTTPClient(5*time.Second, 3))
	require.NoError(t, err)

	_, err = c.UploadObject(ctx, testRepo, "main", "r/behind-proxy", []byte("1"), false)
	require.NoError(t, err)
	before := e.srv.Calls("commit")
	_, err = c.Commit(ctx, testRepo, "main", "behind a proxy", nil)
	ae := requireStatus(t, err, http.StatusBadGateway)
	assert.Contains(t, ae.Message, "upstream timed out")
	assert.Equal(t, 1, e.srv.Calls("commit")-before, "the commit is sent once")
}
