package catalog_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/apperr"
	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog"
)

// fake is an adapter with tables in one namespace; LoadTable counts calls and concurrency.
type fake struct {
	catalog.Adapter // nil: only LoadTable is called
	tables          map[string]string
	fail            map[string]error
	loads, inFlight atomic.Int32
	maxInFlight     atomic.Int32
}

func (f *fake) LoadTable(_ context.Context, id catalog.Ident) (string, error) {
	f.loads.Add(1)
	n := f.inFlight.Add(1)
	defer f.inFlight.Add(-1)
	for {
		m := f.maxInFlight.Load()
		if n <= m || f.maxInFlight.CompareAndSwap(m, n) {
			break
		}
	}
	time.Sleep(2 * time.Millisecond)
	if err := f.fail[id.Table]; err != nil {
		return "", err
	}
	loc, ok := f.tables[id.Table]
	if !ok {
		return "", apperr.NotFound("table %s not found", id)
	}
	return loc, nil
}

// batchFake also has a batch read.
type batchFake struct {
	*fake
	mu      sync.Mutex
	batches [][]string
}

func (b *batchFake) LoadTables(_ context.Context, _ []string, tables []string) (map[string]string, error) {
	b.mu.Lock()
	b.batches = append(b.batches, tables)
	b.mu.Unlock()
	out := map[string]string{}
	for _, t := range tables {
		if loc, ok := b.tables[t]; ok {
			out[t] = loc
		}
	}
	return out, nil
}

func TestLoadManyFallbackIsBoundedAndPerTable(t *testing.T) {
	f := &fake{tables: map[string]string{}, fail: map[string]error{"broken": apperr.New(503, "remote down")}}
	var ask []string
	for i := range 40 {
		n := string(rune('a'+i%26)) + string(rune('a'+i/26))
		f.tables[n] = "s3://b/" + n
		ask = append(ask, n)
	}
	ask = append(ask, "missing", "broken")
	got, err := catalog.LoadMany(context.Background(), f, []string{"ns"}, ask, 3)
	require.NoError(t, err)
	assert.Equal(t, f.tables, got.Locations)
	require.Len(t, got.Errors, 1)
	assert.Equal(t, 503, apperr.StatusOf(got.Errors["broken"]))
	assert.EqualValues(t, 42, f.loads.Load(), "one LoadTable per table")
	assert.LessOrEqual(t, f.maxInFlight.Load(), int32(3), "at most parallelism at once")
	assert.Greater(t, f.maxInFlight.Load(), int32(1), "in parallel")

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = catalog.LoadMany(ctx, f, []string{"ns"}, ask, 3)
	assert.Equal(t, 503, apperr.StatusOf(err), "a cancelled read is an error, not an empty answer")
}

func TestLoadManyUsesTheBatchReadThroughTheLocationMap(t *testing.T) {
	b := &batchFake{fake: &fake{tables: map[string]string{"a": "s3://bucket/a", "b": "s3://bucket/b"}}}
	a := catalog.WithLocationMap(b, catalog.LocationMap{{From: "s3a://", To: "s3://"}})
	_, ok := a.(catalog.BatchLoader)
	require.True(t, ok, "the location map keeps the batch read visible")
	got, err := catalog.LoadMany(context.Background(), a, []string{"ns"}, []string{"a", "b", "c"}, 3)
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"a": "s3a://bucket/a", "b": "s3a://bucket/b"}, got.Locations, "mapped back to lakeFS's form")
	assert.Zero(t, b.loads.Load(), "no LoadTable when the batch read exists")
	assert.Equal(t, [][]string{{"a", "b", "c"}}, b.batches)

	plain := catalog.WithLocationMap(&fake{}, catalog.LocationMap{{From: "s3a://", To: "s3://"}})
	_, ok = plain.(catalog.BatchLoader)
	assert.False(t, ok, "an adapter without a batch read does not gain one")
}
