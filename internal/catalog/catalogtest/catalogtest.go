// Package catalogtest is the conformance suite every catalog.Adapter must pass, plus helpers
// that write real Iceberg metadata files with iceberg-go for the adapters (and remote
// stand-ins) that read them.
package catalogtest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"
	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/apperr"
	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog"
)

// Options describe an adapter under test.
type Options struct {
	// New returns a fresh adapter over an empty remote. Called once per subtest.
	New func(t *testing.T) catalog.Adapter
	// MetadataFiles returns n distinct, valid metadata locations the adapter (and the
	// remote behind it) can read. Defaults to WriteMetadataFiles into t.TempDir().
	MetadataFiles func(t *testing.T, n int) []string
	// Exists reports whether the file at a location MetadataFiles returned still exists
	// (to prove that dropping a table purges nothing). Defaults to a check of file://
	// locations on the local disk.
	Exists func(t *testing.T, loc string) bool
	// NestedNamespaces is true when the remote supports multi-level namespaces.
	NestedNamespaces bool
	// NonAtomicReplace is true when the adapter is expected to fall back to
	// drop-then-register (ReplaceTable returns atomic=false); the race test is skipped.
	NonAtomicReplace bool
	// RaceUnchecked, when set, skips the concurrent-replace test with this reason: the remote
	// is known not to enforce the optimistic lock the adapter relies on (e.g. moto ignores
	// Glue's UpdateTable VersionId), so the race cannot be decided there.
	RaceUnchecked string
	// BatchRead is true when the adapter must implement catalog.BatchLoader (sql, glue,
	// hive); the batch-read test then checks the batch read itself as well as LoadMany.
	BatchRead bool
}

