package restcat_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog"
	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog/catalogtest"
	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog/restcat/resttest"
	"github.com/iceberg-remotes/iceberg-remotes/internal/config"
)

// The conformance suite on a server that advertises the spec's unregisterTable (drop and
// the drop-then-register fallback go through it), with and without register-overwrite.
func TestConformanceUnregister(t *testing.T) {
	for name, mode := range map[string]resttest.OverwriteMode{"overwrite": resttest.OverwriteSupported, "no overwrite": resttest.OverwriteRejected} {
		t.Run(name, func(t *testing.T) {
			catalogtest.Run(t, catalogtest.Options{
				NestedNamespaces: true,
				NonAtomicReplace: mode != resttest.OverwriteSupported,
				New: func(t *testing.T) catalog.Adapter {
					s := resttest.New(t, resttest.Options{Token: "tok", Prefix: "p", Unregister: true, Overwrite: mode})
					t.Cleanup(func() {
						for _, c := range s.Calls() {
							assert.NotEqual(t, http.MethodDelete, c.Method, "a server with unregister is never sent a drop: %s", c.Path)
						}
					})
					return newAdapter(t, config.RESTRemote{URI: s.URL, Token: "tok", Prefix: "p"}, fastOpts("u"))
				},
			})
		})
	}
}

// DropTable uses unregister exactly when the server advertises it, else DELETE with
// purgeRequested=false; neither touches a file.
func TestDropUsesUnregisterWhereAdvertised(t *testing.T) {
	for _, advertised := range []bool{true, false} {
		s := resttest.New(t, resttest.Options{Token: "tok", Unregister: advertised})
		a := newAdapter(t, config.RESTRemote{URI: s.URL, Token: "tok"}, fastOpts("r"))
		ctx := testCtx(t)
		locs := catalogtest.WriteMetadataFiles(t, t.TempDir(), 1)
		id := catalog.Ident{Namespace: []string{"a", "b"}, Table: "t"}
		require.NoError(t, a.CreateNamespace(ctx, id.Namespace))
		require.NoError(t, a.RegisterTable(ctx, id, locs[0], catalog.Provenance{}))
		require.NoError(t, a.DropTable(ctx, id))
		var unregisters, deletes int
		for _, c := range s.Calls() {
			switch {
			case c.Method == http.MethodPost && c.Path == "/v1/namespaces/a%1Fb/tables/t/unregister":
				unregisters++
			case c.Method == http.MethodDelete:
				deletes++
				assert.Equal(t, "false", c.Query.Get("purgeRequested"))
			}
		}
		if advertised {
			assert.Equal(t, [2]int{1, 0}, [2]int{unregisters, deletes}, "unregister, no drop")
		} else {
			assert.Equal(t, [2]int{0, 1}, [2]int{unregisters, deletes}, "drop without purge")
		}
		_, ok := s.TableLocation(id.Namespace, id.Table)
		assert.False(t, ok)
		p, _ := catalogtest.LocalPath(locs[0])
		assert.FileExists(t, p)
	}
}
