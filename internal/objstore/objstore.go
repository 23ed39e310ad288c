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
// decompressed here: the caller handles .gz.metadata.json; size and checksum are those of the
// raw bytes stored.
package objstore

import (
	"context"
	"crypto/md5" //nolint:gosec // MD5 is what S3 reports as a single-part object's ETag, not a security measure.
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	icebergio "github.com/apache/iceberg-go/io"
	"github.com/apache/iceberg-go/utils"
	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"gocloud.dev/gcerrors"
	"google.golang.org/api/googleapi"

	// iceberg-go's object-store backends register their schemes by import.
	_ "github.com/apache/iceberg-go/io/gocloud/azure"
	_ "github.com/apache/iceberg-go/io/gocloud/gcs"
	_ "github.com/apache/iceberg-go/io/gocloud/s3"

	"github.com/iceberg-remotes/iceberg-remotes/internal/apperr"
	"github.com/iceberg-remotes/iceberg-remotes/internal/config"
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
	Read(ctx context.Context, location string, maxBytes int64) ([]byte, Info, error)
}

// Defaults for Options left at their zero value.
const (
	DefaultTimeout    = 30 * time.Second
	DefaultMaxRetries = 3
	DefaultMinBackoff = 100 * time.Millisecond
	DefaultMaxBackoff = 2 * time.Second
	// DefaultMaxBytes applies when Read is given maxBytes <= 0. Metadata files of very large
	// tables reach tens of MiB; anything beyond this is not a metadata file we should buffer.
	DefaultMaxBytes = 256 << 20
)

// Options tune a Store.
type Options struct {
	// Timeout bounds one attempt (open, wait for the answer, read the body). 0 means
	// DefaultTimeout.
	Timeout time.Duration
	// MaxRetries is the number of retries after the first attempt. 0 means
	// DefaultMaxRetries; a negative value means a single attempt.
	MaxRetries int
	// MinBackoff and MaxBackoff bound the jittered exponential wait between attempts.
	MinBackoff, MaxBackoff time.Duration
	// Logger receives one debug line per retry; nil disables logging. Lines carry the
	// location and the error class, never credentials.
	Logger *slog.Logger
	// HTTPClient replaces the HTTP client of the S3 backend (tests). iceberg-go builds the
	// GCS and Azure clients itself and accepts no HTTP client for them.
	HTTPClient *http.Client
}

// Store reads objects through iceberg-go's FileIO. It is safe for concurrent use.
type Store struct {
	props      map[string]string // iceberg-go FileIO properties for every backend
	awsCfg     aws.Config        // handed to iceberg-go's S3 backend through the context
	timeout    time.Duration
	maxRetries int
	minBackoff time.Duration
	maxBackoff time.Duration
	log        *slog.Logger
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
		props:      props,
		timeout:    opts.Timeout,
		maxRetries: opts.MaxRetries,
		minBackoff: opts.MinBackoff,
		maxBackoff: opts.MaxBackoff,
		log:        opts.Logger,
	}
	if s.timeout <= 0 {
		s.timeout = DefaultTimeout
	}
	switch {
	case s.maxRetries == 0:
		s.maxRetries = DefaultMaxRetries
	case s.maxRetries < 0:
		s.maxRetries = 0
	}
	if s.minBackoff <= 0 {
		s.minBackoff = DefaultMinBackoff
	}
	if s.maxBackoff <= 0 {
		s.maxBackoff = DefaultMaxBackoff
	}
	if s.maxBackoff < s.minBackoff {
		s.maxBackoff = s.minBackoff
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

	s3 := cfg.S3
	if (s3.AccessKeyID == "") != (s3.SecretAccessKey == "") {
		return nil, errors.New("object_store.s3: access_key_id and secret_access_key must be set together (or both left empty for the default credential chain)")
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

	if js := cfg.GCS.CredentialsJSON; js != "" {
		var key struct {
			Type string `json:"type"`
		}
		// The error text of json.Unmarshal can quote the input: never surface it.
		if json.Unmarshal([]byte(js), &key) != nil {
			return nil, errors.New("object_store.gcs.credentials_json is not valid JSON")
		}
		p[icebergio.GCSJSONKey] = js
		// iceberg-go parses the key as a service account unless told its type.
		if key.Type != "" {
			p[icebergio.GCSCredType] = key.Type
		}
	}

	az := cfg.Azure
	if az.StorageAccessKey != "" && az.StorageAccount == "" {
		return nil, errors.New("object_store.azure: storage_access_key needs storage_account")
	}
	if az.StorageAccount != "" && az.StorageAccessKey != "" {
		p[icebergio.ADLSSharedKeyAccountName] = az.StorageAccount
		p[icebergio.ADLSSharedKeyAccountKey] = az.StorageAccessKey
	}
	// With only storage_account set, iceberg-go uses DefaultAzureCredential for the account
	// named in the location.
	return p, nil
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

// supportedSchemes are the location schemes Read accepts, by backend.
var supportedSchemes = map[string]string{
	"s3": "s3", "s3a": "s3", "s3n": "s3",
	"gs":   "gcs",
	"abfs": "azure", "abfss": "azure", "wasb": "azure", "wasbs": "azure",
	"file": "file",
}

// Read returns the whole object at location, at most maxBytes long (maxBytes <= 0 means
// DefaultMaxBytes), with its size and MD5.
//
// Errors (*apperr.Error): 400 unsupported scheme, malformed location or object larger than
// maxBytes; 404 no such object (or bucket); 502 the object store denied access or rejected the
// request; 503 the store stayed unavailable (throttling, 5xx, network) through all retries;
// 504 the last attempt timed out (or ctx's deadline passed); 500 when iceberg-go cannot even
// build the FileIO (a configuration problem, e.g. no GCS credentials found).
func (s *Store) Read(ctx context.Context, location string, maxBytes int64) ([]byte, Info, error) {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	if err := validateLocation(location); err != nil {
		return nil, Info{}, err
	}
	var last error
	for attempt := 0; ; attempt++ {
		data, info, err := s.attempt(ctx, location, maxBytes)
		if err == nil {
			return data, info, nil
		}
		var final *apperr.Error
		if errors.As(err, &final) {
			return nil, Info{}, final // classified already: not worth retrying
		}
		last = err
		if ctx.Err() != nil || attempt >= s.maxRetries {
			break
		}
		wait := s.backoff(attempt)
		if s.log != nil {
			s.log.DebugContext(ctx, "retrying object store read",
				"location", location, "attempt", attempt+1, "wait", wait, "error", err.Error())
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
		case <-t.C:
		}
		if ctx.Err() != nil {
			break
		}
	}
	return nil, Info{}, giveUp(ctx, location, last)
}

// transient marks an attempt's error as retryable; timedOut tells a timeout apart from other
// transient failures for the final status.
type transient struct {
	err      error
	timedOut bool
}

func (t *transient) Error() string { return t.err.Error() }
func (t *transient) Unwrap() error { return t.err }

func giveUp(ctx context.Context, location string, last error) error {
	var tr *transient
	timedOut := errors.As(last, &tr) && tr.timedOut
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded) || timedOut:
		return apperr.Wrap(http.StatusGatewayTimeout, last, "object store timed out reading %s", location)
	case errors.Is(ctx.Err(), context.Canceled):
		return apperr.Wrap(http.StatusServiceUnavailable, ctx.Err(), "read of %s was canceled", location)
	default:
		return apperr.Wrap(http.StatusServiceUnavailable, last, "object store unavailable reading %s", location)
	}
}

