package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
)

// Validate checks the whole configuration and reports every problem, each naming its key.
func (c *Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	oneOf := func(key, value string, allowed ...string) {
		if !slices.Contains(allowed, value) {
			bad(key, "must be one of %s (got %q)", strings.Join(allowed, ", "), value)
		}
	}

	if _, _, err := net.SplitHostPort(c.ListenAddress); err != nil {
		bad("listen_address", "must be host:port (got %q)", c.ListenAddress)
	}
	if c.AdminAddress != "" {
		if _, _, err := net.SplitHostPort(c.AdminAddress); err != nil {
			bad("admin_address", "must be host:port or empty (got %q)", c.AdminAddress)
		} else if c.AdminAddress == c.ListenAddress {
			bad("admin_address", "must differ from listen_address: the profiler is never served on the API's port")
		}
	}
	if c.ShutdownTimeout <= 0 {
		bad("shutdown_timeout", "must be positive")
	}
	oneOf("logging.format", c.Logging.Format, "text", "json")
	oneOf("logging.level", c.Logging.Level, "debug", "info", "warn", "error")

	if u, err := url.Parse(c.LakeFS.Endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("lakefs.endpoint", "must be an http(s) URL such as http://127.0.0.1:8000/api/v1 (got %q)", c.LakeFS.Endpoint)
	}
	oneOf("lakefs.credentials", c.LakeFS.Credentials, "forward", "service")
	if c.LakeFS.Credentials == "service" && (c.LakeFS.AccessKeyID == "" || c.LakeFS.SecretAccessKey == "") {
		bad("lakefs.access_key_id", "service credentials need lakefs.access_key_id and lakefs.secret_access_key")
	}
	if c.LakeFS.Timeout <= 0 {
		bad("lakefs.timeout", "must be positive")
	}
	if c.LakeFS.MaxRetries < 0 {
		bad("lakefs.max_retries", "must not be negative")
	}
	if c.ObjectStore.Timeout <= 0 {
		bad("object_store.timeout", "must be positive")
	}
	if c.ObjectStore.MaxRetries < 0 {
		bad("object_store.max_retries", "must not be negative")
	}
	if c.Auth.BasicCacheTTL < 0 {
		bad("auth.basic_cache_ttl", "must not be negative")
	}

	oneOf("state.type", c.State.Type, "sqlite", "postgres")
	switch c.State.Type {
	case "sqlite":
		if c.State.SQLite.Path == "" {
			bad("state.sqlite.path", "must not be empty")
		}
	case "postgres":
		if c.State.Postgres.ConnectionString == "" {
			bad("state.postgres.connection_string", "must not be empty")
		}
		if c.State.Postgres.MaxConnections < 0 || (c.State.Postgres.MaxConnections > 0 && c.State.Postgres.MaxConnections < 4) {
			bad("state.postgres.max_connections", "must be at least 4 (or 0 for the default 32)")
		}
	}

	oneOf("tables.layout", c.Tables.Layout, "pointer", "hadoop")
	if c.Tables.PointerPrefix == "" {
		bad("tables.pointer_prefix", "must not be empty")
	}
	for repo, o := range c.Tables.Repositories {
		if o.Layout != "" {
			oneOf("tables.repositories."+repo+".layout", o.Layout, "pointer", "hadoop")
		}
	}

	seen := map[string]bool{}
	for i, r := range c.IcebergCatalog.Remotes {
		key := fmt.Sprintf("iceberg_catalog.remotes[%d]", i)
		switch {
		case r.ID == "":
			bad(key+".id", "must not be empty")
		case seen[r.ID]:
			bad(key+".id", "duplicate remote id %q", r.ID)
		case strings.ContainsAny(r.ID, "/?#% "):
			bad(key+".id", "must not contain '/', '?', '#', '%%' or spaces (got %q)", r.ID)
		}
		seen[r.ID] = true
		oneOf(key+".type", r.Type, "rest", "glue", "sql", "hive")
		switch r.Type {
		case "rest":
			if u, err := url.Parse(r.REST.URI); err != nil || u.Scheme == "" || u.Host == "" {
				bad(key+".rest.uri", "must be a URL (got %q)", r.REST.URI)
			}
			if r.REST.Credential != "" && !strings.Contains(r.REST.Credential, ":") {
				bad(key+".rest.credential", "must be client_id:client_secret")
			}
			if r.REST.SigV4.Enabled && r.REST.SigV4.Region == "" {
				bad(key+".rest.sigv4.region", "required when sigv4 is enabled")
			}
		case "glue":
			if r.Glue.Region == "" {
				bad(key+".glue.region", "must not be empty")
			}
			if (r.Glue.AccessKeyID == "") != (r.Glue.SecretAccessKey == "") {
				bad(key+".glue.access_key_id", "access_key_id and secret_access_key go together")
			}
		case "sql":
			oneOf(key+".sql.driver", r.SQL.Driver, "sqlite", "postgres")
			if r.SQL.DSN == "" {
				bad(key+".sql.dsn", "must not be empty")
			}
		case "hive":
			if r.Hive.URI == "" {
				bad(key+".hive.uri", "must not be empty")
			}
		}
		for j, m := range r.LocationMap {
			if m.From == "" || m.To == "" {
				bad(fmt.Sprintf("%s.location_map[%d]", key, j), "from and to must not be empty")
			}
		}
		for j, a := range r.AllowedLocations {
			if scheme, rest, ok := strings.Cut(a, "://"); !ok || scheme == "" || strings.Trim(rest, "/") == "" {
				bad(fmt.Sprintf("%s.allowed_locations[%d]", key, j), "must be a location prefix with a scheme and a bucket or path, e.g. s3://bucket/warehouse/")
			}
		}
		for j, sub := range r.AutoPush {
			validateAutoPush(fmt.Sprintf("%s.auto_push[%d]", key, j), sub, c.LakeFS, bad)
		}
		if r.Timeout <= 0 {
			bad(key+".timeout", "must be positive")
		}
		if r.MaxRetries < 0 {
			bad(key+".max_retries", "must not be negative")
		}
	}
	validatePublications(c.IcebergCatalog.Publications, bad)
	if c.ObjectStore.MaxMetadataBytes < 0 {
		bad("object_store.max_metadata_bytes", "must not be negative")
	}
	if c.ObjectStore.MaxBufferedBytes < 0 {
		bad("object_store.max_buffered_bytes", "must not be negative")
	}
	if m, b := c.ObjectStore.MaxMetadataBytes, c.ObjectStore.MaxBufferedBytes; m > 0 && b > 0 && b < m {
		bad("object_store.max_buffered_bytes", "must not be below object_store.max_metadata_bytes")
	}
	return errors.Join(errs...)
}
