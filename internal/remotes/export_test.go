package remotes

import (
	"context"

	"github.com/iceberg-remotes/iceberg-remotes/internal/state"
)

// ReleaseProtectionForTest exposes releaseProtection, which un-publishing calls, to the
// package's external tests until Unpublish is merged.
func (s *Service) ReleaseProtectionForTest(ctx context.Context, rec *state.SyncRecord) error {
	return s.releaseProtection(ctx, rec)
}
