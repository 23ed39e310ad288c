// Package config loads, overrides, validates and prints the service configuration
// (docs/design.md section 9).
//
// Sources, later ones winning: built-in defaults, the YAML file given with --config, then
// environment variables named ICEBERG_REMOTES_ + the key path upper-cased with "." → "_"
// (state.sqlite.path → ICEBERG_REMOTES_STATE_SQLITE_PATH). A variable for a list or map key
// (iceberg_catalog.remotes) holds YAML. Fields tagged `secret:"true"` are redacted by Redacted.
package config

import (
	"time"

	"github.com/iceberg-remotes/iceberg-remotes/internal/httpclient"
)

// Config is the whole service configuration. yaml tags are the key names users write.
type Config struct {
	ListenAddress string `yaml:"listen_address"`
	// AdminAddress, when set, serves Go's profiler (net/http/pprof) on a listener of its
	// own, never on the API's. Empty (the default) serves none.
	AdminAddress    string         `yaml:"admin_address"`
	ShutdownTimeout time.Duration  `yaml:"shutdown_timeout"`
	Logging         Logging        `yaml:"logging"`
	LakeFS          LakeFS         `yaml:"lakefs"`
	Auth            Auth           `yaml:"auth"`
	State           State          `yaml:"state"`
	Tables          Tables         `yaml:"tables"`
	ObjectStore     ObjectStore    `yaml:"object_store"`
	IcebergCatalog  IcebergCatalog `yaml:"iceberg_catalog"`
}

type Logging struct {
	Format string `yaml:"format"` // text | json
	Level  string `yaml:"level"`  // debug | info | warn | error
}

// LakeFS is how the service reaches the lakeFS server it sits beside.
type LakeFS struct {
	Endpoint        string        `yaml:"endpoint"`
	Credentials     string        `yaml:"credentials"` // forward | service
	AccessKeyID     string        `yaml:"access_key_id"`
	SecretAccessKey string        `yaml:"secret_access_key" secret:"true"`
	Timeout         time.Duration `yaml:"timeout"`     // per attempt (see httpclient.Policy)
	MaxRetries      int           `yaml:"max_retries"` // retries after the first attempt; 0 = none
}

// RetryPolicy is the policy of the calls made to lakeFS.
func (l LakeFS) RetryPolicy() httpclient.Policy {
	return httpclient.Policy{Timeout: l.Timeout, MaxRetries: l.MaxRetries}
}

// Auth mirrors the lakeFS keys so that one secret can be shared with lakeFS.
type Auth struct {
	Encrypt                Encrypt                `yaml:"encrypt"`
	CookieAuthVerification CookieAuthVerification `yaml:"cookie_auth_verification"`
	BasicCacheTTL          time.Duration          `yaml:"basic_cache_ttl"`
	JWKS                   JWKS                   `yaml:"jwks"`
}

type Encrypt struct {
	SecretKey string `yaml:"secret_key" secret:"true"`
}

type CookieAuthVerification struct {
	ExternalUserIDClaimName string         `yaml:"external_user_id_claim_name"`
	ValidateIDTokenClaims   map[string]any `yaml:"validate_id_token_claims"`
}

// JWKS optionally enables RS*/ES* bearer tokens from one external issuer.
type JWKS struct {
	URL      string `yaml:"url"`
	Issuer   string `yaml:"issuer"`
	Audience string `yaml:"audience"`
}

type State struct {
	Type     string   `yaml:"type"` // sqlite | postgres
	SQLite   SQLite   `yaml:"sqlite"`
	Postgres Postgres `yaml:"postgres"`
}

type SQLite struct {
	Path string `yaml:"path"`
}

type Postgres struct {
	ConnectionString string `yaml:"connection_string" secret:"true"`
	// MaxConnections bounds this replica's connection pool (default 32); size it so that
	// replicas × max_connections stays under the server's max_connections.
	MaxConnections int `yaml:"max_connections"`
}

