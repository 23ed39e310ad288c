package catalog_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog"
)

type askedHistory struct{ from, current string }

func (h *askedHistory) Descends(_ context.Context, _ catalog.Ident, from, current string) (bool, error) {
	h.from, h.current = from, current
	return true, nil
}

type withHistory struct {
	catalog.Adapter
	h catalog.History
}

func (a withHistory) History() catalog.History { return a.h }

// HistoryOf finds an adapter's history; MappedHistory hands it the remote's form of
// lakeFS-side locations, as WithLocationMap does for the adapter.
func TestHistory(t *testing.T) {
	assert.Nil(t, catalog.HistoryOf(nil), "no adapter, no history")
	h := &askedHistory{}
	assert.Same(t, h, catalog.HistoryOf(withHistory{h: h}))
	assert.Nil(t, catalog.HistoryOf(withHistory{}), "a source that offers none")

	assert.Nil(t, catalog.MappedHistory(nil, catalog.LocationMap{{From: "s3a://", To: "s3://"}}))
	assert.Same(t, h, catalog.MappedHistory(h, nil))
	m := catalog.MappedHistory(h, catalog.LocationMap{{From: "s3a://", To: "s3://"}})
	ok, err := m.Descends(context.Background(), catalog.Ident{Table: "t"}, "s3a://b/m1.json", "s3a://b/m2.json")
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, [2]string{"s3://b/m1.json", "s3://b/m2.json"}, [2]string{h.from, h.current})
}
