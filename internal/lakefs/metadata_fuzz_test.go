package lakefs

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog/catalogtest"
	"github.com/iceberg-remotes/iceberg-remotes/internal/testutil/fuzzseed"
)

// FuzzParseMetadata feeds arbitrary bytes to the metadata parser (plain JSON or gzip, as
// read from lakeFS or a remote's object store). Properties: it never panics; what it accepts
// has a location; accepted metadata survives encode → parse → encode unchanged; and plain
// metadata parses the same when gzipped.
func FuzzParseMetadata(f *testing.F) {
	f.Add([]byte(`{"format-version":2}`))
	f.Add([]byte{0x1f, 0x8b, 0, 0})
	f.Fuzz(func(t *testing.T, raw []byte) {
		md, err := ParseMetadata(raw)
		if err != nil {
			return
		}
		if md.Location() == "" {
			t.Fatal("accepted metadata without a location")
		}
		enc, err := json.Marshal(md)
		if err != nil {
			t.Fatalf("accepted metadata does not encode: %v", err)
		}
		again, err := ParseMetadata(enc)
		if err != nil {
			t.Fatalf("accepted metadata, re-encoded, is refused: %v\n%s", err, enc)
		}
		enc2, err := json.Marshal(again)
		require.NoError(t, err)
		if !bytes.Equal(enc, enc2) {
			t.Fatalf("encode → parse → encode changed the metadata:\n%s\n%s", enc, enc2)
		}
		if again.TableUUID() != md.TableUUID() || again.Location() != md.Location() || again.Version() != md.Version() {
			t.Fatal("identity changed across a round trip")
		}
		if len(raw) >= 2 && raw[0] == 0x1f && raw[1] == 0x8b {
			return
		}
		zipped, err := ParseMetadata(gz(t, raw))
		if err != nil {
			t.Fatalf("plain metadata accepted but its gzip refused: %v", err)
		}
		enc3, err := json.Marshal(zipped)
		require.NoError(t, err)
		if !bytes.Equal(enc, enc3) {
			t.Fatal("gzipped metadata parses differently")
		}
	})
}

// TestWriteFuzzSeeds writes FuzzParseMetadata's corpus: metadata files written by
// iceberg-go (format v1 and v2, with and without snapshots, partitioned and sorted),
// plain and gzipped (".gz.metadata.json", as Iceberg writes them with compression on).
func TestWriteFuzzSeeds(t *testing.T) {
	fuzzseed.Enabled(t)
	v1, err := table.NewMetadata(catalogtest.TestSchema, iceberg.UnpartitionedSpec, table.UnsortedSortOrder,
		"s3://warehouse/accounting/events", iceberg.Properties{"format-version": "1"})
	require.NoError(t, err)
	spec := iceberg.NewPartitionSpec(iceberg.PartitionField{SourceIDs: []int{1}, FieldID: 1000, Name: "id_bucket", Transform: iceberg.BucketTransform{NumBuckets: 16}})
	order, err := table.NewSortOrder(1, []table.SortField{{SourceIDs: []int{2}, Transform: iceberg.IdentityTransform{}, Direction: table.SortASC, NullOrder: table.NullsFirst}})
	require.NoError(t, err)
	v2, err := table.NewMetadata(catalogtest.TestSchema, &spec, order,
		"s3://lakefs-bucket/repo/_lakefs_tables/iceberg/accounting/events", iceberg.Properties{"format-version": "2", "owner": "etl"})
	require.NoError(t, err)
	snap := withSnapshot(t, v2, "s3://lakefs-bucket/repo/_lakefs_tables/iceberg/accounting/events/metadata/00000-1.metadata.json", 7203916145093219200)
	snap2 := withSnapshot(t, snap, "s3://lakefs-bucket/repo/_lakefs_tables/iceberg/accounting/events/metadata/00001-2.metadata.json", 7203916145093219201)
	for name, md := range map[string]table.Metadata{"v1": v1, "v2-partitioned": v2, "v2-snapshot": snap, "v2-two-snapshots": snap2} {
		raw := marshal(t, md)
		fuzzseed.Write(t, "FuzzParseMetadata", name, raw)
		fuzzseed.Write(t, "FuzzParseMetadata", name+"-gzip", gz(t, raw))
	}
}
