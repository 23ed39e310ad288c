package objstore_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
)

// Defect 5 (issue 11): object_store.max_retries means what it means everywhere: 0 is one
// attempt, N is 1+N attempts.
func TestMaxRetriesCountsRetries(t *testing.T) {
	ctx := testCtx(t)
	f := newFakeS3(t)
	loc := putObject(t, f, "policy/v1.metadata.json", `{"format-version":2}`)
	for _, retries := range []int{0, 1, 3} {
		front := newFaultyFront(t, f.signed.Config.Handler, 100, http.StatusServiceUnavailable, "SlowDown")
		opts := fastOpts()
		opts.Policy.MaxRetries = retries
		store := newStore(t, s3Config(front.srv.URL, testSecret), opts)
		_, _, err := store.Read(ctx, loc, 1<<20)
		requireStatus(t, err, http.StatusServiceUnavailable)
		assert.Equal(t, int32(retries+1), front.count.Load(), "max_retries %d", retries)
	}
}
