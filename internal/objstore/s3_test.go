package objstore_test

import (
	"bytes"
	"context"
	"crypto/md5" //nolint:gosec // compared with S3's ETag
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/iceberg-go"
	sqlcat "github.com/apache/iceberg-go/catalog/sql"
	"github.com/apache/iceberg-go/table"
	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite"

	"github.com/iceberg-remotes/iceberg-remotes/internal/apperr"
	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog/catalogtest"
	"github.com/iceberg-remotes/iceberg-remotes/internal/config"
	"github.com/iceberg-remotes/iceberg-remotes/internal/httpclient"
	"github.com/iceberg-remotes/iceberg-remotes/internal/objstore"
)

const (
	testBucket = "warehouse"
	testRegion = "us-east-1"
	testKeyID  = "AKIDOBJSTORETEST"
	testSecret = "s3cr3t-objstore-Zq9x"
)

// fakeS3 is gofakes3 with its in-memory backend, served on 127.0.0.1. gofakes3 does not
// check request signatures, so signed fronts it with a SigV4 verifier that knows the one
// valid key pair; plain serves it unchecked (for the Iceberg writer and direct SDK checks).
type fakeS3 struct {
	plain  *httptest.Server
	signed *httptest.Server
}

func newFakeS3(t *testing.T) *fakeS3 {
	t.Helper()
	backend := s3mem.New()
	require.NoError(t, backend.CreateBucket(testBucket))
	h := gofakes3.New(backend).Server()
	f := &fakeS3{plain: httptest.NewServer(h), signed: httptest.NewServer(sigV4Verifier(t, h, testKeyID, testSecret))}
	t.Cleanup(f.plain.Close)
	t.Cleanup(f.signed.Close)
	return f
}

