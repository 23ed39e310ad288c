package authn

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/apperr"
)

func basicHeader(id, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(id+":"+secret))
}

const (
	aliceKey    = "AKIAIOSFODNN7EXAMPLE"
	aliceSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
)

// TestStandInContractCheck proves the stand-in's contract check rejects answers that do not
// match the lakeFS API, so the stand-in cannot drift into accepting anything.
func TestStandInContractCheck(t *testing.T) {
	req := httptest.NewRequest(http.MethodGet, "/api/v1/user", nil)
	h := http.Header{"Content-Type": []string{"application/json"}}
	require.NoError(t, validateLakeFSResponse(t, req, 200, h, []byte(`{"user":{"id":"alice","creation_date":1}}`)))
	require.NoError(t, validateLakeFSResponse(t, req, 200, h, []byte(`{"user":{"id":"","creation_date":0}}`)))
	require.NoError(t, validateLakeFSResponse(t, req, 401, h, []byte(`{"message":"error authenticating request"}`)))

	require.Error(t, validateLakeFSResponse(t, req, 200, h, []byte(`{"user":{"id":42,"creation_date":1}}`)), "id must be a string")
	require.Error(t, validateLakeFSResponse(t, req, 200, h, []byte(`{"user":{"id":"alice"}}`)), "creation_date is required")
	require.Error(t, validateLakeFSResponse(t, req, 200, h, []byte(`{"id":"alice"}`)), "user is required")
	require.Error(t, validateLakeFSResponse(t, req, 401, h, []byte(`{"error":"nope"}`)), "401 body needs message")
	require.Error(t, validateLakeFSResponse(t, req, 418, h, []byte(`{}`)), "undeclared status")
	require.Error(t, validateLakeFSResponse(t, httptest.NewRequest(http.MethodGet, "/api/v1/no-such-route", nil), 200, h, []byte(`{}`)))
}

func TestLakeFSBasicVerifier(t *testing.T) {
	lakefs := newLakeFSStandIn(t)
	v := lakefs.verifier()
	ctx := context.Background()

	id, err := v.VerifyBasic(ctx, basicHeader(aliceKey, aliceSecret))
	require.NoError(t, err)
	assert.Equal(t, "alice", id)
	assert.Equal(t, []string{basicHeader(aliceKey, aliceSecret)}, lakefs.lastHeaders.Values("Authorization"), "the caller's header is sent unchanged")

	_, err = v.VerifyBasic(ctx, basicHeader(aliceKey, "wrong"))
	require.Error(t, err)
	assert.Equal(t, http.StatusUnauthorized, apperr.StatusOf(err))
	assert.NotContains(t, err.Error(), "wrong")

	// lakeFS answers 200 with an empty id when no credential reaches it: not a success.
	for _, h := range []string{"", "Basic !!!not-base64", "Basic " + base64.StdEncoding.EncodeToString([]byte("no-colon"))} {
		before := lakefs.hits.Load()
		_, err = v.VerifyBasic(ctx, h)
		require.Error(t, err, h)
		assert.Equal(t, http.StatusUnauthorized, apperr.StatusOf(err))
		assert.Equal(t, before+1, lakefs.hits.Load(), "the stand-in answered 200 with an empty id")
	}

	t.Run("lakeFS failing is not a verdict on the key", func(t *testing.T) {
		lakefs.status.Store(http.StatusServiceUnavailable)
		t.Cleanup(func() { lakefs.status.Store(0) })
		before := lakefs.hits.Load()
		_, err := v.VerifyBasic(ctx, basicHeader(aliceKey, aliceSecret))
		require.Error(t, err)
		assert.Equal(t, http.StatusServiceUnavailable, apperr.StatusOf(err))
		assert.Equal(t, before+2, lakefs.hits.Load(), "one retry (MaxRetries 1) on 503")

		lakefs.status.Store(http.StatusNotFound)
		_, err = v.VerifyBasic(ctx, basicHeader(aliceKey, aliceSecret))
		assert.Equal(t, http.StatusBadGateway, apperr.StatusOf(err))
	})
	t.Run("lakeFS unreachable", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		url := srv.URL
		srv.Close()
		v := NewLakeFSBasicVerifier(url+"/api/v1/", http.DefaultClient)
		_, err := v.VerifyBasic(ctx, basicHeader(aliceKey, aliceSecret))
		require.Error(t, err)
		assert.Equal(t, http.StatusServiceUnavailable, apperr.StatusOf(err))
		assert.NotContains(t, err.Error(), aliceSecret)
	})
}

