package lakefs

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// PlanWrite is the one rule for the paths a write stages; StagedOutside reports anything
// else staged on the branch, and ResetStaged resets only the paths it is given.
func TestPlanWriteStagedOutsideResetStaged(t *testing.T) {
	e, l := newLocatorEnv(t)
	ctx := context.Background()

	ref := TableRef{Repository: testRepo, Reference: "main", Namespace: []string{"accounting", "tax"}, Table: "events"}
	plan, err := l.PlanWrite(ctx, ref, TableWrite{PhysicalAddress: "s3://bucket/t/00001-x.metadata.json", CreateNamespace: true})
	require.NoError(t, err)
	pointer, marker := "_lakefs_tables/iceberg/accounting/tax/events/metadata.json", "_lakefs_tables/iceberg/accounting/tax/_namespace.json"
	assert.Equal(t, []string{pointer, marker}, plan.Paths(), "a missing namespace's marker is the write's own path")
	plan, err = l.PlanWrite(ctx, ref, TableWrite{PhysicalAddress: "s3://bucket/t/00001-x.metadata.json"})
	require.NoError(t, err)
	assert.Equal(t, []string{pointer}, plan.Paths())

	hplan, err := l.PlanWrite(ctx, TableRef{Repository: hadoopRepo, Reference: "main", Namespace: []string{"db"}, Table: "t"},
		TableWrite{PhysicalAddress: "s3://bucket/t/00001-x.gz.metadata.json"})
	require.NoError(t, err)
	assert.Equal(t, []string{"warehouse/db/t/metadata/v1.gz.metadata.json", "warehouse/db/t/metadata/version-hint.text"}, hplan.Paths())

	for _, p := range []string{pointer, marker, "_lakefs_tables/iceberg/accounting/tax/events_v2/metadata.json", "raw/data.csv"} {
		e.srv.PutObject(testRepo, "main", p, []byte("x"))
	}
	other, err := l.StagedOutside(ctx, ref, []string{pointer, marker})
	require.NoError(t, err)
	assert.Contains(t, []string{"_lakefs_tables/iceberg/accounting/tax/events_v2/metadata.json", "raw/data.csv"}, other)
	none, err := l.StagedOutside(ctx, ref, []string{pointer, marker, "_lakefs_tables/iceberg/accounting/tax/events_v2/metadata.json", "raw/data.csv"})
	require.NoError(t, err)
	assert.Empty(t, none)

	require.NoError(t, l.ResetStaged(ctx, testRepo, "main", []string{pointer, "never/staged"}))
	assert.ElementsMatch(t, []string{marker, "_lakefs_tables/iceberg/accounting/tax/events_v2/metadata.json", "raw/data.csv"},
		e.srv.Staged(testRepo, "main"), "only the given staged paths are reset")
}
