package metafile_test

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog/catalogtest"
	"github.com/iceberg-remotes/iceberg-remotes/internal/metafile"
	"github.com/iceberg-remotes/iceberg-remotes/internal/remotes/remotestest"
	"github.com/iceberg-remotes/iceberg-remotes/internal/testutil/fuzzseed"
)

// FuzzParseMetadata feeds arbitrary bytes to the one metadata parser (plain JSON or gzip, as
// read from lakeFS or a remote's object store). Properties: it never panics; what it accepts
// has a location; accepted metadata survives encode → parse → encode unchanged; and plain
// metadata parses the same when gzipped.
func FuzzParseMetadata(f *testing.F) {
	f.Add([]byte(`{"format-version":2}`))
	f.Add([]byte{0x1f, 0x8b, 0, 0})
	lim := metafile.NewLimits(0, 0)
	parse := func(raw []byte) (table.Metadata, error) {
		return lim.Parse(context.Background(), "s3://fuzz/t/metadata/v1.metadata.json", raw)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		md, err := parse(raw)
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
		again, err := parse(enc)
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
		if metafile.IsGzip(raw) {
			return
		}
		zipped, err := parse(gz(t, raw))
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
// iceberg-go (format v1 and v2, partitioned and sorted) and metadata with snapshots and a
// metadata log, plain and gzipped (".gz.metadata.json", as Iceberg writes them with
// compression on).
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
	seeds := map[string][]byte{}
	for name, md := range map[string]table.Metadata{"v1": v1, "v2-partitioned": v2} {
		raw, err := json.Marshal(md)
		require.NoError(t, err)
		seeds[name] = raw
	}
	root := "s3://lakefs-bucket/repo/_lakefs_tables/iceberg/accounting/events"
	seeds["v2-snapshot"] = remotestest.Metadata(remotestest.Version{TableUUID: "6f1c2a52-6f0e-4a43-9a43-3b1c6c1d9a10",
		Location: root, Snapshots: []int64{7203916145093219200}, Previous: []string{root + "/metadata/00000-1.metadata.json"}})
	seeds["v2-two-snapshots"] = remotestest.Metadata(remotestest.Version{TableUUID: "6f1c2a52-6f0e-4a43-9a43-3b1c6c1d9a10",
		Location: root, Snapshots: []int64{7203916145093219200, 7203916145093219201},
		Previous: []string{root + "/metadata/00000-1.metadata.json", root + "/metadata/00001-2.metadata.json"}})
	for name, raw := range seeds {
		fuzzseed.Write(t, "FuzzParseMetadata", name, raw)
		fuzzseed.Write(t, "FuzzParseMetadata", name+"-gzip", gz(t, raw))
	}
}
