package sqlcat_test

import (
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog/sqlcat"
	"github.com/iceberg-remotes/iceberg-remotes/internal/config"
	"github.com/iceberg-remotes/iceberg-remotes/internal/httpclient"
)

// silentServer accepts connections and never answers (a hung database), counting them.
func silentServer(t *testing.T) (string, *atomic.Int32) {
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
			t.Cleanup(func() { _ = conn.Close() })
		}
	}()
	return ln.Addr().String(), &n
}

// Defect 5 (issue 11): for sql remotes too, timeout bounds one attempt (a statement, or
// the connection it needs) and max_retries counts the attempts after the first: 0 is one
// attempt.
func TestTimeoutIsPerAttemptAndMaxRetriesCounts(t *testing.T) {
	for _, retries := range []int{0, 2} {
		addr, accepted := silentServer(t)
		cfg := config.SQLRemote{Driver: "postgres", DSN: "postgres://postgres@" + addr + "/test?sslmode=disable&connect_timeout=30"}
		a := newAdapter(t, cfg, sqlcat.Options{RemoteID: "hung", Policy: httpclient.Policy{Timeout: 300 * time.Millisecond, MaxRetries: retries}})
		before := accepted.Load()
		start := time.Now()
		_, err := a.NamespaceExists(testCtx(t), []string{"ns"})
		elapsed := time.Since(start)
		assertStatus(t, err, http.StatusGatewayTimeout)
		assert.EqualValues(t, retries+1, accepted.Load()-before, "max_retries %d: one connection per attempt", retries)
		assert.GreaterOrEqual(t, elapsed, time.Duration(retries+1)*300*time.Millisecond, "each attempt had its own 300ms")
		assert.Less(t, elapsed, time.Duration(retries+1)*300*time.Millisecond+3*time.Second, "bounded")
	}
}
