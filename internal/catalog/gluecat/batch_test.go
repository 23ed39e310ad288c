package gluecat_test

import (
	"fmt"
	"testing"

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
	a := newAdapter(t, srv.Config())
	// Pages asked for: an attempt the SDK repeats (a connection that broke on a loaded
	// machine, as under -race in CI) is the same page.
	pages := func() int { return srv.Calls("GetTables") - srv.Retries("GetTables") }
	require.NoError(t, a.CreateNamespace(ctx(t), []string{"db"}))
	for i := range 450 {
		putIceberg(srv, "db", fmt.Sprintf("t%04d", i), fmt.Sprintf("s3://b/t%04d/metadata/00000-x.metadata.json", i))
	}
	srv.PutTable("db", types.TableInput{Name: aws.String("t0001x"), TableType: aws.String("EXTERNAL_TABLE"),
		Parameters: map[string]string{"classification": "parquet"}})
	srv.PutTable("db", types.TableInput{Name: aws.String("t0002x"), TableType: aws.String("EXTERNAL_TABLE"),
		Parameters: map[string]string{paramTableType: "ICEBERG"}}) // no metadata_location

	before := pages()
	got, err := a.LoadTables(ctx(t), []string{"db"}, []string{"T0003", "t0150", "t0001x", "t0002x"})
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"T0003": "s3://b/t0003/metadata/00000-x.metadata.json",
		"t0150": "s3://b/t0150/metadata/00000-x.metadata.json"}, got)
	assert.Equal(t, 2, pages()-before, "pages until every asked table was seen, not all five")

	// A missing table makes it read every page: ⌈452/100⌉.
	before = pages()
	got, err = a.LoadTables(ctx(t), []string{"db"}, []string{"t0449", "nope"})
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"t0449": "s3://b/t0449/metadata/00000-x.metadata.json"}, got)
	assert.Equal(t, 5, pages()-before)

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
	assert.Equal(t, 2, srv.Retries("GetTables"), "the SDK marks its two repeats as attempts 2 and 3")

	srv.Fail("GetTables", "ThrottlingException", 10)
	_, err = a.LoadTables(ctx(t), []string{"db"}, []string{"t"})
	assert.Equal(t, 429, status(t, err))
}
