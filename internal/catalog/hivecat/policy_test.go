package hivecat_test

import (
	"net"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog/hivecat"
	"github.com/iceberg-remotes/iceberg-remotes/internal/config"
)

// hangUp accepts connections and closes them at once, counting them: every metastore call
// through it fails after connecting (an ambiguous failure, retried for reads).
func hangUp(t *testing.T) (string, *atomic.Int32) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = ln.Close() })
	var n atomic.Int32
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			n.Add(1)
			_ = conn.Close()
		}
	}()
	return ln.Addr().String(), &n
}

// Defect 5 (issue 11): max_retries 0 is one attempt and N is 1+N.
func TestMaxRetriesCountsRetries(t *testing.T) {
	for _, retries := range []int{0, 1, 3} {
		addr, accepted := hangUp(t)
		a := newAdapter(t, config.HiveRemote{URI: "thrift://" + addr}, func(o *hivecat.Options) { o.Policy.MaxRetries = retries })
		require.Error(t, a.Ping(ctx(t)))
		assert.EqualValues(t, retries+1, accepted.Load(), "max_retries %d", retries)
	}
}
