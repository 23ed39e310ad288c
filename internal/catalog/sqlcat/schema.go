package sqlcat

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

type dialect int

const (
	dialectSQLite dialect = iota + 1
	dialectPostgres
)

// schemaVersion is the layout of iceberg_tables, named as Java's JdbcCatalog names it.
type schemaVersion int

const (
	schemaUnknown schemaVersion = iota
	// schemaV0 is the legacy layout without iceberg_type (Java before 1.7, pyiceberg).
	schemaV0
	// schemaV1 adds iceberg_type (TABLE, VIEW, or NULL for rows written under V0).
	schemaV1
)

func (v schemaVersion) String() string {
	switch v {
	case schemaV0:
		return "V0"
	case schemaV1:
		return "V1"
	}
	return "unknown"
}

const icebergTypeTable = "TABLE"

// DDL of a new catalog: exactly what iceberg-go v0.7.0's SQL catalog creates (bun's rendering
// of its sqlIcebergTable and sqlIcebergNamespaceProps models, identical for SQLite and
// PostgreSQL), so a database created here is indistinguishable from one iceberg-go created.
// Java's JdbcCatalog creates the same columns with VARCHAR(255)/VARCHAR(1000) lengths.
const (
	ddlTablesV1 = `CREATE TABLE IF NOT EXISTS "iceberg_tables" (` +
		`"catalog_name" VARCHAR NOT NULL, "table_namespace" VARCHAR NOT NULL, "table_name" VARCHAR NOT NULL, ` +
		`"iceberg_type" VARCHAR, "metadata_location" VARCHAR, "previous_metadata_location" VARCHAR, ` +
		`PRIMARY KEY ("catalog_name", "table_namespace", "table_name"))`
	ddlNamespaceProperties = `CREATE TABLE IF NOT EXISTS "iceberg_namespace_properties" (` +
		`"catalog_name" VARCHAR NOT NULL, "namespace" VARCHAR NOT NULL, "property_key" VARCHAR NOT NULL, ` +
		`"property_value" VARCHAR, ` +
		`PRIMARY KEY ("catalog_name", "namespace", "property_key"))`
)

// ensureSchema returns the detected schema version, creating the catalog tables on a database
// that has none. The result is cached once known; failures are not, so the next call retries.
func (a *Adapter) ensureSchema(ctx context.Context) (schemaVersion, error) {
	a.schemaMu.Lock()
	defer a.schemaMu.Unlock()
	if a.schema != schemaUnknown {
		return a.schema, nil
	}
	sv, err := a.detectOrCreate(ctx)
	if err != nil {
		return schemaUnknown, err
	}
	a.schema = sv
	return sv, nil
}

func (a *Adapter) detectOrCreate(ctx context.Context) (schemaVersion, error) {
	hasTables, err := a.relationExists(ctx, "iceberg_tables")
	if err != nil {
		return schemaUnknown, fmt.Errorf("detecting the catalog schema: %w", err)
	}
	sv := schemaV1
	if hasTables {
		hasType, err := a.probe(ctx, a.columnExistsQuery(), "iceberg_tables", "iceberg_type")
		if err != nil {
			return schemaUnknown, fmt.Errorf("detecting the catalog schema: %w", err)
		}
		if !hasType {
			// Used as found: migrating would change a database other catalogs share.
			sv = schemaV0
		}
	} else if err := a.create(ctx, "iceberg_tables", ddlTablesV1); err != nil {
		return schemaUnknown, err
	}
	hasNS, err := a.relationExists(ctx, "iceberg_namespace_properties")
	if err != nil {
		return schemaUnknown, fmt.Errorf("detecting the catalog schema: %w", err)
	}
	if !hasNS {
		// Java creates this table separately and later than iceberg_tables; a V0 database
		// may lack it.
		if err := a.create(ctx, "iceberg_namespace_properties", ddlNamespaceProperties); err != nil {
			return schemaUnknown, err
		}
	}
	return sv, nil
}

// create runs a CREATE TABLE IF NOT EXISTS. Two creators racing on PostgreSQL can still fail
// with a duplicate catalog entry; the table existing afterwards is success.
func (a *Adapter) create(ctx context.Context, name, ddl string) error {
	_, err := a.db.ExecContext(ctx, ddl)
	if err == nil {
		return nil
	}
	if ok, perr := a.relationExists(ctx, name); perr == nil && ok {
		return nil
	}
	return fmt.Errorf("creating %s: %w", name, err)
}

// relationExists looks in the schema the connection resolves unqualified names in
// (PostgreSQL's current_schema(), i.e. the first schema of search_path), as iceberg-go does.
func (a *Adapter) relationExists(ctx context.Context, name string) (bool, error) {
	q := `SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`
	if a.dialect == dialectPostgres {
		q = `SELECT 1 FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = $1`
	}
	return a.probe(ctx, q, name)
}

func (a *Adapter) columnExistsQuery() string {
	if a.dialect == dialectPostgres {
		return `SELECT 1 FROM information_schema.columns
			WHERE table_schema = current_schema() AND table_name = $1 AND column_name = $2`
	}
	return `SELECT 1 FROM pragma_table_info(?) WHERE name = ?`
}

func (a *Adapter) probe(ctx context.Context, q string, args ...any) (bool, error) {
	var one int
	err := a.db.QueryRowContext(ctx, q, args...).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}
