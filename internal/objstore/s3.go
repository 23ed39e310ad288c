package objstore

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	icebergio "github.com/apache/iceberg-go/io"
	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/iceberg-remotes/iceberg-remotes/internal/config"
)

// s3Properties adds the S3 settings.
func s3Properties(cfg config.ObjectStore, p map[string]string) error {
	s3 := cfg.S3
	if (s3.AccessKeyID == "") != (s3.SecretAccessKey == "") {
		return errors.New("object_store.s3: access_key_id and secret_access_key must be set together (or both left empty for the default credential chain)")
	}
	// Always present, even when empty: iceberg-go falls back to $AWS_S3_ENDPOINT only when
	// the key is absent, and the service's configuration must be the only source.
	p[icebergio.S3EndpointURL] = s3.Endpoint
	if s3.Region != "" {
		p[icebergio.S3Region] = s3.Region
	}
	if s3.AccessKeyID != "" {
		p[icebergio.S3AccessKeyID] = s3.AccessKeyID
		p[icebergio.S3SecretAccessKey] = s3.SecretAccessKey
	}
	// force_path_style keeps lakeFS's meaning: false is virtual-hosted addressing, also for a
	// custom endpoint (where iceberg-go alone would default to path style).
	p[icebergio.S3ForceVirtualAddressing] = strconv.FormatBool(!s3.ForcePathStyle)
	return nil
}

// awsConfig resolves the AWS configuration once: credentials (static or the default chain),
// region and HTTP client. SDK-level retries are off: Read retries whole attempts itself,
// which also covers a body that breaks off mid-read, and keeps the attempt count bounded
// by one setting.
func awsConfig(s3 config.S3Store, client *http.Client) (aws.Config, error) {
	var lo []func(*awsconfig.LoadOptions) error
	if s3.Region != "" {
		lo = append(lo, awsconfig.WithRegion(s3.Region))
	}
	if s3.AccessKeyID != "" {
		lo = append(lo, awsconfig.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(s3.AccessKeyID, s3.SecretAccessKey, "")))
	}
	if client != nil {
		lo = append(lo, awsconfig.WithHTTPClient(client))
	} else {
		lo = append(lo, awsconfig.WithHTTPClient(awshttp.NewBuildableClient()))
	}
	lo = append(lo, awsconfig.WithRetryer(func() aws.Retryer { return aws.NopRetryer{} }))
	// Loading reads only the environment and shared config files; no network.
	cfg, err := awsconfig.LoadDefaultConfig(context.Background(), lo...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("object_store.s3: loading AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		// S3-compatible stores accept any region in the signature; AWS redirects otherwise.
		cfg.Region = "us-east-1"
	}
	return cfg, nil
}
