package remotes

import (
	"context"
	"errors"
	"net/http"

	"github.com/iceberg-remotes/iceberg-remotes/internal/apperr"
	"github.com/iceberg-remotes/iceberg-remotes/internal/metafile"
	"github.com/iceberg-remotes/iceberg-remotes/internal/objstore"
)

// objectMetadataReader reads metadata files through the service's object-store access,
// under the shared size cap and buffer budget, with the one metadata parser.
type objectMetadataReader struct {
	r   objstore.Reader
	lim *metafile.Limits
}

// NewMetadataReader returns a MetadataReader over an object store reader. lim (shared with
// the locator) caps each file and bounds the bytes buffered by all reads together; nil means
// the defaults.
func NewMetadataReader(r objstore.Reader, lim *metafile.Limits) MetadataReader {
	if lim == nil {
		lim = metafile.NewLimits(0, 0)
	}
	return objectMetadataReader{r: r, lim: lim}
}

func (m objectMetadataReader) ReadMetadata(ctx context.Context, location string) (*RemoteMetadata, error) {
	raw, info, release, err := m.r.ReadReserved(ctx, location, m.lim.MaxBytes(), m.lim.Reserve)
	if err != nil {
		return nil, err
	}
	defer release()
	md, err := m.lim.Parse(ctx, location, raw)
	var ae *apperr.Error
	if errors.As(err, &ae) {
		return nil, err
	}
	if err != nil {
		return nil, apperr.Wrap(http.StatusBadGateway, err, "the remote points at %s, which is not Iceberg table metadata", location)
	}
	return &RemoteMetadata{SizeBytes: info.SizeBytes, Checksum: info.Checksum, Metadata: md}, nil
}
