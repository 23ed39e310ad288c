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

	addr := map[string]string{}
	for _, p := range []string{pointer, marker, "_lakefs_tables/iceberg/accounting/tax/events_v2/metadata.json", "raw/data.csv"} {
		addr[p] = e.srv.PutObject(testRepo, "main", p, []byte("x"))
	}
	other, err := l.StagedOutside(ctx, ref, []string{pointer, marker})
	require.NoError(t, err)
	assert.Contains(t, []string{"_lakefs_tables/iceberg/accounting/tax/events_v2/metadata.json", "raw/data.csv"}, other)
	none, err := l.StagedOutside(ctx, ref, []string{pointer, marker, "_lakefs_tables/iceberg/accounting/tax/events_v2/metadata.json", "raw/data.csv"})
	require.NoError(t, err)
	assert.Empty(t, none)

	// The marker was re-staged by someone else (other content): not reset; the pointer still
	// links what was recorded: reset; a recorded path not staged is no call.
	require.NoError(t, l.ResetStaged(ctx, testRepo, "main", []StagedObject{
		{Path: pointer, PhysicalAddress: addr[pointer]},
		{Path: marker, MD5: md5Hex(markerBody)},
		{Path: "raw/data.csv", PhysicalAddress: "s3://bucket/somewhere-else"},
		{Path: "never/staged", PhysicalAddress: "s3://bucket/x"},
	}))
	assert.ElementsMatch(t, []string{marker, "_lakefs_tables/iceberg/accounting/tax/events_v2/metadata.json", "raw/data.csv"},
		e.srv.Staged(testRepo, "main"), "only recorded paths that still hold what was recorded are reset")
	require.NoError(t, l.ResetStaged(ctx, testRepo, "main", []StagedObject{{Path: marker, MD5: md5Hex([]byte("x"))}}))
	assert.NotContains(t, e.srv.Staged(testRepo, "main"), marker)
}
