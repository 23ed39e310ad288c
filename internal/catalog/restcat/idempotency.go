package restcat

// Idempotency-Key on mutations, where the server advertises idempotency-key-lifetime.

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/iceberg-remotes/iceberg-remotes/internal/httpclient"
)

// mutation returns the context for one logical mutating call (register, re-point, drop).
// Where the server advertised idempotency-key-lifetime in /v1/config it carries a new key,
// which every retry of the call repeats (httpclient.WithIdempotencyKey: such a call is then
// retried after an ambiguous failure too, and the server replays its first answer instead of
// applying it twice), and the call is bounded by the lifetime, since the spec forbids reusing
// a key after it. Without the advertisement ctx is returned unchanged: the spec says to
// assume keys are not honoured.
func (s *session) mutation(ctx context.Context) (context.Context, context.CancelFunc) {
	if s.keyLifetime <= 0 {
		return ctx, func() {}
	}
	ctx, cancel := context.WithTimeout(ctx, s.keyLifetime)
	return httpclient.WithIdempotencyKey(ctx, httpclient.NewIdempotencyKey()), cancel
}

// parseISODuration parses the ISO-8601 durations the spec advertises (PT30M, PT24H, P1D,
// PT1.5S, P1W): days, weeks and time parts; years and months have no fixed length and are
// refused.
func parseISODuration(s string) (time.Duration, error) {
	rest, ok := strings.CutPrefix(strings.ToUpper(strings.TrimSpace(s)), "P")
	if !ok || rest == "" {
		return 0, errors.New("not an ISO-8601 duration")
	}
	var d float64
	inTime, parts := false, 0
	for rest != "" {
		if rest[0] == 'T' {
			if inTime {
				return 0, errors.New("two T designators")
			}
			inTime, rest = true, rest[1:]
			continue
		}
		i := strings.IndexAny(rest, "WDHMS")
		if i <= 0 {
			return 0, errors.New("number without unit")
		}
		n, err := strconv.ParseFloat(rest[:i], 64)
		if err != nil || n < 0 {
			return 0, errors.New("bad number")
		}
		unit := rest[i]
		rest = rest[i+1:]
		parts++
		switch {
		case !inTime && unit == 'W':
			d += n * 7 * 24 * 3600
		case !inTime && unit == 'D':
			d += n * 24 * 3600
		case inTime && unit == 'H':
			d += n * 3600
		case inTime && unit == 'M':
			d += n * 60
		case inTime && unit == 'S':
			d += n
		default:
			return 0, errors.New("unsupported unit (years and months have no fixed length)")
		}
	}
	if parts == 0 {
		return 0, errors.New("no duration parts")
	}
	return time.Duration(d * float64(time.Second)), nil
}
