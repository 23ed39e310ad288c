package gluecat

import (
	"context"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"

	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog"
)

var _ catalog.BatchLoader = (*Adapter)(nil)

// getTablesPage is GetTables' largest page (its MaxResults allows 1 to 100).
const getTablesPage = 100

// LoadTables reads the database's tables with GetTables, page by page (each page one call
// with the retry and timeout policy of GetTable), and stops as soon as every asked table has
// been seen. Glue keeps names in lower case and GetTable matches them so; tables are
// matched the same way. Tables that are not Iceberg tables (or carry no metadata_location)
// are skipped; a missing database gives an empty map.
func (a *Adapter) LoadTables(ctx context.Context, ns []string, tables []string) (map[string]string, error) {
	db, err := a.database(ns)
	if err != nil {
		return nil, err
	}
	want := make(map[string][]string, len(tables))
	for _, t := range tables {
		k := strings.ToLower(t)
		want[k] = append(want[k], t)
	}
	out := make(map[string]string, len(tables))
	var token *string
	for len(want) > 0 {
		page, err := a.getTablesPage(ctx, db, token)
		if err != nil {
			if errorCode(err) == "EntityNotFoundException" {
				return out, nil
			}
			return nil, a.mapErr(ctx, err, "listing tables of database %q", db)
		}
		for _, t := range page.TableList {
			names, ok := want[strings.ToLower(aws.ToString(t.Name))]
			if !ok {
				continue
			}
			delete(want, strings.ToLower(aws.ToString(t.Name)))
			if !strings.EqualFold(t.Parameters[ParamTableType], IcebergTableType) || t.Parameters[ParamMetadataLocation] == "" {
				continue
			}
			for _, n := range names {
				out[n] = t.Parameters[ParamMetadataLocation]
			}
		}
		if aws.ToString(page.NextToken) == "" {
			break
		}
		token = page.NextToken
	}
	return out, nil
}

func (a *Adapter) getTablesPage(ctx context.Context, db string, token *string) (*glue.GetTablesOutput, error) {
	c, cancel := a.call(ctx)
	defer cancel()
	return a.client.GetTables(c, &glue.GetTablesInput{
		CatalogId: a.catalogID, DatabaseName: aws.String(db), NextToken: token, MaxResults: aws.Int32(getTablesPage),
	}, a.idempotent)
}
