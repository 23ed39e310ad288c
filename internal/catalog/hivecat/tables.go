package hivecat

// The catalog.Adapter operations on databases and tables (re-point runs under the metastore lock, lock.go).

import (
	"context"
	"errors"
	"strings"

	icecatalog "github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/catalog/hive"
	"github.com/beltran/gohive/hive_metastore"

	"github.com/iceberg-remotes/iceberg-remotes/internal/apperr"
	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog"
)

// Type returns "hive".
func (a *Adapter) Type() string { return "hive" }

// Close closes the metastore connection.
func (a *Adapter) Close() error { return a.cat.Close() }

func (a *Adapter) database(ns []string) (string, error) {
	if len(ns) != 1 || ns[0] == "" {
		return "", apperr.BadRequest("hive remote %q: Hive databases are single-level; namespace %q has %d levels",
			a.name, strings.Join(ns, "."), len(ns))
	}
	return ns[0], nil
}

// NamespaceExists reports whether the Hive database exists.
func (a *Adapter) NamespaceExists(ctx context.Context, ns []string) (bool, error) {
	db, err := a.database(ns)
	if err != nil {
		return false, err
	}
	ok, err := a.cat.CheckNamespaceExists(ctx, hive.DatabaseIdentifier(db))
	if err != nil {
		return false, a.mapErr(err, "checking database %q", db)
	}
	return ok, nil
}

// CreateNamespace creates the Hive database (at <warehouse>/<db>.db); an existing one is fine.
func (a *Adapter) CreateNamespace(ctx context.Context, ns []string) error {
	db, err := a.database(ns)
	if err != nil {
		return err
	}
	err = a.cat.CreateNamespace(ctx, hive.DatabaseIdentifier(db), nil)
	if err != nil && !errors.Is(err, icecatalog.ErrNamespaceAlreadyExists) {
		return a.mapErr(err, "creating database %q", db)
	}
	return nil
}

// icebergLocation returns the metadata location of an Iceberg Hive table. A Hive table that
// is not an Iceberg table exists under that name but cannot be used: a conflict (409).
func (a *Adapter) icebergLocation(t *hive_metastore.Table, id catalog.Ident) (string, error) {
	if !strings.EqualFold(t.Parameters[hive.TableTypeKey], hive.TableTypeIceberg) {
		return "", apperr.Conflict("hive remote %q: table %s exists but is not an Iceberg table", a.name, id)
	}
	loc := t.Parameters[hive.MetadataLocationKey]
	if loc == "" {
		return "", apperr.Conflict("hive remote %q: Iceberg table %s has no metadata_location", a.name, id)
	}
	return loc, nil
}

// LoadTable returns the table's metadata_location. It reads the metastore entry only, not
// the metadata file (iceberg-go's LoadTable would), so it needs no object-store access.
func (a *Adapter) LoadTable(ctx context.Context, id catalog.Ident) (string, error) {
	db, err := a.database(id.Namespace)
	if err != nil {
		return "", err
	}
	t, err := a.client.GetTable(ctx, db, id.Table)
	if err != nil {
		return "", a.mapErr(err, "getting table %s", id)
	}
	return a.icebergLocation(t, id)
}

// RegisterTable registers the table through iceberg-go (which reads the metadata file to
// fill in the Hive columns and location); the provenance goes into the table parameters of
// the same create_table call (withProvenance).
func (a *Adapter) RegisterTable(ctx context.Context, id catalog.Ident, metadataLocation string, prov catalog.Provenance) error {
	db, err := a.database(id.Namespace)
	if err != nil {
		return err
	}
	_, err = a.cat.RegisterTable(withProvenance(ctx, prov), hive.TableIdentifier(db, id.Table), metadataLocation)
	if err == nil {
		return nil
	}
	if !errors.Is(err, icecatalog.ErrTableAlreadyExists) {
		return a.mapErr(err, "registering table %s", id)
	}
	cur, lerr := a.LoadTable(ctx, id)
	if lerr != nil {
		return lerr
	}
	if cur != metadataLocation {
		return apperr.Conflict("hive remote %q: table %s already exists at another metadata location", a.name, id)
	}
	return nil
}

// ReplaceTable re-points the table under the metastore's exclusive table lock.
func (a *Adapter) ReplaceTable(ctx context.Context, id catalog.Ident, expectedLocation, metadataLocation string, prov catalog.Provenance) (bool, error) {
	db, err := a.database(id.Namespace)
	if err != nil {
		return true, err
	}
	// Fail fast (404/409) before queueing for a lock on a table that cannot be swapped.
	if _, err := a.LoadTable(ctx, id); err != nil {
		return true, err
	}
	lockID, err := a.lock(ctx, db, id.Table)
	if err != nil {
		return true, err
	}
	defer func() {
		// Release even when ctx is done: a leaked lock blocks every other writer until the
		// metastore times it out.
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.client.timeout)
		defer cancel()
		if err := a.client.Unlock(uctx, lockID); err != nil {
			a.logger.WarnContext(ctx, "releasing hive lock failed", "remote", a.name, "table", id.String(), "error", err)
		}
	}()
	t, err := a.client.GetTable(ctx, db, id.Table)
	if err != nil {
		return true, a.mapErr(err, "getting table %s", id)
	}
	cur, err := a.icebergLocation(t, id)
	if err != nil {
		return true, err
	}
	if cur != expectedLocation {
		return true, apperr.Conflict("hive remote %q: table %s changed: its metadata location is not the expected one", a.name, id)
	}
	params := catalog.RepointedParameters(t.Parameters, prov, hive.MetadataLocationKey, hive.PreviousMetadataLocationKey,
		metadataLocation, expectedLocation)
	updated := *t
	updated.Parameters = params
	if err := a.client.AlterTable(ctx, db, id.Table, &updated); err != nil {
		return true, a.mapErr(err, "altering table %s", id)
	}
	return true, nil
}

// DropTable drops the table through iceberg-go (under the metastore lock, deleteData=false):
// no file is purged.
func (a *Adapter) DropTable(ctx context.Context, id catalog.Ident) error {
	db, err := a.database(id.Namespace)
	if err != nil {
		return err
	}
	if err := a.cat.DropTable(ctx, hive.TableIdentifier(db, id.Table)); err != nil {
		return a.mapErr(err, "dropping table %s", id)
	}
	return nil
}

// Ping lists databases: it proves the metastore answers.
func (a *Adapter) Ping(ctx context.Context) error {
	if _, err := a.client.GetAllDatabases(ctx); err != nil {
		return a.mapErr(err, "listing databases")
	}
	return nil
}
