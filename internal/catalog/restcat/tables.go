package restcat

// The catalog.Adapter operations: namespaces, load, register, re-point (overwrite or the recorded fallback), drop.

import (
	"context"
	"errors"
	"hash/fnv"
	"net/http"
	"strings"
	"sync"

	"github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"

	"github.com/iceberg-remotes/iceberg-remotes/internal/apperr"
	ourcatalog "github.com/iceberg-remotes/iceberg-remotes/internal/catalog"
	"github.com/iceberg-remotes/iceberg-remotes/internal/httpclient"
)

// Type implements catalog.Adapter.
func (a *Adapter) Type() string { return "rest" }

// NamespaceExists implements catalog.Adapter: every level must exist.
func (a *Adapter) NamespaceExists(ctx context.Context, ns []string) (bool, error) {
	// An existing namespace is success, so the POST may be repeated after an ambiguous failure.
	ctx = httpclient.Idempotent(ctx)
	for i := 1; i <= len(ns); i++ {
		c, st := track(ctx)
		ok, err := a.cat.CheckNamespaceExists(c, ns[:i])
		if err != nil {
			return false, a.mapErr(err, st, "check namespace %s", strings.Join(ns[:i], "."))
		}
		if !ok {
			return false, nil
		}
	}
	return len(ns) > 0, nil
}

// CreateNamespace implements catalog.Adapter. Parents are created first, for servers that
// require them; levels that already exist are left alone.
func (a *Adapter) CreateNamespace(ctx context.Context, ns []string) error {
	if len(ns) == 0 {
		return apperr.BadRequest("empty namespace")
	}
	// An existing namespace is success, so the POST may be repeated after an ambiguous failure.
	ctx = httpclient.Idempotent(ctx)
	for i := 1; i <= len(ns); i++ {
		c, st := track(ctx)
		err := a.cat.CreateNamespace(c, ns[:i], nil)
		if err != nil && !errors.Is(err, catalog.ErrNamespaceAlreadyExists) {
			return a.mapErr(err, st, "create namespace %s", strings.Join(ns[:i], "."))
		}
	}
	return nil
}

// LoadTable implements catalog.Adapter.
func (a *Adapter) LoadTable(ctx context.Context, id ourcatalog.Ident) (string, error) {
	c, st := track(ctx)
	tbl, err := a.cat.LoadTable(c, ident(id))
	if err != nil {
		return "", a.mapErr(err, st, "load table %s", id)
	}
	return tbl.MetadataLocation(), nil
}

// RegisterTable implements catalog.Adapter. Provenance is not recorded: a REST catalog has
// no table properties that can be set without writing new metadata.
//
// The namespace is checked first because some servers create it implicitly: Apache
// Iceberg's reference server over a JDBC catalog registers a table in a namespace nobody
// created (and the namespace then exists). The contract is 404 for a missing namespace on
// every remote.
func (a *Adapter) RegisterTable(ctx context.Context, id ourcatalog.Ident, metadataLocation string, _ ourcatalog.Provenance) error {
	mu := a.lock(id)
	defer mu.Unlock()
	ok, err := a.NamespaceExists(ctx, id.Namespace)
	if err != nil {
		return err
	}
	if !ok {
		return apperr.NotFound("remote %q: register table %s: namespace does not exist", a.name, id)
	}
	return a.register(ctx, id, metadataLocation)
}

func (a *Adapter) register(ctx context.Context, id ourcatalog.Ident, metadataLocation string) error {
	// An existing table at the same location is success (below), so the POST may be repeated
	// after an ambiguous failure; with an idempotency key the repeat is answered as the first.
	mctx, cancel := a.sess.mutation(httpclient.Idempotent(ctx))
	defer cancel()
	c, st := track(mctx)
	_, err := a.cat.RegisterTable(c, ident(id), metadataLocation)
	if err == nil {
		return nil
	}
	if !errors.Is(err, catalog.ErrTableAlreadyExists) {
		if nerr := a.nessieRefusal(id, err); nerr != nil {
			return nerr
		}
		return a.mapErr(err, st, "register table %s", id)
	}
	cur, lerr := a.LoadTable(ctx, id)
	if lerr != nil {
		return lerr
	}
	if cur == metadataLocation {
		return nil
	}
	return apperr.Conflict("remote %q: table %s already exists at another metadata location", a.name, id)
}

