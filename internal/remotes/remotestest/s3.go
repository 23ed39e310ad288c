package remotestest

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/config"
)

// S3 is gofakes3 (in-memory) on 127.0.0.1 with a request log in front, so tests can assert
// what the service read. Large objects that should never be buffered can be declared
// virtually (Huge): their bytes are produced only as a client reads them, and counted.
type S3 struct {
	srv     *httptest.Server
	backend *s3mem.Backend
	mu      sync.Mutex
	log     []string
	huge    map[string]int64
	served  atomic.Int64 // body bytes written for huge objects
}

// NewS3 starts the server with the given buckets.
func NewS3(t testing.TB, buckets ...string) *S3 {
	t.Helper()
	s := &S3{backend: s3mem.New(), huge: map[string]int64{}}
	for _, b := range buckets {
		require.NoError(t, s.backend.CreateBucket(b))
	}
	h := gofakes3.New(s.backend).Server()
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.log = append(s.log, r.Method+" "+r.URL.Path)
		size, huge := s.huge[strings.TrimPrefix(r.URL.Path, "/")]
		s.mu.Unlock()
		if huge && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
			s.serveHuge(w, r, size)
			return
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

// Config is the object_store configuration that reads from this server.
func (s *S3) Config() config.ObjectStore {
	return config.ObjectStore{S3: config.S3Store{Endpoint: s.srv.URL, Region: "us-east-1",
		AccessKeyID: "AKIDTEST", SecretAccessKey: "test-secret", ForcePathStyle: true}}
}

// Put stores an object.
func (s *S3) Put(t testing.TB, bucket, key string, body []byte) string {
	t.Helper()
	_, err := s.backend.PutObject(bucket, key, map[string]string{"Content-Type": "application/json"}, bytes.NewReader(body), int64(len(body)), nil)
	require.NoError(t, err)
	return "s3://" + bucket + "/" + key
}

// Huge declares an object of size bytes (zeros) and returns its location.
func (s *S3) Huge(bucket, key string, size int64) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.huge[bucket+"/"+key] = size
	return "s3://" + bucket + "/" + key
}

// Requests returns "METHOD /bucket/key" of every request so far.
func (s *S3) Requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.log...)
}

// HugeBytesServed is how many body bytes of huge objects were written to clients.
func (s *S3) HugeBytesServed() int64 { return s.served.Load() }

func (s *S3) serveHuge(w http.ResponseWriter, r *http.Request, size int64) {
	w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("ETag", `"0123456789abcdef0123456789abcdef"`)
	w.Header().Set("Last-Modified", time.Unix(1700000000, 0).UTC().Format(http.TimeFormat))
	w.Header().Set("Accept-Ranges", "bytes")
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	chunk := make([]byte, 64<<10)
	for left := size; left > 0; {
		n := min(left, int64(len(chunk)))
		m, err := w.Write(chunk[:n])
		s.served.Add(int64(m))
		if err != nil {
			return
		}
		left -= n
	}
	_, _ = io.Copy(io.Discard, r.Body)
}
