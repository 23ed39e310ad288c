package restcat_test

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog/restcat"
	"github.com/iceberg-remotes/iceberg-remotes/internal/config"
)

// Defect 5 (issue 11): max_retries 0 is one attempt and N is 1+N.
func TestMaxRetriesCountsRetries(t *testing.T) {
	for _, retries := range []int{0, 1, 3} {
		var calls atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			calls.Add(1)
			w.WriteHeader(http.StatusServiceUnavailable)
		}))
		t.Cleanup(srv.Close)
		opts := fastOpts("unavailable")
		opts.Policy.MaxRetries = retries
		_, err := restcat.New(testCtx(t), config.RESTRemote{URI: srv.URL}, opts)
		require.Error(t, err)
		assert.EqualValues(t, retries+1, calls.Load(), "max_retries %d", retries)
	}
}