// Tables chooses where a table lives inside a lakeFS repository (docs/design.md section 4).
type Tables struct {
	Layout          string                  `yaml:"layout"` // pointer | hadoop
	PointerPrefix   string                  `yaml:"pointer_prefix"`
	WarehousePrefix string                  `yaml:"warehouse_prefix"`
	Repositories    map[string]TablesLayout `yaml:"repositories"` // per-repository override
}

type TablesLayout struct {
	Layout          string `yaml:"layout"`
	PointerPrefix   string `yaml:"pointer_prefix"`
	WarehousePrefix string `yaml:"warehouse_prefix"`
}

// ObjectStore gives read access to metadata files written outside lakeFS (pull).
type ObjectStore struct {
	S3    S3Store    `yaml:"s3"`
	GCS   GCSStore   `yaml:"gcs"`
	Azure AzureStore `yaml:"azure"`
	// MaxMetadataBytes refuses a metadata file above this size (raw or decompressed), before
	// it is buffered. 0 means 256 MiB.
	MaxMetadataBytes int64 `yaml:"max_metadata_bytes"`
	// MaxBufferedBytes bounds the bytes all concurrent metadata reads buffer together
	// (a read waits for room). 0 means 1 GiB; never below max_metadata_bytes.
	MaxBufferedBytes int64         `yaml:"max_buffered_bytes"`
	Timeout          time.Duration `yaml:"timeout"`     // per read attempt (see httpclient.Policy)
	MaxRetries       int           `yaml:"max_retries"` // retries after the first attempt; 0 = none
}

// RetryPolicy is the policy of object-store reads.
func (o ObjectStore) RetryPolicy() httpclient.Policy {
	return httpclient.Policy{Timeout: o.Timeout, MaxRetries: o.MaxRetries}
}

type S3Store struct {
	Endpoint        string `yaml:"endpoint"`
	Region          string `yaml:"region"`
	AccessKeyID     string `yaml:"access_key_id"`
	SecretAccessKey string `yaml:"secret_access_key" secret:"true"`
	ForcePathStyle  bool   `yaml:"force_path_style"`
}

type GCSStore struct {
	CredentialsJSON string `yaml:"credentials_json" secret:"true"`
}

type AzureStore struct {
	StorageAccount   string `yaml:"storage_account"`
	StorageAccessKey string `yaml:"storage_access_key" secret:"true"`
}

type IcebergCatalog struct {
	Remotes      []Remote     `yaml:"remotes"`
	Publications Publications `yaml:"publications"`
}

// Remote is one external catalog the service can push to and pull from.
type Remote struct {
	ID           string        `yaml:"id"`
	Type         string        `yaml:"type"` // rest | glue | sql | hive
	REST         RESTRemote    `yaml:"rest"`
	Glue         GlueRemote    `yaml:"glue"`
	SQL          SQLRemote     `yaml:"sql"`
	Hive         HiveRemote    `yaml:"hive"`
	LocationMap  []LocationMap `yaml:"location_map"`
	AllowedUsers []string      `yaml:"allowed_users"`
	// AllowedLocations are location prefixes (besides the destination repository's storage
	// namespace) a pulled metadata file may live under; compared after the location_map is
	// reversed (docs/design.md section 13).
	AllowedLocations []string `yaml:"allowed_locations"`
	// AllowFileLocations lets pull read file:// metadata locations (the service's own disk):
	// local set-ups only. Off by default.
	AllowFileLocations bool       `yaml:"allow_file_locations"`
	AutoPush           []AutoPush `yaml:"auto_push"`
	// Timeout bounds one attempt of a call (an HTTP request for rest and glue, a statement
	// for sql, a metastore call for hive); MaxRetries is the number of retries after the
	// first attempt (0 = none). Unset, they take the defaults (see UnmarshalYAML).
	Timeout    time.Duration `yaml:"timeout"`
	MaxRetries int           `yaml:"max_retries"`

	// AllowUncommitted is the default of a push's allow_uncommitted query parameter: whether
	// a branch whose table is only staged may be published (lakeFS's GC may collect
	// uncommitted objects, and no ref can protect them). Off by default.
	AllowUncommitted bool `yaml:"allow_uncommitted"`
}

