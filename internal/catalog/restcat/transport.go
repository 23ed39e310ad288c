package restcat

// TLS and SigV4 settings of the HTTP transport a REST remote is reached through.

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/iceberg-remotes/iceberg-remotes/internal/config"
)

func tlsConfig(c config.TLS) (*tls.Config, error) {
	if !c.InsecureSkipVerify && c.CAFile == "" {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: c.InsecureSkipVerify} //nolint:gosec // explicit opt-in
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("read ca_file: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, errors.New("ca_file holds no PEM certificate")
		}
		cfg.RootCAs = pool
	}
	return cfg, nil
}

func awsConfig(ctx context.Context, s config.SigV4) (aws.Config, error) {
	if s.AccessKeyID != "" {
		return aws.Config{
			Region:      s.Region,
			Credentials: credentials.NewStaticCredentialsProvider(s.AccessKeyID, s.SecretAccessKey, ""),
		}, nil
	}
	var lo []func(*awsconfig.LoadOptions) error
	if s.Region != "" {
		lo = append(lo, awsconfig.WithRegion(s.Region))
	}
	return awsconfig.LoadDefaultConfig(ctx, lo...)
}
