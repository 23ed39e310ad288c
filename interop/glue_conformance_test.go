package interop

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	"github.com/aws/aws-sdk-go-v2/service/glue/types"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog"
	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog/catalogtest"
	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog/gluecat"
	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog/gluecat/gluetest"
	"github.com/iceberg-remotes/iceberg-remotes/internal/config"
	"github.com/iceberg-remotes/iceberg-remotes/internal/httpclient"
	"github.com/iceberg-remotes/iceberg-remotes/interop/peers"
)

// glueBackend is one Glue endpoint the Glue checks run against: the real peer (moto) or the
// stand-in. fresh returns the configuration of an empty catalog.
type glueBackend struct {
	name  string
	fresh func(t *testing.T) config.GlueRemote
	// deviations are the behaviours where this backend is known to differ from AWS Glue's
	// documented API, by check name. The check then asserts the deviating behaviour (so the
	// entry fails once the backend is fixed) instead of AWS's.
	deviations map[string]string
}

// Checks that have known deviations.
const (
	devVersionID = "versionid"
	devCase      = "case"
)

// motoDeviations are moto 5.2.5's departures from AWS Glue (moto/glue/models.py).
var motoDeviations = map[string]string{
	devVersionID: "moto ignores UpdateTable's VersionId: a stale VersionId updates the table instead of " +
		"ConcurrentModificationException, so Glue's optimistic lock cannot be proven against moto",
	devCase: "moto keeps database and table names case-sensitive; AWS Glue lower-cases them",
}

// glueBackends are moto (started once for the whole test t and reset before each use) and
// the in-process stand-in. Every Glue check runs on both, so a stand-in behaviour that the
// real peer does not share fails here.
func glueBackends(t *testing.T) []glueBackend {
	moto := peers.StartMoto(t)
	return []glueBackend{
		{name: "moto", deviations: motoDeviations, fresh: func(t *testing.T) config.GlueRemote {
			moto.Reset(t)
			return config.GlueRemote{Region: moto.Region, AccessKeyID: moto.AccessKeyID,
				SecretAccessKey: moto.SecretAccessKey, Endpoint: moto.Endpoint}
		}},
		{name: "gluetest", fresh: func(t *testing.T) config.GlueRemote {
			return gluetest.New(t).Config()
		}},
	}
}

// isolateAWS keeps the SDK from reading this machine's AWS configuration.
func isolateAWS(t *testing.T) {
	t.Setenv("AWS_CONFIG_FILE", "/nonexistent")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_PROFILE", "")
}

func newGlueAdapter(t *testing.T, cfg config.GlueRemote) *gluecat.Adapter {
	a, err := gluecat.New(context.Background(), cfg, gluecat.Options{Name: "interop", Policy: httpclient.Policy{Timeout: 10 * time.Second, MaxRetries: 1, MaxBackoff: 50 * time.Millisecond}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = a.Close() })
	return a
}

// rawGlue is aws-sdk-go-v2's Glue client on the backend, for checks below the adapter.
func rawGlue(cfg config.GlueRemote) *glue.Client {
	return glue.New(glue.Options{
		Region:           cfg.Region,
		Credentials:      credentials.NewStaticCredentialsProvider(cfg.AccessKeyID, cfg.SecretAccessKey, ""),
		BaseEndpoint:     aws.String(cfg.Endpoint),
		RetryMaxAttempts: 1,
	})
}

func tctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return c
}

func glueCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// TestGlueConformance runs the adapter conformance suite through the real aws-sdk-go-v2
// client against moto and against the stand-in.
func TestGlueConformance(t *testing.T) {
	isolateAWS(t)
	for _, b := range glueBackends(t) {
		t.Run(b.name, func(t *testing.T) {
			catalogtest.Run(t, catalogtest.Options{
				New:           func(t *testing.T) catalog.Adapter { return newGlueAdapter(t, b.fresh(t)) },
				RaceUnchecked: b.deviations[devVersionID],
				BatchRead:     true,
			})
		})
	}
}

