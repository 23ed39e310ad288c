package remotes

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/iceberg-remotes/iceberg-remotes/internal/config"
)

func TestCheckPulledLocation(t *testing.T) {
	mapped := config.Remote{ID: "r", LocationMap: []config.LocationMap{{From: "s3a://", To: "s3://"}},
		AllowedLocations: []string{"s3://shared/warehouse/"}}
	local := config.Remote{ID: "l", LocationMap: []config.LocationMap{{From: "local://", To: "file:///var/lakefs/"}},
		AllowFileLocations: true}
	for _, tc := range []struct {
		name           string
		rc             config.Remote
		ns, lake, read string
		ok             bool
	}{
		{"under the storage namespace", config.Remote{}, "s3://lake/repo", "s3://lake/repo/t/m.json", "s3://lake/repo/t/m.json", true},
		{"namespace with slash", config.Remote{}, "s3://lake/repo/", "s3://lake/repo/t/m.json", "s3://lake/repo/t/m.json", true},
		{"sibling of the namespace", config.Remote{}, "s3://lake/repo", "s3://lake/repo2/t/m.json", "s3://lake/repo2/t/m.json", false},
		{"another bucket", config.Remote{}, "s3://lake/repo", "s3://other/t/m.json", "s3://other/t/m.json", false},
		{"allowed prefix in the remote's form", mapped, "s3a://lake/repo", "s3a://shared/warehouse/t/m.json", "s3://shared/warehouse/t/m.json", true},
		{"outside the allowed prefix", mapped, "s3a://lake/repo", "s3a://shared/other/t/m.json", "s3://shared/other/t/m.json", false},
		{"dot-dot", config.Remote{}, "s3://lake/repo", "s3://lake/repo/../x/m.json", "s3://lake/repo/../x/m.json", false},
		{"file without allowance", config.Remote{AllowedLocations: []string{"file:///data/"}}, "", "file:///data/m.json", "file:///data/m.json", false},
		{"local block store, file allowed", local, "local://example", "local://example/t/m.json", "file:///var/lakefs/example/t/m.json", true},
		{"local, outside the namespace", local, "local://example", "local://other/t/m.json", "file:///var/lakefs/other/t/m.json", false},
		{"read and linked locations disagree", config.Remote{}, "s3://lake/repo", "s3://lake/repo/t/m.json", "s3://elsewhere/t/m.json", false},
		{"bare scheme is no folder", config.Remote{AllowedLocations: []string{"s3://"}}, "", "s3://x/m.json", "s3://x/m.json", false},
	} {
		err := checkPulledLocation(tc.rc, tc.ns, tc.lake, tc.read)
		assert.Equal(t, tc.ok, err == nil, "%s: %v", tc.name, err)
	}
}
