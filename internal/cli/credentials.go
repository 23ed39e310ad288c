package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"
)

// Environment variables the client reads, named as lakectl names them where lakectl has one.
const (
	EnvURL             = "ICEBERG_REMOTES_URL"
	EnvToken           = "ICEBERG_REMOTES_TOKEN"
	EnvAccessKeyID     = "LAKECTL_CREDENTIALS_ACCESS_KEY_ID"
	EnvSecretAccessKey = "LAKECTL_CREDENTIALS_SECRET_ACCESS_KEY"
	DefaultURL         = "http://127.0.0.1:8001"
)

// Credentials are what the client authenticates with: a lakeFS login token (JWT, sent as
// Bearer) or a lakeFS access key pair (sent as Basic). The server accepts exactly what
// lakeFS accepts.
type Credentials struct {
	AccessKeyID     string
	SecretAccessKey string
	Token           string
}

// String never shows a secret: only which kind of credential is set and the key id.
func (c Credentials) String() string {
	switch {
	case c.Token != "":
		return "token (redacted)"
	case c.AccessKeyID != "":
		return "access key " + c.AccessKeyID + " (secret redacted)"
	}
	return "none"
}

// lakectlFile is the part of lakectl's ~/.lakectl.yaml the client reads.
// server.endpoint_url is lakeFS's address, not this service's, so it is not read.
type lakectlFile struct {
	Credentials struct {
		AccessKeyID     string `yaml:"access_key_id"`
		SecretAccessKey string `yaml:"secret_access_key"`
	} `yaml:"credentials"`
}

// credentialSources are the three places a credential can come from, in increasing
// precedence: the lakectl file, the environment, the flags.
type credentialSources struct {
	flags       Credentials
	getenv      func(string) string
	lakectlPath string // "" = ~/.lakectl.yaml, which may be absent
	home        string
}

// resolve picks each field from the flags, else the environment, else the lakectl file,
// and checks that an access key comes with its secret.
func (s credentialSources) resolve() (Credentials, error) {
	file, err := s.readLakectl()
	if err != nil {
		return Credentials{}, err
	}
	c := Credentials{
		AccessKeyID:     first(s.flags.AccessKeyID, s.getenv(EnvAccessKeyID), file.Credentials.AccessKeyID),
		SecretAccessKey: first(s.flags.SecretAccessKey, s.getenv(EnvSecretAccessKey), file.Credentials.SecretAccessKey),
		Token:           first(s.flags.Token, s.getenv(EnvToken)),
	}
	if c.Token == "" && (c.AccessKeyID == "") != (c.SecretAccessKey == "") {
		return Credentials{}, errors.New("credentials: an access key id needs its secret access key (and the reverse): set both with --access-key-id/--secret-access-key, " +
			EnvAccessKeyID + "/" + EnvSecretAccessKey + " or ~/.lakectl.yaml")
	}
	return c, nil
}

func (s credentialSources) readLakectl() (lakectlFile, error) {
	var f lakectlFile
	path, explicit := s.lakectlPath, s.lakectlPath != ""
	if !explicit {
		if s.home == "" {
			return f, nil
		}
		path = filepath.Join(s.home, ".lakectl.yaml")
	}
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) && !explicit {
		return f, nil
	}
	if err != nil {
		return f, fmt.Errorf("lakectl config: %w", err)
	}
	if err := yaml.Unmarshal(raw, &f); err != nil {
		// yaml errors quote line numbers, not values: no secret leaks through them.
		return f, fmt.Errorf("lakectl config %s: %w", path, err)
	}
	return f, nil
}

// resolveURL is the server's base URL from the flag, else the environment, else the
// default, with /api/v1 added (a URL given with it is accepted too).
func resolveURL(flag string, getenv func(string) string) string {
	u := strings.TrimRight(first(flag, getenv(EnvURL), DefaultURL), "/")
	if !strings.HasSuffix(u, "/api/v1") {
		u += "/api/v1"
	}
	return u
}

func first(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}
