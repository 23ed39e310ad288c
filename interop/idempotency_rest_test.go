package interop

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/httpclient"
	"github.com/iceberg-remotes/iceberg-remotes/interop/peers"
)

// What Apache Iceberg's reference REST server advertises about Idempotency-Key in
// GET /v1/config (the spec's idempotency-key-lifetime; absent means the client must assume
// keys are not honoured, and restcat then sends none), and what it does with a key anyway.
// docs/design.md records the finding; this test fails once a new server version changes it.
func TestApacheRESTIdempotencyKeyLifetime(t *testing.T) {
	s3 := peers.StartS3(t, "interop")
	real := peers.StartApacheREST(t, s3)
	p := newRESTProbe(t, real.URI)
	status, body := p.do(http.MethodGet, real.URI+"/v1/config", nil)
	require.Equal(t, http.StatusOK, status, body)
	peers.Logf(t, "apache-rest %s /v1/config: %s", real.Version, body)
	var cfg map[string]json.RawMessage
	require.NoError(t, json.Unmarshal([]byte(body), &cfg))
	lifetime, advertised := cfg["idempotency-key-lifetime"]
	require.False(t, advertised, "apache-rest advertises idempotency-key-lifetime %s now: restcat sends keys to it; update docs/design.md", lifetime)

	// Whether it honours a key it does not advertise: the same create-namespace, and the same
	// register, twice with one key. A replay answers 200 again; a server that ignores the key
	// answers 409 AlreadyExists.
	keyed := func(u, body, key string) int {
		req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", key)
		rsp, err := p.hc.Do(req)
		require.NoError(t, err)
		rsp.Body.Close()
		return rsp.StatusCode
	}
	key := httpclient.NewIdempotencyKey()
	ns := `{"namespace":["idem"]}`
	got := []int{keyed(p.base+"/namespaces", ns, key), keyed(p.base+"/namespaces", ns, key),
		keyed(p.base+"/namespaces", ns, httpclient.NewIdempotencyKey())}
	loc := s3MetadataFiles(s3, "idempotency", false)(t, 1)[0]
	reg := `{"name":"t","metadata-location":"` + loc + `"}`
	key = httpclient.NewIdempotencyKey()
	got = append(got, keyed(p.base+"/namespaces/idem/register", reg, key), keyed(p.base+"/namespaces/idem/register", reg, key),
		keyed(p.base+"/namespaces/idem/register", reg, httpclient.NewIdempotencyKey()))
	peers.Logf(t, "create namespace: same key twice, then a new key; register: the same: %v", got)
	require.Equal(t, []int{200, 200, 409, 200, 200, 409}, got,
		"apache-rest 1.11.0 replays a repeated key (iceberg-core's CatalogHandlers.withIdempotency) without advertising it")
}
