package e2e

import (
	"testing"

	icecatalog "github.com/apache/iceberg-go/catalog"
	iceglue "github.com/apache/iceberg-go/catalog/glue"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog/gluecat/gluetest"
	"github.com/iceberg-remotes/iceberg-remotes/internal/config"
)

// glueRemote is the Glue remote: the service's real aws-sdk-go-v2 client against the
// contract-checked Glue stand-in, and iceberg-go's own Glue catalog (the same SDK, signed
// with the stand-in's keys) as the external writer.
func glueRemote(srv **gluetest.Server) remoteKind {
	return remoteKind{name: "glue", setup: func(t *testing.T, dir string) (config.Remote, icecatalog.Catalog) {
		s := gluetest.New(t)
		if srv != nil {
			*srv = s
		}
		rc := config.Remote{ID: remoteID, Type: "glue", Glue: s.Config()}
		awsCfg := aws.Config{
			Region:       gluetest.Region,
			Credentials:  credentials.NewStaticCredentialsProvider(gluetest.AccessKeyID, gluetest.SecretAccessKey, ""),
			BaseEndpoint: aws.String(s.Endpoint()),
			// The stand-in is in-process: a failure is a bug to see, not to retry.
			RetryMaxAttempts: 1,
		}
		w, err := iceglue.NewCatalog(iceglue.WithAwsConfig(awsCfg))
		require.NoError(t, err)
		t.Cleanup(func() { _ = w.Close() })
		return rc, w
	}}
}

// TestIsolatedPipelineGlue is TestIsolatedPipeline against the Glue remote, both layouts:
// the service registers the lakeFS table in Glue, iceberg-go's Glue catalog appends real
// rows (GetTable, then UpdateTable with the VersionId it read, as Glue engines commit), and
// the pull brings that commit back onto the branch.
func TestIsolatedPipelineGlue(t *testing.T) {
	for _, layout := range []string{"pointer", "hadoop"} {
		t.Run("glue/"+layout, func(t *testing.T) {
			var g *gluetest.Server
			e := newEnv(t, glueRemote(&g), layout)
			commitsBefore := e.lake.Calls("commit")

			r := e.push(pushOpts{createNS: true})
			require.Equal(t, 204, r.Status, r.Body)
			assert.Equal(t, e.m1, e.remoteLocation(), "the Glue table points at lakeFS's metadata file (no copy)")
			gt, ok := g.Table(remoteNS[0], tableName)
			require.True(t, ok)
			assert.Equal(t, "ICEBERG", gt.Parameters["table_type"])
			assert.Equal(t, e.m1, gt.Parameters["metadata_location"])
			assert.Equal(t, map[string]string{tableName: "in_sync"}, e.tables())

			updatesBefore := len(g.Updates())
			m2 := e.appendRemote(2)
			assert.NotEqual(t, e.m1, m2)
			ups := g.Updates()
			require.Len(t, ups, updatesBefore+1, "the writer committed through Glue's UpdateTable")
			last := ups[len(ups)-1]
			require.NotNil(t, last.VersionId, "an optimistic-locking commit names the VersionId it read")
			assert.Equal(t, m2, last.TableInput.Parameters["metadata_location"])
			assert.Equal(t, e.m1, last.TableInput.Parameters["previous_metadata_location"])
			assert.Equal(t, map[string]string{tableName: "remote_ahead"}, e.tables())

			r = e.pull(pullOpts{})
			require.Equal(t, 204, r.Status, r.Body)
			st := e.readLakeFS("etl-42", localNS, tableName)
			assert.Equal(t, m2, st.MetadataLocation, "the branch's table is the Glue writer's metadata")
			require.NotNil(t, st.CurrentSnapshotID)
			assert.Equal(t, st.Metadata.CurrentSnapshot().SnapshotID, *st.CurrentSnapshotID)
			assert.Len(t, st.Metadata.Snapshots(), 2)
			assert.EqualValues(t, 5, scanCount(t, st.MetadataLocation), "3 rows from lakeFS + 2 appended through Glue")

			commit, ok := e.lake.GetCommit(repo, "etl-42")
			require.True(t, ok)
			assert.Equal(t, "Pull iceberg table accounting.events from "+remoteID, commit.Message)
			assert.Equal(t, remoteID, commit.Metadata["iceberg_remote_catalog"])
			assert.Equal(t, "analytics.events", commit.Metadata["iceberg_remote_table"])
			assert.Equal(t, m2, commit.Metadata["iceberg_metadata_location"])
			assert.Equal(t, "alice", commit.Metadata["iceberg_remotes_user"])
			assert.Equal(t, map[string]string{tableName: "in_sync"}, e.tables())
			assert.Equal(t, e.m1, e.readLakeFS("main", localNS, tableName).MetadataLocation, "main is untouched")

			// Repeats change nothing, in lakeFS or in Glue.
			commits, updates := e.lake.Calls("commit"), len(g.Updates())
			r = e.pull(pullOpts{})
			require.Equal(t, 204, r.Status, r.Body)
			r = e.push(pushOpts{})
			require.Equal(t, 204, r.Status, r.Body)
			assert.Equal(t, commits, e.lake.Calls("commit"))
			assert.Equal(t, updates, len(g.Updates()), "re-pushing the pulled state does not touch Glue")
			assert.Equal(t, commitsBefore+1, e.lake.Calls("commit"), "exactly one commit: the pull")

			// lakeFS moves on and pushes again: the Glue table is re-pointed with force_update,
			// and the Glue writer can keep committing on top of it.
			m3 := e.appendOnBranch(m2, 4)
			r = e.push(pushOpts{})
			require.Equal(t, 409, r.Status, "an existing Glue table needs force_update: %s", r.Body)
			r = e.push(pushOpts{force: true})
			require.Equal(t, 204, r.Status, r.Body)
			assert.Equal(t, m3, e.remoteLocation())
			m4 := e.appendRemote(1)
			assert.EqualValues(t, 3+2+4+1, scanCount(t, m4))
			assert.Equal(t, map[string]string{tableName: "remote_ahead"}, e.tables())
		})
	}
}
