package api

import (
	"context"
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/iceberg-remotes/iceberg-remotes/internal/api/apigen"
)

// NDJSONContentType is the media type of a streamed answer: one JSON value per line.
const NDJSONContentType = "application/x-ndjson"

// ndjsonLineTimeout is how long one streamed line may take to write: each line extends the
// connection's write deadline by it, so a long stream that keeps producing lines is not cut
// off by the server's overall write timeout.
const ndjsonLineTimeout = 2 * time.Minute

// NDJSONWriter streams JSON lines, flushing each so that the client sees it at once. The 200
// and the Content-Type go out with the first line: until then an error can still be
// answered as an ordinary error (Started tells). Safe for concurrent use.
type NDJSONWriter struct {
	mu      sync.Mutex
	w       http.ResponseWriter
	rc      *http.ResponseController
	started bool
	err     error
}

// NewNDJSONWriter returns a writer streaming onto w.
func NewNDJSONWriter(w http.ResponseWriter) *NDJSONWriter {
	return &NDJSONWriter{w: w, rc: http.NewResponseController(w)}
}

// Line writes v as one JSON line and flushes it. After a failed write (the client went
// away) every later call returns that error.
func (n *NDJSONWriter) Line(v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.err != nil {
		return n.err
	}
	if !n.started {
		n.started = true
		n.w.Header().Set("Content-Type", NDJSONContentType)
		n.w.Header().Set("X-Content-Type-Options", "nosniff")
		n.w.WriteHeader(http.StatusOK)
	}
	if err := n.rc.SetWriteDeadline(time.Now().Add(ndjsonLineTimeout)); err != nil && !errors.Is(err, http.ErrNotSupported) {
		n.err = err
		return err
	}
	if _, err := n.w.Write(append(raw, '\n')); err != nil {
		n.err = err
		return err
	}
	if err := n.rc.Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
		n.err = err
	}
	return n.err
}

// Started reports whether the answer's status has been sent.
func (n *NDJSONWriter) Started() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.started
}

type ndjsonKey struct{}

// acceptFlag records on the context whether the client asked for a streamed answer
// (Accept: application/x-ndjson), which the generated request objects do not carry.
func acceptFlag(next apigen.StrictHandlerFunc, _ string) apigen.StrictHandlerFunc {
	return func(ctx context.Context, w http.ResponseWriter, r *http.Request, req any) (any, error) {
		if acceptsNDJSON(r.Header.Values("Accept")) {
			ctx = context.WithValue(ctx, ndjsonKey{}, true)
		}
		return next(ctx, w, r, req)
	}
}

func acceptsNDJSON(accept []string) bool {
	for _, h := range accept {
		for _, part := range strings.Split(h, ",") {
			mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
			if err == nil && mt == NDJSONContentType && params["q"] != "0" {
				return true
			}
		}
	}
	return false
}

func wantsNDJSON(ctx context.Context) bool {
	on, _ := ctx.Value(ndjsonKey{}).(bool)
	return on
}

// ndjsonResponse is a strict-server answer that streams: run writes the lines. An error
// returned before the first line is answered as an error (the strict server's error
// handler); after it, the status is sent and the stream just ends.
type ndjsonResponse struct {
	run func(ctx context.Context, out *NDJSONWriter) error
	ctx context.Context
}

func (n ndjsonResponse) visit(w http.ResponseWriter) error {
	out := NewNDJSONWriter(w)
	err := n.run(n.ctx, out)
	if err != nil && out.Started() {
		return nil // the status is sent; the client sees the stream end without its totals line
	}
	return err
}
