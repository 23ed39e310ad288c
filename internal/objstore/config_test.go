package objstore_test

// GCS and Azure cannot be exercised here: no emulator runs on this machine and tests reach
// only loopback. For those two backends these are configuration-mapping tests only: they
// check the iceberg-go FileIO properties built from config.ObjectStore (the keys of
// github.com/apache/iceberg-go/io), which is all this package decides for them; the reads
// themselves are iceberg-go's gocloud backends, the same code path S3 takes in s3_test.go.

import (
	"testing"

	icebergio "github.com/apache/iceberg-go/io"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/config"
	"github.com/iceberg-remotes/iceberg-remotes/internal/objstore"
)

func TestPropertiesS3(t *testing.T) {
	p, err := objstore.Properties(config.ObjectStore{S3: config.S3Store{
		Endpoint: "http://127.0.0.1:9000", Region: "eu-west-1",
		AccessKeyID: "AKID", SecretAccessKey: "SECRET", ForcePathStyle: true,
	}})
	require.NoError(t, err)
	assert.Equal(t, map[string]string{
		icebergio.S3EndpointURL:            "http://127.0.0.1:9000",
		icebergio.S3Region:                 "eu-west-1",
		icebergio.S3AccessKeyID:            "AKID",
		icebergio.S3SecretAccessKey:        "SECRET",
		icebergio.S3ForceVirtualAddressing: "false",
	}, p)

	// Defaults: the default credential chain (no keys), virtual-hosted addressing as in
	// lakeFS, and an explicit empty endpoint so that $AWS_S3_ENDPOINT is not consulted.
	p, err = objstore.Properties(config.ObjectStore{})
	require.NoError(t, err)
	assert.Equal(t, map[string]string{
		icebergio.S3EndpointURL:            "",
		icebergio.S3ForceVirtualAddressing: "true",
	}, p)

	for _, s3 := range []config.S3Store{{AccessKeyID: "AKID"}, {SecretAccessKey: "SECRET-ONLY"}} {
		_, err := objstore.Properties(config.ObjectStore{S3: s3})
		require.Error(t, err)
		assert.Contains(t, err.Error(), "object_store.s3")
		assert.NotContains(t, err.Error(), "SECRET-ONLY")
		_, err = objstore.New(config.ObjectStore{S3: s3}, objstore.Options{})
		require.Error(t, err)
	}
}

func TestPropertiesGCS(t *testing.T) {
	sa := `{"type":"service_account","project_id":"p","private_key_id":"k","private_key":"PRIVATE-KEY-MATERIAL","client_email":"x@p.iam.gserviceaccount.com"}`
	p, err := objstore.Properties(config.ObjectStore{GCS: config.GCSStore{CredentialsJSON: sa}})
	require.NoError(t, err)
	assert.Equal(t, sa, p[icebergio.GCSJSONKey])
	assert.Equal(t, "service_account", p[icebergio.GCSCredType])

	// A user or workload-identity key must name its type, or iceberg-go parses it as a
	// service account and fails.
	user := `{"type":"authorized_user","client_id":"c","client_secret":"USER-SECRET","refresh_token":"r"}`
	p, err = objstore.Properties(config.ObjectStore{GCS: config.GCSStore{CredentialsJSON: user}})
	require.NoError(t, err)
	assert.Equal(t, "authorized_user", p[icebergio.GCSCredType])

	// Empty: application default credentials, no GCS keys at all.
	p, err = objstore.Properties(config.ObjectStore{})
	require.NoError(t, err)
	assert.NotContains(t, p, icebergio.GCSJSONKey)
	assert.NotContains(t, p, icebergio.GCSCredType)

	_, err = objstore.Properties(config.ObjectStore{GCS: config.GCSStore{CredentialsJSON: `{"private_key": "LEAKME`}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "object_store.gcs.credentials_json")
	assert.NotContains(t, err.Error(), "LEAKME")
}

func TestPropertiesAzure(t *testing.T) {
	p, err := objstore.Properties(config.ObjectStore{Azure: config.AzureStore{StorageAccount: "acct", StorageAccessKey: "QUtFWQ=="}})
	require.NoError(t, err)
	assert.Equal(t, "acct", p[icebergio.ADLSSharedKeyAccountName])
	assert.Equal(t, "QUtFWQ==", p[icebergio.ADLSSharedKeyAccountKey])

	// Account without key: iceberg-go's DefaultAzureCredential path; setting the shared-key
	// name alone would make iceberg-go refuse every read.
	p, err = objstore.Properties(config.ObjectStore{Azure: config.AzureStore{StorageAccount: "acct"}})
	require.NoError(t, err)
	assert.NotContains(t, p, icebergio.ADLSSharedKeyAccountName)
	assert.NotContains(t, p, icebergio.ADLSSharedKeyAccountKey)

	_, err = objstore.Properties(config.ObjectStore{Azure: config.AzureStore{StorageAccessKey: "ORPHAN-KEY"}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "object_store.azure")
	assert.NotContains(t, err.Error(), "ORPHAN-KEY")
}
