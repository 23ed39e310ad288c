package resttest_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog/catalogtest"
	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog/restcat/resttest"
)

type violations struct {
	mu   sync.Mutex
	errs []error
}

func (v *violations) add(err error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.errs = append(v.errs, err)
}

func (v *violations) get() []error {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]error(nil), v.errs...)
}

func do(t *testing.T, method, u, token string, body any) (int, []byte) {
	t.Helper()
	var rdr io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		require.NoError(t, err)
		rdr = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, u, rdr)
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rsp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer rsp.Body.Close()
	data, err := io.ReadAll(rsp.Body)
	require.NoError(t, err)
	return rsp.StatusCode, data
}

// The validator must catch a response that breaks the contract: the client then sees 500
// and the violation is reported (by default as a test failure).
func TestWrongResponseFailsValidation(t *testing.T) {
	var v violations
	s := resttest.New(t, resttest.Options{OnViolation: v.add})

	st, _ := do(t, http.MethodGet, s.URL+"/v1/config", "", nil)
	require.Equal(t, http.StatusOK, st)
	require.Empty(t, v.get(), "a correct response passes")

	s.CorruptNextResponse()
	st, body := do(t, http.MethodGet, s.URL+"/v1/config", "", nil)
	assert.Equal(t, http.StatusInternalServerError, st, string(body))
	errs := v.get()
	require.Len(t, errs, 1)
	assert.Contains(t, errs[0].Error(), "response 200 to GET /v1/config violates the contract")
}

// A request that breaks the contract is refused the same way.
func TestWrongRequestFailsValidation(t *testing.T) {
	var v violations
	s := resttest.New(t, resttest.Options{OnViolation: v.add})

	st, _ := do(t, http.MethodPost, s.URL+"/v1/namespaces", "", map[string]any{"properties": map[string]string{}})
	assert.Equal(t, http.StatusInternalServerError, st)
	require.Len(t, v.get(), 1, "namespace is required in CreateNamespaceRequest")
	assert.Contains(t, v.get()[0].Error(), "request POST /v1/namespaces violates the contract")

	st, _ = do(t, http.MethodPost, s.URL+"/v1/namespaces/a/register", "", map[string]any{"name": "t"})
	assert.Equal(t, http.StatusInternalServerError, st)
	require.Len(t, v.get(), 2, "metadata-location is required in RegisterTableRequest")

	st, _ = do(t, http.MethodGet, s.URL+"/v1/nonsense", "", nil)
	assert.Equal(t, http.StatusInternalServerError, st)
	require.Len(t, v.get(), 3, "a path outside the contract")

	rsp, err := http.Post(s.URL+"/v1/oauth/tokens", "application/x-www-form-urlencoded", strings.NewReader("grant_type=bogus&client_id=a"))
	require.NoError(t, err)
	_ = rsp.Body.Close()
	assert.Equal(t, http.StatusInternalServerError, rsp.StatusCode)
	require.Len(t, v.get(), 4, "a token request matching neither OAuth2 grant")
}

func token(t *testing.T, s *resttest.Server, id, secret string) (int, map[string]any) {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {secret}, "scope": {"catalog"}}
	rsp, err := http.Post(s.URL+"/v1/oauth/tokens", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	require.NoError(t, err)
	defer rsp.Body.Close()
	var out map[string]any
	require.NoError(t, json.NewDecoder(rsp.Body).Decode(&out))
	return rsp.StatusCode, out
}

func TestOAuth2TokensExpireAndAreRequired(t *testing.T) {
	s := resttest.New(t, resttest.Options{ClientID: "id", ClientSecret: "secret", TokenTTL: time.Second, Prefix: "wh"})

	st, _ := do(t, http.MethodGet, s.URL+"/v1/config", "", nil)
	assert.Equal(t, http.StatusUnauthorized, st, "no token")
	st, _ = do(t, http.MethodGet, s.URL+"/v1/config", "made-up", nil)
	assert.Equal(t, http.StatusUnauthorized, st, "unknown token")

	st, body := token(t, s, "id", "wrong")
	assert.Equal(t, http.StatusUnauthorized, st)
	assert.Equal(t, "invalid_client", body["error"])

	st, body = token(t, s, "id", "secret")
	require.Equal(t, http.StatusOK, st)
	tok := body["access_token"].(string)
	assert.EqualValues(t, 1, body["expires_in"])

	st, cfg := do(t, http.MethodGet, s.URL+"/v1/config", tok, nil)
	require.Equal(t, http.StatusOK, st)
	assert.Contains(t, string(cfg), `"prefix":"wh"`)
	st, _ = do(t, http.MethodPost, s.URL+"/v1/wh/namespaces", tok, map[string]any{"namespace": []string{"a", "b"}})
	assert.Equal(t, http.StatusOK, st)
	st, _ = do(t, http.MethodHead, s.URL+"/v1/wh/namespaces/a%1Fb", tok, nil)
	assert.Equal(t, http.StatusNoContent, st)
	st, _ = do(t, http.MethodHead, s.URL+"/v1/other/namespaces/a%1Fb", tok, nil)
	assert.Equal(t, http.StatusNotFound, st, "wrong prefix")

	time.Sleep(1100 * time.Millisecond)
	st, _ = do(t, http.MethodGet, s.URL+"/v1/config", tok, nil)
	assert.Equal(t, http.StatusUnauthorized, st, "expired token")
}

