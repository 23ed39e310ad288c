package gluecat_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/apperr"
	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog"
	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog/catalogtest"
	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog/gluecat"
	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog/gluecat/gluetest"
	"github.com/iceberg-remotes/iceberg-remotes/internal/config"
	"github.com/iceberg-remotes/iceberg-remotes/internal/httpclient"
)

// The tests never reach AWS: credentials come from the config (or the isolated environment
// below) and every endpoint is the loopback stand-in.
func isolateAWSEnv(t *testing.T) {
	t.Setenv("AWS_CONFIG_FILE", "/nonexistent")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CA_BUNDLE", "") // a custom bundle cannot be applied to a test's own *http.Client
}

func newAdapter(t *testing.T, cfg config.GlueRemote, mod ...func(*gluecat.Options)) *gluecat.Adapter {
	t.Helper()
	opts := gluecat.Options{Name: "glue_test", Policy: httpclient.Policy{Timeout: 5 * time.Second, MaxRetries: 3, MaxBackoff: 20 * time.Millisecond}}
	for _, m := range mod {
		m(&opts)
	}
	a, err := gluecat.New(context.Background(), cfg, opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = a.Close() })
	return a
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

func status(t *testing.T, err error) int {
	t.Helper()
	require.Error(t, err)
	return apperr.StatusOf(err)
}

var id = catalog.Ident{Namespace: []string{"db"}, Table: "events"}

func TestConformance(t *testing.T) {
	isolateAWSEnv(t)
	catalogtest.Run(t, catalogtest.Options{
		New: func(t *testing.T) catalog.Adapter {
			return newAdapter(t, gluetest.New(t).Config())
		},
		BatchRead: true,
	})
}

func TestMultiLevelNamespaceIs400(t *testing.T) {
	isolateAWSEnv(t)
	srv := gluetest.New(t)
	a := newAdapter(t, srv.Config())
	err := a.CreateNamespace(ctx(t), []string{"a", "b"})
	assert.Equal(t, 400, status(t, err))
	assert.Contains(t, err.Error(), "single-level")
	_, err = a.LoadTable(ctx(t), catalog.Ident{Namespace: []string{"a", "b"}, Table: "t"})
	assert.Equal(t, 400, status(t, err))
	assert.Zero(t, srv.Calls("CreateDatabase")+srv.Calls("GetTable"), "rejected before calling Glue")
}

func registered(t *testing.T, a *gluecat.Adapter, n int, prov catalog.Provenance) []string {
	t.Helper()
	locs := catalogtest.WriteMetadataFiles(t, t.TempDir(), n)
	require.NoError(t, a.CreateNamespace(ctx(t), id.Namespace))
	require.NoError(t, a.RegisterTable(ctx(t), id, locs[0], prov))
	return locs
}

func TestRacingUpdateTableIs409(t *testing.T) {
	isolateAWSEnv(t)
	srv := gluetest.New(t)
	a := newAdapter(t, srv.Config())
	locs := registered(t, a, 2, catalog.Provenance{})
	// Another writer updates the table between our GetTable and UpdateTable: Glue's
	// VersionId check must refuse our update.
	srv.Before("UpdateTable", func() { srv.SetParameter("db", "events", "owner_note", "someone else") })
	_, err := a.ReplaceTable(ctx(t), id, locs[0], locs[1], catalog.Provenance{})
	assert.Equal(t, 409, status(t, err))
	assert.Contains(t, err.Error(), "concurrently")
	got, err := a.LoadTable(ctx(t), id)
	require.NoError(t, err)
	assert.Equal(t, locs[0], got)
	assert.Equal(t, 1, srv.Calls("UpdateTable"), "a concurrent modification is not retried")
}

func TestInjectedConcurrentModificationIs409(t *testing.T) {
	isolateAWSEnv(t)
	srv := gluetest.New(t)
	a := newAdapter(t, srv.Config())
	locs := registered(t, a, 2, catalog.Provenance{})
	srv.Fail("UpdateTable", "ConcurrentModificationException", 1)
	_, err := a.ReplaceTable(ctx(t), id, locs[0], locs[1], catalog.Provenance{})
	assert.Equal(t, 409, status(t, err))
	// After the fault is consumed the same re-point works.
	atomic, err := a.ReplaceTable(ctx(t), id, locs[0], locs[1], catalog.Provenance{})
	require.NoError(t, err)
	assert.True(t, atomic)
}

