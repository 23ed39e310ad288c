package api_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/iceberg-remotes/iceberg-remotes/internal/api/apigen"
)

const (
	ourSpec    = "../../api/openapi.yaml"
	lakeFSSpec = "../../third_party/lakefs/lakefs-swagger.yml"
)

func loadYAML(t *testing.T, path string) map[string]any {
	t.Helper()
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	var doc map[string]any
	require.NoError(t, yaml.Unmarshal(raw, &doc))
	return doc
}

func sub(t *testing.T, doc map[string]any, keys ...string) any {
	t.Helper()
	var cur any = doc
	for _, k := range keys {
		m, ok := cur.(map[string]any)
		require.True(t, ok, "%v: not a map at %q", keys, k)
		cur, ok = m[k]
		require.True(t, ok, "%v: missing %q", keys, k)
	}
	return cur
}

// TestSpecMatchesLakeFS fails on any drift between our remotes operations and models and
// the lakeFS spec: same paths, operations, request bodies, responses, schemas (field
// names, required lists, defaults), security schemes and global security order.
func TestSpecMatchesLakeFS(t *testing.T) {
	ours, theirs := loadYAML(t, ourSpec), loadYAML(t, lakeFSSpec)

	for _, p := range []string{"/iceberg/remotes/{catalog}/push", "/iceberg/remotes/{catalog}/pull"} {
		assert.Equal(t, sub(t, theirs, "paths", p), sub(t, ours, "paths", p), "path %s drifted", p)
	}
	for _, s := range []string{"IcebergPushRequest", "IcebergPullRequest", "IcebergLocalTable",
		"IcebergRemoteTable", "IcebergNamespaceRef", "Error"} {
		assert.Equal(t, sub(t, theirs, "components", "schemas", s), sub(t, ours, "components", "schemas", s), "schema %s drifted", s)
	}
	for _, r := range []string{"BadRequest", "Unauthorized", "NotFound", "ServerError"} {
		assert.Equal(t, sub(t, theirs, "components", "responses", r), sub(t, ours, "components", "responses", r), "response %s drifted", r)
	}
	assert.Equal(t, sub(t, theirs, "components", "securitySchemes"), sub(t, ours, "components", "securitySchemes"))
	assert.Equal(t, sub(t, theirs, "security"), sub(t, ours, "security"), "security scheme order drifted")

	// Every operation of ours tagged "remotes" must be a lakeFS operation.
	for path, item := range sub(t, ours, "paths").(map[string]any) {
		for method, op := range item.(map[string]any) {
			opMap, ok := op.(map[string]any)
			if !ok || method == "parameters" {
				continue
			}
			tags, _ := opMap["tags"].([]any)
			for _, tag := range tags {
				if tag == "remotes" {
					assert.Equal(t, sub(t, theirs, "paths", path, method), op, "%s %s is tagged remotes but differs from lakeFS", method, path)
				}
			}
		}
	}
}

// TestSpecIsValidAndGeneratedCodeIsCurrent checks that api/openapi.yaml is valid OpenAPI and
// that the spec embedded in the generated code is the same document (run
// `go generate ./internal/api/apigen` after editing the spec).
func TestSpecIsValidAndGeneratedCodeIsCurrent(t *testing.T) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile(ourSpec)
	require.NoError(t, err)
	require.NoError(t, doc.Validate(loader.Context))

	embedded, err := apigen.GetSpec()
	require.NoError(t, err)
	// oapi-codegen capitalizes operation ids in the spec it embeds; compare them case-blind.
	for _, d := range []*openapi3.T{doc, embedded} {
		for _, item := range d.Paths.Map() {
			for _, op := range item.Operations() {
				op.OperationID = strings.ToLower(op.OperationID)
			}
		}
	}
	a, err := json.Marshal(doc)
	require.NoError(t, err)
	b, err := json.Marshal(embedded)
	require.NoError(t, err)
	assert.JSONEq(t, string(a), string(b), "generated code is stale: run go generate ./internal/api/apigen")
}

// vendoredContracts maps the repository's copies of the published contracts to their names
// in the team's shared specs folder.
var vendoredContracts = map[string]string{
	"lakefs/lakefs-swagger.yml":          "lakefs-swagger.yml",
	"iceberg/rest-catalog-open-api.yaml": "iceberg-rest-catalog-open-api.yaml",
}

const thirdParty = "../../third_party"

// TestVendoredContractsAreThePinnedVersions checks the in-repository copies, which every
// contract test reads, against the SHA-256 sums recorded when they were copied
// (third_party/SHA256SUMS). It needs nothing outside the clone, so it always runs: a copy
// edited by hand, or replaced without recording its new version, fails here.
func TestVendoredContractsAreThePinnedVersions(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(thirdParty, "SHA256SUMS"))
	require.NoError(t, err)
	sums := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		sum, file, ok := strings.Cut(line, "  ")
		require.True(t, ok, "SHA256SUMS line %q", line)
		sums[file] = sum
	}
	require.Len(t, sums, len(vendoredContracts), "SHA256SUMS lists exactly the vendored contracts")
	for file := range vendoredContracts {
		content, err := os.ReadFile(filepath.Join(thirdParty, file))
		require.NoError(t, err)
		got := sha256.Sum256(content)
		assert.Equal(t, sums[file], hex.EncodeToString(got[:]), "third_party/%s is not the pinned version", file)
	}
}

// sharedSpecsEnv names the team's shared specs folder explicitly; when it is set the folder
// must exist (.ci/run sets it whenever ../shared/specs is beside the clone).
const sharedSpecsEnv = "ICEBERG_REMOTES_SHARED_SPECS"

// TestVendoredContractsMatchShared checks the in-repository copies against the agreed ones
// in the team's shared folder: $ICEBERG_REMOTES_SHARED_SPECS, or ../shared/specs beside the
// clone. Without either it skips, and says so; the pinned-sum test above still runs.
func TestVendoredContractsMatchShared(t *testing.T) {
	shared, explicit := os.LookupEnv(sharedSpecsEnv)
	if !explicit {
		shared = filepath.Join("..", "..", "..", "shared", "specs")
	}
	if _, err := os.Stat(shared); err != nil {
		if explicit {
			t.Fatalf("%s=%s: %v", sharedSpecsEnv, shared, err)
		}
		t.Skipf("no %s beside this clone and %s not set: compared with the pinned sums only", shared, sharedSpecsEnv)
	}
	for vendored, original := range vendoredContracts {
		a, err := os.ReadFile(filepath.Join(thirdParty, vendored))
		require.NoError(t, err)
		b, err := os.ReadFile(filepath.Join(shared, original))
		require.NoError(t, err)
		assert.True(t, bytes.Equal(a, b), "third_party/%s differs from %s/%s", vendored, shared, original)
	}
}
