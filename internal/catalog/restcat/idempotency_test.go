package restcat_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/apperr"
	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog"
	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog/catalogtest"
	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog/restcat/resttest"
	"github.com/iceberg-remotes/iceberg-remotes/internal/config"
)

// keyed starts a stand-in that advertises idempotency-key-lifetime (0: does not) and an
// adapter on it, with namespace db created.
func keyed(t *testing.T, lifetime time.Duration) (*resttest.Server, *catalog.Ident, []string, func() catalog.Adapter) {
	s := resttest.New(t, resttest.Options{IdempotencyKeyLifetime: lifetime})
	a := newAdapter(t, config.RESTRemote{URI: s.URL}, fastOpts("keyed"))
	require.NoError(t, a.CreateNamespace(testCtx(t), []string{"db"}))
	return s, &catalog.Ident{Namespace: []string{"db"}, Table: "t"}, catalogtest.WriteMetadataFiles(t, t.TempDir(), 2),
		func() catalog.Adapter { return a }
}

// calls returns the stand-in's served (not replayed) requests with this method and path suffix.
func calls(s *resttest.Server, method, suffix string) []resttest.Call {
	var out []resttest.Call
	for _, c := range s.Calls() {
		if c.Method == method && strings.HasSuffix(c.Path, suffix) {
			out = append(out, c)
		}
	}
	return out
}

// A register whose answer is lost after the server applied it is retried with the same key;
// the server replays its 200 (no second registration, no 409, no load to find out).
func TestRegisterWithLostAnswerIsReplayedByKey(t *testing.T) {
	s, id, locs, a := keyed(t, time.Minute)
	s.LoseNextAnswers(1)
	require.NoError(t, a().RegisterTable(testCtx(t), *id, locs[0], catalog.Provenance{}))
	regs := calls(s, http.MethodPost, "/register")
	require.Len(t, regs, 1, "applied once: the retry was answered from the stored answer")
	assert.Len(t, regs[0].IdempotencyKey, 36)
	assert.Equal(t, 1, s.Replays(), "the retry carried the same key")
	assert.Empty(t, calls(s, http.MethodGet, "/tables/t"), "no load after a 409: there was none")
	loc, ok := s.TableLocation(id.Namespace, id.Table)
	require.True(t, ok)
	assert.Equal(t, locs[0], loc)
}

// A re-point (register with overwrite) and a drop whose answers are lost are retried and
// replayed the same way; each logical call has its own key.
func TestRepointAndDropWithLostAnswersAreReplayedByKey(t *testing.T) {
	s, id, locs, a := keyed(t, time.Minute)
	c := testCtx(t)
	require.NoError(t, a().RegisterTable(c, *id, locs[0], catalog.Provenance{}))
	s.LoseNextAnswers(1)
	atomic, err := a().ReplaceTable(c, *id, locs[0], locs[1], catalog.Provenance{})
	require.NoError(t, err)
	assert.True(t, atomic)
	s.LoseNextAnswers(1)
	require.NoError(t, a().DropTable(c, *id), "the retried drop is answered 204 again, not 404")
	assert.Equal(t, 2, s.Replays())
	_, ok := s.TableLocation(id.Namespace, id.Table)
	assert.False(t, ok)

	keys := map[string]bool{}
	for _, call := range append(calls(s, http.MethodPost, "/register"), calls(s, http.MethodDelete, "/tables/t")...) {
		require.NotEmpty(t, call.IdempotencyKey, "%s %s", call.Method, call.Path)
		keys[call.IdempotencyKey] = true
	}
	assert.Len(t, keys, 3, "register, re-point and drop: a new key per logical call")
}

// Without the advertisement nothing changes: no Idempotency-Key is sent, and a re-point
// (a POST) whose answer is lost is not repeated; a drop (DELETE) is, and finds no table.
func TestWithoutAdvertisementNoKeyAndNoRetryOfAnAmbiguousPOST(t *testing.T) {
	s, id, locs, a := keyed(t, 0)
	c := testCtx(t)
	require.NoError(t, a().RegisterTable(c, *id, locs[0], catalog.Provenance{}))
	s.LoseNextAnswers(1)
	_, err := a().ReplaceTable(c, *id, locs[0], locs[1], catalog.Provenance{})
	require.Error(t, err, "the outcome is unknown and the POST is not repeated")
	assert.Len(t, calls(s, http.MethodPost, "/register"), 2, "register once, re-point once")
	s.LoseNextAnswers(1)
	err = a().DropTable(c, *id)
	assert.Equal(t, http.StatusNotFound, apperr.StatusOf(err), "the repeated DELETE finds the table gone")
	for _, call := range s.Calls() {
		assert.Empty(t, call.IdempotencyKey, "%s %s", call.Method, call.Path)
	}
	assert.Zero(t, s.Replays())
}

// The stand-in replays only within the lifetime; after it a repeated key is applied again.
func TestStandInForgetsKeysAfterTheLifetime(t *testing.T) {
	s := resttest.New(t, resttest.Options{IdempotencyKeyLifetime: 50 * time.Millisecond})
	post := func(key string) int {
		req, _ := http.NewRequest(http.MethodPost, s.URL+"/v1/namespaces", strings.NewReader(`{"namespace":["n"]}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", key)
		rsp, err := s.Client().Do(req)
		require.NoError(t, err)
		rsp.Body.Close()
		return rsp.StatusCode
	}
	key := "017f22e2-79b0-7cc3-98c4-dc0c0c07398f"
	assert.Equal(t, 200, post(key))
	assert.Equal(t, 200, post(key), "replayed within the lifetime")
	assert.Equal(t, 1, s.Replays())
	time.Sleep(80 * time.Millisecond)
	assert.Equal(t, 409, post(key), "after the lifetime the key is new: the namespace exists")
}

// The whole adapter contract holds against a server that honours keys.
func TestConformanceWithIdempotencyKeys(t *testing.T) {
	catalogtest.Run(t, catalogtest.Options{
		NestedNamespaces: true,
		New: func(t *testing.T) catalog.Adapter {
			s := resttest.New(t, resttest.Options{IdempotencyKeyLifetime: time.Minute})
			return newAdapter(t, config.RESTRemote{URI: s.URL}, fastOpts("keyed"))
		},
	})
}
