package authn

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/iceberg-remotes/iceberg-remotes/internal/apperr"
)

// BasicVerifier checks a lakeFS access key (an "Authorization: Basic ..." header) and returns
// the lakeFS user id it belongs to. A refused credential is an error with status 401 (or any
// non-*apperr.Error); an *apperr.Error with another status means the credential could not be
// checked and is passed to the caller as is.
type BasicVerifier interface {
	VerifyBasic(ctx context.Context, authorizationHeader string) (userID string, err error)
}

// NewLakeFSBasicVerifier verifies access keys by calling GET {endpoint}/user on lakeFS with
// the caller's Authorization header, through client (which owns timeouts and retries).
// endpoint is lakeFS's API base, e.g. "http://127.0.0.1:8000/api/v1".
func NewLakeFSBasicVerifier(endpoint string, client *http.Client) BasicVerifier {
	return &lakeFSBasicVerifier{url: strings.TrimRight(endpoint, "/") + "/user", client: client}
}

type lakeFSBasicVerifier struct {
	url    string
	client *http.Client
}

// maxUserBody bounds what is read of lakeFS's /user answer.
const maxUserBody = 1 << 20

var errBasicRejected = apperr.Unauthorized(apperr.MsgAuthenticationFailed)

func (v *lakeFSBasicVerifier) VerifyBasic(ctx context.Context, authorizationHeader string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, v.url, nil)
	if err != nil {
		return "", apperr.Wrap(http.StatusInternalServerError, err, apperr.MsgInternal)
	}
	req.Header.Set("Authorization", authorizationHeader)
	req.Header.Set("Accept", "application/json")
	resp, err := v.client.Do(req)
	if err != nil {
		// The transport error names the URL only; the header is never part of it.
		return "", apperr.Wrap(http.StatusServiceUnavailable, err, "%s: lakeFS is unreachable", apperr.MsgAuthenticationFailed)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxUserBody))
	if err != nil {
		return "", apperr.Wrap(http.StatusServiceUnavailable, err, "%s: reading lakeFS answer", apperr.MsgAuthenticationFailed)
	}
	switch {
	case resp.StatusCode == http.StatusOK:
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return "", fmt.Errorf("lakeFS answered %d: %w", resp.StatusCode, errBasicRejected)
	case resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests:
		return "", apperr.New(http.StatusServiceUnavailable, "%s: lakeFS answered %d", apperr.MsgAuthenticationFailed, resp.StatusCode)
	default:
		return "", apperr.New(http.StatusBadGateway, "%s: unexpected lakeFS answer %d to GET /user", apperr.MsgAuthenticationFailed, resp.StatusCode)
	}
	var cu struct {
		User struct {
			ID string `json:"id"`
		} `json:"user"`
	}
	if err := json.Unmarshal(body, &cu); err != nil {
		return "", apperr.Wrap(http.StatusBadGateway, err, "%s: unreadable lakeFS answer to GET /user", apperr.MsgAuthenticationFailed)
	}
	// lakeFS answers 200 with an empty id when no credential reached it (it does not treat
	// GET /user as protected): that is not a success.
	if cu.User.ID == "" {
		return "", fmt.Errorf("lakeFS answered with no user: %w", errBasicRejected)
	}
	return cu.User.ID, nil
}

// basicCache remembers successful basic-auth checks for ttl. Keys are hashes of the
// credential; failures are never stored, so a revoked or mistyped key is re-checked on
// every request while a valid one costs one lakeFS call per ttl.
type basicCache struct {
	ttl     time.Duration
	maxSize int

	mu      sync.Mutex
	entries map[[sha256.Size]byte]basicEntry
}

type basicEntry struct {
	userID  string
	expires time.Time
}

func newBasicCache(ttl time.Duration, maxSize int) *basicCache {
	return &basicCache{ttl: ttl, maxSize: maxSize, entries: make(map[[sha256.Size]byte]basicEntry)}
}

func (c *basicCache) get(key [sha256.Size]byte, now time.Time) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok {
		return "", false
	}
	if !now.Before(e.expires) {
		delete(c.entries, key)
		return "", false
	}
	return e.userID, true
}

func (c *basicCache) put(key [sha256.Size]byte, userID string, now time.Time) {
	c.putUntil(key, userID, now, now.Add(c.ttl))
}

// putUntil is put with an entry that expires at expires (or after ttl, if sooner).
func (c *basicCache) putUntil(key [sha256.Size]byte, userID string, now, expires time.Time) {
	if limit := now.Add(c.ttl); expires.After(limit) {
		expires = limit
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.entries[key]; !ok && len(c.entries) >= c.maxSize {
		for k, e := range c.entries {
			if !now.Before(e.expires) {
				delete(c.entries, k)
			}
		}
		// Still full of live entries: drop an arbitrary one (map order is random), which
		// only costs that caller one more lakeFS call.
		for k := range c.entries {
			if len(c.entries) < c.maxSize {
				break
			}
			delete(c.entries, k)
		}
	}
	c.entries[key] = basicEntry{userID: userID, expires: expires}
}

func (c *basicCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}
