package restcat_test

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/apperr"
	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog"
	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog/catalogtest"
	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog/restcat"
	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog/restcat/resttest"
	"github.com/iceberg-remotes/iceberg-remotes/internal/config"
	"github.com/iceberg-remotes/iceberg-remotes/internal/httpclient"
)

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// fastOpts keeps retry backoff short so tests stay quick.
func fastOpts(name string) restcat.Options {
	return restcat.Options{Name: name, Policy: httpclient.Policy{Timeout: 5 * time.Second, MaxRetries: 3, MinBackoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond}}
}

func newAdapter(t *testing.T, cfg config.RESTRemote, opts restcat.Options) *restcat.Adapter {
	t.Helper()
	a, err := restcat.New(testCtx(t), cfg, opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = a.Close() })
	return a
}

func TestConformanceOAuth2ClientCredentials(t *testing.T) {
	catalogtest.Run(t, catalogtest.Options{
		NestedNamespaces: true,
		New: func(t *testing.T) catalog.Adapter {
			s := resttest.New(t, resttest.Options{ClientID: "lakefs", ClientSecret: "s3cr3t", Prefix: "wh1", Warehouse: "analytics"})
			a := newAdapter(t, config.RESTRemote{URI: s.URL, Credential: "lakefs:s3cr3t", OAuthScope: "catalog", Warehouse: "analytics"}, fastOpts("polaris"))
			t.Cleanup(func() {
				assert.Positive(t, s.TokensIssued(), "the adapter authenticated through the token endpoint")
				for _, c := range s.Calls() {
					if c.Path != "/v1/config" {
						assert.True(t, strings.HasPrefix(c.Path, "/v1/wh1/"), "prefix advertised by the server is used: %s", c.Path)
					}
				}
			})
			return a
		},
	})
}

func TestConformanceBearerToken(t *testing.T) {
	catalogtest.Run(t, catalogtest.Options{
		NestedNamespaces: true,
		New: func(t *testing.T) catalog.Adapter {
			s := resttest.New(t, resttest.Options{Token: "static-token"})
			return newAdapter(t, config.RESTRemote{URI: s.URL, Token: "static-token", Headers: map[string]string{"X-Tenant": "lakefs"}}, fastOpts("tok"))
		},
	})
}

func TestConformanceServerRejectsOverwrite(t *testing.T) {
	for name, mode := range map[string]resttest.OverwriteMode{"rejected": resttest.OverwriteRejected, "ignored": resttest.OverwriteIgnored, "unsupported (406)": resttest.OverwriteUnsupported} {
		t.Run(name, func(t *testing.T) {
			catalogtest.Run(t, catalogtest.Options{
				NestedNamespaces: true,
				NonAtomicReplace: true,
				New: func(t *testing.T) catalog.Adapter {
					s := resttest.New(t, resttest.Options{Token: "tok", Overwrite: mode, Prefix: "p"})
					return newAdapter(t, config.RESTRemote{URI: s.URL, Token: "tok", Prefix: "p"}, fastOpts("old"))
				},
			})
		})
	}
}

// ReplaceTable sends register with "overwrite": true on the adapter's authenticated session,
// and DropTable never asks for a purge.
func TestReplaceSendsOverwriteAndDropDoesNotPurge(t *testing.T) {
	s := resttest.New(t, resttest.Options{ClientID: "id", ClientSecret: "secret"})
	a := newAdapter(t, config.RESTRemote{URI: s.URL, Credential: "id:secret"}, fastOpts("r"))
	ctx := testCtx(t)
	locs := catalogtest.WriteMetadataFiles(t, t.TempDir(), 2)
	id := catalog.Ident{Namespace: []string{"a", "b"}, Table: "t"}
	require.NoError(t, a.CreateNamespace(ctx, id.Namespace))
	require.NoError(t, a.RegisterTable(ctx, id, locs[0], catalog.Provenance{}))
	atomic, err := a.ReplaceTable(ctx, id, locs[0], locs[1], catalog.Provenance{})
	require.NoError(t, err)
	assert.True(t, atomic)
	require.NoError(t, a.DropTable(ctx, id))

	var overwrites, drops int
	for _, c := range s.Calls() {
		if c.Method == http.MethodPost && c.Path == "/v1/namespaces/a%1Fb/register" && strings.Contains(string(c.Body), `"overwrite":true`) {
			overwrites++
			assert.Contains(t, string(c.Body), `"metadata-location":"`+locs[1]+`"`)
		}
		if c.Method == http.MethodDelete {
			drops++
			assert.Equal(t, "false", c.Query.Get("purgeRequested"))
		}
	}
	assert.Equal(t, 1, overwrites)
	assert.Equal(t, 1, drops)
	_, ok := s.TableLocation(id.Namespace, id.Table)
	assert.False(t, ok)
}