func TestThrottlingIsRetried(t *testing.T) {
	isolateAWSEnv(t)
	srv := gluetest.New(t)
	a := newAdapter(t, srv.Config())
	locs := registered(t, a, 1, catalog.Provenance{})
	before := srv.Calls("GetTable")
	srv.Fail("GetTable", "ThrottlingException", 2)
	got, err := a.LoadTable(ctx(t), id)
	require.NoError(t, err)
	assert.Equal(t, locs[0], got)
	assert.Equal(t, 3, srv.Calls("GetTable")-before)
}

func TestThrottlingBeyondRetriesIs429(t *testing.T) {
	isolateAWSEnv(t)
	srv := gluetest.New(t)
	a := newAdapter(t, srv.Config(), func(o *gluecat.Options) { o.Policy.MaxRetries = 1 })
	srv.Fail("GetDatabase", "ThrottlingException", 5)
	_, err := a.NamespaceExists(ctx(t), []string{"db"})
	assert.Equal(t, 429, status(t, err))
	assert.Equal(t, 2, srv.Calls("GetDatabase"), "one attempt plus MaxRetries")
}

func TestServiceErrorsAre503(t *testing.T) {
	isolateAWSEnv(t)
	srv := gluetest.New(t)
	a := newAdapter(t, srv.Config(), func(o *gluecat.Options) { o.Policy.MaxRetries = 1 })
	srv.Fail("GetDatabases", "InternalServiceException", 5)
	assert.Equal(t, 503, status(t, a.Ping(ctx(t))))
	assert.Equal(t, 2, srv.Calls("GetDatabases"))
}

func TestBadCredentialsAre502(t *testing.T) {
	isolateAWSEnv(t)
	srv := gluetest.New(t)
	require.NoError(t, newAdapter(t, srv.Config()).Ping(ctx(t)), "good credentials")

	badKey := srv.Config()
	badKey.AccessKeyID = "AKIDUNKNOWN000000000"
	badSecret := srv.Config()
	badSecret.SecretAccessKey = "not-the-secret"
	for name, cfg := range map[string]config.GlueRemote{"unknown key": badKey, "wrong secret": badSecret} {
		t.Run(name, func(t *testing.T) {
			a := newAdapter(t, cfg)
			err := a.Ping(ctx(t))
			assert.Equal(t, 502, status(t, err))
			var ae *apperr.Error
			require.ErrorAs(t, err, &ae)
			assert.Contains(t, ae.Message, `"glue_test"`, "the message names the remote")
			assert.NotContains(t, err.Error(), cfg.SecretAccessKey)
			_, err = a.LoadTable(ctx(t), id)
			assert.Equal(t, 502, status(t, err))
		})
	}
}

func TestAccessDeniedIs502(t *testing.T) {
	isolateAWSEnv(t)
	srv := gluetest.New(t)
	a := newAdapter(t, srv.Config())
	srv.Fail("GetTable", "AccessDeniedException", 1)
	_, err := a.LoadTable(ctx(t), id)
	assert.Equal(t, 502, status(t, err))
	assert.Contains(t, err.Error(), "refused the configured credentials")
	assert.Equal(t, 1, srv.Calls("GetTable"), "an authorization failure is not retried")
}

func TestProvenanceAndPointersStored(t *testing.T) {
	isolateAWSEnv(t)
	srv := gluetest.New(t)
	a := newAdapter(t, srv.Config())
	locs := registered(t, a, 2, catalog.Provenance{Repository: "repo", Reference: "main", Commit: "c1"})
	st, ok := srv.Table("db", "events")
	require.True(t, ok)
	assert.Equal(t, "EXTERNAL_TABLE", st.TableType)
	assert.Equal(t, map[string]string{
		"table_type": "ICEBERG", "metadata_location": locs[0],
		"lakefs.repository": "repo", "lakefs.reference": "main", "lakefs.commit": "c1",
	}, st.Parameters)
	assert.Equal(t, strings.TrimSuffix(locs[0][:strings.LastIndex(locs[0], "/")], "/metadata"), st.Location)

	// A parameter set by someone else survives the re-point; stale provenance does not.
	srv.SetParameter("db", "events", "comment", "kept")
	_, err := a.ReplaceTable(ctx(t), id, locs[0], locs[1], catalog.Provenance{Repository: "repo", Commit: "c2"})
	require.NoError(t, err)
	st, _ = srv.Table("db", "events")
	assert.Equal(t, map[string]string{
		"table_type": "ICEBERG", "metadata_location": locs[1], "previous_metadata_location": locs[0],
		"lakefs.repository": "repo", "lakefs.commit": "c2", "comment": "kept",
	}, st.Parameters)
	assert.Equal(t, "EXTERNAL_TABLE", st.TableType)
	assert.NotEmpty(t, st.Location, "storage descriptor carried over")
}

