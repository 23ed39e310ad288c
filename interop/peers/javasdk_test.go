package peers

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The official lakeFS Java SDK sends the remotes call as lakeFS's contract says (POST JSON to
// /iceberg/remotes/{catalog}/{op}, basic auth or bearer), and RunJavaSDK reports the status
// and the error body it saw.
func TestRunJavaSDK(t *testing.T) {
	var (
		mu  sync.Mutex
		got []*http.Request
		bod []string
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got, bod = append(got, r), append(bod, string(b))
		mu.Unlock()
		if r.URL.EscapedPath() == "/api/v1/iceberg/remotes/my%20cat/pull" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusConflict)
			_, _ = io.WriteString(w, `{"message":"both sides changed"}`)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()

	req := []byte(`{"source":{"repository_id":"r","reference_id":"main","namespace":["a","b"],"table":"t"},"destination":{"namespace":["x"],"table":"t"},"force_update":true}`)
	status, body := RunJavaSDK(t, srv.URL+"/api/v1", SDKAuth{AccessKeyID: "AKIA", SecretAccessKey: "s3cr3t"}, "push", "rest", req)
	assert.Equal(t, http.StatusNoContent, status)
	assert.Empty(t, body)

	status, body = RunJavaSDK(t, srv.URL+"/api/v1", SDKAuth{Token: "jwt.token.here"}, "pull", "my cat", []byte(`{"source":{"namespace":["x"],"table":"t"},"destination":{"repository_id":"r","reference_id":"main","namespace":["a"],"table":"t"}}`))
	assert.Equal(t, http.StatusConflict, status)
	assert.JSONEq(t, `{"message":"both sides changed"}`, body)

	require.Len(t, got, 2)
	assert.Equal(t, http.MethodPost, got[0].Method)
	assert.Equal(t, "/api/v1/iceberg/remotes/rest/push", got[0].URL.Path)
	assert.Equal(t, "Basic "+base64.StdEncoding.EncodeToString([]byte("AKIA:s3cr3t")), got[0].Header.Get("Authorization"))
	assert.Contains(t, got[0].Header.Get("Content-Type"), "application/json")
	var sent, want any
	require.NoError(t, json.Unmarshal([]byte(bod[0]), &sent))
	require.NoError(t, json.Unmarshal(req, &want))
	assert.Equal(t, want, sent, "the request body arrives unchanged")
	assert.Equal(t, "/api/v1/iceberg/remotes/my%20cat/pull", got[1].URL.EscapedPath())
	assert.Equal(t, "Bearer jwt.token.here", got[1].Header.Get("Authorization"))
}
