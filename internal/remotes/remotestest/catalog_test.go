package remotestest_test

import (
	"testing"

	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog"
	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog/catalogtest"
	"github.com/iceberg-remotes/iceberg-remotes/internal/remotes/remotestest"
)

// The in-memory catalog keeps the same contract as the real adapters.
func TestCatalogConformance(t *testing.T) {
	catalogtest.Run(t, catalogtest.Options{
		New:              func(*testing.T) catalog.Adapter { return remotestest.NewCatalog() },
		NestedNamespaces: true,
		BatchRead:        true,
	})
}