func TestBasicAuthMiddleware(t *testing.T) {
	lakefs := newLakeFSStandIn(t)
	h := newHarness(t, defaultAuth(), lakefs.verifier())

	res := h.serve(build(basicAuth(aliceKey, aliceSecret)))
	require.Equal(t, http.StatusNoContent, res.status, res.body)
	assert.Equal(t, User{ID: "alice", Scheme: SchemeBasic}, res.user)
	assert.Equal(t, "alice", res.logUser)

	res = h.serve(build(basicAuth(aliceKey, "wrong")))
	assert.Equal(t, http.StatusUnauthorized, res.status)
	assert.Equal(t, authFailedBody, res.body)

	res = h.serve(build(basicAuth("AKIAUNKNOWN000000000", aliceSecret)))
	assert.Equal(t, http.StatusUnauthorized, res.status)

	// "basic" is case-insensitive in net/http, as in lakeFS.
	r := newReq()
	r.Header.Set("Authorization", "basic "+base64.StdEncoding.EncodeToString([]byte("AKIAJBOBEXAMPLE00000:bob-secret-0000000000000000000000000000")))
	res = h.serve(r)
	require.Equal(t, http.StatusNoContent, res.status)
	assert.Equal(t, "bob", res.user.ID)

	t.Run("lakeFS down gives 503, not 401", func(t *testing.T) {
		lakefs.status.Store(http.StatusBadGateway)
		t.Cleanup(func() { lakefs.status.Store(0) })
		res := h.serve(build(basicAuth("AKIAJBOBEXAMPLE00000", "another-uncached-secret")))
		assert.Equal(t, http.StatusServiceUnavailable, res.status)
		assert.JSONEq(t, `{"message":"error authenticating request: lakeFS answered 502"}`, res.body)
	})
}

func TestBasicAuthCache(t *testing.T) {
	lakefs := newLakeFSStandIn(t)
	auth := defaultAuth()
	auth.BasicCacheTTL = 30 * time.Second
	h := newHarness(t, auth, lakefs.verifier())
	good := basicAuth(aliceKey, aliceSecret)

	require.Equal(t, http.StatusNoContent, h.serve(build(good)).status)
	require.EqualValues(t, 1, lakefs.hits.Load())
	h.clock.Advance(29 * time.Second)
	res := h.serve(build(good))
	require.Equal(t, http.StatusNoContent, res.status)
	assert.Equal(t, User{ID: "alice", Scheme: SchemeBasic}, res.user)
	assert.EqualValues(t, 1, lakefs.hits.Load(), "within the TTL lakeFS is not asked again")

	h.clock.Advance(2 * time.Second)
	require.Equal(t, http.StatusNoContent, h.serve(build(good)).status)
	assert.EqualValues(t, 2, lakefs.hits.Load(), "after the TTL lakeFS is asked again")

	// Failures are never cached.
	bad := basicAuth(aliceKey, "wrong")
	require.Equal(t, http.StatusUnauthorized, h.serve(build(bad)).status)
	require.Equal(t, http.StatusUnauthorized, h.serve(build(bad)).status)
	assert.EqualValues(t, 4, lakefs.hits.Load())

	// The cache is keyed by the whole credential: same key id, other secret → asked again.
	require.Equal(t, http.StatusUnauthorized, h.serve(build(basicAuth(aliceKey, aliceSecret+"x"))).status)
	assert.EqualValues(t, 5, lakefs.hits.Load())

	// The cache never holds the credential itself.
	h.a.cache.mu.Lock()
	for k, e := range h.a.cache.entries {
		assert.NotContains(t, string(k[:]), aliceSecret)
		assert.Equal(t, "alice", e.userID)
	}
	h.a.cache.mu.Unlock()

	t.Run("TTL 0 disables the cache", func(t *testing.T) {
		lakefs := newLakeFSStandIn(t)
		auth := defaultAuth()
		auth.BasicCacheTTL = 0
		h := newHarness(t, auth, lakefs.verifier())
		h.serve(build(good))
		h.serve(build(good))
		assert.EqualValues(t, 2, lakefs.hits.Load())
	})
}

func TestBasicCacheBoundedAndConcurrent(t *testing.T) {
	c := newBasicCache(time.Minute, 3)
	now := testNow
	for i := 0; i < 10; i++ {
		c.put([32]byte{byte(i)}, "u", now)
		assert.LessOrEqual(t, c.len(), 3)
	}
	_, ok := c.get([32]byte{9}, now)
	assert.True(t, ok, "the newest entry is kept")
	_, ok = c.get([32]byte{9}, now.Add(time.Minute))
	assert.False(t, ok, "expired at exactly ttl")

	// Many concurrent requests with a few distinct keys, under -race.
	lakefs := newLakeFSStandIn(t)
	h := newHarness(t, defaultAuth(), lakefs.verifier())
	require.Equal(t, http.StatusNoContent, h.serve(build(basicAuth(aliceKey, aliceSecret))).status)
	var wg sync.WaitGroup
	for i := 0; i < 40; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			mod := basicAuth(aliceKey, aliceSecret)
			want := http.StatusNoContent
			if i%4 == 0 {
				mod, want = basicAuth(aliceKey, "wrong"), http.StatusUnauthorized
			}
			assert.Equal(t, want, h.serve(build(mod)).status)
		}(i)
	}
	wg.Wait()
	assert.EqualValues(t, 1+10, lakefs.hits.Load(), "successes came from the cache, every failure asked lakeFS")
}
