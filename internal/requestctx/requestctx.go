// Package requestctx carries per-request facts (request id, authenticated user) on the
// context, so that logs, audit rows and outbound calls can name them without every layer
// passing them by hand.
//
// The request-logging middleware installs a mutable Info before authentication runs;
// authentication fills in the user; the log line written after the handler then names the
// user even though the logger sits outside the authentication middleware.
package requestctx

import (
	"context"
	"sync"
)

// Info is what is known about the request being served.
type Info struct {
	mu        sync.Mutex
	requestID string
	user      string
}

type infoKey struct{}

// With returns a context carrying a fresh Info for the request id.
func With(ctx context.Context, requestID string) (context.Context, *Info) {
	info := &Info{requestID: requestID}
	return context.WithValue(ctx, infoKey{}, info), info
}

func from(ctx context.Context) *Info {
	info, _ := ctx.Value(infoKey{}).(*Info)
	return info
}

// RequestID returns the request id on ctx, or "".
func RequestID(ctx context.Context) string {
	if info := from(ctx); info != nil {
		return info.RequestID()
	}
	return ""
}

// User returns the authenticated user id on ctx, or "".
func User(ctx context.Context) string {
	if info := from(ctx); info != nil {
		return info.User()
	}
	return ""
}

// SetUser records the authenticated user id; a no-op when ctx carries no Info.
func SetUser(ctx context.Context, user string) {
	if info := from(ctx); info != nil {
		info.mu.Lock()
		info.user = user
		info.mu.Unlock()
	}
}

func (i *Info) RequestID() string {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.requestID
}

func (i *Info) User() string {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.user
}
