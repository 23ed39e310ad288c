package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/config"
)

func writeFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "config.yaml")
	require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
	return p
}

func TestDefaultsWithoutFile(t *testing.T) {
	cfg, err := config.Load("", nil)
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1:8001", cfg.ListenAddress)
	assert.Equal(t, "sqlite", cfg.State.Type)
	assert.Equal(t, "data/iceberg-remotes.db", cfg.State.SQLite.Path)
	assert.Equal(t, "http://127.0.0.1:8000/api/v1", cfg.LakeFS.Endpoint)
	assert.Equal(t, "forward", cfg.LakeFS.Credentials)
	assert.Equal(t, "pointer", cfg.Tables.Layout)
	assert.Equal(t, 30*time.Second, cfg.Auth.BasicCacheTTL)
	local, ok := cfg.Remote("local")
	require.True(t, ok, "a local sql remote exists by default")
	assert.Equal(t, "sql", local.Type)
	assert.Equal(t, "sqlite", local.SQL.Driver)
	assert.Equal(t, 30*time.Second, local.Timeout, "per-remote defaults applied")
}

func TestFileAndEnvironment(t *testing.T) {
	path := writeFile(t, `
listen_address: "0.0.0.0:9000"
logging: {format: json, level: debug}
lakefs:
  endpoint: "https://lakefs.example.com/api/v1"
  credentials: service
  access_key_id: AKIAEXAMPLE
  secret_access_key: file-secret
auth:
  encrypt: {secret_key: "shared-secret"}
  basic_cache_ttl: 1m
state:
  type: postgres
  postgres: {connection_string: "postgres://u:pw@db/x"}
tables:
  layout: pointer
  repositories:
    legacy: {layout: hadoop, warehouse_prefix: warehouse}
iceberg_catalog:
  remotes:
    - id: glue_us_east_1
      type: glue
      glue: {region: us-east-1, access_key_id: AK, secret_access_key: glue-secret}
      location_map: [{from: "s3a://", to: "s3://"}]
      allowed_users: [alice]
    - id: polaris
      type: rest
      rest: {uri: "https://polaris.example.com/api/catalog", credential: "id:rest-secret", warehouse: wh}
`)
	env := []string{
		"ICEBERG_REMOTES_LISTEN_ADDRESS=127.0.0.1:7000",
		"ICEBERG_REMOTES_LOGGING_LEVEL=warn",
		"ICEBERG_REMOTES_AUTH_BASIC_CACHE_TTL=45s",
		"ICEBERG_REMOTES_LAKEFS_MAX_RETRIES=5",
		"ICEBERG_REMOTES_OBJECT_STORE_S3_FORCE_PATH_STYLE=true",
		"ICEBERG_REMOTES_STATE_POSTGRES_CONNECTION_STRING=postgres://env@db/y",
		"UNRELATED=1",
	}
	cfg, err := config.Load(path, env)
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1:7000", cfg.ListenAddress, "environment beats file")
	assert.Equal(t, "json", cfg.Logging.Format, "file beats defaults")
	assert.Equal(t, "warn", cfg.Logging.Level)
	assert.Equal(t, 45*time.Second, cfg.Auth.BasicCacheTTL)
	assert.Equal(t, 5, cfg.LakeFS.MaxRetries)
	assert.True(t, cfg.ObjectStore.S3.ForcePathStyle)
	assert.Equal(t, "postgres://env@db/y", cfg.State.Postgres.ConnectionString)
	require.Len(t, cfg.IcebergCatalog.Remotes, 2, "the file's remotes replace the default local one")
	glue, ok := cfg.Remote("glue_us_east_1")
	require.True(t, ok)
	assert.Equal(t, []string{"alice"}, glue.AllowedUsers)
	assert.Equal(t, "s3://", glue.LocationMap[0].To)
	assert.Equal(t, "hadoop", cfg.LayoutFor("legacy").Layout)
	assert.Equal(t, "warehouse", cfg.LayoutFor("legacy").WarehousePrefix)
	assert.Equal(t, "_lakefs_tables/iceberg", cfg.LayoutFor("legacy").PointerPrefix)
	assert.Equal(t, "pointer", cfg.LayoutFor("other").Layout)
}