func TestRetriesTransient503(t *testing.T) {
	s := resttest.New(t, resttest.Options{Token: "tok"})
	a := newAdapter(t, config.RESTRemote{URI: s.URL, Token: "tok"}, fastOpts("flaky"))
	ctx := testCtx(t)
	locs := catalogtest.WriteMetadataFiles(t, t.TempDir(), 2)
	id := catalog.Ident{Namespace: []string{"db"}, Table: "t"}
	require.NoError(t, a.CreateNamespace(ctx, id.Namespace))

	s.FailNext(2, http.StatusServiceUnavailable)
	require.NoError(t, a.RegisterTable(ctx, id, locs[0], catalog.Provenance{}), "POST retried after 503")
	assert.Equal(t, 0, s.PendingFaults())

	s.FailNext(2, http.StatusServiceUnavailable)
	got, err := a.LoadTable(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, locs[0], got)
	assert.Equal(t, 0, s.PendingFaults())

	s.FailNext(2, http.StatusServiceUnavailable)
	_, err = a.ReplaceTable(ctx, id, locs[0], locs[1], catalog.Provenance{})
	require.NoError(t, err, "the adapter's own overwrite request is retried too")

	// Retries are bounded: more failures than retries surface as 503.
	s.FailNext(10, http.StatusServiceUnavailable)
	_, err = a.LoadTable(ctx, id)
	require.Error(t, err)
	assert.Equal(t, http.StatusServiceUnavailable, apperr.StatusOf(err))
	assert.Equal(t, 6, s.PendingFaults(), "one attempt and three retries")
}

func TestRemoteFailuresAreMapped(t *testing.T) {
	ctx := testCtx(t)
	s := resttest.New(t, resttest.Options{Token: "tok"})
	a := newAdapter(t, config.RESTRemote{URI: s.URL, Token: "tok"}, fastOpts("mapped"))
	id := catalog.Ident{Namespace: []string{"db"}, Table: "t"}
	for status, want := range map[int]int{500: 502, 502: 502, 503: 503} {
		s.FailNext(10, status)
		_, err := a.LoadTable(ctx, id)
		assert.Equal(t, want, apperr.StatusOf(err), "remote %d: %v", status, err)
		for s.PendingFaults() > 0 {
			_, _ = a.NamespaceExists(ctx, []string{"x"})
		}
	}
}

func TestRemoteAuthFailureIs502(t *testing.T) {
	ctx := testCtx(t)
	s := resttest.New(t, resttest.Options{ClientID: "id", ClientSecret: "secret"})

	_, err := restcat.New(ctx, config.RESTRemote{URI: s.URL, Credential: "id:wrong-secret"}, fastOpts("polaris"))
	require.Error(t, err)
	assert.Equal(t, http.StatusBadGateway, apperr.StatusOf(err))
	assert.Contains(t, apperr.PublicMessage(err), `remote "polaris"`)
	assert.Contains(t, apperr.PublicMessage(err), "rejected the configured credentials")
	assert.NotContains(t, err.Error(), "wrong-secret")

	_, err = restcat.New(ctx, config.RESTRemote{URI: s.URL, Token: "not-a-token"}, fastOpts("polaris"))
	assert.Equal(t, http.StatusBadGateway, apperr.StatusOf(err), "%v", err)

	a := newAdapter(t, config.RESTRemote{URI: s.URL, Credential: "id:secret"}, fastOpts("polaris"))
	ok, err := a.NamespaceExists(ctx, []string{"db"})
	require.NoError(t, err)
	assert.False(t, ok)
	s.RevokeTokens()
	_, err = a.NamespaceExists(ctx, []string{"db"})
	assert.Equal(t, http.StatusBadGateway, apperr.StatusOf(err), "%v", err)
	assert.Contains(t, apperr.PublicMessage(err), `remote "polaris"`)
	assert.Equal(t, http.StatusBadGateway, apperr.StatusOf(a.Ping(ctx)))
}

