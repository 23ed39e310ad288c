package remotestest

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// Version is one state of a table for Metadata: its snapshots (the last is current) and the
// metadata files that came before it (its metadata log).
type Version struct {
	TableUUID string
	Location  string // the table's root
	Snapshots []int64
	Previous  []string
}

// Metadata renders v as Iceberg format-v2 table metadata JSON.
func Metadata(v Version) []byte {
	snaps := []map[string]any{}
	snapLog := []map[string]any{}
	for i, id := range v.Snapshots {
		s := map[string]any{
			"snapshot-id": id, "sequence-number": i + 1, "timestamp-ms": 1700000000000 + int64(i),
			"manifest-list": v.Location + "/metadata/snap-" + itoa(id) + ".avro",
			"summary":       map[string]any{"operation": "append"}, "schema-id": 0,
		}
		if i > 0 {
			s["parent-snapshot-id"] = v.Snapshots[i-1]
		}
		snaps = append(snaps, s)
		snapLog = append(snapLog, map[string]any{"snapshot-id": id, "timestamp-ms": 1700000000000 + int64(i)})
	}
	mdLog := []map[string]any{}
	for i, p := range v.Previous {
		mdLog = append(mdLog, map[string]any{"metadata-file": p, "timestamp-ms": 1690000000000 + int64(i)})
	}
	m := map[string]any{
		"format-version": 2, "table-uuid": v.TableUUID, "location": v.Location,
		"last-sequence-number": len(v.Snapshots), "last-updated-ms": 1700000000000, "last-column-id": 1,
		"schemas":           []any{map[string]any{"type": "struct", "schema-id": 0, "fields": []any{map[string]any{"id": 1, "name": "id", "required": true, "type": "long"}}}},
		"current-schema-id": 0,
		"partition-specs":   []any{map[string]any{"spec-id": 0, "fields": []any{}}}, "default-spec-id": 0, "last-partition-id": 999,
		"sort-orders": []any{map[string]any{"order-id": 0, "fields": []any{}}}, "default-sort-order-id": 0,
		"properties": map[string]any{}, "snapshots": snaps, "snapshot-log": snapLog, "metadata-log": mdLog,
		"refs": map[string]any{},
	}
	if n := len(v.Snapshots); n > 0 {
		m["current-snapshot-id"] = v.Snapshots[n-1]
		m["refs"] = map[string]any{"main": map[string]any{"snapshot-id": v.Snapshots[n-1], "type": "branch"}}
	}
	raw, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return raw
}

func itoa(n int64) string {
	raw, _ := json.Marshal(n)
	return string(raw)
}

// WriteMetadata writes v's metadata under dir at name (gzip when name ends in
// .gz.metadata.json) and returns its file:// location.
func WriteMetadata(t testing.TB, dir, name string, v Version) string {
	t.Helper()
	raw := Metadata(v)
	if strings.HasSuffix(name, ".gz.metadata.json") {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		_, err := zw.Write(raw)
		require.NoError(t, err)
		require.NoError(t, zw.Close())
		raw = buf.Bytes()
	}
	p := filepath.Join(dir, filepath.FromSlash(name))
	require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
	require.NoError(t, os.WriteFile(p, raw, 0o644))
	return "file://" + p
}
