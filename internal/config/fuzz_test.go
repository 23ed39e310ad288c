package config_test

import (
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/iceberg-remotes/iceberg-remotes/internal/config"
	"github.com/iceberg-remotes/iceberg-remotes/internal/testutil/fuzzseed"
)

// envKeys are the override variables, in a stable order the fuzzer can index.
var envKeys = func() []string {
	var out []string
	for k := range config.EnvNames() {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}()

// FuzzLoad loads arbitrary YAML with one arbitrary environment override. Properties: no
// panic; an accepted configuration validates, survives a YAML round trip through Load
// unchanged (encode → load → encode), and its printed (redacted) form shows no secret.
func FuzzLoad(f *testing.F) {
	f.Add([]byte("listen_address: 127.0.0.1:8001\n"), uint8(0), "")
	f.Fuzz(func(t *testing.T, file []byte, envIndex uint8, envValue string) {
		if strings.ContainsRune(envValue, 0) {
			t.Skip() // the environment cannot hold NUL
		}
		dir := t.TempDir()
		path := filepath.Join(dir, "config.yaml")
		if err := os.WriteFile(path, file, 0o600); err != nil {
			t.Fatal(err)
		}
		var environ []string
		if envValue != "" {
			environ = []string{envKeys[int(envIndex)%len(envKeys)] + "=" + envValue}
		}
		cfg, err := config.Load(path, environ)
		if err != nil {
			if cfg != nil {
				t.Fatal("an error with a configuration")
			}
			return
		}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("Load accepted a configuration Validate refuses: %v", err)
		}

		out, err := yaml.Marshal(cfg)
		if err != nil {
			t.Fatalf("an accepted configuration does not encode: %v", err)
		}
		path2 := filepath.Join(dir, "again.yaml")
		if err := os.WriteFile(path2, out, 0o600); err != nil {
			t.Fatal(err)
		}
		again, err := config.Load(path2, nil)
		if err != nil {
			t.Fatalf("an accepted configuration, written back, is refused: %v\n%s", err, out)
		}
		// Compared as YAML: an empty list and an absent one are the same configuration.
		if out2, _ := yaml.Marshal(again); string(out) != string(out2) {
			t.Fatalf("configuration changed across a round trip:\n%s\n---\n%s", out, out2)
		}

		printed := cfg.String()
		public := cfg.Redacted()
		clearSecrets(reflect.ValueOf(&public).Elem())
		publicYAML, _ := yaml.Marshal(&public)
		for _, s := range secrets(reflect.ValueOf(cfg).Elem()) {
			if len(s) >= 8 && strings.Contains(printed, s) && !strings.Contains(string(publicYAML), s) {
				t.Fatalf("the printed configuration shows a secret")
			}
		}
	})
}

// secrets collects the non-empty string values of fields tagged secret:"true".
func secrets(v reflect.Value) []string {
	var out []string
	switch v.Kind() {
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).Tag.Get("secret") == "true" {
				if f := v.Field(i); f.Kind() == reflect.String && f.String() != "" {
					out = append(out, f.String())
				} else if f.Kind() == reflect.Map {
					for _, k := range f.MapKeys() {
						out = append(out, reflect.ValueOf(f.MapIndex(k).Interface()).String())
					}
				}
				continue
			}
			out = append(out, secrets(v.Field(i))...)
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			out = append(out, secrets(v.Index(i))...)
		}
	}
	return out
}

// clearSecrets empties every secret field, leaving what may be printed.
func clearSecrets(v reflect.Value) {
	switch v.Kind() {
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).Tag.Get("secret") == "true" {
				v.Field(i).Set(reflect.Zero(v.Field(i).Type()))
				continue
			}
			clearSecrets(v.Field(i))
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			clearSecrets(v.Index(i))
		}
	}
}

// TestWriteFuzzSeeds writes FuzzLoad's corpus: the README's configuration reference, the
// docker compose set-up, and environment overrides of a scalar, a duration and a list.
func TestWriteFuzzSeeds(t *testing.T) {
	fuzzseed.Enabled(t)
	index := func(name string) uint8 {
		for i, k := range envKeys {
			if k == name {
				return uint8(i)
			}
		}
		t.Fatalf("no variable %s", name)
		return 0
	}
	full := `listen_address: "127.0.0.1:8001"
shutdown_timeout: 30s
logging: {format: json, level: info}
lakefs:
  endpoint: "http://127.0.0.1:8000/api/v1"
  credentials: forward
  access_key_id: "AKIAIOSFOLKFSSAMPLES"
  secret_access_key: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
  timeout: 30s
  max_retries: 3
auth:
  encrypt: {secret_key: "shared-with-lakefs-0123456789"}
  cookie_auth_verification: {external_user_id_claim_name: "samlUserId", validate_id_token_claims: {department: etl}}
  basic_cache_ttl: 30s
state:
  type: postgres
  postgres: {connection_string: "postgres://remotes:pw@127.0.0.1:5432/remotes?sslmode=disable", max_connections: 32}
tables:
  layout: pointer
  pointer_prefix: "_lakefs_tables/iceberg"
  repositories:
    legacy: {layout: hadoop, warehouse_prefix: warehouse}
object_store:
  s3: {endpoint: "http://127.0.0.1:9000", region: us-east-1, access_key_id: minio, secret_access_key: "minio-secret-key", force_path_style: true}
iceberg_catalog:
  remotes:
    - id: glue_us_east_1
      type: glue
      glue: {region: us-east-1, catalog_id: "123456789012"}
    - id: polaris
      type: rest
      rest: {uri: "https://polaris.example.com/api/catalog", credential: "client_id:client_secret", warehouse: lakefs, sigv4: {enabled: false}}
    - id: warehouse_db
      type: sql
      sql: {driver: postgres, dsn: "postgres://u:pw@127.0.0.1:5432/catalog", catalog_name: "lakefs"}
      location_map: [{from: "s3a://", to: "s3://"}]
      allowed_users: [alice, etl-bot]
      timeout: 30s
      max_retries: 3
`
	fuzzseed.Write(t, "FuzzLoad", "reference", []byte(full), uint8(0), "")
	fuzzseed.Write(t, "FuzzLoad", "empty-file-env-listen", []byte{}, index("ICEBERG_REMOTES_LISTEN_ADDRESS"), "0.0.0.0:8001")
	fuzzseed.Write(t, "FuzzLoad", "env-duration", []byte("logging: {level: debug}\n"), index("ICEBERG_REMOTES_SHUTDOWN_TIMEOUT"), "1m30s")
	fuzzseed.Write(t, "FuzzLoad", "env-remotes-yaml", []byte{}, index("ICEBERG_REMOTES_ICEBERG_CATALOG_REMOTES"),
		`[{id: polaris, type: rest, rest: {uri: "https://polaris.example.com/api/catalog", token: "t0k3n-abcdefgh"}}]`)
	fuzzseed.Write(t, "FuzzLoad", "typo-key", []byte("listen_adress: 127.0.0.1:8001\n"), uint8(0), "")
	fuzzseed.Write(t, "FuzzLoad", "hadoop", []byte("tables: {layout: hadoop, warehouse_prefix: warehouse}\nstate: {type: sqlite, sqlite: {path: /var/lib/remotes/state.db}}\n"), uint8(0), "")
}