// Tokens that expire are renewed by the adapter without failing a request.
func TestExpiringTokensAreRenewed(t *testing.T) {
	s := resttest.New(t, resttest.Options{ClientID: "id", ClientSecret: "secret", TokenTTL: time.Second})
	// oauth_server_uri given explicitly (here the same endpoint the default would pick).
	a := newAdapter(t, config.RESTRemote{URI: s.URL, Credential: "id:secret", OAuthServerURI: s.URL + "/v1/oauth/tokens"}, fastOpts("r"))
	ctx := testCtx(t)
	require.NoError(t, a.CreateNamespace(ctx, []string{"db"}))
	before := s.TokensIssued()
	time.Sleep(1100 * time.Millisecond)
	ok, err := a.NamespaceExists(ctx, []string{"db"})
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Greater(t, s.TokensIssued(), before)
}

// stallTransport blocks requests while stall is set, to provoke timeouts.
type stallTransport struct {
	stall atomic.Bool
	next  http.RoundTripper
}

func (s *stallTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if s.stall.Load() {
		<-r.Context().Done()
		return nil, r.Context().Err()
	}
	return s.next.RoundTrip(r)
}

func TestTimeoutIs504(t *testing.T) {
	s := resttest.New(t, resttest.Options{})
	st := &stallTransport{next: http.DefaultTransport}
	opts := fastOpts("slow")
	opts.Policy.Timeout, opts.Policy.MaxRetries, opts.Transport = 200*time.Millisecond, 1, st
	a := newAdapter(t, config.RESTRemote{URI: s.URL}, opts)
	st.stall.Store(true)
	start := time.Now()
	_, err := a.LoadTable(testCtx(t), catalog.Ident{Namespace: []string{"db"}, Table: "t"})
	assert.Equal(t, http.StatusGatewayTimeout, apperr.StatusOf(err), "%v", err)
	assert.Less(t, time.Since(start), 5*time.Second)
}

func TestTLSWithCAFile(t *testing.T) {
	ctx := testCtx(t)
	s := resttest.New(t, resttest.Options{TLS: true, Token: "tok"})
	_, err := restcat.New(ctx, config.RESTRemote{URI: s.URL, Token: "tok"}, fastOpts("tls"))
	assert.Equal(t, http.StatusBadGateway, apperr.StatusOf(err), "unknown CA: %v", err)

	ca := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(ca, s.CACertPEM(), 0o600))
	a := newAdapter(t, config.RESTRemote{URI: s.URL, Token: "tok", TLS: config.TLS{CAFile: ca}}, fastOpts("tls"))
	require.NoError(t, a.Ping(ctx))
	a2 := newAdapter(t, config.RESTRemote{URI: s.URL, Token: "tok", TLS: config.TLS{InsecureSkipVerify: true}}, fastOpts("tls"))
	require.NoError(t, a2.Ping(ctx))
}

