package httpclient

import (
	"context"
	"math/rand/v2"
	"time"
)

// Defaults of a Policy, and of the configuration keys that fill it (lakefs.*,
// object_store.*, iceberg_catalog.remotes[].*: timeout, max_retries).
const (
	DefaultTimeout    = 30 * time.Second
	DefaultMaxRetries = 3
	DefaultMinBackoff = 100 * time.Millisecond
	DefaultMaxBackoff = 2 * time.Second
)

// Policy is the one timeout-and-retry policy of every outbound call the service makes:
// lakeFS, every remote type (rest, glue, sql, hive) and object-store reads. Its fields
// mean the same for all of them:
//
//   - Timeout bounds one attempt (connect, send, wait, read the answer); a call with retries
//     may take up to (MaxRetries+1) × Timeout plus the waits between attempts. Zero means
//     DefaultTimeout: no call waits forever.
//   - MaxRetries is the number of retries after the first attempt: 0 means exactly one
//     attempt (negative values count as 0).
//   - Between attempts the caller waits a jittered exponential backoff: MinBackoff doubling
//     per retry, capped at MaxBackoff, each wait drawn from [d/2, d] (zero: the defaults).
//
// Which failures are retried is not a setting: see Failure.
type Policy struct {
	Timeout                time.Duration
	MaxRetries             int
	MinBackoff, MaxBackoff time.Duration
}

// Normalized returns p with zero fields replaced by the defaults (MaxRetries excepted: 0
// means no retries) and negative retries by 0.
func (p Policy) Normalized() Policy {
	if p.Timeout <= 0 {
		p.Timeout = DefaultTimeout
	}
	if p.MaxRetries < 0 {
		p.MaxRetries = 0
	}
	if p.MinBackoff <= 0 {
		p.MinBackoff = DefaultMinBackoff
	}
	if p.MaxBackoff <= 0 {
		p.MaxBackoff = DefaultMaxBackoff
	}
	if p.MaxBackoff < p.MinBackoff {
		p.MaxBackoff = p.MinBackoff
	}
	return p
}

// Attempts is the largest number of attempts of one call (MaxRetries + 1).
func (p Policy) Attempts() int { return p.Normalized().MaxRetries + 1 }

// Backoff is the wait before retry number retry (0 for the first retry).
func (p Policy) Backoff(retry int) time.Duration {
	p = p.Normalized()
	d := p.MinBackoff << min(max(retry, 0), 20)
	if d <= 0 || d > p.MaxBackoff {
		d = p.MaxBackoff
	}
	// Jitter in [d/2, d] spreads the retries of concurrent callers.
	return d/2 + rand.N(d/2+1)
}

// Wait sleeps Backoff(retry); it returns false, early, when ctx ends.
func (p Policy) Wait(ctx context.Context, retry int) bool {
	t := time.NewTimer(p.Backoff(retry))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// Attempt bounds one attempt by Timeout.
func (p Policy) Attempt(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, p.Normalized().Timeout)
}
