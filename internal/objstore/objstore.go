// Package objstore is the service's own read access to Iceberg metadata files in the object
// store (docs/design.md sections 6 and 9).
//
// Pull reads the remote table's current metadata.json, which an external engine wrote and
// which is not (yet) in lakeFS, through this package: to parse it, and to learn its true size
// and checksum so that it can be linked into lakeFS without copying (lakeFS serves a linked
// object by the size recorded at link time; a wrong size truncates it).
//
// Reads go through iceberg-go's own FileIO (github.com/apache/iceberg-go/io and its gocloud
// backends), so the service reads exactly as Iceberg writers write: same URI grammar for
// s3/s3a/s3n, gs, abfs/abfss/wasb/wasbs and file, same addressing rules. The property map is
// built here from config.ObjectStore; catalog.Load and ~/.iceberg-go.yaml are never used.
// For S3 the AWS configuration (HTTP client, credentials, region, no SDK-level retries) is
// handed to iceberg-go through the context (utils.WithAwsConfig), which is how iceberg-go
// accepts an ambient AWS config.
//
// Each attempt has its own timeout; attempts are retried with jittered exponential backoff on
// throttling, 5xx, timeouts and network errors, never on other 4xx answers. Every failure is an
// *apperr.Error whose message names the location and never carries a secret. Nothing is
// decompressed here: the caller (internal/metafile) recognises and decompresses gzip; size and
// checksum are those of the raw bytes stored.
package objstore

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"

	// iceberg-go's object-store backends register their schemes by import.
	_ "github.com/apache/iceberg-go/io/gocloud/azure"
	_ "github.com/apache/iceberg-go/io/gocloud/gcs"
	_ "github.com/apache/iceberg-go/io/gocloud/s3"

	"github.com/iceberg-remotes/iceberg-remotes/internal/config"
	"github.com/iceberg-remotes/iceberg-remotes/internal/httpclient"
	"github.com/iceberg-remotes/iceberg-remotes/internal/metafile"
)

// Info describes the raw bytes of one object as read.
type Info struct {
	Location  string
	SizeBytes int64
	// Checksum is the hex MD5 of the bytes read. For a single-part S3 object this equals its
	// ETag (without quotes); it is computed here, never taken from the store, so it always
	// describes the bytes the caller received.
	Checksum string
}

// Reader reads one whole object. Pull depends on this interface, not on *Store.
type Reader interface {
	// ReadReserved is Read that takes the object's size from reserve (when not nil) once the
	// size is known and before any byte of it is buffered; the returned release gives it back
	// (call it when done with the bytes; it is never nil when err is nil).
	ReadReserved(ctx context.Context, location string, maxBytes int64, reserve Reserve) ([]byte, Info, func(), error)
}

// Reserve takes n bytes of a shared budget for the read of location, and returns the
// function that gives them back (metafile.Limits.Reserve).
type Reserve func(ctx context.Context, location string, n int64) (func(), error)

// DefaultMaxBytes applies when Read is given maxBytes <= 0. Metadata files of very large
// tables reach tens of MiB; anything beyond this is not a metadata file we should buffer.
const DefaultMaxBytes = metafile.DefaultMaxBytes

// Options tune a Store.
type Options struct {
	// Policy bounds one read attempt (open, wait for the answer, read the body) by
	// Policy.Timeout and repeats a failed attempt at most Policy.MaxRetries times (0:
	// never) with the policy's backoff (object_store.timeout, object_store.max_retries).
	Policy httpclient.Policy
	// Logger receives one debug line per retry; nil disables logging. Lines carry the
	// location and the error class, never credentials.
	Logger *slog.Logger
	// HTTPClient replaces the HTTP client of the S3 backend (tests). iceberg-go builds the
	// GCS and Azure clients itself and accepts no HTTP client for them.
	HTTPClient *http.Client
}

// Store reads objects through iceberg-go's FileIO. It is safe for concurrent use.
type Store struct {
	props  map[string]string // iceberg-go FileIO properties for every backend
	awsCfg aws.Config        // handed to iceberg-go's S3 backend through the context
	policy httpclient.Policy
	log    *slog.Logger
}

var _ Reader = (*Store)(nil)

// New builds a Store from the object_store configuration. Credentials left empty fall back to
// each cloud's default chain (AWS: environment, shared config, instance role; GCS: application
// default credentials; Azure: DefaultAzureCredential), resolved lazily at the first read.
func New(cfg config.ObjectStore, opts Options) (*Store, error) {
	props, err := Properties(cfg)
	if err != nil {
		return nil, err
	}
	s := &Store{
		props:  props,
		policy: opts.Policy.Normalized(),
		log:    opts.Logger,
	}
	s.awsCfg, err = awsConfig(cfg.S3, opts.HTTPClient)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// Properties maps the object_store configuration to iceberg-go FileIO properties (the keys of
// github.com/apache/iceberg-go/io). It is exported so that the mapping can be checked, and so
// that code writing through iceberg-go can use the same settings; the map holds secrets and
// must never be logged.
func Properties(cfg config.ObjectStore) (map[string]string, error) {
	p := map[string]string{}
	for _, add := range []func(config.ObjectStore, map[string]string) error{s3Properties, gcsProperties, azureProperties} {
		if err := add(cfg, p); err != nil {
			return nil, err
		}
	}
	return p, nil
}
