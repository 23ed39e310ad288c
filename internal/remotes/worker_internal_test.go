package remotes

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/iceberg-remotes/iceberg-remotes/internal/config"
)

func TestBackoffDoublesUpToTheCap(t *testing.T) {
	cfg := config.Publications{InitialBackoff: time.Second, MaxBackoff: 5 * time.Second}
	var got []time.Duration
	for attempts := 1; attempts <= 5; attempts++ {
		got = append(got, backoff(cfg, attempts))
	}
	assert.Equal(t, []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 5 * time.Second, 5 * time.Second}, got)
	assert.Equal(t, 5*time.Second, backoff(cfg, 1000), "no overflow")
}

func TestRetryable(t *testing.T) {
	for status, want := range map[int]bool{500: true, 502: true, 503: true, 504: true, 429: true, 408: true, 409: true,
		400: false, 401: false, 404: false, 412: false} {
		assert.Equal(t, want, retryable(status), status)
	}
}
