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

	"github.com/iceberg-remotes/iceberg-remotes/internal/names"
)

// Ident names a table in a remote catalog.
type Ident struct {
	Namespace []string
	Table     string
}

// String renders the identifier the way Iceberg prints it (levels joined by dots).
func (i Ident) String() string {
	return names.Join(i.Namespace, i.Table, ".")
}

// Provenance says where a registered table came from. Adapters whose catalog keeps table
// parameters outside the metadata file (Glue parameters, Hive table parameters) store it
// there on register and re-point; REST and SQL catalogs have no such place (their table
// properties live in the metadata file, and the service never writes metadata files), so
// they ignore it.
type Provenance struct {
	Repository string // lakeFS repository id
	Reference  string // the reference the user asked for (branch, tag or commit)
	Commit     string // the commit id that reference resolved to
	Table      string // the lakeFS-side table: namespace levels and table joined by dots
	PushedBy   string // the lakeFS user who pushed (the service identity for automatic pushes)
}

// ProvenancePrefix starts every provenance parameter key.
const ProvenancePrefix = "lakefs."

// Properties returns the provenance as table properties/parameters (lakefs.* keys); empty
// fields are left out.
func (p Provenance) Properties() map[string]string {
	m := map[string]string{}
	for _, kv := range [...][2]string{
		{"repository", p.Repository}, {"reference", p.Reference}, {"commit", p.Commit},
		{"table", p.Table}, {"pushed_by", p.PushedBy},
	} {
		if kv[1] != "" {
			m[ProvenancePrefix+kv[0]] = kv[1]
		}
	}
	return m
}

// Apply returns a copy of params with every old lakefs.* key removed (a commit id from a
// previous push must never stick to new metadata, nor a key this push leaves empty) and
// this provenance added.
func (p Provenance) Apply(params map[string]string) map[string]string {
	out := make(map[string]string, len(params)+5)
	for k, v := range params {
		if !strings.HasPrefix(k, ProvenancePrefix) {
			out[k] = v
		}
	}
	for k, v := range p.Properties() {
		out[k] = v
	}
	return out
}

// RepointedParameters returns a table's parameters re-pointed at a new metadata file, for
// catalogs that store Iceberg pointers as table parameters (Glue, Hive): every existing
// parameter is kept except old lakefs.* provenance, which prov replaces (Provenance.Apply),
// and the current and previous metadata locations are set under the catalog's keys.
func RepointedParameters(existing map[string]string, prov Provenance, locationKey, previousKey, location, previous string) map[string]string {
	params := prov.Apply(existing)
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
