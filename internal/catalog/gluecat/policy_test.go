package gluecat_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog/gluecat"
	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog/gluecat/gluetest"
)

// Defect 5 (issue 11): max_retries 0 is one attempt and N is 1+N, whatever fails.
func TestMaxRetriesCountsRetries(t *testing.T) {
	isolateAWSEnv(t)
	for _, retries := range []int{0, 1, 3} {
		srv := gluetest.New(t)
		a := newAdapter(t, srv.Config(), func(o *gluecat.Options) { o.Policy.MaxRetries = retries })
		srv.Fail("GetDatabase", "ThrottlingException", 10)
		_, err := a.NamespaceExists(ctx(t), []string{"db"})
		assert.Equal(t, 429, status(t, err))
		assert.Equal(t, retries+1, srv.Calls("GetDatabase"), "max_retries %d", retries)
	}
}

// Defect 5 (issue 11): timeout bounds one attempt, as for every backend: a hung first
// attempt times out and the retry goes through.
func TestTimeoutIsPerAttempt(t *testing.T) {
	isolateAWSEnv(t)
	srv := gluetest.New(t)
	a := newAdapter(t, srv.Config(), func(o *gluecat.Options) {
		o.Policy.Timeout = 300 * time.Millisecond
		o.Policy.MaxRetries = 1
	})
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	srv.Before("GetDatabase", func() {
		select {
		case <-release:
		case <-time.After(3 * time.Second):
		}
	})
	require.NoError(t, a.CreateNamespace(ctx(t), []string{"db"}))
	ok, err := a.NamespaceExists(ctx(t), []string{"db"})
	require.NoError(t, err, "the second attempt has its own timeout")
	assert.True(t, ok)
	assert.Equal(t, 2, srv.Calls("GetDatabase"))
}

// The Glue client's attempts are bounded by httpclient's rule after the SDK's configuration
// has applied AWS_CA_BUNDLE to its own client type: an HTTPS endpoint signed by the bundle is
// trusted, and the same endpoint without the bundle is not.
func TestCABundleStillApplies(t *testing.T) {
	isolateAWSEnv(t)
	srv := gluetest.NewTLS(t)
	_, err := newAdapter(t, srv.Config()).NamespaceExists(ctx(t), []string{"db"})
	require.Error(t, err, "the stand-in's certificate is not trusted without the bundle")

	bundle := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(bundle, srv.CertPEM(), 0o600))
	t.Setenv("AWS_CA_BUNDLE", bundle)
	a := newAdapter(t, srv.Config(), func(o *gluecat.Options) { o.Policy.MaxRetries = 0 })
	require.NoError(t, a.CreateNamespace(ctx(t), []string{"db"}))
	ok, err := a.NamespaceExists(ctx(t), []string{"db"})
	require.NoError(t, err)
	assert.True(t, ok)
}