// ReplaceTable implements catalog.Adapter; see the package comment for what "atomic" can
// mean on REST. When the server refuses "overwrite" (400/405/406/501, or 409 from a server
// that ignores the field), the table is dropped without purge and registered again, and
// atomic is false. A Nessie server's table is re-pointed with one conditional Nessie commit
// instead (nessieReplace), when the adapter can read metadata files.
func (a *Adapter) ReplaceTable(ctx context.Context, id ourcatalog.Ident, expectedLocation, metadataLocation string, _ ourcatalog.Provenance) (bool, error) {
	mu := a.lock(id)
	defer mu.Unlock()
	if a.sess.nessie != nil && a.readMD != nil {
		// Nessie ignores "overwrite"; its own API re-points atomically (nessie_repoint.go).
		if done, err := a.nessieReplace(ctx, id, expectedLocation, metadataLocation); done {
			return true, err
		}
	}
	cur, err := a.LoadTable(ctx, id)
	if err != nil {
		return false, err
	}
	if cur != expectedLocation {
		return false, apperr.Conflict("remote %q: table %s changed: it no longer points at the expected metadata location", a.name, id)
	}
	mctx, cancel := a.sess.mutation(ctx)
	got, err := a.sess.registerOverwrite(mctx, id, metadataLocation)
	cancel()
	switch {
	case err == nil:
		if got != "" && got != metadataLocation {
			return false, apperr.New(502, "remote %q: register with overwrite of %s answered another metadata location", a.name, id)
		}
		return true, nil
	case !refusesOverwrite(err):
		return false, a.mapErr(err, nil, "re-point table %s", id)
	}
	// The server has no atomic re-point: drop without purge, then register.
	if err := a.drop(ctx, id, " before re-registering"); err != nil {
		return false, err
	}
	if err := a.register(ctx, id, metadataLocation); err != nil {
		// Put the table back where it was so that a failed re-point does not lose it.
		if rerr := a.register(context.WithoutCancel(ctx), id, expectedLocation); rerr != nil {
			return false, apperr.Wrap(apperr.StatusOf(err), errors.Join(err, rerr),
				"remote %q: re-registering %s failed and restoring it failed too; the table is missing from the remote", a.name, id)
		}
		return false, err
	}
	return false, nil
}

// refusesOverwrite tells a server without register-with-overwrite from other failures:
// 405/406/501 (not supported), 409 (a server predating the field ignores it and finds the
// table exists; the table was just checked to exist at the expected location), and 400 only
// when the error names the field or an unsupported operation, because a 400 can also mean
// that the new metadata file is unreadable, which a drop-then-register must not follow.
func refusesOverwrite(err error) bool {
	var he *httpStatusError
	if !errors.As(err, &he) {
		return false
	}
	switch he.status {
	case http.StatusMethodNotAllowed, http.StatusNotAcceptable, http.StatusNotImplemented, http.StatusConflict:
		return true
	case http.StatusBadRequest:
		return he.typ == "UnsupportedOperationException" ||
			strings.Contains(strings.ToLower(he.message), "overwrite")
	}
	return false
}

// DropTable implements catalog.Adapter: the table leaves the catalog and no file is
// deleted (the files belong to lakeFS).
func (a *Adapter) DropTable(ctx context.Context, id ourcatalog.Ident) error {
	mu := a.lock(id)
	defer mu.Unlock()
	return a.drop(ctx, id, "")
}

// drop removes the registration only: with the spec's unregisterTable where the server
// advertises it, else with DELETE ...?purgeRequested=false (iceberg-go's DropTable sends
// the parameter explicitly; PurgeTable is never called). It carries its own idempotency
// key where the server honours keys (a retried drop whose first answer was lost is then
// answered 204, not 404). why is appended to the error's step name.
func (a *Adapter) drop(ctx context.Context, id ourcatalog.Ident, why string) error {
	mctx, cancel := a.sess.mutation(ctx)
	defer cancel()
	if a.sess.unregister {
		if err := a.sess.unregisterTable(mctx, id); err != nil {
			return a.mapErr(err, nil, "unregister table %s%s", id, why)
		}
		return nil
	}
	c, st := track(mctx)
	if err := a.cat.DropTable(c, ident(id)); err != nil {
		return a.mapErr(err, st, "drop table %s%s", id, why)
	}
	return nil
}

// Ping implements catalog.Adapter: GET /v1/config with the configured credentials.
func (a *Adapter) Ping(ctx context.Context) error {
	if _, err := a.sess.config(ctx); err != nil {
		return a.mapErr(err, nil, "ping")
	}
	return nil
}

// Close implements catalog.Adapter.
func (a *Adapter) Close() error {
	err := a.cat.Close()
	a.closeIdle()
	return err
}

func (a *Adapter) lock(id ourcatalog.Ident) *sync.Mutex {
	h := fnv.New32a()
	_, _ = h.Write([]byte(strings.Join(id.Namespace, "\x1f") + "\x00" + id.Table))
	mu := &a.tableMu[h.Sum32()%uint32(len(a.tableMu))]
	mu.Lock()
	return mu
}

func ident(id ourcatalog.Ident) table.Identifier {
	return append(append(table.Identifier{}, id.Namespace...), id.Table)
}
