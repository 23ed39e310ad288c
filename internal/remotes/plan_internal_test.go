package remotes

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/iceberg-remotes/iceberg-remotes/internal/apperr"
	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog"
)

// A check's message is formatted when read, exactly as fmt.Sprintf at the time of the check
// would have: with or without arguments, and a failure's message verbatim.
func TestCheckMessageIsFormattedWhenRead(t *testing.T) {
	var p Plan
	id := catalog.Ident{Namespace: []string{"a", "b"}, Table: "t"}
	p.pass("remote_table", "table %s at %q (%d bytes)", id, "s3://x", 42)
	p.pass("remote_namespace", "namespace exists (100%% sure)")
	_ = p.fail("gc_protection", apperr.Conflict("branch %q: 100%% taken", "b"))
	_ = p.fail("other", errors.New("50% off"))
	got := make([]string, len(p.Checks))
	for i, c := range p.Checks {
		got[i] = c.Message()
	}
	assert.Equal(t, []string{
		`table a.b.t at "s3://x" (42 bytes)`,
		"namespace exists (100% sure)",
		`branch "b": 100% taken`,
		apperr.PublicMessage(errors.New("50% off")),
	}, got)
}
