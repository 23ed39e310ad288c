package hivecat

// Metastore and thrift failures mapped to the statuses of catalog.Adapter.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"

	icecatalog "github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"
	"github.com/apache/thrift/lib/go/thrift"
	"github.com/beltran/gohive/hive_metastore"

	"github.com/iceberg-remotes/iceberg-remotes/internal/apperr"
)

// mapErr turns a catalog/metastore error into the *apperr.Error the caller sees.
func (a *Adapter) mapErr(err error, format string, args ...any) error {
	what := fmt.Sprintf(format, args...)
	var ae *apperr.Error
	var noSuch *hive_metastore.NoSuchObjectException
	var exists *hive_metastore.AlreadyExistsException
	var meta *hive_metastore.MetaException
	var transport thrift.TTransportException
	var ne net.Error
	switch {
	case errors.As(err, &ae):
		return err
	case errors.Is(err, icecatalog.ErrNoSuchNamespace), errors.Is(err, icecatalog.ErrNoSuchTable), errors.As(err, &noSuch):
		return apperr.Wrap(http.StatusNotFound, err, "hive remote %q: %s: not found", a.name, what)
	case errors.Is(err, icecatalog.ErrTableAlreadyExists), errors.Is(err, icecatalog.ErrViewAlreadyExists),
		errors.Is(err, icecatalog.ErrNamespaceAlreadyExists), errors.As(err, &exists):
		return apperr.Wrap(http.StatusConflict, err, "hive remote %q: %s: already exists", a.name, what)
	case errors.Is(err, table.ErrCommitFailed):
		// iceberg-go wraps a lock it could not get in ErrCommitFailed.
		return apperr.Wrap(http.StatusConflict, err, "hive remote %q: %s: the table is locked by another writer", a.name, what)
	case strings.Contains(err.Error(), "is not an Iceberg table"):
		return apperr.Wrap(http.StatusConflict, err, "hive remote %q: %s: not an Iceberg table", a.name, what)
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return apperr.Wrap(http.StatusGatewayTimeout, err, "hive remote %q: %s: timed out", a.name, what)
	case errors.As(err, &transport):
		if transport.TypeId() == thrift.TIMED_OUT {
			return apperr.Wrap(http.StatusGatewayTimeout, err, "hive remote %q: %s: timed out", a.name, what)
		}
		return apperr.Wrap(http.StatusBadGateway, err, "hive remote %q: %s: metastore unreachable", a.name, what)
	case errors.As(err, &meta):
		return apperr.Wrap(http.StatusBadGateway, err, "hive remote %q: %s: metastore error: %s", a.name, what, meta.Message)
	case strings.Contains(err.Error(), "failed to read table metadata"):
		return apperr.Wrap(http.StatusBadRequest, err, "hive remote %q: %s: the metadata file cannot be read", a.name, what)
	}
	return apperr.Wrap(http.StatusBadGateway, err, "hive remote %q: %s failed", a.name, what)
}