// sigV4Verifier recomputes each request's AWS Signature V4 with the known secret (using the
// SDK's own signer over exactly the headers the client signed) and answers 403
// SignatureDoesNotMatch, as S3 does, when it differs.
func sigV4Verifier(t *testing.T, next http.Handler, keyID, secret string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		cred, signed, ok := parseAuthorization(auth)
		if !ok {
			s3Error(w, http.StatusForbidden, "AccessDenied", "missing or malformed Authorization")
			return
		}
		scope := strings.Split(cred, "/") // key/date/region/service/aws4_request
		if len(scope) != 5 || scope[0] != keyID {
			s3Error(w, http.StatusForbidden, "InvalidAccessKeyId", "unknown access key")
			return
		}
		when, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
		if err != nil {
			s3Error(w, http.StatusForbidden, "AccessDenied", "bad X-Amz-Date")
			return
		}
		req, err := http.NewRequestWithContext(r.Context(), r.Method,
			(&url.URL{Scheme: "http", Host: r.Host, Path: r.URL.Path, RawPath: r.URL.RawPath, RawQuery: r.URL.RawQuery}).String(), nil)
		if err != nil {
			s3Error(w, http.StatusBadRequest, "InvalidRequest", "bad URL")
			return
		}
		req.ContentLength = r.ContentLength
		for _, name := range signed {
			if name == "host" || name == "content-length" {
				continue
			}
			for _, v := range r.Header.Values(name) {
				req.Header.Add(name, v)
			}
		}
		signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
		err = signer.SignHTTP(r.Context(), aws.Credentials{AccessKeyID: keyID, SecretAccessKey: secret}, req,
			r.Header.Get("X-Amz-Content-Sha256"), scope[3], scope[2], when)
		if err != nil || req.Header.Get("Authorization") != auth {
			s3Error(w, http.StatusForbidden, "SignatureDoesNotMatch",
				"The request signature we calculated does not match the signature you provided.")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func parseAuthorization(auth string) (credential string, signedHeaders []string, ok bool) {
	rest, found := strings.CutPrefix(auth, "AWS4-HMAC-SHA256 ")
	if !found {
		return "", nil, false
	}
	for _, part := range strings.Split(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "Credential":
			credential = v
		case "SignedHeaders":
			signedHeaders = strings.Split(v, ";")
		}
	}
	return credential, signedHeaders, credential != "" && len(signedHeaders) > 0
}

func s3Error(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	_, _ = fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>%s</Message><RequestId>test</RequestId></Error>`, code, msg)
}

// s3Props are the iceberg-go properties an Iceberg writer uses for the fake S3.
func s3Props(endpoint string) iceberg.Properties {
	return iceberg.Properties{
		"s3.endpoint":          endpoint,
		"s3.region":            testRegion,
		"s3.access-key-id":     testKeyID,
		"s3.secret-access-key": testSecret,
	}
}

// writeTable creates a real Iceberg table with iceberg-go's SQL catalog (SQLite) under
// warehouse, appends three rows through Arrow, and returns the current metadata location.
func writeTable(t *testing.T, warehouse string, props iceberg.Properties) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "catalog.db"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	p := iceberg.Properties{"warehouse": warehouse}
	for k, v := range props {
		p[k] = v
	}
	cat, err := sqlcat.NewCatalog("writer", db, sqlcat.SQLite, p)
	require.NoError(t, err)
	require.NoError(t, cat.CreateNamespace(ctx, table.Identifier{"analytics"}, nil))
	sch := iceberg.NewSchema(0,
		iceberg.NestedField{ID: 1, Name: "id", Type: iceberg.PrimitiveTypes.Int64, Required: true},
		iceberg.NestedField{ID: 2, Name: "name", Type: iceberg.PrimitiveTypes.String},
	)
	tbl, err := cat.CreateTable(ctx, table.Identifier{"analytics", "events"}, sch)
	require.NoError(t, err)

	appended := catalogtest.AppendRows(ctx, t, tbl)
	loc := appended.MetadataLocation()
	require.NotEqual(t, tbl.MetadataLocation(), loc)
	return loc
}

// sdkClient is a plain AWS SDK S3 client on the unchecked endpoint, to learn what S3 itself
// reports about an object.
func sdkClient(endpoint string) *s3.Client {
	return s3.New(s3.Options{
		Region:       testRegion,
		Credentials:  credentials.NewStaticCredentialsProvider(testKeyID, testSecret, ""),
		BaseEndpoint: aws.String(endpoint),
		UsePathStyle: true,
	})
}

func s3Config(endpoint, secret string) config.ObjectStore {
	return config.ObjectStore{S3: config.S3Store{
		Endpoint: endpoint, Region: testRegion, AccessKeyID: testKeyID, SecretAccessKey: secret, ForcePathStyle: true,
	}}
}

func newStore(t *testing.T, cfg config.ObjectStore, opts objstore.Options) *objstore.Store {
	t.Helper()
	s, err := objstore.New(cfg, opts)
	require.NoError(t, err)
	return s
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func fastOpts() objstore.Options {
	return objstore.Options{Policy: httpclient.Policy{Timeout: 5 * time.Second, MaxRetries: 2, MinBackoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond}}
}

func requireStatus(t *testing.T, err error, status int) {
	t.Helper()
	require.Error(t, err)
	assert.Equal(t, status, apperr.StatusOf(err), "error: %v", err)
	assert.NotContains(t, err.Error(), testSecret)
}

func splitS3(t *testing.T, loc string) (bucket, key string) {
	t.Helper()
	u, err := url.Parse(loc)
	require.NoError(t, err)
	return u.Host, strings.TrimPrefix(u.Path, "/")
}

// The main path: a table iceberg-go wrote on S3 is read back through the Store, over the
// SigV4-checked endpoint, and size and checksum agree with what S3 reports.
func TestReadIcebergMetadataFromS3(t *testing.T) {
	ctx := testCtx(t)
	f := newFakeS3(t)
	loc := writeTable(t, "s3://"+testBucket+"/wh", s3Props(f.plain.URL))
	require.True(t, strings.HasPrefix(loc, "s3://"+testBucket+"/wh/analytics.db/events/metadata/"), loc)

	var logs bytes.Buffer
	opts := fastOpts()
	opts.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	store := newStore(t, s3Config(f.signed.URL, testSecret), opts)
	data, info, err := store.Read(ctx, loc, 1<<20)
	require.NoError(t, err)

	md, err := table.ParseMetadataBytes(data)
	require.NoError(t, err)
	snap := md.CurrentSnapshot()
	require.NotNil(t, snap, "the appended snapshot is current")
	assert.Equal(t, "3", snap.Summary.Properties["added-records"])
	assert.Equal(t, "s3://"+testBucket+"/wh/analytics.db/events", md.Location())

	bucket, key := splitS3(t, loc)
	head, err := sdkClient(f.plain.URL).HeadObject(ctx, &s3.HeadObjectInput{Bucket: &bucket, Key: &key})
	require.NoError(t, err)
	sum := md5.Sum(data) //nolint:gosec
	assert.Equal(t, loc, info.Location)
	assert.Equal(t, aws.ToInt64(head.ContentLength), info.SizeBytes)
	assert.Equal(t, int64(len(data)), info.SizeBytes)
	assert.Equal(t, hex.EncodeToString(sum[:]), info.Checksum)
	assert.Equal(t, strings.Trim(aws.ToString(head.ETag), `"`), info.Checksum, "single-part ETag is the MD5")
	assert.NotContains(t, logs.String(), testSecret)

	// s3a:// and s3n:// name the same object (Hadoop writers use them).
	for _, scheme := range []string{"s3a", "s3n"} {
		alt := scheme + strings.TrimPrefix(loc, "s3")
		data2, info2, err := store.Read(ctx, alt, 1<<20)
		require.NoError(t, err, scheme)
		assert.Equal(t, data, data2)
		assert.Equal(t, info.Checksum, info2.Checksum)
		assert.Equal(t, alt, info2.Location)
	}
}

func TestReadS3MissingObjectIs404(t *testing.T) {
	ctx := testCtx(t)
	f := newFakeS3(t)
	store := newStore(t, s3Config(f.signed.URL, testSecret), fastOpts())

	loc := "s3://" + testBucket + "/wh/analytics.db/events/metadata/00009-missing.metadata.json"
	_, _, err := store.Read(ctx, loc, 1<<20)
	requireStatus(t, err, http.StatusNotFound)
	assert.Contains(t, apperr.PublicMessage(err), loc)

	_, _, err = store.Read(ctx, "s3://no-such-bucket/x/v1.metadata.json", 1<<20)
	requireStatus(t, err, http.StatusNotFound)
}

// The verifier really checks signatures: the same read with a wrong secret is refused by
// "S3", and we report it as the object store denying access (502), not as the caller's
// credentials being wrong.
func TestReadS3WrongSecretIs502(t *testing.T) {
	ctx := testCtx(t)
	f := newFakeS3(t)
	bucket, key := testBucket, "k/v1.metadata.json"
	_, err := sdkClient(f.plain.URL).PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: strings.NewReader("{}")})
	require.NoError(t, err)

	const wrong = "not-the-secret-Kq2"
	var requests atomic.Int32
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		f.signed.Config.Handler.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	var logs bytes.Buffer
	opts := fastOpts()
	opts.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	store := newStore(t, s3Config(front.URL, wrong), opts)
	_, _, err = store.Read(ctx, "s3://"+bucket+"/"+key, 1<<20)
	requireStatus(t, err, http.StatusBadGateway)
	assert.Equal(t, "object store denied access to s3://"+bucket+"/"+key, apperr.PublicMessage(err))
	assert.NotContains(t, err.Error(), wrong)
	assert.NotContains(t, logs.String(), wrong)
	assert.Equal(t, int32(1), requests.Load(), "403 is final: no retry")

	// Same store settings with the right secret pass the verifier.
	good := newStore(t, s3Config(front.URL, testSecret), opts)
	data, _, err := good.Read(ctx, "s3://"+bucket+"/"+key, 1<<20)
	require.NoError(t, err)
	assert.Equal(t, "{}", string(data))
}