func TestSkipArchivePassedThrough(t *testing.T) {
	isolateAWSEnv(t)
	for _, skip := range []bool{true, false} {
		srv := gluetest.New(t)
		cfg := srv.Config()
		cfg.SkipArchive = skip
		cfg.CatalogID = "123456789012"
		a := newAdapter(t, cfg)
		locs := registered(t, a, 2, catalog.Provenance{})
		_, err := a.ReplaceTable(ctx(t), id, locs[0], locs[1], catalog.Provenance{})
		require.NoError(t, err)
		ups := srv.Updates()
		require.Len(t, ups, 1)
		assert.Equal(t, skip, aws.ToBool(ups[0].SkipArchive))
		assert.Equal(t, "123456789012", aws.ToString(ups[0].CatalogId))
		assert.Equal(t, "1", aws.ToString(ups[0].VersionId), "optimistic lock on the version read")
		st, _ := srv.Table("db", "events")
		if skip {
			assert.Zero(t, st.Archived)
		} else {
			assert.Equal(t, 1, st.Archived)
		}
	}
}

func TestNonIcebergTableIs409(t *testing.T) {
	isolateAWSEnv(t)
	srv := gluetest.New(t)
	a := newAdapter(t, srv.Config())
	srv.PutTable("db", types.TableInput{Name: aws.String("events"), TableType: aws.String("EXTERNAL_TABLE"),
		Parameters: map[string]string{"classification": "parquet"}})
	_, err := a.LoadTable(ctx(t), id)
	assert.Equal(t, 409, status(t, err))
	assert.Contains(t, err.Error(), "not an Iceberg table")
	locs := catalogtest.WriteMetadataFiles(t, t.TempDir(), 1)
	assert.Equal(t, 409, status(t, a.RegisterTable(ctx(t), id, locs[0], catalog.Provenance{})))
	_, err = a.ReplaceTable(ctx(t), id, locs[0], locs[0], catalog.Provenance{})
	assert.Equal(t, 409, status(t, err))
}

func TestTimeoutIs504(t *testing.T) {
	isolateAWSEnv(t)
	srv := gluetest.New(t)
	a := newAdapter(t, srv.Config(), func(o *gluecat.Options) { o.Policy.Timeout, o.Policy.MaxRetries = 200*time.Millisecond, 0 })
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	srv.Before("GetDatabase", func() {
		select {
		case <-release:
		case <-time.After(3 * time.Second):
		}
	})
	start := time.Now()
	_, err := a.NamespaceExists(ctx(t), []string{"db"})
	assert.Equal(t, 504, status(t, err))
	assert.Less(t, time.Since(start), 2*time.Second)
}

func TestUnreachableIs502(t *testing.T) {
	isolateAWSEnv(t)
	srv := gluetest.New(t)
	cfg := srv.Config()
	cfg.Endpoint = "http://127.0.0.1:1" // nothing listens on port 1
	a := newAdapter(t, cfg, func(o *gluecat.Options) { o.Policy.MaxRetries = 1 })
	assert.Equal(t, http.StatusBadGateway, status(t, a.Ping(ctx(t))))
}

func TestNewValidatesConfig(t *testing.T) {
	_, err := gluecat.New(context.Background(), config.GlueRemote{}, gluecat.Options{Name: "x"})
	assert.Equal(t, 400, status(t, err))
	_, err = gluecat.New(context.Background(), config.GlueRemote{Region: "us-east-1", AccessKeyID: "a"}, gluecat.Options{Name: "x"})
	assert.Equal(t, 400, status(t, err))
}

func TestDefaultCredentialChain(t *testing.T) {
	isolateAWSEnv(t)
	srv := gluetest.New(t)
	t.Setenv("AWS_ACCESS_KEY_ID", gluetest.AccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", gluetest.SecretAccessKey)
	cfg := srv.Config()
	cfg.AccessKeyID, cfg.SecretAccessKey = "", ""
	require.NoError(t, newAdapter(t, cfg).Ping(ctx(t)), "keys from the environment via the default chain")
}
