package cli_test

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestNoHeavyDependencies: the client links neither iceberg-go nor the server (whose
// builds are slow and large); it speaks to the server over the generated client only.
func TestNoHeavyDependencies(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "go", "list", "-deps", ".").Output()
	require.NoError(t, err)
	for _, dep := range strings.Fields(string(out)) {
		for _, banned := range []string{"github.com/apache/iceberg-go", "github.com/apache/arrow-go", "/internal/server", "/internal/remotes", "/internal/config"} {
			require.NotContains(t, dep, banned, "internal/cli must not depend on %s", banned)
		}
	}
}
