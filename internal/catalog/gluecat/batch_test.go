package gluecat_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog/gluecat"
	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog/gluecat/gluetest"
)

func putIceberg(srv *gluetest.Server, db, name, loc string) {
	srv.PutTable(db, types.TableInput{Name: aws.String(name), TableType: aws.String("EXTERNAL_TABLE"),
		Parameters: map[string]string{paramTableType: "ICEBERG", paramMetadataLocation: loc}})
}

const (
	paramTableType        = gluecat.ParamTableType
	paramMetadataLocation = gluecat.ParamMetadataLocation
)

// TestLoadTablesPagesAndStopsEarly: GetTables is paged (100 a page, as Glue allows), the
// read stops at the page where the last asked table was seen, skips non-Iceberg tables, and
// matches names as Glue does (case-insensitively).
func TestLoadTablesPagesAndStopsEarly(t *testing.T) {
	isolateAWSEnv(t)
	srv := gluetest.New(t)
	// The test counts pages: a slow page on a loaded machine (-race, CI) must not time out
	// and be retried, which would count one page twice.
	a := newAdapter(t, srv.Config(), func(o *gluecat.Options) { o.Policy.Timeout = 30 * time.Second })
	require.NoError(t, a.CreateNamespace(ctx(t), []string{"db"}))
	for i := range 450 {
		putIceberg(srv, "db", fmt.Sprintf("t%04d", i), fmt.Sprintf("s3://b/t%04d/metadata/00000-x.metadata.json", i))
	}
	srv.PutTable("db", types.TableInput{Name: aws.String("t0001x"), TableType: aws.String("EXTERNAL_TABLE"),
		Parameters: map[string]string{"classification": "parquet"}})
	srv.PutTable("db", types.TableInput{Name: aws.String("t0002x"), TableType: aws.String("EXTERNAL_TABLE"),
		Parameters: map[string]string{paramTableType: "ICEBERG"}}) // no metadata_location

	before := srv.Calls("GetTables")
	got, err := a.LoadTables(ctx(t), []string{"db"}, []string{"T0003", "t0150", "t0001x", "t0002x"})
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"T0003": "s3://b/t0003/metadata/00000-x.metadata.json",
		"t0150": "s3://b/t0150/metadata/00000-x.metadata.json"}, got)
	assert.Equal(t, 2, srv.Calls("GetTables")-before, "pages until every asked table was seen, not all five")

	// A missing table makes it read every page: ⌈452/100⌉.
	before = srv.Calls("GetTables")
	got, err = a.LoadTables(ctx(t), []string{"db"}, []string{"t0449", "nope"})
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"t0449": "s3://b/t0449/metadata/00000-x.metadata.json"}, got)
	assert.Equal(t, 5, srv.Calls("GetTables")-before)

	got, err = a.LoadTables(ctx(t), []string{"nodb"}, []string{"t0001"})
	require.NoError(t, err)
	assert.Empty(t, got)
	_, err = a.LoadTables(ctx(t), []string{"a", "b"}, []string{"t0001"})
	assert.Equal(t, 400, status(t, err))
}

// TestLoadTablesRetriesLikeGetTable: a throttled page is repeated under the same policy as
// GetTable, and throttling beyond the retries is 429.
func TestLoadTablesRetriesLikeGetTable(t *testing.T) {
	isolateAWSEnv(t)
	srv := gluetest.New(t)
	a := newAdapter(t, srv.Config())
	require.NoError(t, a.CreateNamespace(ctx(t), []string{"db"}))
	putIceberg(srv, "db", "t", "s3://b/t/metadata/00000-x.metadata.json")
	before := srv.Calls("GetTables")
	srv.Fail("GetTables", "ThrottlingException", 2)
	got, err := a.LoadTables(ctx(t), []string{"db"}, []string{"t"})
	require.NoError(t, err)
	assert.Len(t, got, 1)
	assert.Equal(t, 3, srv.Calls("GetTables")-before)

	srv.Fail("GetTables", "ThrottlingException", 10)
	_, err = a.LoadTables(ctx(t), []string{"db"}, []string{"t"})
	assert.Equal(t, 429, status(t, err))
}