func TestReadS3LargerThanMaxBytesIs400(t *testing.T) {
	ctx := testCtx(t)
	f := newFakeS3(t)
	bucket, key := testBucket, "big/v1.metadata.json"
	body := strings.Repeat("x", 4096)
	_, err := sdkClient(f.plain.URL).PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: strings.NewReader(body)})
	require.NoError(t, err)
	store := newStore(t, s3Config(f.signed.URL, testSecret), fastOpts())

	_, _, err = store.Read(ctx, "s3://"+bucket+"/"+key, 4095)
	requireStatus(t, err, http.StatusBadRequest)
	assert.Contains(t, apperr.PublicMessage(err), "4095")

	data, info, err := store.Read(ctx, "s3://"+bucket+"/"+key, 4096)
	require.NoError(t, err, "exactly maxBytes is allowed")
	assert.Equal(t, body, string(data))
	assert.Equal(t, int64(4096), info.SizeBytes)
}

// faultyFront answers the first n GETs with status (an S3 error body), then passes through.
type faultyFront struct {
	srv   *httptest.Server
	count atomic.Int32
}

func newFaultyFront(t *testing.T, next http.Handler, failures int32, status int, code string) *faultyFront {
	ff := &faultyFront{}
	ff.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && ff.count.Add(1) <= failures {
			s3Error(w, status, code, "try again")
			return
		}
		next.ServeHTTP(w, r)
	}))
	t.Cleanup(ff.srv.Close)
	return ff
}

