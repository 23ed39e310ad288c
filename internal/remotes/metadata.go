package remotes

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"strings"

	"github.com/apache/iceberg-go/table"

	"github.com/iceberg-remotes/iceberg-remotes/internal/apperr"
	"github.com/iceberg-remotes/iceberg-remotes/internal/objstore"
)

// MaxMetadataBytes bounds a metadata file read from the object store.
const MaxMetadataBytes = 256 << 20

// objectMetadataReader reads metadata files through the service's object-store access.
type objectMetadataReader struct{ r objstore.Reader }

// NewMetadataReader returns a MetadataReader over an object store reader.
func NewMetadataReader(r objstore.Reader) MetadataReader { return objectMetadataReader{r: r} }

func (m objectMetadataReader) ReadMetadata(ctx context.Context, location string) (*RemoteMetadata, error) {
	raw, info, err := m.r.Read(ctx, location, MaxMetadataBytes)
	if err != nil {
		return nil, err
	}
	body := raw
	// iceberg-go does not decompress .gz.metadata.json itself (docs/design.md section 11).
	if strings.HasSuffix(location, ".gz.metadata.json") {
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return nil, apperr.New(http.StatusBadGateway, "remote metadata %s is not valid gzip", location)
		}
		body, err = io.ReadAll(io.LimitReader(zr, MaxMetadataBytes+1))
		if err != nil || len(body) > MaxMetadataBytes {
			return nil, apperr.New(http.StatusBadGateway, "remote metadata %s could not be decompressed", location)
		}
	}
	md, err := table.ParseMetadataBytes(body)
	if err != nil {
		return nil, apperr.Wrap(http.StatusBadGateway, err, "the remote points at %s, which is not Iceberg table metadata", location)
	}
	return &RemoteMetadata{SizeBytes: info.SizeBytes, Checksum: info.Checksum, Metadata: md}, nil
}
