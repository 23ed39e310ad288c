// Package pgtest gives each test its own schema on the test PostgreSQL server, so that
// packages whose tests run concurrently never see each other's tables.
//
// The server comes from ICEBERG_REMOTES_TEST_POSTGRES_DSN (default: the local server on
// 127.0.0.1:5432, database test, trust auth). An unreachable server fails the test: the
// PostgreSQL paths are part of the product and must not be skipped silently.
package pgtest

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	_ "github.com/jackc/pgx/v5/stdlib" // "pgx" driver
)

// EnvDSN names the variable that points tests at a PostgreSQL server.
const EnvDSN = "ICEBERG_REMOTES_TEST_POSTGRES_DSN"

// DefaultDSN is the server CI and developers' machines run.
const DefaultDSN = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// BaseDSN returns the configured server's DSN.
func BaseDSN() string {
	if dsn := os.Getenv(EnvDSN); dsn != "" {
		return dsn
	}
	return DefaultDSN
}

// Schema creates a fresh schema, drops it when the test ends, and returns a DSN whose
// search_path points at it.
func Schema(t testing.TB) string {
	t.Helper()
	base := BaseDSN()
	name := "t_" + strings.ReplaceAll(uuid.NewString(), "-", "")[:20]
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	db, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("pgtest: open %s: %v", EnvDSN, err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `CREATE SCHEMA `+name); err != nil {
		t.Fatalf("pgtest: PostgreSQL at %s is required (set %s): %v", redact(base), EnvDSN, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		db, err := sql.Open("pgx", base)
		if err != nil {
			t.Errorf("pgtest: cleanup: %v", err)
			return
		}
		defer db.Close()
		if _, err := db.ExecContext(ctx, `DROP SCHEMA `+name+` CASCADE`); err != nil {
			t.Errorf("pgtest: drop schema %s: %v", name, err)
		}
	})
	return WithSearchPath(base, name)
}

// WithSearchPath returns dsn with its search_path set to schema.
func WithSearchPath(dsn, schema string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		panic(fmt.Sprintf("pgtest: DSN is not a URL: %v", err))
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "(unparsable DSN)"
	}
	return u.Redacted()
}