// RetryPolicy is the policy of the calls made to the remote.
func (r Remote) RetryPolicy() httpclient.Policy {
	return httpclient.Policy{Timeout: r.Timeout, MaxRetries: r.MaxRetries}
}

// UnmarshalYAML decodes a remote over its defaults, so that a key left out takes its
// default while an explicit value, max_retries: 0 included, is kept. (The function-argument
// form keeps the strict decoder's unknown-key check.)
func (r *Remote) UnmarshalYAML(unmarshal func(any) error) error {
	type plain Remote // without this method
	p := plain{Timeout: httpclient.DefaultTimeout, MaxRetries: httpclient.DefaultMaxRetries}
	if err := unmarshal(&p); err != nil {
		return err
	}
	*r = Remote(p)
	return nil
}

type RESTRemote struct {
	URI            string            `yaml:"uri"`
	Credential     string            `yaml:"credential" secret:"true"`
	OAuthServerURI string            `yaml:"oauth_server_uri"`
	OAuthScope     string            `yaml:"oauth_scope"`
	Token          string            `yaml:"token" secret:"true"`
	Warehouse      string            `yaml:"warehouse"`
	Prefix         string            `yaml:"prefix"`
	Headers        map[string]string `yaml:"headers" secret:"true"`
	SigV4          SigV4             `yaml:"sigv4"`
	TLS            TLS               `yaml:"tls"`
}

type SigV4 struct {
	Enabled         bool   `yaml:"enabled"`
	Region          string `yaml:"region"`
	Service         string `yaml:"service"`
	AccessKeyID     string `yaml:"access_key_id"`
	SecretAccessKey string `yaml:"secret_access_key" secret:"true"`
}

type TLS struct {
	InsecureSkipVerify bool   `yaml:"insecure_skip_verify"`
	CAFile             string `yaml:"ca_file"`
}

type GlueRemote struct {
	Region          string `yaml:"region"`
	AccessKeyID     string `yaml:"access_key_id"`
	SecretAccessKey string `yaml:"secret_access_key" secret:"true"`
	SessionToken    string `yaml:"session_token" secret:"true"`
	Endpoint        string `yaml:"endpoint"`
	CatalogID       string `yaml:"catalog_id"`
	SkipArchive     bool   `yaml:"skip_archive"`
}

type SQLRemote struct {
	Driver      string `yaml:"driver"` // sqlite | postgres
	DSN         string `yaml:"dsn" secret:"true"`
	CatalogName string `yaml:"catalog_name"`
}

type HiveRemote struct {
	URI string `yaml:"uri"`
	// Warehouse is the root under which new databases get their location
	// (<warehouse>/<db>.db): the metastore refuses a database without one.
	Warehouse string `yaml:"warehouse"`
}

// LocationMap rewrites a location prefix on the way to a remote (and back on pull).
type LocationMap struct {
	From string `yaml:"from"`
	To   string `yaml:"to"`
}

// Remote returns the configured remote with the given id.
func (c *Config) Remote(id string) (Remote, bool) {
	for _, r := range c.IcebergCatalog.Remotes {
		if r.ID == id {
			return r, true
		}
	}
	return Remote{}, false
}

// LayoutFor returns the table layout for a repository (per-repository override or default).
func (c *Config) LayoutFor(repository string) TablesLayout {
	l := TablesLayout{
		Layout:          c.Tables.Layout,
		PointerPrefix:   c.Tables.PointerPrefix,
		WarehousePrefix: c.Tables.WarehousePrefix,
	}
	if o, ok := c.Tables.Repositories[repository]; ok {
		if o.Layout != "" {
			l.Layout = o.Layout
		}
		if o.PointerPrefix != "" {
			l.PointerPrefix = o.PointerPrefix
		}
		if o.WarehousePrefix != "" {
			l.WarehousePrefix = o.WarehousePrefix
		}
	}
	return l
}
