package httpclient

import (
	"context"
	"io"
	"net/http"
)

// attemptTransport bounds each attempt by the policy's timeout (Policy.Attempt, the rule
// every backend uses), from sending the request until its answer's body is closed, as
// http.Client.Timeout does: a timed-out attempt fails with context.DeadlineExceeded, which
// Failure classifies as it did Client.Timeout's error. It costs a context and a body
// wrapper per call, where http.Client.Timeout costs a timer goroutine, a cancel channel
// and a second context (about ten more allocations on every lakeFS call).
type attemptTransport struct {
	policy Policy
	next   http.RoundTripper
}

func (t attemptTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := t.policy.Attempt(req.Context())
	resp, err := t.next.RoundTrip(req.WithContext(ctx))
	return Attempted(resp, err, cancel)
}

// Attempted ends an HTTP attempt begun with Policy.Attempt, whose context cancel ends: at
// once when the attempt got no answer, else when the answer's body is closed (reading it
// is part of the attempt). Every HTTP client of a backend bounds its attempts this way
// (the lakeFS and REST clients through New's transport, the Glue SDK's through its
// HTTPClient).
func Attempted(resp *http.Response, err error, cancel context.CancelFunc) (*http.Response, error) {
	if err != nil {
		cancel()
		return nil, err
	}
	resp.Body = &cancelOnClose{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

// cancelOnClose ends the attempt's context once the body is closed.
type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelOnClose) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}
