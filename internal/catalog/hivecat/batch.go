package hivecat

import (
	"context"
	"errors"
	"strings"

	"github.com/apache/thrift/lib/go/thrift"
	"github.com/beltran/gohive/hive_metastore"

	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog"
)

var _ catalog.BatchLoader = (*Adapter)(nil)

// batchNames bounds the names of one get_table_objects_by_name request (the metastore
// splits it further itself, hive.metastore.batch.retrieve.max).
const batchNames = 1000

// LoadTables reads the tables with get_table_objects_by_name_req (one call per batchNames
// names), which omits missing tables. The metastore keeps names in lower case and
// get_table matches them so; tables are matched the same way. Tables that are not Iceberg
// tables are skipped; a missing database gives an empty map.
func (a *Adapter) LoadTables(ctx context.Context, ns []string, tables []string) (map[string]string, error) {
	db, err := a.database(ns)
	if err != nil {
		return nil, err
	}
	byLower := make(map[string][]string, len(tables))
	for _, t := range tables {
		k := strings.ToLower(t)
		byLower[k] = append(byLower[k], t)
	}
	out := make(map[string]string, len(tables))
	for start := 0; start < len(tables); start += batchNames {
		ts, err := a.client.GetTableObjectsByName(ctx, db, tables[start:min(start+batchNames, len(tables))])
		var unknownDB *hive_metastore.UnknownDBException
		if errors.As(err, &unknownDB) {
			return out, nil
		}
		if err != nil {
			// The older get_table_objects_by_name declares no exceptions in the IDL, so a
			// missing database comes back as an application error: ask for the database.
			if ok, nerr := a.NamespaceExists(ctx, ns); nerr == nil && !ok {
				return out, nil
			}
			return nil, a.mapErr(err, "getting tables of database %q", db)
		}
		for _, t := range ts {
			if t == nil {
				continue
			}
			loc, err := a.icebergLocation(t, catalog.Ident{Namespace: ns, Table: t.TableName})
			if err != nil {
				continue // not an Iceberg table: skipped, as the interface says
			}
			for _, n := range byLower[strings.ToLower(t.TableName)] {
				out[n] = loc
			}
		}
	}
	return out, nil
}

// GetTableObjectsByName reads tables with get_table_objects_by_name_req (Hive 3+; Hive 4
// serves only the request form); a metastore that does not know it is asked with
// get_table_objects_by_name.
func (c *client) GetTableObjectsByName(ctx context.Context, dbName string, names []string) (ts []*hive_metastore.Table, err error) {
	err = c.do(ctx, true, func(ctx context.Context, h *hive_metastore.ThriftHiveMetastoreClient) (e error) {
		res, e := h.GetTableObjectsByNameReq(ctx, &hive_metastore.GetTablesRequest{DbName: dbName, TblNames: names})
		var ae thrift.TApplicationException
		if errors.As(e, &ae) && ae.TypeId() == thrift.UNKNOWN_METHOD {
			ts, e = h.GetTableObjectsByName(ctx, dbName, names)
			return e
		}
		if e == nil {
			ts = res.GetTables()
		}
		return e
	})
	return ts, err
}
