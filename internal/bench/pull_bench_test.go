package bench

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/remotes/remotestest"
)

// BenchmarkPullNewState: before each pull an outside engine commits a new metadata file to
// the remote table (descending from the last one); the pull reads it from the object store,
// links it into the branch and commits.
func BenchmarkPullNewState(b *testing.B) {
	e := newEnv(b, 1)
	tableUUID := uuid.NewString()
	root := "file://" + filepath.Join(e.dir, "pulled")
	version := func(n int, prev string) string {
		v := remotestest.Version{TableUUID: tableUUID, Location: root, Snapshots: []int64{1}}
		if prev != "" {
			v.Previous = []string{prev}
		}
		return remotestest.WriteMetadata(b, e.dir, fmt.Sprintf("pulled/metadata/%05d-%s.metadata.json", n, uuid.NewString()), v)
	}
	locations := make([]string, runs(b)+1)
	locations[0] = version(0, "")
	e.stage(b, "p0", locations[0])
	_, err := e.client.Commit(context.Background(), "example", "main", "table p0", nil)
	require.NoError(b, err)
	client := e.api.Client()
	e.push(b, client, "p0", "p0")

	remote, err := sql.Open("sqlite", "file:"+filepath.Join(e.dir, "remote.db"))
	require.NoError(b, err)
	b.Cleanup(func() { _ = remote.Close() })
	// Every version is written before the timer starts: iceberg-go is not what is measured.
	for i := 1; i < len(locations); i++ {
		locations[i] = version(i, locations[i-1])
	}
	measurePrepared(b, e, true, func(i int) {
		res, err := remote.ExecContext(context.Background(),
			`UPDATE iceberg_tables SET previous_metadata_location = metadata_location, metadata_location = ?
			 WHERE table_namespace = 'analytics' AND table_name = 'p0' AND metadata_location = ?`, locations[i+1], locations[i])
		require.NoError(b, err)
		if n, _ := res.RowsAffected(); n != 1 {
			b.Fatalf("the remote table is not at %s", locations[i])
		}
	}, func(int) { e.pull(b, client, "p0") })
}