func putObject(t *testing.T, f *fakeS3, key, body string) string {
	t.Helper()
	bucket := testBucket
	_, err := sdkClient(f.plain.URL).PutObject(testCtx(t), &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: strings.NewReader(body)})
	require.NoError(t, err)
	return "s3://" + bucket + "/" + key
}

func TestReadS3RetriesThrottlingAnd5xx(t *testing.T) {
	ctx := testCtx(t)
	f := newFakeS3(t)
	loc := putObject(t, f, "flaky/v1.metadata.json", `{"format-version":2}`)

	for _, tc := range []struct {
		status int
		code   string
	}{{http.StatusServiceUnavailable, "SlowDown"}, {http.StatusTooManyRequests, "TooManyRequests"}, {http.StatusInternalServerError, "InternalError"}} {
		t.Run(fmt.Sprint(tc.status), func(t *testing.T) {
			var logs bytes.Buffer
			opts := fastOpts() // 2 retries
			opts.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			front := newFaultyFront(t, f.signed.Config.Handler, 2, tc.status, tc.code)
			store := newStore(t, s3Config(front.srv.URL, testSecret), opts)
			data, info, err := store.Read(ctx, loc, 1<<20)
			require.NoError(t, err)
			assert.Equal(t, `{"format-version":2}`, string(data))
			assert.Equal(t, int64(len(data)), info.SizeBytes)
			assert.Equal(t, int32(3), front.count.Load(), "two failures, then success")
			assert.Equal(t, 2, strings.Count(logs.String(), "retrying object store read"))
			assert.NotContains(t, logs.String(), testSecret)
		})
	}

	t.Run("retries are bounded", func(t *testing.T) {
		front := newFaultyFront(t, f.signed.Config.Handler, 100, http.StatusServiceUnavailable, "SlowDown")
		store := newStore(t, s3Config(front.srv.URL, testSecret), fastOpts())
		_, _, err := store.Read(ctx, loc, 1<<20)
		requireStatus(t, err, http.StatusServiceUnavailable)
		assert.Equal(t, int32(3), front.count.Load(), "1 attempt + 2 retries")
	})

	t.Run("negative MaxRetries means one attempt", func(t *testing.T) {
		front := newFaultyFront(t, f.signed.Config.Handler, 100, http.StatusServiceUnavailable, "SlowDown")
		opts := fastOpts()
		opts.Policy.MaxRetries = -1
		store := newStore(t, s3Config(front.srv.URL, testSecret), opts)
		_, _, err := store.Read(ctx, loc, 1<<20)
		requireStatus(t, err, http.StatusServiceUnavailable)
		assert.Equal(t, int32(1), front.count.Load())
	})

	t.Run("other 4xx is final", func(t *testing.T) {
		front := newFaultyFront(t, f.signed.Config.Handler, 100, http.StatusBadRequest, "InvalidRequest")
		store := newStore(t, s3Config(front.srv.URL, testSecret), fastOpts())
		_, _, err := store.Read(ctx, loc, 1<<20)
		requireStatus(t, err, http.StatusBadGateway)
		assert.Equal(t, int32(1), front.count.Load())
	})

	t.Run("connection refused is retried then 503", func(t *testing.T) {
		dead := httptest.NewServer(http.NotFoundHandler())
		addr := dead.URL
		dead.Close()
		store := newStore(t, s3Config(addr, testSecret), fastOpts())
		_, _, err := store.Read(ctx, loc, 1<<20)
		requireStatus(t, err, http.StatusServiceUnavailable)
	})
}

