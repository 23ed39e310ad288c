package peers

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
)

// Read returns the bytes of an object of the shared S3 by its location (s3://bucket/key), as
// the lakeFS stand-in's block adapter reads physical addresses.
func (s *S3) Read(_ context.Context, location string) ([]byte, error) {
	rest, ok := strings.CutPrefix(location, "s3://")
	if !ok {
		return nil, os.ErrNotExist
	}
	bucket, key, ok := strings.Cut(rest, "/")
	if !ok || bucket != s.Bucket {
		return nil, os.ErrNotExist
	}
	obj, err := s.Backend.GetObject(bucket, key, nil)
	if err != nil {
		return nil, fmt.Errorf("s3 %s: %w", location, err)
	}
	defer obj.Contents.Close()
	return io.ReadAll(obj.Contents)
}

// PyIcebergProps returns the pyiceberg FileIO properties (pyarrow's S3 file system) that
// reach this S3.
func (s *S3) PyIcebergProps() map[string]string {
	return map[string]string{
		"s3.endpoint":                 s.Endpoint,
		"s3.access-key-id":            s.AccessKeyID,
		"s3.secret-access-key":        s.SecretAccessKey,
		"s3.region":                   s.Region,
		"s3.force-virtual-addressing": "false",
	}
}