// TestGlueWire checks the Glue behaviours the adapter and pyiceberg/iceberg-go rely on, below
// the adapter, on moto and on the stand-in alike.
func TestGlueWire(t *testing.T) {
	isolateAWS(t)
	for _, b := range glueBackends(t) {
		t.Run(b.name, func(t *testing.T) {
			t.Run("provenance parameters after register and replace", func(t *testing.T) {
				cfg := b.fresh(t)
				a, g, c := newGlueAdapter(t, cfg), rawGlue(cfg), tctx(t)
				id := catalog.Ident{Namespace: []string{"prov"}, Table: "events"}
				locs := catalogtest.WriteMetadataFiles(t, t.TempDir(), 2)
				require.NoError(t, a.CreateNamespace(c, id.Namespace))
				p1 := catalog.Provenance{Repository: "example", Reference: "main", Commit: "c0ffee"}
				require.NoError(t, a.RegisterTable(c, id, locs[0], p1))
				out, err := g.GetTable(c, &glue.GetTableInput{DatabaseName: aws.String("prov"), Name: aws.String("events")})
				require.NoError(t, err)
				for k, v := range p1.Properties() {
					assert.Equal(t, v, out.Table.Parameters[k], "parameter %s after register", k)
				}
				assert.Equal(t, "ICEBERG", out.Table.Parameters["table_type"])
				assert.Equal(t, locs[0], out.Table.Parameters["metadata_location"])
				assert.Equal(t, "EXTERNAL_TABLE", aws.ToString(out.Table.TableType))

				p2 := catalog.Provenance{Repository: "example", Reference: "etl-42", Commit: "beef"}
				_, err = a.ReplaceTable(c, id, locs[0], locs[1], p2)
				require.NoError(t, err)
				out, err = g.GetTable(c, &glue.GetTableInput{DatabaseName: aws.String("prov"), Name: aws.String("events")})
				require.NoError(t, err)
				for k, v := range p2.Properties() {
					assert.Equal(t, v, out.Table.Parameters[k], "parameter %s after replace", k)
				}
				assert.Equal(t, locs[1], out.Table.Parameters["metadata_location"])
				assert.Equal(t, locs[0], out.Table.Parameters["previous_metadata_location"])
			})

			t.Run("VersionId optimistic lock", func(t *testing.T) {
				cfg := b.fresh(t)
				g, c := rawGlue(cfg), tctx(t)
				_, err := g.CreateDatabase(c, &glue.CreateDatabaseInput{DatabaseInput: &types.DatabaseInput{Name: aws.String("db")}})
				require.NoError(t, err)
				in := func(loc string) *types.TableInput {
					return &types.TableInput{Name: aws.String("t"), TableType: aws.String("EXTERNAL_TABLE"),
						Parameters: map[string]string{"table_type": "ICEBERG", "metadata_location": loc}}
				}
				_, err = g.CreateTable(c, &glue.CreateTableInput{DatabaseName: aws.String("db"), TableInput: in("s3://b/1.metadata.json")})
				require.NoError(t, err)
				got, err := g.GetTable(c, &glue.GetTableInput{DatabaseName: aws.String("db"), Name: aws.String("t")})
				require.NoError(t, err)
				v1 := got.Table.VersionId
				require.NotNil(t, v1, "GetTable returns a VersionId")
				_, err = g.UpdateTable(c, &glue.UpdateTableInput{DatabaseName: aws.String("db"), TableInput: in("s3://b/2.metadata.json"), VersionId: v1})
				require.NoError(t, err)
				got, err = g.GetTable(c, &glue.GetTableInput{DatabaseName: aws.String("db"), Name: aws.String("t")})
				require.NoError(t, err)
				assert.NotEqual(t, aws.ToString(v1), aws.ToString(got.Table.VersionId), "UpdateTable bumps VersionId")
				_, err = g.UpdateTable(c, &glue.UpdateTableInput{DatabaseName: aws.String("db"), TableInput: in("s3://b/3.metadata.json"), VersionId: v1})
				got, gerr := g.GetTable(c, &glue.GetTableInput{DatabaseName: aws.String("db"), Name: aws.String("t")})
				require.NoError(t, gerr)
				if why, ok := b.deviations[devVersionID]; ok {
					t.Logf("known deviation: %s", why)
					assert.NoError(t, err, "the deviation is gone: drop it from the list")
					assert.Equal(t, "s3://b/3.metadata.json", got.Table.Parameters["metadata_location"])
					return
				}
				assert.Equal(t, "ConcurrentModificationException", glueCode(err), "stale VersionId: %v", err)
				assert.Equal(t, "s3://b/2.metadata.json", got.Table.Parameters["metadata_location"])
			})

			t.Run("not found and already exists codes", func(t *testing.T) {
				cfg := b.fresh(t)
				g, c := rawGlue(cfg), tctx(t)
				_, err := g.GetDatabase(c, &glue.GetDatabaseInput{Name: aws.String("nope")})
				assert.Equal(t, "EntityNotFoundException", glueCode(err), "%v", err)
				_, err = g.GetTable(c, &glue.GetTableInput{DatabaseName: aws.String("nope"), Name: aws.String("t")})
				assert.Equal(t, "EntityNotFoundException", glueCode(err), "%v", err)
				_, err = g.CreateTable(c, &glue.CreateTableInput{DatabaseName: aws.String("nope"), TableInput: &types.TableInput{Name: aws.String("t")}})
				assert.Equal(t, "EntityNotFoundException", glueCode(err), "%v", err)
				_, err = g.CreateDatabase(c, &glue.CreateDatabaseInput{DatabaseInput: &types.DatabaseInput{Name: aws.String("db")}})
				require.NoError(t, err)
				_, err = g.CreateDatabase(c, &glue.CreateDatabaseInput{DatabaseInput: &types.DatabaseInput{Name: aws.String("db")}})
				assert.Equal(t, "AlreadyExistsException", glueCode(err), "%v", err)
				_, err = g.GetTable(c, &glue.GetTableInput{DatabaseName: aws.String("db"), Name: aws.String("t")})
				assert.Equal(t, "EntityNotFoundException", glueCode(err), "%v", err)
				_, err = g.DeleteTable(c, &glue.DeleteTableInput{DatabaseName: aws.String("db"), Name: aws.String("t")})
				assert.Equal(t, "EntityNotFoundException", glueCode(err), "%v", err)
				_, err = g.CreateTable(c, &glue.CreateTableInput{DatabaseName: aws.String("db"), TableInput: &types.TableInput{Name: aws.String("t")}})
				require.NoError(t, err)
				_, err = g.CreateTable(c, &glue.CreateTableInput{DatabaseName: aws.String("db"), TableInput: &types.TableInput{Name: aws.String("t")}})
				assert.Equal(t, "AlreadyExistsException", glueCode(err), "%v", err)
				_, err = g.UpdateTable(c, &glue.UpdateTableInput{DatabaseName: aws.String("db"), TableInput: &types.TableInput{Name: aws.String("missing")}})
				assert.Equal(t, "EntityNotFoundException", glueCode(err), "%v", err)
			})

			t.Run("storage descriptor location and table type round trip", func(t *testing.T) {
				cfg := b.fresh(t)
				a, g, c := newGlueAdapter(t, cfg), rawGlue(cfg), tctx(t)
				id := catalog.Ident{Namespace: []string{"sd"}, Table: "events"}
				require.NoError(t, a.CreateNamespace(c, id.Namespace))
				loc := "s3://bucket/wh/sd/events/metadata/00000-x.metadata.json"
				require.NoError(t, a.RegisterTable(c, id, loc, catalog.Provenance{}))
				out, err := g.GetTable(c, &glue.GetTableInput{DatabaseName: aws.String("sd"), Name: aws.String("events")})
				require.NoError(t, err)
				require.NotNil(t, out.Table.StorageDescriptor)
				assert.Equal(t, "s3://bucket/wh/sd/events", aws.ToString(out.Table.StorageDescriptor.Location))
				assert.Equal(t, "sd", aws.ToString(out.Table.DatabaseName))
			})

			t.Run("names are case-insensitive", func(t *testing.T) {
				cfg := b.fresh(t)
				g, c := rawGlue(cfg), tctx(t)
				_, err := g.CreateDatabase(c, &glue.CreateDatabaseInput{DatabaseInput: &types.DatabaseInput{Name: aws.String("MixedDB")}})
				require.NoError(t, err)
				if why, ok := b.deviations[devCase]; ok {
					t.Logf("known deviation: %s", why)
					_, err := g.GetDatabase(c, &glue.GetDatabaseInput{Name: aws.String("mixeddb")})
					assert.Equal(t, "EntityNotFoundException", glueCode(err), "the deviation is gone: drop it from the list")
					return
				}
				out, err := g.GetDatabase(c, &glue.GetDatabaseInput{Name: aws.String("mixeddb")})
				require.NoError(t, err, "Glue lower-cases names")
				assert.Equal(t, "mixeddb", aws.ToString(out.Database.Name))
				_, err = g.CreateTable(c, &glue.CreateTableInput{DatabaseName: aws.String("MIXEDDB"), TableInput: &types.TableInput{Name: aws.String("Events")}})
				require.NoError(t, err)
				tb, err := g.GetTable(c, &glue.GetTableInput{DatabaseName: aws.String("mixeddb"), Name: aws.String("EVENTS")})
				require.NoError(t, err)
				assert.Equal(t, "events", aws.ToString(tb.Table.Name))
			})
		})
	}
}
