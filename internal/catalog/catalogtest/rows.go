package catalogtest

import (
	"context"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/iceberg-go/table"
	"github.com/stretchr/testify/require"
)

// AppendRows appends three rows (ids 1 to 3) of TestSchema's columns to tbl as an engine
// does: data and manifest files through tbl's FileIO, a new snapshot, the metadata committed
// through tbl's catalog. It returns the table as committed.
func AppendRows(ctx context.Context, t testing.TB, tbl *table.Table) *table.Table {
	t.Helper()
	sc := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "name", Type: arrow.BinaryTypes.String, Nullable: true},
	}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, sc)
	defer b.Release()
	b.Field(0).(*array.Int64Builder).AppendValues([]int64{1, 2, 3}, nil)
	b.Field(1).(*array.StringBuilder).AppendValues([]string{"a", "b", "c"}, nil)
	rec := b.NewRecordBatch()
	defer rec.Release()
	data := array.NewTableFromRecords(sc, []arrow.RecordBatch{rec})
	defer data.Release()
	out, err := tbl.AppendTable(ctx, data, 1024, nil)
	require.NoError(t, err)
	return out
}