// Run runs the conformance suite.
func Run(t *testing.T, opts Options) {
	if opts.MetadataFiles == nil {
		opts.MetadataFiles = func(t *testing.T, n int) []string {
			return WriteMetadataFiles(t, t.TempDir(), n)
		}
	}
	if opts.Exists == nil {
		opts.Exists = func(t *testing.T, loc string) bool {
			p, ok := LocalPath(loc)
			require.True(t, ok, "set Options.Exists for locations other than file://: %s", loc)
			_, err := os.Stat(p)
			return err == nil
		}
	}
	ctx := func(t *testing.T) context.Context {
		c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		t.Cleanup(cancel)
		return c
	}
	ns := []string{"conformance"}
	id := catalog.Ident{Namespace: ns, Table: "events"}

	t.Run("namespace create and exists", func(t *testing.T) {
		a := opts.New(t)
		c := ctx(t)
		ok, err := a.NamespaceExists(c, ns)
		require.NoError(t, err)
		assert.False(t, ok, "fresh remote has no namespace")
		require.NoError(t, a.CreateNamespace(c, ns))
		ok, err = a.NamespaceExists(c, ns)
		require.NoError(t, err)
		assert.True(t, ok)
		require.NoError(t, a.CreateNamespace(c, ns), "creating an existing namespace is not an error")
		if opts.NestedNamespaces {
			nested := []string{"conformance", "inner"}
			require.NoError(t, a.CreateNamespace(c, nested))
			ok, err = a.NamespaceExists(c, nested)
			require.NoError(t, err)
			assert.True(t, ok)
		}
	})

	t.Run("missing namespace and table are 404", func(t *testing.T) {
		a := opts.New(t)
		c := ctx(t)
		_, err := a.LoadTable(c, id)
		assertStatus(t, err, 404)
		locs := opts.MetadataFiles(t, 1)
		assertStatus(t, a.RegisterTable(c, id, locs[0], catalog.Provenance{}), 404)
		require.NoError(t, a.CreateNamespace(c, ns))
		_, err = a.LoadTable(c, id)
		assertStatus(t, err, 404)
		_, err = a.ReplaceTable(c, id, locs[0], locs[0], catalog.Provenance{})
		assertStatus(t, err, 404)
	})

	t.Run("register, load, idempotent register, conflict", func(t *testing.T) {
		a := opts.New(t)
		c := ctx(t)
		locs := opts.MetadataFiles(t, 2)
		require.NoError(t, a.CreateNamespace(c, ns))
		prov := catalog.Provenance{Repository: "repo", Reference: "main", Commit: "c0ffee"}
		require.NoError(t, a.RegisterTable(c, id, locs[0], prov))
		got, err := a.LoadTable(c, id)
		require.NoError(t, err)
		assert.Equal(t, locs[0], got)
		require.NoError(t, a.RegisterTable(c, id, locs[0], prov), "same location again is idempotent")
		assertStatus(t, a.RegisterTable(c, id, locs[1], prov), 409)
		got, err = a.LoadTable(c, id)
		require.NoError(t, err)
		assert.Equal(t, locs[0], got, "a refused register must not change the table")
	})

	t.Run("replace with right and stale expected location", func(t *testing.T) {
		a := opts.New(t)
		c := ctx(t)
		locs := opts.MetadataFiles(t, 3)
		require.NoError(t, a.CreateNamespace(c, ns))
		require.NoError(t, a.RegisterTable(c, id, locs[0], catalog.Provenance{}))
		atomic, err := a.ReplaceTable(c, id, locs[0], locs[1], catalog.Provenance{})
		require.NoError(t, err)
		assert.Equal(t, !opts.NonAtomicReplace, atomic)
		got, err := a.LoadTable(c, id)
		require.NoError(t, err)
		assert.Equal(t, locs[1], got)
		_, err = a.ReplaceTable(c, id, locs[0], locs[2], catalog.Provenance{})
		assertStatus(t, err, 409)
		got, err = a.LoadTable(c, id)
		require.NoError(t, err)
		assert.Equal(t, locs[1], got, "a stale compare-and-swap must not change the table")
	})

	t.Run("concurrent replace: exactly one wins", func(t *testing.T) {
		if opts.NonAtomicReplace {
			t.Skip("adapter has no atomic re-point")
		}
		if opts.RaceUnchecked != "" {
			t.Skip(opts.RaceUnchecked)
		}
		a := opts.New(t)
		c := ctx(t)
		const racers = 4
		locs := opts.MetadataFiles(t, racers+1)
		require.NoError(t, a.CreateNamespace(c, ns))
		require.NoError(t, a.RegisterTable(c, id, locs[0], catalog.Provenance{}))
		var wg sync.WaitGroup
		errs := make([]error, racers)
		for i := 0; i < racers; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				_, errs[i] = a.ReplaceTable(c, id, locs[0], locs[i+1], catalog.Provenance{})
			}(i)
		}
		wg.Wait()
		winners := 0
		winner := ""
		for i, err := range errs {
			if err == nil {
				winners++
				winner = locs[i+1]
				continue
			}
			assertStatus(t, err, 409)
		}
		require.Equal(t, 1, winners, "exactly one compare-and-swap may succeed: %v", errs)
		got, err := a.LoadTable(c, id)
		require.NoError(t, err)
		assert.Equal(t, winner, got)
	})

	t.Run("drop does not purge", func(t *testing.T) {
		a := opts.New(t)
		c := ctx(t)
		locs := opts.MetadataFiles(t, 1)
		require.NoError(t, a.CreateNamespace(c, ns))
		require.NoError(t, a.RegisterTable(c, id, locs[0], catalog.Provenance{}))
		require.NoError(t, a.DropTable(c, id))
		_, err := a.LoadTable(c, id)
		assertStatus(t, err, 404)
		assertStatus(t, a.DropTable(c, id), 404)
		assert.True(t, opts.Exists(t, locs[0]), "drop must never delete the metadata file")
		require.NoError(t, a.RegisterTable(c, id, locs[0], catalog.Provenance{}), "re-register after drop")
	})

	t.Run("batch read: LoadMany agrees with LoadTable, missing tables absent", func(t *testing.T) {
		a := opts.New(t)
		c := ctx(t)
		locs := opts.MetadataFiles(t, 3)
		require.NoError(t, a.CreateNamespace(c, ns))
		names := []string{"batch_a", "batch_b", "batch_c"}
		for i, n := range names {
			require.NoError(t, a.RegisterTable(c, catalog.Ident{Namespace: ns, Table: n}, locs[i], catalog.Provenance{}))
		}
		_, err := a.ReplaceTable(c, catalog.Ident{Namespace: ns, Table: "batch_c"}, locs[2], locs[0], catalog.Provenance{})
		require.NoError(t, err)
		want := map[string]string{"batch_a": locs[0], "batch_b": locs[1], "batch_c": locs[0]}
		ask := []string{"batch_b", "batch_missing", "batch_a", "batch_c"}

		got, err := catalog.LoadMany(c, a, ns, ask, 2)
		require.NoError(t, err)
		assert.Equal(t, want, got.Locations)
		assert.Empty(t, got.Errors)
		for n, loc := range want {
			one, err := a.LoadTable(c, catalog.Ident{Namespace: ns, Table: n})
			require.NoError(t, err)
			assert.Equal(t, loc, one)
		}
		got, err = catalog.LoadMany(c, a, []string{"nowhere"}, ask, 2)
		require.NoError(t, err, "a missing namespace has no tables; it is not an error")
		assert.Empty(t, got.Locations)

		b, ok := a.(catalog.BatchLoader)
		require.Equal(t, opts.BatchRead, ok, "the adapter's batch read is (not) visible")
		if !ok {
			return
		}
		direct, err := b.LoadTables(c, ns, ask)
		require.NoError(t, err)
		assert.Equal(t, want, direct)
		direct, err = b.LoadTables(c, []string{"nowhere"}, ask)
		require.NoError(t, err)
		assert.Empty(t, direct)
	})

	t.Run("ping", func(t *testing.T) {
		require.NoError(t, opts.New(t).Ping(ctx(t)))
	})
}

