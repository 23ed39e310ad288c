package api

import (
	"fmt"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/api/apigen"
)

// The validator does not write the spec's defaults into requests (validationOptions), which
// is right only while every default is what the handlers assume when a value is absent:
// the zero value, or for the page size, pageSize's own default.
func TestSpecDefaultsAreZeroValues(t *testing.T) {
	spec, err := apigen.GetSpec()
	require.NoError(t, err)
	seen := map[*openapi3.Schema]bool{}
	var walk func(where string, s *openapi3.SchemaRef)
	walk = func(where string, s *openapi3.SchemaRef) {
		if s == nil || s.Value == nil || seen[s.Value] {
			return
		}
		seen[s.Value] = true
		if d := s.Value.Default; d != nil {
			switch d {
			case false, 0.0, 0, "":
			default:
				t.Errorf("%s: default %v is not the zero value the handlers assume", where, d)
			}
		}
		for name, p := range s.Value.Properties {
			walk(where+"."+name, p)
		}
		walk(where+"[]", s.Value.Items)
		for i, sub := range append(append(append(openapi3.SchemaRefs{}, s.Value.AllOf...), s.Value.OneOf...), s.Value.AnyOf...) {
			walk(fmt.Sprintf("%s/%d", where, i), sub)
		}
	}
	for name, s := range spec.Components.Schemas {
		walk(name, s)
	}
	for path, item := range spec.Paths.Map() {
		for method, op := range item.Operations() {
			for _, p := range append(append(openapi3.Parameters{}, item.Parameters...), op.Parameters...) {
				if p.Value == nil || p.Value.Schema == nil || p.Value.Schema.Value == nil || p.Value.Schema.Value.Default == nil {
					continue
				}
				d := p.Value.Schema.Value.Default
				if p.Value.Name == "amount" {
					require.EqualValues(t, DefaultPageSize, d, "%s %s amount", method, path)
					require.Equal(t, DefaultPageSize, pageSize(0), "an absent amount is the default page size")
					continue
				}
				switch d {
				case false, 0.0, 0, "":
				default:
					t.Errorf("%s %s parameter %s: default %v is not the zero value", method, path, p.Value.Name, d)
				}
			}
			if op.RequestBody != nil && op.RequestBody.Value != nil {
				for _, mt := range op.RequestBody.Value.Content {
					walk(method+" "+path+" body", mt.Schema)
				}
			}
		}
	}
	require.NotEmpty(t, seen)
}

// needsRewrite picks exactly the bodies whose keys Go's JSON decoding could match to a
// field only up to case (or through an escape), so that every other body is validated
// once and not re-marshaled.
func TestNeedsRewrite(t *testing.T) {
	v, err := newValidator()
	require.NoError(t, err)
	plain := `{"source":{"repository_id":"example","reference_id":"main","namespace":["a"],"table":"t"},` +
		`"destination":{"namespace":["b"],"table":"t"},"force_update":true}`
	require.False(t, v.needsRewrite([]byte(plain)))
	for _, body := range []string{
		`{"Force_Update":true}`,
		`{"force_updatE":true}`,
		`{"ſource":{}}`, // Unicode folding: Go's decoder matches it to "source"
		`{"force\u005fupdate":true}`,
		`{"table":"a\"b"}`,
	} {
		require.True(t, v.needsRewrite([]byte(body)), body)
	}
}
