package cli_test

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// authRecorder answers the tables listing (empty) and records each request's
// Authorization header.
func authRecorder(t *testing.T) (*httptest.Server, func() string) {
	var mu sync.Mutex
	var last string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, "iceberg-remotes-cli/dev", r.Header.Get("User-Agent"))
		mu.Lock()
		last = r.Header.Get("Authorization")
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"pagination":{"has_more":false,"max_per_page":100,"results":0,"next_offset":""},"results":[]}`))
	}))
	t.Cleanup(srv.Close)
	return srv, func() string { mu.Lock(); defer mu.Unlock(); return last }
}

func basic(id, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(id+":"+secret))
}

// TestCredentialPrecedence: flags over LAKECTL_* env over ~/.lakectl.yaml, field by field,
// and a token over an access key; the server URL comes from --url or ICEBERG_REMOTES_URL,
// never from lakectl's server.endpoint_url (that is lakeFS).
func TestCredentialPrecedence(t *testing.T) {
	srv, lastAuth := authRecorder(t)
	home := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(home, ".lakectl.yaml"), []byte(`
credentials:
  access_key_id: AKIAFILE
  secret_access_key: file-secret
server:
  endpoint_url: http://127.0.0.1:1/api/v1
`), 0o600))
	fileEnv := []string{"HOME=" + home, "ICEBERG_REMOTES_URL=" + srv.URL}
	cases := []struct {
		name    string
		environ []string
		flags   []string
		want    string
	}{
		{"file", fileEnv, nil, basic("AKIAFILE", "file-secret")},
		{"env over file", append(fileEnv, "LAKECTL_CREDENTIALS_ACCESS_KEY_ID=AKIAENV", "LAKECTL_CREDENTIALS_SECRET_ACCESS_KEY=env-secret"), nil, basic("AKIAENV", "env-secret")},
		{"env secret only, file id", append(fileEnv, "LAKECTL_CREDENTIALS_SECRET_ACCESS_KEY=env-secret"), nil, basic("AKIAFILE", "env-secret")},
		{"flags over env", append(fileEnv, "LAKECTL_CREDENTIALS_ACCESS_KEY_ID=AKIAENV", "LAKECTL_CREDENTIALS_SECRET_ACCESS_KEY=env-secret"),
			[]string{"--access-key-id", "AKIAFLAG", "--secret-access-key", "flag-secret"}, basic("AKIAFLAG", "flag-secret")},
		{"token env over keys", append(fileEnv, "ICEBERG_REMOTES_TOKEN=env.jwt.token"), nil, "Bearer env.jwt.token"},
		{"token flag", fileEnv, []string{"--token", "flag.jwt.token"}, "Bearer flag.jwt.token"},
		{"explicit lakectl file", []string{"ICEBERG_REMOTES_URL=" + srv.URL}, []string{"--lakectl-config", filepath.Join(home, ".lakectl.yaml")}, basic("AKIAFILE", "file-secret")},
		{"url flag over env", []string{"HOME=" + home, "ICEBERG_REMOTES_URL=http://127.0.0.1:1"}, []string{"--url", srv.URL + "/api/v1/"}, basic("AKIAFILE", "file-secret")},
		{"nothing", []string{"ICEBERG_REMOTES_URL=" + srv.URL}, nil, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := execute(t, c.environ, false, append([]string{"status", "local"}, c.flags...)...)
			require.NoError(t, r.err)
			assert.Equal(t, c.want, lastAuth())
		})
	}
}

func TestCredentialErrorsShowNoSecret(t *testing.T) {
	srv, _ := authRecorder(t)
	r := execute(t, []string{"ICEBERG_REMOTES_URL=" + srv.URL, "LAKECTL_CREDENTIALS_SECRET_ACCESS_KEY=very-secret-value"}, false, "status", "local")
	require.Error(t, r.err, "a secret without its key id is refused before any call")
	assert.Contains(t, r.err.Error(), "access key id")
	assert.NotContains(t, r.err.Error()+r.stdout+r.stderr, "very-secret-value")

	r = execute(t, []string{"ICEBERG_REMOTES_URL=" + srv.URL}, false, "status", "local", "--lakectl-config", filepath.Join(t.TempDir(), "absent.yaml"))
	require.Error(t, r.err, "an explicitly named lakectl file must exist")

	bad := filepath.Join(t.TempDir(), "bad.yaml")
	require.NoError(t, os.WriteFile(bad, []byte("credentials: [\n secret_access_key: very-secret-value"), 0o600))
	r = execute(t, []string{"ICEBERG_REMOTES_URL=" + srv.URL}, false, "status", "local", "--lakectl-config", bad)
	require.Error(t, r.err)
	assert.NotContains(t, r.err.Error(), "very-secret-value")

	// The help of a command names the variables, never their values.
	r = execute(t, []string{"LAKECTL_CREDENTIALS_SECRET_ACCESS_KEY=very-secret-value", "ICEBERG_REMOTES_TOKEN=tok-secret"}, false, "push", "--help")
	require.NoError(t, r.err)
	assert.True(t, strings.Contains(r.stdout, "LAKECTL_CREDENTIALS_SECRET_ACCESS_KEY"))
	assert.NotContains(t, r.stdout, "very-secret-value")
	assert.NotContains(t, r.stdout, "tok-secret")
}