func TestRegisterLoadDropAndFaults(t *testing.T) {
	s := resttest.New(t, resttest.Options{Token: "tok"})
	locs := catalogtest.WriteMetadataFiles(t, t.TempDir(), 2)

	st, _ := do(t, http.MethodPost, s.URL+"/v1/namespaces/db/register", "tok", map[string]any{"name": "t", "metadata-location": locs[0]})
	assert.Equal(t, http.StatusNotFound, st, "missing namespace")
	st, _ = do(t, http.MethodPost, s.URL+"/v1/namespaces", "tok", map[string]any{"namespace": []string{"db"}})
	require.Equal(t, http.StatusOK, st)
	st, _ = do(t, http.MethodPost, s.URL+"/v1/namespaces/db/register", "tok", map[string]any{"name": "t", "metadata-location": locs[0]})
	require.Equal(t, http.StatusOK, st)
	st, _ = do(t, http.MethodPost, s.URL+"/v1/namespaces/db/register", "tok", map[string]any{"name": "t", "metadata-location": locs[1]})
	assert.Equal(t, http.StatusConflict, st)
	st, _ = do(t, http.MethodPost, s.URL+"/v1/namespaces/db/register", "tok", map[string]any{"name": "t", "metadata-location": locs[1], "overwrite": true})
	require.Equal(t, http.StatusOK, st)

	st, body := do(t, http.MethodGet, s.URL+"/v1/namespaces/db/tables/t", "tok", nil)
	require.Equal(t, http.StatusOK, st)
	var res struct {
		Loc      string         `json:"metadata-location"`
		Metadata map[string]any `json:"metadata"`
	}
	require.NoError(t, json.Unmarshal(body, &res))
	assert.Equal(t, locs[1], res.Loc)
	assert.NotEmpty(t, res.Metadata["table-uuid"], "the real metadata read from the file")

	s.FailNext(1, http.StatusServiceUnavailable)
	st, _ = do(t, http.MethodGet, s.URL+"/v1/namespaces/db/tables/t", "tok", nil)
	assert.Equal(t, http.StatusServiceUnavailable, st)
	assert.Equal(t, 0, s.PendingFaults())

	st, _ = do(t, http.MethodDelete, s.URL+"/v1/namespaces/db/tables/t?purgeRequested=false", "tok", nil)
	assert.Equal(t, http.StatusNoContent, st)
	st, _ = do(t, http.MethodGet, s.URL+"/v1/namespaces/db/tables/t", "tok", nil)
	assert.Equal(t, http.StatusNotFound, st)
}

func TestOverwriteModes(t *testing.T) {
	locs := catalogtest.WriteMetadataFiles(t, t.TempDir(), 2)
	for mode, want := range map[resttest.OverwriteMode]int{resttest.OverwriteRejected: 400, resttest.OverwriteIgnored: 409} {
		s := resttest.New(t, resttest.Options{Overwrite: mode})
		st, _ := do(t, http.MethodPost, s.URL+"/v1/namespaces", "", map[string]any{"namespace": []string{"db"}})
		require.Equal(t, http.StatusOK, st)
		st, _ = do(t, http.MethodPost, s.URL+"/v1/namespaces/db/register", "", map[string]any{"name": "t", "metadata-location": locs[0]})
		require.Equal(t, http.StatusOK, st)
		st, _ = do(t, http.MethodPost, s.URL+"/v1/namespaces/db/register", "", map[string]any{"name": "t", "metadata-location": locs[1], "overwrite": true})
		assert.Equal(t, want, st)
		loc, _ := s.TableLocation([]string{"db"}, "t")
		assert.Equal(t, locs[0], loc)
	}
}