// A body cut short after the headers promised more is a network failure: retried, and the
// size we report is never that of a truncated read.
func TestReadS3TruncatedBodyIsRetried(t *testing.T) {
	ctx := testCtx(t)
	f := newFakeS3(t)
	body := strings.Repeat("y", 10000)
	loc := putObject(t, f, "trunc/v1.metadata.json", body)
	var count atomic.Int32
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && count.Add(1) == 1 {
			w.Header().Set("Content-Length", "10000")
			w.WriteHeader(http.StatusOK)
			_, _ = io.WriteString(w, body[:100])
			panic(http.ErrAbortHandler) // drop the connection mid-body
		}
		f.signed.Config.Handler.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	store := newStore(t, s3Config(front.URL, testSecret), fastOpts())
	data, info, err := store.Read(ctx, loc, 1<<20)
	require.NoError(t, err)
	assert.Equal(t, body, string(data))
	assert.Equal(t, int64(10000), info.SizeBytes)
	assert.Equal(t, int32(2), count.Load())
}

func TestReadS3HungEndpointTimesOut(t *testing.T) {
	ctx := testCtx(t)
	release := make(chan struct{})
	var count atomic.Int32
	hung := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		count.Add(1)
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	var once sync.Once
	t.Cleanup(func() { once.Do(func() { close(release) }); hung.Close() })

	opts := fastOpts()
	opts.Policy.Timeout = 300 * time.Millisecond
	opts.Policy.MaxRetries = 1
	store := newStore(t, s3Config(hung.URL, testSecret), opts)
	start := time.Now()
	_, _, err := store.Read(ctx, "s3://"+testBucket+"/hung/v1.metadata.json", 1<<20)
	elapsed := time.Since(start)
	requireStatus(t, err, http.StatusGatewayTimeout)
	assert.Equal(t, int32(2), count.Load(), "a timed-out attempt is retried once")
	assert.GreaterOrEqual(t, elapsed, 600*time.Millisecond)
	assert.Less(t, elapsed, 10*time.Second)

	// The caller's own deadline also ends the read, as a 504.
	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	opts.Policy.Timeout = time.Minute
	store = newStore(t, s3Config(hung.URL, testSecret), opts)
	_, _, err = store.Read(short, "s3://"+testBucket+"/hung/v1.metadata.json", 1<<20)
	requireStatus(t, err, http.StatusGatewayTimeout)
}
