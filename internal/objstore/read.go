package objstore

import (
	"context"
	"crypto/md5" //nolint:gosec // MD5 is what S3 reports as a single-part object's ETag, not a security measure.
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	icebergio "github.com/apache/iceberg-go/io"
	"github.com/apache/iceberg-go/utils"

	"github.com/iceberg-remotes/iceberg-remotes/internal/apperr"
)

// Read returns the whole object at location, at most maxBytes long (maxBytes <= 0 means
// DefaultMaxBytes), with its size and MD5.
//
// Errors (*apperr.Error): 400 unsupported scheme, malformed location or object larger than
// maxBytes; 404 no such object (or bucket); 502 the object store denied access or rejected the
// request; 503 the store stayed unavailable (throttling, 5xx, network) through all retries;
// 504 the last attempt timed out (or ctx's deadline passed); 500 when iceberg-go cannot even
// build the FileIO (a configuration problem, e.g. no GCS credentials found).
func (s *Store) Read(ctx context.Context, location string, maxBytes int64) ([]byte, Info, error) {
	data, info, release, err := s.ReadReserved(ctx, location, maxBytes, nil)
	if err != nil {
		return nil, Info{}, err
	}
	release()
	return data, info, nil
}

// ReadReserved is Read with a byte budget (see Reader).
func (s *Store) ReadReserved(ctx context.Context, location string, maxBytes int64, reserve Reserve) ([]byte, Info, func(), error) {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	if err := validateLocation(location); err != nil {
		return nil, Info{}, nil, err
	}
	var last error
	for attempt := 0; ; attempt++ {
		data, info, release, err := s.attempt(ctx, location, maxBytes, reserve)
		if err == nil {
			return data, info, release, nil
		}
		var final *apperr.Error
		if errors.As(err, &final) {
			return nil, Info{}, nil, final // classified already: not worth retrying
		}
		last = err
		if ctx.Err() != nil || attempt >= s.policy.MaxRetries {
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
	return nil, Info{}, nil, giveUp(ctx, location, last)
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

func (s *Store) backoff(attempt int) time.Duration { return s.policy.Backoff(attempt) }

// attempt performs one read under its own timeout. It returns either an *apperr.Error
// (final) or a *transient (retry).
func (s *Store) attempt(parent context.Context, location string, maxBytes int64, reserve Reserve) (_ []byte, _ Info, _ func(), err error) {
	ctx, cancel := s.policy.Attempt(parent)
	defer cancel()
	// iceberg-go's S3 backend prefers an AWS config found on the context over parsing one
	// from the properties: this is how it gets our HTTP client, credentials and retry policy.
	awsCfg := s.awsCfg
	ctx = utils.WithAwsConfig(ctx, &awsCfg)

	// The FileIO keeps this context for its reads, so a FileIO lives for one attempt.
	fsys, err := icebergio.LoadFS(ctx, s.props, location)
	if err != nil {
		return nil, Info{}, nil, s.classify(ctx, location, err, true)
	}
	if c, ok := fsys.(io.Closer); ok {
		defer func() { _ = c.Close() }()
	}
	f, err := fsys.Open(location)
	if err != nil {
		return nil, Info{}, nil, s.classify(ctx, location, err, false)
	}
	defer func() { _ = f.Close() }()
	st, err := f.Stat()
	if err != nil {
		return nil, Info{}, nil, s.classify(ctx, location, err, false)
	}
	if st.IsDir() {
		return nil, Info{}, nil, apperr.BadRequest("%s is a directory, not a metadata file", location)
	}
	size := st.Size()
	if size > maxBytes {
		return nil, Info{}, nil, tooLarge(location, maxBytes)
	}
	release := func() {}
	if reserve != nil {
		n := size
		if n < 0 {
			n = maxBytes // size unknown: the most this read may buffer
		}
		if release, err = reserve(ctx, location, n); err != nil {
			return nil, Info{}, nil, err
		}
		defer func() {
			if err != nil {
				release()
			}
		}()
	}
	h := md5.New() //nolint:gosec // see import
	w := &appendWriter{buf: make([]byte, 0, max(size, 0))}
	n, err := io.Copy(io.MultiWriter(w, h), io.LimitReader(f, maxBytes+1))
	if err != nil {
		return nil, Info{}, nil, s.classify(ctx, location, err, false)
	}
	if n > maxBytes {
		return nil, Info{}, nil, tooLarge(location, maxBytes)
	}
	if size >= 0 && n != size {
		// A body cut short (or an object replaced mid-read): the size we would record
		// would not match the bytes. Try again.
		return nil, Info{}, nil, &transient{err: fmt.Errorf("read %d bytes of %s, object size is %d", n, location, size)}
	}
	return w.buf, Info{Location: location, SizeBytes: n, Checksum: hex.EncodeToString(h.Sum(nil))}, release, nil
}

type appendWriter struct{ buf []byte }

func (w *appendWriter) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	return len(p), nil
}

func tooLarge(location string, maxBytes int64) error {
	return apperr.BadRequest("object %s is larger than the limit of %d bytes (object_store.max_metadata_bytes)", location, maxBytes)
}
