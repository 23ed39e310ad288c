package interop

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog"
	"github.com/iceberg-remotes/iceberg-remotes/internal/config"
	"github.com/iceberg-remotes/iceberg-remotes/interop/peers"
)

// TestProvenanceInRemoteParameters registers and re-points a table through the Glue and Hive
// adapters with the full provenance, and reads the table parameters back with clients the
// adapters do not use: the AWS SDK's GetTable against moto, the metastore's Thrift
// get_table_req against Hive Metastore 4. Register stores all five lakefs.* keys; a re-point
// replaces them (a key the new push leaves empty is gone) and keeps the Iceberg pointers.
func TestProvenanceInRemoteParameters(t *testing.T) {
	first := catalog.Provenance{Repository: "repo", Reference: "main", Commit: "c0ffee01",
		Table: "lake.orders", PushedBy: "alice"}
	second := catalog.Provenance{Repository: "repo", Reference: "c0ffee02", Commit: "c0ffee02",
		PushedBy: "iceberg-remotes"}
	id := catalog.Ident{Namespace: []string{"prov"}, Table: "orders"}
	s3 := peers.StartS3(t, "interop")
	files := s3MetadataFiles(s3, "provenance", false)

	check := func(t *testing.T, a catalog.Adapter, params func(t *testing.T) map[string]string) {
		c := testCtx(t)
		locs := files(t, 2)
		require.NoError(t, a.CreateNamespace(c, id.Namespace))
		require.NoError(t, a.RegisterTable(c, id, locs[0], first))
		got := params(t)
		assert.Equal(t, first.Properties(), lakefsKeys(got), "after register")
		assert.Len(t, first.Properties(), 5)
		assert.Equal(t, locs[0], got["metadata_location"])

		_, err := a.ReplaceTable(c, id, locs[0], locs[1], second)
		require.NoError(t, err)
		got = params(t)
		assert.Equal(t, second.Properties(), lakefsKeys(got), "after re-point: old lakefs.* values replaced")
		assert.Equal(t, locs[1], got["metadata_location"])
		assert.Equal(t, locs[0], got["previous_metadata_location"])
		assert.Equal(t, "ICEBERG", got["table_type"])
	}

	t.Run("glue-moto", func(t *testing.T) {
		isolateAWS(t)
		m := peers.StartMoto(t)
		cfg := config.GlueRemote{Region: m.Region, AccessKeyID: m.AccessKeyID, SecretAccessKey: m.SecretAccessKey, Endpoint: m.Endpoint}
		check(t, newGlueAdapter(t, cfg), func(t *testing.T) map[string]string {
			out, err := rawGlue(cfg).GetTable(testCtx(t), &glue.GetTableInput{DatabaseName: aws.String(id.Namespace[0]), Name: aws.String(id.Table)})
			require.NoError(t, err)
			return out.Table.Parameters
		})
	})
	t.Run("hive-hms", func(t *testing.T) {
		hms := peers.StartHMS(t, s3)
		defer func() {
			if t.Failed() {
				t.Log(hms.Proc.LogTail(100))
			}
		}()
		emptyHMS(t, hms.URI)
		check(t, hiveAdapter(t, s3, config.HiveRemote{URI: hms.URI, Warehouse: hms.Warehouse}), func(t *testing.T) map[string]string {
			return hmsTableParameters(t, hms.URI, id.Namespace[0], id.Table)
		})
	})
}