func (s *Store) backoff(attempt int) time.Duration {
	d := s.minBackoff << min(attempt, 20)
	if d <= 0 || d > s.maxBackoff {
		d = s.maxBackoff
	}
	// Full jitter in [d/2, d]: spreads retries of concurrent pulls.
	return d/2 + rand.N(d/2+1)
}

// attempt performs one read under its own timeout. It returns either an *apperr.Error
// (final) or a *transient (retry).
func (s *Store) attempt(parent context.Context, location string, maxBytes int64) ([]byte, Info, error) {
	ctx, cancel := context.WithTimeout(parent, s.timeout)
	defer cancel()
	// iceberg-go's S3 backend prefers an AWS config found on the context over parsing one
	// from the properties: this is how it gets our HTTP client, credentials and retry policy.
	awsCfg := s.awsCfg
	ctx = utils.WithAwsConfig(ctx, &awsCfg)

	// The FileIO keeps this context for its reads, so a FileIO lives for one attempt.
	fsys, err := icebergio.LoadFS(ctx, s.props, location)
	if err != nil {
		return nil, Info{}, s.classify(ctx, location, err, true)
	}
	if c, ok := fsys.(io.Closer); ok {
		defer func() { _ = c.Close() }()
	}
	f, err := fsys.Open(location)
	if err != nil {
		return nil, Info{}, s.classify(ctx, location, err, false)
	}
	defer func() { _ = f.Close() }()
	st, err := f.Stat()
	if err != nil {
		return nil, Info{}, s.classify(ctx, location, err, false)
	}
	if st.IsDir() {
		return nil, Info{}, apperr.BadRequest("%s is a directory, not a metadata file", location)
	}
	size := st.Size()
	if size > maxBytes {
		return nil, Info{}, tooLarge(location, maxBytes)
	}
	h := md5.New() //nolint:gosec // see import
	w := &appendWriter{buf: make([]byte, 0, max(size, 0))}
	n, err := io.Copy(io.MultiWriter(w, h), io.LimitReader(f, maxBytes+1))
	if err != nil {
		return nil, Info{}, s.classify(ctx, location, err, false)
	}
	if n > maxBytes {
		return nil, Info{}, tooLarge(location, maxBytes)
	}
	if size >= 0 && n != size {
		// A body cut short (or an object replaced mid-read): the size we would record
		// would not match the bytes. Try again.
		return nil, Info{}, &transient{err: fmt.Errorf("read %d bytes of %s, object size is %d", n, location, size)}
	}
	return w.buf, Info{Location: location, SizeBytes: n, Checksum: hex.EncodeToString(h.Sum(nil))}, nil
}

