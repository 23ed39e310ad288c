package sqlcat_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog/sqlcat"
	"github.com/iceberg-remotes/iceberg-remotes/internal/config"
	"github.com/iceberg-remotes/iceberg-remotes/internal/httpclient"
	"github.com/iceberg-remotes/iceberg-remotes/internal/testutil/tcptest"
)

// Defect 5 (issue 11): for sql remotes too, timeout bounds one attempt (a statement, or
// the connection it needs) and max_retries counts the attempts after the first: 0 is one
// attempt.
func TestTimeoutIsPerAttemptAndMaxRetriesCounts(t *testing.T) {
	for _, retries := range []int{0, 2} {
		addr, accepted := tcptest.Silent(t)
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