func TestConfigErrors(t *testing.T) {
	ctx := testCtx(t)
	for name, cfg := range map[string]config.RESTRemote{
		"no uri":               {},
		"bad uri":              {URI: "ftp://x"},
		"sigv4 without name":   {URI: "http://127.0.0.1:1", SigV4: config.SigV4{Enabled: true, Region: "us-east-1"}},
		"sigv4 and token":      {URI: "http://127.0.0.1:1", Token: "t", SigV4: config.SigV4{Enabled: true, Service: "glue"}},
		"token and credential": {URI: "http://127.0.0.1:1", Token: "t", Credential: "a:b"},
	} {
		_, err := restcat.New(ctx, cfg, fastOpts("bad"))
		assert.Equal(t, http.StatusBadRequest, apperr.StatusOf(err), "%s: %v", name, err)
	}
	s := resttest.New(t, resttest.Options{Warehouse: "analytics"})
	_, err := restcat.New(ctx, config.RESTRemote{URI: s.URL, Warehouse: "other"}, fastOpts("wh"))
	assert.Equal(t, http.StatusBadGateway, apperr.StatusOf(err), "unknown warehouse: %v", err)
}

// A re-point to a metadata file the remote cannot read fails and leaves the table where it
// was, whether the server supports overwrite (it refuses the file) or not (the fallback's
// register fails and the old registration is restored). A 400 about the file itself must not
// be taken for "overwrite unsupported".
func TestReplaceToUnreadableMetadataKeepsTable(t *testing.T) {
	for name, mode := range map[string]resttest.OverwriteMode{"supported": resttest.OverwriteSupported, "rejected": resttest.OverwriteRejected} {
		t.Run(name, func(t *testing.T) {
			ctx := testCtx(t)
			s := resttest.New(t, resttest.Options{Overwrite: mode})
			a := newAdapter(t, config.RESTRemote{URI: s.URL}, fastOpts("r"))
			locs := catalogtest.WriteMetadataFiles(t, t.TempDir(), 1)
			id := catalog.Ident{Namespace: []string{"db"}, Table: "t"}
			require.NoError(t, a.CreateNamespace(ctx, id.Namespace))
			require.NoError(t, a.RegisterTable(ctx, id, locs[0], catalog.Provenance{}))
			_, err := a.ReplaceTable(ctx, id, locs[0], "file://"+t.TempDir()+"/missing.metadata.json", catalog.Provenance{})
			require.Error(t, err)
			assert.Equal(t, http.StatusBadGateway, apperr.StatusOf(err), "%v", err)
			got, err := a.LoadTable(ctx, id)
			require.NoError(t, err)
			assert.Equal(t, locs[0], got)
			drops := 0
			for _, c := range s.Calls() {
				if c.Method == http.MethodDelete {
					drops++
				}
			}
			if mode == resttest.OverwriteSupported {
				assert.Zero(t, drops, "no fallback when the server supports overwrite")
			}
		})
	}
}

// throttleTransport answers 429 (as a rate-limiting gateway in front of a catalog would)
// while set. The contract-checked stand-in cannot send it: the spec lists no 429.
type throttleTransport struct {
	on    atomic.Bool
	count atomic.Int32
	next  http.RoundTripper
}

func (s *throttleTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if s.on.Load() {
		s.count.Add(1)
		body := `{"error":{"message":"slow down","type":"TooManyRequests","code":429}}`
		return &http.Response{
			StatusCode: http.StatusTooManyRequests, Request: r, ContentLength: int64(len(body)),
			Header: http.Header{"Content-Type": {"application/json"}, "Retry-After": {"0"}},
			Body:   io.NopCloser(strings.NewReader(body)),
		}, nil
	}
	return s.next.RoundTrip(r)
}

func TestThrottlingIs429AfterRetries(t *testing.T) {
	s := resttest.New(t, resttest.Options{})
	tt := &throttleTransport{next: http.DefaultTransport}
	opts := fastOpts("busy")
	opts.Transport = tt
	a := newAdapter(t, config.RESTRemote{URI: s.URL}, opts)
	tt.on.Store(true)
	_, err := a.LoadTable(testCtx(t), catalog.Ident{Namespace: []string{"db"}, Table: "t"})
	assert.Equal(t, http.StatusTooManyRequests, apperr.StatusOf(err), "%v", err)
	assert.EqualValues(t, 4, tt.count.Load(), "one attempt and three retries")
	err = a.CreateNamespace(testCtx(t), []string{"db"})
	assert.Equal(t, http.StatusTooManyRequests, apperr.StatusOf(err), "%v", err)
}
