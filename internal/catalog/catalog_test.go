package catalog_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog"
)

func TestProvenanceProperties(t *testing.T) {
	p := catalog.Provenance{Repository: "repo", Reference: "main", Commit: "c1", Table: "a.b.t", PushedBy: "alice"}
	assert.Equal(t, map[string]string{"lakefs.repository": "repo", "lakefs.reference": "main", "lakefs.commit": "c1",
		"lakefs.table": "a.b.t", "lakefs.pushed_by": "alice"}, p.Properties())
	assert.Empty(t, catalog.Provenance{}.Properties(), "empty fields are left out")
}

// Apply and RepointedParameters replace every old lakefs.* key, keep everything else, and
// never change the map they are given.
func TestRepointReplacesOldProvenance(t *testing.T) {
	old := map[string]string{"lakefs.commit": "c1", "lakefs.table": "a.t", "lakefs.custom": "x", "owner": "bob",
		"metadata_location": "m1"}
	got := catalog.RepointedParameters(old, catalog.Provenance{Repository: "repo", Commit: "c2"},
		"metadata_location", "previous_metadata_location", "m2", "m1")
	assert.Equal(t, map[string]string{"lakefs.repository": "repo", "lakefs.commit": "c2", "owner": "bob",
		"metadata_location": "m2", "previous_metadata_location": "m1"}, got)
	assert.Equal(t, "c1", old["lakefs.commit"], "the input is not modified")
	assert.Equal(t, map[string]string{"owner": "bob"}, catalog.Provenance{}.Apply(map[string]string{"lakefs.commit": "c1", "owner": "bob"}))
}
