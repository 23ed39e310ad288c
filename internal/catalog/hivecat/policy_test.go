package hivecat_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog/hivecat"
	"github.com/iceberg-remotes/iceberg-remotes/internal/config"
	"github.com/iceberg-remotes/iceberg-remotes/internal/testutil/tcptest"
)

// Defect 5 (issue 11): max_retries 0 is one attempt and N is 1+N.
func TestMaxRetriesCountsRetries(t *testing.T) {
	for _, retries := range []int{0, 1, 3} {
		addr, accepted := tcptest.HangUp(t)
		a := newAdapter(t, config.HiveRemote{URI: "thrift://" + addr}, func(o *hivecat.Options) { o.Policy.MaxRetries = retries })
		require.Error(t, a.Ping(ctx(t)))
		assert.EqualValues(t, retries+1, accepted.Load(), "max_retries %d", retries)
	}
}
