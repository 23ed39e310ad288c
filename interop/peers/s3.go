package peers

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// S3 is an S3-compatible object store (gofakes3, in memory) served on 127.0.0.1 from the test
// process, shared by every peer of a test: the service, the REST server's S3FileIO, pyiceberg,
// iceberg-go writers. gofakes3 checks no signatures, so any key pair is accepted; the fixed
// one below is what every peer is configured with.
type S3 struct {
	Endpoint        string // http://127.0.0.1:port
	Bucket          string
	Region          string
	AccessKeyID     string
	SecretAccessKey string
	Backend         *s3mem.Backend
}

// Warehouse returns s3://<bucket>/<prefix>.
func (s *S3) Warehouse(prefix string) string { return "s3://" + s.Bucket + "/" + prefix }

// StartS3 serves a fresh in-memory S3 with one bucket until the test ends.
func StartS3(t testing.TB, bucket string) *S3 {
	t.Helper()
	backend := s3mem.New()
	if err := backend.CreateBucket(bucket); err != nil {
		t.Fatalf("peers: s3 bucket: %v", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("peers: s3: %v", err)
	}
	srv := &http.Server{Handler: gofakes3.New(backend).Server()}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	s := &S3{
		Endpoint: "http://" + l.Addr().String(), Bucket: bucket, Region: "us-east-1",
		AccessKeyID: "AKIAINTEROPTEST", SecretAccessKey: "interop-secret", Backend: backend,
	}
	Logf(t, "started gofakes3 (in-process) at %s, bucket %s", s.Endpoint, bucket)
	return s
}

// Put stores body at s3://<bucket>/<key> and returns that location.
func (s *S3) Put(t testing.TB, key string, body []byte) string {
	t.Helper()
	if _, err := s.Backend.PutObject(s.Bucket, key, map[string]string{"Content-Type": "application/json"},
		bytes.NewReader(body), int64(len(body)), nil); err != nil {
		t.Fatalf("peers: s3 put %s: %v", key, err)
	}
	return "s3://" + s.Bucket + "/" + key
}

// Exists reports whether s3://<bucket>/<key> exists.
func (s *S3) Exists(key string) bool {
	_, err := s.Backend.HeadObject(s.Bucket, key)
	return err == nil
}

// List returns every object in the bucket (key → ETag and size), listing the whole bucket
// with no prefix and no delimiter.
func (s *S3) List(t testing.TB) map[string]string {
	t.Helper()
	out := map[string]string{}
	page := gofakes3.ListBucketPage{}
	for {
		list, err := s.Backend.ListBucket(s.Bucket, nil, page)
		if err != nil {
			t.Fatalf("peers: s3 list: %v", err)
		}
		for _, c := range list.Contents {
			out[c.Key] = fmt.Sprintf("%s/%d", c.ETag, c.Size)
		}
		if !list.IsTruncated || len(list.Contents) == 0 {
			return out
		}
		page = gofakes3.ListBucketPage{Marker: list.Contents[len(list.Contents)-1].Key, HasMarker: true}
	}
}
