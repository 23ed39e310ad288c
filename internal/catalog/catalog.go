// Package catalog defines the one small interface the push/pull service needs from a remote
// Iceberg catalog, and turns configured remotes (iceberg_catalog.remotes[]) into adapters.
//
// Each remote type lives in its own subpackage (sqlcat, restcat, gluecat, hivecat) so that a
// newcomer finds each one by name and a test of one does not link the others. Every adapter
// passes the same conformance suite (catalog/catalogtest).
//
// Errors: adapters return *apperr.Error with the statuses of docs/design.md section 2 and issue 5:
// missing namespace or table 404, already exists 409, stale compare-and-swap 409, remote auth
// failure 502 (the caller's own credentials were fine), throttling 429/503, timeout 504.
package catalog

import (
	"context"
	"strings"
)

// Ident names a table in a remote catalog.
type Ident struct {
	Namespace []string
	Table     string
}

// String renders the identifier the way Iceberg prints it (levels joined by dots).
func (i Ident) String() string {
	return strings.Join(append(append([]string{}, i.Namespace...), i.Table), ".")
}

// Provenance says where a registered table came from; adapters that can store table
// properties (Glue parameters, REST/SQL have none to set without rewriting metadata) record it.
type Provenance struct {
	Repository string // lakeFS repository id
	Reference  string // the reference the user asked for (branch, tag or commit)
	Commit     string // the commit id that reference resolved to
}

// Properties returns the provenance as table properties/parameters (lakefs.* keys).
func (p Provenance) Properties() map[string]string {
	m := map[string]string{}
	if p.Repository != "" {
		m["lakefs.repository"] = p.Repository
	}
	if p.Reference != "" {
		m["lakefs.reference"] = p.Reference
	}
	if p.Commit != "" {
		m["lakefs.commit"] = p.Commit
	}
	return m
}

// RepointedParameters returns a table's parameters re-pointed at a new metadata file, for
// catalogs that store Iceberg pointers as table parameters (Glue, Hive): every existing
// parameter is kept except old lakefs.* provenance (a commit id from a previous push must
// never stick to new metadata), the new provenance is added, and the current and previous
// metadata locations are set under the catalog's keys.
func RepointedParameters(existing map[string]string, prov Provenance, locationKey, previousKey, location, previous string) map[string]string {
	params := make(map[string]string, len(existing)+5)
	for k, v := range existing {
		if !strings.HasPrefix(k, "lakefs.") {
			params[k] = v
		}
	}
	for k, v := range prov.Properties() {
		params[k] = v
	}
	params[locationKey] = location
	params[previousKey] = previous
	return params
}

// Adapter is a remote catalog as the push/pull service sees it. Locations are the ones the
// remote sees (after the location map). Implementations are safe for concurrent use.
type Adapter interface {
	// Type returns the remote type ("rest", "glue", "sql", "hive").
	Type() string

	// NamespaceExists reports whether every level of ns exists in the remote.
	NamespaceExists(ctx context.Context, ns []string) (bool, error)
	// CreateNamespace creates ns (and, where the remote needs it, its parents). Creating a
	// namespace that already exists is not an error.
	CreateNamespace(ctx context.Context, ns []string) error

	// LoadTable returns the table's current metadata location; 404 when the namespace or
	// the table does not exist.
	LoadTable(ctx context.Context, id Ident) (string, error)
	// RegisterTable creates a table that points at an existing metadata file. 404 when the
	// namespace is missing. Registering a table that already points at metadataLocation
	// succeeds without change (idempotent); one that points elsewhere is 409.
	RegisterTable(ctx context.Context, id Ident, metadataLocation string, prov Provenance) error
	// ReplaceTable atomically re-points an existing table from expectedLocation to
	// metadataLocation (compare-and-swap). 409 when the table's current location is not
	// expectedLocation, 404 when the table does not exist. atomic is false only when the
	// remote offered no atomic re-point and the adapter fell back to drop-then-register.
	ReplaceTable(ctx context.Context, id Ident, expectedLocation, metadataLocation string, prov Provenance) (atomic bool, err error)
	// DropTable removes the table from the remote catalog without purging any file.
	DropTable(ctx context.Context, id Ident) error

	// Ping checks that the remote is reachable and the configured credentials work.
	Ping(ctx context.Context) error
	// Close releases connections.
	Close() error
}
