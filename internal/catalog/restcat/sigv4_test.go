package restcat_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog"
	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog/catalogtest"
	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog/restcat/resttest"
	"github.com/iceberg-remotes/iceberg-remotes/internal/config"
)

// sigv4Checker verifies, before passing each request on, that it carries a valid SigV4
// signature for the expected key, region and service: it re-signs a copy holding only the
// signed headers at the request's own X-Amz-Date and compares the signatures.
type sigv4Checker struct {
	creds            aws.Credentials
	region, service  string
	next             http.RoundTripper
	mu               sync.Mutex
	verified, failed []string
}

func (c *sigv4Checker) RoundTrip(r *http.Request) (*http.Response, error) {
	var body []byte
	if r.Body != nil {
		body, _ = io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	what := r.Method + " " + r.URL.Path
	if err := c.verify(r, body); err != nil {
		c.mu.Lock()
		c.failed = append(c.failed, what+": "+err.Error())
		c.mu.Unlock()
	} else {
		c.mu.Lock()
		c.verified = append(c.verified, what)
		c.mu.Unlock()
	}
	return c.next.RoundTrip(r)
}

func (c *sigv4Checker) verify(r *http.Request, body []byte) error {
	auth := r.Header.Get("Authorization")
	if !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 ") {
		return fmt.Errorf("not signed: %q", auth)
	}
	var signed []string
	for _, part := range strings.Split(strings.TrimPrefix(auth, "AWS4-HMAC-SHA256 "), ", ") {
		if v, ok := strings.CutPrefix(part, "SignedHeaders="); ok {
			signed = strings.Split(v, ";")
		}
	}
	ts, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if err != nil {
		return err
	}
	sum := sha256.Sum256(body)
	hash := hex.EncodeToString(sum[:])
	if got := r.Header.Get("X-Amz-Content-Sha256"); got != hash {
		return fmt.Errorf("payload hash %s does not match body", got)
	}
	cp, err := http.NewRequest(r.Method, r.URL.String(), bytes.NewReader(body))
	if err != nil {
		return err
	}
	for _, h := range signed {
		if h != "host" {
			cp.Header.Set(h, r.Header.Get(h))
		}
	}
	if err := v4.NewSigner().SignHTTP(r.Context(), c.creds, cp, hash, c.service, c.region, ts); err != nil {
		return err
	}
	if cp.Header.Get("Authorization") != auth {
		return fmt.Errorf("signature mismatch")
	}
	return nil
}

func TestSigV4SignsEveryRequest(t *testing.T) {
	ctx := testCtx(t)
	s := resttest.New(t, resttest.Options{})
	chk := &sigv4Checker{
		creds:  aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "wJalrXUtnFEMI"},
		region: "eu-west-1", service: "glue", next: http.DefaultTransport,
	}
	opts := fastOpts("glue-rest")
	opts.Transport = chk
	a := newAdapter(t, config.RESTRemote{URI: s.URL, SigV4: config.SigV4{
		Enabled: true, Region: "eu-west-1", Service: "glue", AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "wJalrXUtnFEMI",
	}}, opts)

	locs := catalogtest.WriteMetadataFiles(t, t.TempDir(), 2)
	id := catalog.Ident{Namespace: []string{"db"}, Table: "t"}
	require.NoError(t, a.CreateNamespace(ctx, id.Namespace))
	require.NoError(t, a.RegisterTable(ctx, id, locs[0], catalog.Provenance{}))
	atomic, err := a.ReplaceTable(ctx, id, locs[0], locs[1], catalog.Provenance{})
	require.NoError(t, err)
	assert.True(t, atomic)
	require.NoError(t, a.Ping(ctx))

	chk.mu.Lock()
	defer chk.mu.Unlock()
	assert.Empty(t, chk.failed)
	assert.Contains(t, chk.verified, "POST /v1/namespaces/db/register", "iceberg-go's and our own requests are signed")
	assert.Contains(t, chk.verified, "GET /v1/namespaces/db/tables/t")
	assert.Contains(t, chk.verified, "GET /v1/config")
	assert.GreaterOrEqual(t, len(chk.verified), 6)

	// The checker is not vacuous: a wrong secret is detected.
	bad := &sigv4Checker{creds: aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "other"}, region: "eu-west-1", service: "glue", next: http.DefaultTransport}
	opts.Transport = bad
	_ = newAdapter(t, config.RESTRemote{URI: s.URL, SigV4: config.SigV4{
		Enabled: true, Region: "eu-west-1", Service: "glue", AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "wJalrXUtnFEMI",
	}}, opts)
	bad.mu.Lock()
	defer bad.mu.Unlock()
	assert.NotEmpty(t, bad.failed)
}