func assertStatus(t *testing.T, err error, status int) {
	t.Helper()
	require.Error(t, err)
	assert.Equal(t, status, apperr.StatusOf(err), "error: %v", err)
}

// LocalPath returns the file path of a file:// location.
func LocalPath(loc string) (string, bool) {
	const prefix = "file://"
	if len(loc) > len(prefix) && loc[:len(prefix)] == prefix {
		return loc[len(prefix):], true
	}
	return "", false
}

// TestSchema is the schema of the tables the helpers create.
var TestSchema = iceberg.NewSchema(0,
	iceberg.NestedField{ID: 1, Name: "id", Type: iceberg.PrimitiveTypes.Int64, Required: true},
	iceberg.NestedField{ID: 2, Name: "name", Type: iceberg.PrimitiveTypes.String},
)

// WriteMetadataFiles writes n real Iceberg metadata files (format v2, written by iceberg-go)
// of n distinct tables under dir and returns their file:// locations. Names follow Iceberg's
// writer convention (00000-<uuid>.metadata.json).
func WriteMetadataFiles(t testing.TB, dir string, n int) []string {
	t.Helper()
	out := make([]string, n)
	for i := range out {
		tableDir := filepath.Join(dir, fmt.Sprintf("table-%d-%s", i, uuid.NewString()[:8]))
		require.NoError(t, os.MkdirAll(filepath.Join(tableDir, "metadata"), 0o755))
		p := filepath.Join(tableDir, "metadata", fmt.Sprintf("00000-%s.metadata.json", uuid.NewString()))
		require.NoError(t, os.WriteFile(p, MetadataJSON(t, "file://"+tableDir), 0o644))
		out[i] = "file://" + p
	}
	return out
}

// MetadataJSON returns the metadata file of a new, empty table (TestSchema, format v2) whose
// location is tableLocation, as iceberg-go writes it. Callers store it wherever the remote
// under test reads from (a local folder, an object store).
func MetadataJSON(t testing.TB, tableLocation string) []byte {
	t.Helper()
	md, err := table.NewMetadata(TestSchema, iceberg.UnpartitionedSpec, table.UnsortedSortOrder,
		tableLocation, iceberg.Properties{"format-version": "2"})
	require.NoError(t, err)
	raw, err := json.Marshal(md)
	require.NoError(t, err)
	return raw
}
