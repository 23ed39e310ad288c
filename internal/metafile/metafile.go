// Package metafile is the one parser of Iceberg table metadata files and the one home of
// their size limits: the cap on one file (object_store.max_metadata_bytes) and the bound on
// the bytes all concurrent reads buffer together (object_store.max_buffered_bytes).
//
// Both the files read through lakeFS (the locator) and those read from the object store
// (pull) go through it. gzip is recognised by its magic bytes, never by the file's name.
package metafile

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/apache/iceberg-go/table"
	"golang.org/x/sync/semaphore"

	"github.com/iceberg-remotes/iceberg-remotes/internal/apperr"
)

// Defaults for limits left at zero.
const (
	DefaultMaxBytes         = 256 << 20
	DefaultMaxBufferedBytes = 1 << 30
)

// Limits caps one metadata file and the bytes buffered by all reads at once. It is safe for
// concurrent use; share one per process.
type Limits struct {
	maxBytes int64
	buffered int64
	sem      *semaphore.Weighted
}

// NewLimits returns limits of maxBytes per file and maxBuffered for all reads together
// (zero: the defaults; maxBuffered is raised to maxBytes when below it).
func NewLimits(maxBytes, maxBuffered int64) *Limits {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	if maxBuffered <= 0 {
		maxBuffered = DefaultMaxBufferedBytes
	}
	maxBuffered = max(maxBuffered, maxBytes)
	return &Limits{maxBytes: maxBytes, buffered: maxBuffered, sem: semaphore.NewWeighted(maxBuffered)}
}

// MaxBytes is the largest metadata file accepted, raw or decompressed.
func (l *Limits) MaxBytes() int64 { return l.maxBytes }

// MaxBufferedBytes is the bound on the bytes buffered by all reads at once.
func (l *Limits) MaxBufferedBytes() int64 { return l.buffered }

// TooLarge is the refusal (400) of a metadata file above the cap.
func TooLarge(location string, size, maxBytes int64) error {
	return apperr.BadRequest("metadata file %s is %d bytes, above the limit of %d bytes (object_store.max_metadata_bytes)", location, size, maxBytes)
}

// Reserve takes n bytes of the shared budget, waiting while other reads hold it, and returns
// the function that gives them back. n above MaxBytes is refused (TooLarge) without waiting.
func (l *Limits) Reserve(ctx context.Context, location string, n int64) (func(), error) {
	if n > l.maxBytes {
		return nil, TooLarge(location, n, l.maxBytes)
	}
	n = max(n, 1)
	if err := l.sem.Acquire(ctx, n); err != nil {
		return nil, apperr.Wrap(http.StatusServiceUnavailable, err, "too many metadata files are being read at once; %s was not read in time", location)
	}
	return func() { l.sem.Release(n) }, nil
}

// IsGzip reports whether raw starts with the gzip magic bytes.
func IsGzip(raw []byte) bool { return len(raw) >= 2 && raw[0] == 0x1f && raw[1] == 0x8b }

// Parse parses Iceberg table metadata, decompressing gzip first (recognised by its magic
// bytes; iceberg-go's ParseMetadataBytes does not decompress). A gzip file's decompressed
// size is taken from its trailer, checked against the cap and reserved before decompressing;
// a stream that decompresses to more than it declared is refused. Errors are plain (the
// caller knows which file it was and answers accordingly), except a budget wait that timed out.
func (l *Limits) Parse(ctx context.Context, location string, raw []byte) (table.Metadata, error) {
	if IsGzip(raw) {
		if len(raw) < 18 {
			return nil, errors.New("gzip: file too short")
		}
		declared := int64(binary.LittleEndian.Uint32(raw[len(raw)-4:]))
		if declared > l.maxBytes {
			// A bomb or a truncated file: either way not metadata we accept.
			return nil, fmt.Errorf("gzip: declares %d bytes decompressed, above the limit of %d bytes (object_store.max_metadata_bytes)", declared, l.maxBytes)
		}
		release, err := l.Reserve(ctx, location, declared)
		if err != nil {
			return nil, err
		}
		defer release()
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		zr.Multistream(false) // one member: the trailer's size is the whole file's
		buf := bytes.NewBuffer(make([]byte, 0, declared))
		n, err := io.Copy(buf, io.LimitReader(zr, declared+1))
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		if n != declared {
			return nil, fmt.Errorf("gzip: decompressed %d bytes, the trailer declares %d", n, declared)
		}
		if rest, _ := io.Copy(io.Discard, io.LimitReader(zr, 1)); rest != 0 {
			return nil, errors.New("gzip: data after the declared size")
		}
		raw = buf.Bytes()
	}
	md, err := table.ParseMetadataBytes(raw)
	if err != nil {
		return nil, err
	}
	if md.Location() == "" {
		return nil, errors.New("missing location")
	}
	return md, nil
}