func TestRemotesFromEnvironment(t *testing.T) {
	cfg, err := config.Load("", []string{
		`ICEBERG_REMOTES_ICEBERG_CATALOG_REMOTES=[{id: rest1, type: rest, rest: {uri: "http://127.0.0.1:8181"}}]`,
	})
	require.NoError(t, err)
	require.Len(t, cfg.IcebergCatalog.Remotes, 1)
	assert.Equal(t, "rest1", cfg.IcebergCatalog.Remotes[0].ID)
	assert.Equal(t, "http://127.0.0.1:8181", cfg.IcebergCatalog.Remotes[0].REST.URI)
}

func TestEnvName(t *testing.T) {
	assert.Equal(t, "ICEBERG_REMOTES_STATE_SQLITE_PATH", config.EnvName("state.sqlite.path"))
	assert.Equal(t, "ICEBERG_REMOTES_LISTEN_ADDRESS", config.EnvName("listen_address"))
}

func TestErrorsNameTheKey(t *testing.T) {
	cases := []struct {
		name, file string
		env        []string
		want       []string
	}{
		{name: "unknown key in file", file: "listen_adress: x\n", want: []string{"listen_adress"}},
		{name: "bad state type", file: "state: {type: mysql}\n", want: []string{"state.type", "sqlite, postgres", `"mysql"`}},
		{name: "postgres without connection string", file: "state: {type: postgres}\n", want: []string{"state.postgres.connection_string"}},
		{name: "bad listen address", env: []string{"ICEBERG_REMOTES_LISTEN_ADDRESS=nope"}, want: []string{"listen_address"}},
		{name: "bad admin address", env: []string{"ICEBERG_REMOTES_ADMIN_ADDRESS=nope"}, want: []string{"admin_address", "host:port"}},
		{name: "admin on the API port", file: "listen_address: 127.0.0.1:8001\nadmin_address: 127.0.0.1:8001\n", want: []string{"admin_address", "must differ from listen_address"}},
		{name: "bad duration from env", env: []string{"ICEBERG_REMOTES_AUTH_BASIC_CACHE_TTL=soon"}, want: []string{"auth.basic_cache_ttl", "ICEBERG_REMOTES_AUTH_BASIC_CACHE_TTL", "not a duration"}},
		{name: "bad bool from env", env: []string{"ICEBERG_REMOTES_OBJECT_STORE_S3_FORCE_PATH_STYLE=maybe"}, want: []string{"object_store.s3.force_path_style"}},
		{name: "service credentials without key", file: "lakefs: {credentials: service}\n", want: []string{"lakefs.access_key_id"}},
		{name: "bad lakefs endpoint", file: "lakefs: {endpoint: 'ftp://x'}\n", want: []string{"lakefs.endpoint"}},
		{name: "layout", file: "tables: {layout: flat}\n", want: []string{"tables.layout"}},
		{name: "metadata limits", file: "object_store: {max_metadata_bytes: 1000, max_buffered_bytes: 10}\n", want: []string{"object_store.max_buffered_bytes"}},
		{name: "negative metadata cap", file: "object_store: {max_metadata_bytes: -1}\n", want: []string{"object_store.max_metadata_bytes"}},
		{name: "allowed location without bucket", file: "iceberg_catalog: {remotes: [{id: l, type: sql, sql: {driver: sqlite, dsn: x}, allowed_locations: ['s3://']}]}\n",
			want: []string{"iceberg_catalog.remotes[0].allowed_locations[0]"}},
		{name: "remote problems", file: `
iceberg_catalog:
  remotes:
    - {id: a, type: rest}
    - {id: a, type: glue}
    - {id: c, type: oracle}
    - {id: d, type: sql, sql: {driver: mysql, dsn: x}}
    - {id: "e/f", type: hive, hive: {uri: "thrift://h:9083"}}
`, want: []string{
			"iceberg_catalog.remotes[0].rest.uri",
			`iceberg_catalog.remotes[1].id: duplicate remote id "a"`,
			"iceberg_catalog.remotes[1].glue.region",
			"iceberg_catalog.remotes[2].type",
			"iceberg_catalog.remotes[3].sql.driver",
			"iceberg_catalog.remotes[4].id",
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := ""
			if tc.file != "" {
				path = writeFile(t, tc.file)
			}
			_, err := config.Load(path, tc.env)
			require.Error(t, err)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestRedaction(t *testing.T) {
	path := writeFile(t, `
lakefs: {secret_access_key: lakefs-secret-value}
auth: {encrypt: {secret_key: jwt-secret-value}}
state: {type: postgres, postgres: {connection_string: "postgres://u:pg-secret-value@db/x"}}
object_store: {s3: {access_key_id: AKIAVISIBLE, secret_access_key: s3-secret-value}}
iceberg_catalog:
  remotes:
    - id: polaris
      type: rest
      rest:
        uri: "https://polaris.example.com"
        credential: "client:rest-secret-value"
        token: rest-token-value
        headers: {X-Api-Key: header-secret-value}
`)
	cfg, err := config.Load(path, nil)
	require.NoError(t, err)
	dump := cfg.String()
	for _, secret := range []string{"lakefs-secret-value", "jwt-secret-value", "pg-secret-value",
		"s3-secret-value", "rest-secret-value", "rest-token-value", "header-secret-value"} {
		assert.NotContains(t, dump, secret)
	}
	assert.Contains(t, dump, "AKIAVISIBLE", "non-secret values are shown")
	assert.Contains(t, dump, "https://polaris.example.com")
	assert.Equal(t, 7, strings.Count(dump, config.Redaction))
	r := cfg.Redacted()
	assert.Equal(t, config.Redaction, r.IcebergCatalog.Remotes[0].REST.Headers["X-Api-Key"])
	assert.Empty(t, r.ObjectStore.Azure.StorageAccessKey, "unset secrets stay empty")
	assert.Equal(t, "jwt-secret-value", cfg.Auth.Encrypt.SecretKey, "redaction does not touch the original")
	assert.Equal(t, "header-secret-value", cfg.IcebergCatalog.Remotes[0].REST.Headers["X-Api-Key"])
}

// Defect 7 (issue 11): auto_push must be checked at start, not fail every webhook later.
func TestAutoPushIsValidatedAtStart(t *testing.T) {
	const remotes = `
iceberg_catalog:
  remotes:
    - {id: a, type: sql, sql: {driver: sqlite, dsn: "file:a.db"}}
    - {id: b, type: sql, sql: {driver: sqlite, dsn: "file:b.db"}}
    - id: c
      type: sql
      sql: {driver: sqlite, dsn: "file:c.db"}
      auto_push:
        - {repository: example, branch: "main", namespace: [accounting], table: events}
        - {repository: example, branch: "release-[", namespace: [accounting], table: events}
`
	t.Run("bad branch glob names its key", func(t *testing.T) {
		_, err := config.Load(writeFile(t, remotes+`
lakefs: {access_key_id: AKIA, secret_access_key: s}
`), nil)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "iceberg_catalog.remotes[2].auto_push[1].branch")
		assert.Contains(t, err.Error(), `"release-["`)
		assert.NotContains(t, err.Error(), "auto_push[0]", "the good subscription is not reported")
	})
	t.Run("without the service's lakeFS key", func(t *testing.T) {
		_, err := config.Load(writeFile(t, remotes), nil)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "iceberg_catalog.remotes[2].auto_push")
		assert.Contains(t, err.Error(), "lakefs.access_key_id")
		assert.Contains(t, err.Error(), "lakefs.secret_access_key")
	})
	t.Run("incomplete subscriptions", func(t *testing.T) {
		_, err := config.Load(writeFile(t, `
lakefs: {access_key_id: AKIA, secret_access_key: s}
iceberg_catalog:
  remotes:
    - id: c
      type: sql
      sql: {driver: sqlite, dsn: "file:c.db"}
      auto_push:
        - {branch: "main", namespace: [accounting], table: events}
        - {repository: example, namespace: [accounting], table: events}
        - {repository: example, branch: main, table: events}
        - {repository: example, branch: main, namespace: [accounting]}
`), nil)
		require.Error(t, err)
		for _, key := range []string{"auto_push[0].repository", "auto_push[1].branch", "auto_push[2].namespace", "auto_push[3].table"} {
			assert.Contains(t, err.Error(), "iceberg_catalog.remotes[0]."+key)
		}
	})
	t.Run("a valid subscription with the key loads", func(t *testing.T) {
		cfg, err := config.Load(writeFile(t, `
lakefs: {access_key_id: AKIA, secret_access_key: s}
iceberg_catalog:
  remotes:
    - id: c
      type: sql
      sql: {driver: sqlite, dsn: "file:c.db"}
      auto_push:
        - {repository: example, branch: "release-*", namespace: [accounting], table: events}
`), nil)
		require.NoError(t, err)
		assert.Equal(t, "release-*", cfg.IcebergCatalog.Remotes[0].AutoPush[0].Branch)
	})
}

// Defect 5 (issue 11): timeout and max_retries mean the same for lakefs, object_store and
// every remote; a key left out takes the default (30s, 3), an explicit max_retries: 0 means
// no retries, and an explicit timeout: 0 is refused (no call waits forever).
func TestRetrySettingsDistinguishUnsetFromZero(t *testing.T) {
	cfg, err := config.Load(writeFile(t, `
lakefs: {max_retries: 0}
object_store: {timeout: 5s, max_retries: 0}
iceberg_catalog:
  remotes:
    - {id: unset, type: sql, sql: {driver: sqlite, dsn: "file:a.db"}}
    - {id: none, type: sql, sql: {driver: sqlite, dsn: "file:b.db"}, max_retries: 0, timeout: 2s}
    - {id: five, type: rest, rest: {uri: "http://127.0.0.1:8181"}, max_retries: 5}
`), nil)
	require.NoError(t, err)
	assert.Equal(t, 0, cfg.LakeFS.MaxRetries)
	assert.Equal(t, 30*time.Second, cfg.LakeFS.Timeout)
	assert.Contains(t, cfg.String(), "timeout: 5s", "object_store has its own keys")
	unset, _ := cfg.Remote("unset")
	assert.Equal(t, 3, unset.MaxRetries, "unset: the default")
	assert.Equal(t, 30*time.Second, unset.Timeout)
	none, _ := cfg.Remote("none")
	assert.Equal(t, 0, none.MaxRetries, "max_retries: 0 is kept: no retries")
	assert.Equal(t, 2*time.Second, none.Timeout)
	five, _ := cfg.Remote("five")
	assert.Equal(t, 5, five.MaxRetries)

	fromEnv, err := config.Load("", []string{
		`ICEBERG_REMOTES_ICEBERG_CATALOG_REMOTES=[{id: r, type: rest, rest: {uri: "http://127.0.0.1:8181"}, max_retries: 0}]`,
		"ICEBERG_REMOTES_OBJECT_STORE_MAX_RETRIES=0",
	})
	require.NoError(t, err)
	assert.Equal(t, 0, fromEnv.IcebergCatalog.Remotes[0].MaxRetries)
	assert.Equal(t, 30*time.Second, fromEnv.IcebergCatalog.Remotes[0].Timeout)

	_, err = config.Load(writeFile(t, `
object_store: {timeout: 0s}
iceberg_catalog:
  remotes:
    - {id: zero, type: sql, sql: {driver: sqlite, dsn: "file:a.db"}, timeout: 0s}
    - {id: neg, type: sql, sql: {driver: sqlite, dsn: "file:b.db"}, max_retries: -1}
`), nil)
	require.Error(t, err)
	for _, key := range []string{"object_store.timeout", "iceberg_catalog.remotes[0].timeout", "iceberg_catalog.remotes[1].max_retries"} {
		assert.Contains(t, err.Error(), key)
	}
}

// A remote decodes over its defaults, still strictly: a typo inside a remote is an error.
func TestUnknownKeyInARemoteIsAnError(t *testing.T) {
	_, err := config.Load(writeFile(t, `
iceberg_catalog:
  remotes:
    - {id: a, type: sql, sql: {driver: sqlite, dsn: "file:a.db"}, max_retry: 0}
`), nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "max_retry")
}
