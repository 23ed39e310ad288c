package sqlcat

import (
	"context"
	"strings"

	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog"
)

var _ catalog.BatchLoader = (*Adapter)(nil)

// batchNames bounds the names of one query: well under the placeholder limits of SQLite
// (32,766) and PostgreSQL (65,535), and one listing page of the service.
const batchNames = 1000

// LoadTables reads the tables' rows with one query per batchNames names (the same rows and
// filter as LoadTable: table rows, not views, with a metadata location). A missing
// namespace has no rows, so it gives an empty map.
func (a *Adapter) LoadTables(ctx context.Context, ns []string, tables []string) (map[string]string, error) {
	key, err := namespaceKey(ns)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(tables))
	for start := 0; start < len(tables); start += batchNames {
		chunk := tables[start:min(start+batchNames, len(tables))]
		err := a.run(ctx, "load tables", func(ctx context.Context, sv schemaVersion, _ bool) error {
			args := make([]any, 0, len(chunk)+2)
			args = append(args, a.catalogName, key)
			for _, t := range chunk {
				args = append(args, t)
			}
			rows, err := a.db.QueryContext(ctx, a.q(`SELECT table_name, metadata_location FROM iceberg_tables
				WHERE catalog_name = ? AND table_namespace = ? AND metadata_location IS NOT NULL
				AND table_name IN (?`+strings.Repeat(", ?", len(chunk)-1)+`)`+typePredicate(sv)), args...)
			if err != nil {
				return err
			}
			defer func() { _ = rows.Close() }()
			for rows.Next() {
				var name, loc string
				if err := rows.Scan(&name, &loc); err != nil {
					return err
				}
				out[name] = loc
			}
			return rows.Err()
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}
