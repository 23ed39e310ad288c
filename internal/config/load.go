package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/iceberg-remotes/iceberg-remotes/internal/httpclient"
)

// EnvPrefix starts every environment variable that overrides a key.
const EnvPrefix = "ICEBERG_REMOTES_"

// Defaults is the configuration used when no file and no variable says otherwise: a server
// on loopback with SQLite state, one local SQL remote on SQLite named "local", and lakeFS on
// its default local address. It needs no external service to start.
func Defaults() Config {
	return Config{
		ListenAddress:   "127.0.0.1:8001",
		ShutdownTimeout: 30 * time.Second,
		Logging:         Logging{Format: "text", Level: "info"},
		LakeFS: LakeFS{
			Endpoint:    "http://127.0.0.1:8000/api/v1",
			Credentials: "forward",
			Timeout:     httpclient.DefaultTimeout,
			MaxRetries:  httpclient.DefaultMaxRetries,
		},
		ObjectStore: ObjectStore{Timeout: httpclient.DefaultTimeout, MaxRetries: httpclient.DefaultMaxRetries},
		Auth:        Auth{BasicCacheTTL: 30 * time.Second},
		State:       State{Type: "sqlite", SQLite: SQLite{Path: "data/iceberg-remotes.db"}},
		Tables: Tables{
			Layout:        "pointer",
			PointerPrefix: "_lakefs_tables/iceberg",
		},
		IcebergCatalog: IcebergCatalog{Remotes: []Remote{{
			ID:   "local",
			Type: "sql",
			SQL:  SQLRemote{Driver: "sqlite", DSN: "file:data/local-catalog.db", CatalogName: "lakefs"},
			// Pull reads only metadata under the repository's storage namespace or under
			// allowed_locations, and never file:// unless allowed. For lakeFS's local
			// block store, set on this remote: location_map [{from: "local://", to:
			// "file:///<blockstore.local.path>/"}] and allow_file_locations: true.
			Timeout:    httpclient.DefaultTimeout,
			MaxRetries: httpclient.DefaultMaxRetries,
		}}},
	}
}

// Load builds the effective configuration: defaults, then the YAML file at path (skipped
// when path is empty), then environment overrides from environ (os.Environ() form), then
// per-remote defaults; finally it validates. Errors name the offending key.
func Load(path string, environ []string) (*Config, error) {
	cfg := Defaults()
	if path != "" {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("config file: %w", err)
		}
		defer f.Close()
		if err := decodeYAML(f, &cfg); err != nil {
			return nil, fmt.Errorf("config file %s: %w", path, err)
		}
	}
	if err := applyEnv(&cfg, environ); err != nil {
		return nil, err
	}
	cfg.applyRemoteDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &cfg, nil
}

// decodeYAML decodes strictly: an unknown key is an error (a typo must not be ignored).
func decodeYAML(r io.Reader, out any) error {
	dec := yaml.NewDecoder(r)
	dec.KnownFields(true)
	if err := dec.Decode(out); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}

func (c *Config) applyRemoteDefaults() {
	for i := range c.IcebergCatalog.Remotes {
		r := &c.IcebergCatalog.Remotes[i]
		if r.Type == "sql" && r.SQL.CatalogName == "" {
			r.SQL.CatalogName = "lakefs"
		}
	}
}

// EnvName returns the environment variable that overrides the key path (e.g. "state.sqlite.path").
func EnvName(keyPath string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(keyPath, ".", "_"))
}

// applyEnv walks the configuration's keys and sets every one whose variable is present.
// Walking the known keys (rather than splitting variable names on "_") keeps keys that
// contain underscores, like listen_address, unambiguous.
func applyEnv(cfg *Config, environ []string) error {
	env := make(map[string]string, len(environ))
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, EnvPrefix) {
			env[k] = v
		}
	}
	if len(env) == 0 {
		return nil
	}
	var errs []error
	walkKeys(reflect.ValueOf(cfg).Elem(), "", func(key string, v reflect.Value, _ reflect.StructField) bool {
		raw, ok := env[EnvName(key)]
		if !ok {
			return true // descend
		}
		if err := setFromString(v, raw); err != nil {
			errs = append(errs, fmt.Errorf("%s (from %s): %w", key, EnvName(key), err))
		}
		return false
	})
	return errors.Join(errs...)
}

// walkKeys calls fn for every key below v (structs are descended into when fn returns true).
func walkKeys(v reflect.Value, prefix string, fn func(key string, v reflect.Value, f reflect.StructField) bool) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" || name == "-" || !f.IsExported() {
			continue
		}
		key := name
		if prefix != "" {
			key = prefix + "." + name
		}
		fv := v.Field(i)
		if fn(key, fv, f) && fv.Kind() == reflect.Struct && fv.Type() != reflect.TypeOf(time.Duration(0)) {
			walkKeys(fv, key, fn)
		}
	}
}

var durationType = reflect.TypeOf(time.Duration(0))

func setFromString(v reflect.Value, raw string) error {
	if v.Type() == durationType {
		d, err := time.ParseDuration(raw)
		if err != nil {
			return fmt.Errorf("not a duration: %q", raw)
		}
		v.SetInt(int64(d))
		return nil
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(raw)
	case reflect.Bool:
		b, err := strconv.ParseBool(raw)
		if err != nil {
			return fmt.Errorf("not a boolean: %q", raw)
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int64:
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil {
			return fmt.Errorf("not an integer: %q", raw)
		}
		v.SetInt(n)
	default: // lists, maps and whole sections are given as YAML
		fresh := reflect.New(v.Type())
		if err := decodeYAML(bytes.NewBufferString(raw), fresh.Interface()); err != nil {
			return fmt.Errorf("not valid YAML for this key: %w", err)
		}
		v.Set(fresh.Elem())
	}
	return nil
}

// EnvNames returns every environment variable that overrides a key, by key path (sections
// included: a section's variable takes YAML).
func EnvNames() map[string]string {
	out := map[string]string{}
	var cfg Config
	walkKeys(reflect.ValueOf(&cfg).Elem(), "", func(key string, _ reflect.Value, _ reflect.StructField) bool {
		out[EnvName(key)] = key
		return true
	})
	return out
}