type appendWriter struct{ buf []byte }

func (w *appendWriter) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	return len(p), nil
}

func tooLarge(location string, maxBytes int64) error {
	return apperr.BadRequest("object %s is larger than the limit of %d bytes", location, maxBytes)
}

// validateLocation rejects what no backend can read, before any I/O. It splits the URI by
// hand rather than with net/url: object keys are opaque (a literal "%" is a valid key
// character that url.Parse refuses), and url.Parse lower-cases the scheme while iceberg-go's
// backends accept lower-case schemes only.
func validateLocation(location string) error {
	scheme, rest, ok := strings.Cut(location, "://")
	backend, known := supportedSchemes[scheme]
	if !ok || !known {
		return apperr.BadRequest("unsupported object store location %q (supported schemes: s3, s3a, s3n, gs, abfs, abfss, wasb, wasbs, file)", location)
	}
	authority, key, _ := strings.Cut(rest, "/")
	switch backend {
	case "file":
		if authority != "" && !strings.EqualFold(authority, "localhost") {
			return apperr.BadRequest("file location %s names a remote host", location)
		}
	case "azure":
		container, host, _ := strings.Cut(authority, "@")
		if container == "" || host == "" {
			return apperr.BadRequest("azure location %s must look like %s://container@account.dfs.core.windows.net/path", location, scheme)
		}
	default:
		if authority == "" {
			return apperr.BadRequest("location %s names no bucket", location)
		}
	}
	if strings.Trim(key, "/") == "" {
		return apperr.BadRequest("location %s names no object", location)
	}
	return nil
}

// classify turns a failed step into a final *apperr.Error or a *transient. opening is true for
// errors from building the FileIO, which does no I/O: those are configuration problems.
func (s *Store) classify(ctx context.Context, location string, err error, opening bool) error {
	if ctx.Err() != nil {
		// This attempt's deadline passed, or the caller gave up (Read stops retrying then).
		return &transient{err: err, timedOut: errors.Is(ctx.Err(), context.DeadlineExceeded)}
	}
	if opening {
		// Error texts from the SDKs' configuration parsers name keys, never their values;
		// keep the cause for the log only.
		return apperr.Wrap(http.StatusInternalServerError, err,
			"object store access for %s is misconfigured", location)
	}
	if errors.Is(err, fs.ErrNotExist) {
		return apperr.Wrap(http.StatusNotFound, err, "object %s not found", location)
	}
	if errors.Is(err, fs.ErrPermission) {
		return deniedErr(location, err)
	}
	if status, ok := httpStatus(err); ok {
		switch {
		case status == http.StatusNotFound:
			return apperr.Wrap(http.StatusNotFound, err, "object %s not found", location)
		case status == http.StatusUnauthorized || status == http.StatusForbidden:
			return deniedErr(location, err)
		case status == http.StatusTooManyRequests || status == http.StatusRequestTimeout || status >= 500:
			return &transient{err: err}
		default:
			return apperr.Wrap(http.StatusBadGateway, err,
				"object store rejected the read of %s (HTTP %d)", location, status)
		}
	}
	switch gcerrors.Code(err) {
	case gcerrors.NotFound:
		return apperr.Wrap(http.StatusNotFound, err, "object %s not found", location)
	case gcerrors.PermissionDenied:
		return deniedErr(location, err)
	case gcerrors.ResourceExhausted, gcerrors.Internal:
		return &transient{err: err}
	case gcerrors.DeadlineExceeded:
		return &transient{err: err, timedOut: true}
	}
	if isNetworkError(err) {
		return &transient{err: err, timedOut: isTimeout(err)}
	}
	return apperr.Wrap(http.StatusBadGateway, err, "object store failed reading %s", location)
}

func deniedErr(location string, err error) error {
	return apperr.Wrap(http.StatusBadGateway, err, "object store denied access to %s", location)
}

// httpStatus finds the HTTP status of an object-store answer in err, for each SDK.
func httpStatus(err error) (int, bool) {
	var smithyResp interface{ HTTPStatusCode() int } // AWS SDK v2
	if errors.As(err, &smithyResp) && smithyResp.HTTPStatusCode() != 0 {
		return smithyResp.HTTPStatusCode(), true
	}
	var azErr *azcore.ResponseError
	if errors.As(err, &azErr) && azErr.StatusCode != 0 {
		return azErr.StatusCode, true
	}
	var gErr *googleapi.Error
	if errors.As(err, &gErr) && gErr.Code != 0 {
		return gErr.Code, true
	}
	return 0, false
}

func isNetworkError(err error) bool {
	var nerr net.Error
	return errors.As(err, &nerr) ||
		errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.EPIPE)
}

func isTimeout(err error) bool {
	var nerr net.Error
	return errors.As(err, &nerr) && nerr.Timeout()
}
