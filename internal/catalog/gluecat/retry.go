package gluecat

import (
	"errors"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/glue"

	"github.com/iceberg-remotes/iceberg-remotes/internal/httpclient"
)

// newRetryer is the SDK retryer for Glue calls that are (or are not) idempotent: the
// policy's attempts and backoff, and httpclient's Failure rule instead of the SDK's own list
// of retryable errors (which repeats every call after a 502/504 or a timeout). The SDK's
// retry quota is off, so that max_retries alone bounds the attempts.
func newRetryer(p httpclient.Policy, idempotent bool) aws.Retryer {
	p = p.Normalized()
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = p.Attempts()
		o.MaxBackoff = p.MaxBackoff
		o.Backoff = retry.BackoffDelayerFunc(func(attempt int, _ error) (time.Duration, error) {
			return p.Backoff(attempt - 1), nil
		})
		o.RateLimiter = ratelimit.None
		o.Retryables = []retry.IsErrorRetryable{retry.IsErrorRetryableFunc(func(err error) aws.Ternary {
			return aws.BoolTernary(classify(err).Retryable(idempotent))
		})}
	})
}

// classify maps a Glue SDK error to httpclient's Failure: throttling is a refusal, an error
// answer is classified by its status, anything else (no answer, or a body that broke off)
// by the transport error.
func classify(err error) httpclient.Failure {
	if retry.IsErrorThrottles(retry.DefaultThrottles).IsErrorThrottle(err) == aws.TrueTernary {
		return httpclient.Refused
	}
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) && re.HTTPStatusCode() >= 300 {
		return httpclient.ClassifyStatus(re.HTTPStatusCode())
	}
	// No answer, or a success whose body could not be read (the connection broke while the
	// SDK decoded it): the transport error decides, as for a call that got no answer.
	return httpclient.ClassifyError(err)
}

// idempotent is the per-call option for calls that may be repeated after an ambiguous
// failure: reads, and creations whose repeat the adapter recognises as its own success
// (AlreadyExists, with the same metadata location for tables). The client's default
// retryer is the strict one, for UpdateTable (a compare-and-swap on VersionId) and
// DeleteTable.
func (a *Adapter) idempotent(o *glue.Options) { o.Retryer = a.idempotentRetryer }

// attemptTimeout bounds each HTTP exchange (an attempt: request, answer and body) of the
// SDK's HTTP client by the policy's timeout, by httpclient's rule (Policy.Attempt,
// Attempted).
type attemptTimeout struct {
	next   aws.HTTPClient
	policy httpclient.Policy
}

func (c attemptTimeout) Do(r *http.Request) (*http.Response, error) {
	ctx, cancel := c.policy.Attempt(r.Context())
	resp, err := c.next.Do(r.WithContext(ctx))
	return httpclient.Attempted(resp, err, cancel)
}
