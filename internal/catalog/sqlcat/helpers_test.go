package sqlcat_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog/sqlcat"
	"github.com/iceberg-remotes/iceberg-remotes/internal/config"
	"github.com/iceberg-remotes/iceberg-remotes/internal/testutil/pgtest"
)

// backend is one database kind the tests run against.
type backend struct {
	name string
	// fresh returns the config of a remote over a new, empty database (a SQLite file in a
	// temp dir, or a new PostgreSQL schema dropped at cleanup).
	fresh func(t *testing.T) config.SQLRemote
	// driver is the database/sql driver name for opening the same database directly.
	driver string
	// dialect is the iceberg-go SQL dialect name.
	dialect string
}

func backends() []backend {
	return []backend{
		{name: "sqlite", fresh: freshSQLite, driver: "sqlite", dialect: "sqlite"},
		{name: "postgres", fresh: freshPostgres, driver: "pgx", dialect: "postgres"},
	}
}

// freshSQLite returns a SQLite remote whose file sits in a directory that does not exist yet,
// so every test also exercises the parent-directory creation.
func freshSQLite(t *testing.T) config.SQLRemote {
	p := filepath.Join(t.TempDir(), "not", "yet", "catalog.db")
	return config.SQLRemote{Driver: "sqlite", DSN: "file:" + p, CatalogName: "lakefs"}
}

// freshPostgres returns a remote on its own schema of the test PostgreSQL server (other
// packages' tests share the database); it fails, never skips, when PostgreSQL is unreachable.
func freshPostgres(t *testing.T) config.SQLRemote {
	t.Helper()
	return config.SQLRemote{Driver: "postgres", DSN: pgtest.Schema(t), CatalogName: "lakefs"}
}

// newAdapter builds an adapter and closes it at cleanup.
func newAdapter(t *testing.T, cfg config.SQLRemote, opts sqlcat.Options) *sqlcat.Adapter {
	t.Helper()
	if opts.RemoteID == "" {
		opts.RemoteID = "test-remote"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	a, err := sqlcat.New(ctx, cfg, opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = a.Close() })
	return a
}

// openDB opens the remote's database directly, the way another catalog would.
func openDB(t *testing.T, b backend, cfg config.SQLRemote) *sql.DB {
	t.Helper()
	dsn := cfg.DSN
	if b.driver == "sqlite" {
		// The adapter may not have created the directory yet.
		require.NoError(t, os.MkdirAll(filepath.Dir(strings.TrimPrefix(dsn, "file:")), 0o755))
		// Another process sharing the file would also wait for locks.
		dsn += "?_pragma=busy_timeout(10000)"
	}
	db, err := sql.Open(b.driver, dsn)
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}
