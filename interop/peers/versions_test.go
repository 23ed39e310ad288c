package peers

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The versions the suite logs and the README publishes are the ones the poms install.
func TestPomsPinTheLoggedVersions(t *testing.T) {
	for name, want := range map[string]string{
		"apache-rest": "<iceberg.version>" + ApacheRESTVersion + "</iceberg.version>",
		"sdk-client":  "<artifactId>sdk</artifactId>\n      <version>" + JavaSDKVersion + "</version>",
		"hms":         "<hive.version>" + HMSVersion + "</hive.version>",
	} {
		b, err := os.ReadFile(filepath.Join(JavaDir(t, name), "pom.xml"))
		require.NoError(t, err)
		assert.Contains(t, string(b), want, "interop/java/%s/pom.xml", name)
	}
}
