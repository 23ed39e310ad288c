// Package deploy_test checks that docker-compose.yml and the Dockerfile agree with the
// service's configuration reference: the compose file is valid for Docker Compose (loaded
// with compose-go, the library `docker compose` itself uses), every ICEBERG_REMOTES_*
// variable names a real key, the service's environment is a configuration that validates,
// the secret is shared with lakeFS, and ports and service names line up.
package deploy_test

import (
	"bufio"
	"context"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/config"
	"github.com/iceberg-remotes/iceberg-remotes/interop/peers"
)

func loadCompose(t *testing.T) *types.Project {
	t.Helper()
	root, err := filepath.Abs("..")
	require.NoError(t, err)
	project, err := loader.LoadWithContext(context.Background(), types.ConfigDetails{
		WorkingDir:  root,
		ConfigFiles: []types.ConfigFile{{Filename: filepath.Join(root, "docker-compose.yml")}},
		Environment: types.Mapping{},
	}, func(o *loader.Options) { o.SetProjectName("iceberg-remotes", true) })
	require.NoError(t, err, "docker compose config must accept docker-compose.yml")
	return project
}

func environment(svc types.ServiceConfig) map[string]string {
	out := map[string]string{}
	for k, v := range svc.Environment {
		if v != nil {
			out[k] = *v
		}
	}
	return out
}

func TestComposeMatchesConfiguration(t *testing.T) {
	project := loadCompose(t)
	services := map[string]types.ServiceConfig{}
	for name, svc := range project.Services {
		services[name] = svc
	}
	for _, name := range []string{"postgres", "minio", "lakefs", "iceberg-rest", "iceberg-remotes", "seed"} {
		require.Contains(t, services, name)
	}

	svc := services["iceberg-remotes"]
	env := environment(svc)
	known := config.EnvNames()
	var environ []string
	for k, v := range env {
		if strings.HasPrefix(k, config.EnvPrefix) {
			assert.Contains(t, known, k, "%s is not a configuration key", k)
			environ = append(environ, k+"="+v)
		}
	}
	cfg, err := config.Load("", environ)
	require.NoError(t, err, "the compose environment must be a valid configuration")

	// One secret shared with lakeFS.
	lakefsEnv := environment(services["lakefs"])
	assert.NotEmpty(t, cfg.Auth.Encrypt.SecretKey)
	assert.Equal(t, lakefsEnv["LAKEFS_AUTH_ENCRYPT_SECRET_KEY"], cfg.Auth.Encrypt.SecretKey)
	assert.Equal(t, lakefsEnv["LAKEFS_INSTALLATION_ACCESS_KEY_ID"], cfg.LakeFS.AccessKeyID)

	// The published port is the one the server listens on.
	_, port, err := net.SplitHostPort(cfg.ListenAddress)
	require.NoError(t, err)
	require.NotEmpty(t, svc.Ports)
	assert.Equal(t, port, svc.Ports[0].Published)
	assert.EqualValues(t, mustAtoi(t, port), svc.Ports[0].Target)

	// Every address the service is given points at a service of the stack.
	hostOf := func(raw string) string {
		u, err := url.Parse(raw)
		require.NoError(t, err, raw)
		return u.Hostname()
	}
	assert.Contains(t, services, hostOf(cfg.LakeFS.Endpoint))
	assert.Contains(t, services, hostOf(cfg.State.Postgres.ConnectionString))
	assert.Contains(t, services, hostOf(cfg.ObjectStore.S3.Endpoint))
	require.NotEmpty(t, cfg.IcebergCatalog.Remotes)
	for _, r := range cfg.IcebergCatalog.Remotes {
		switch r.Type {
		case "rest":
			assert.Contains(t, services, hostOf(r.REST.URI))
		case "sql":
			assert.Contains(t, services, hostOf(r.SQL.DSN))
		}
	}
	// lakeFS's published port is the one the endpoint names.
	assert.Equal(t, hostPort(t, cfg.LakeFS.Endpoint), services["lakefs"].Ports[0].Target)

	// The PostgreSQL databases the service uses are created by the init script.
	initSQL, err := os.ReadFile("postgres-init.sql")
	require.NoError(t, err)
	for _, dsn := range []string{cfg.State.Postgres.ConnectionString, cfg.IcebergCatalog.Remotes[1].SQL.DSN} {
		u, _ := url.Parse(dsn)
		assert.Contains(t, string(initSQL), "CREATE DATABASE "+strings.TrimPrefix(u.Path, "/"))
	}

	// The seed uses the same lakeFS key and a lakeFS address of the stack.
	seed := environment(services["seed"])
	assert.Equal(t, cfg.LakeFS.AccessKeyID, seed["SEED_LAKEFS_ACCESS_KEY_ID"])
	assert.Equal(t, cfg.LakeFS.Endpoint, seed["SEED_LAKEFS_ENDPOINT"])
}

func hostPort(t *testing.T, raw string) uint32 {
	u, err := url.Parse(raw)
	require.NoError(t, err)
	return uint32(mustAtoi(t, u.Port()))
}

func mustAtoi(t *testing.T, s string) int {
	n := 0
	for _, c := range s {
		require.True(t, c >= '0' && c <= '9', "not a port: %q", s)
		n = n*10 + int(c-'0')
	}
	return n
}

func TestDockerfile(t *testing.T) {
	f, err := os.Open("../Dockerfile")
	require.NoError(t, err)
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	cont := ""
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "#") || line == "" {
			continue
		}
		if strings.HasSuffix(line, "\\") {
			cont += strings.TrimSuffix(line, "\\") + " "
			continue
		}
		lines = append(lines, cont+line)
		cont = ""
	}
	require.NoError(t, sc.Err())
	doc := strings.Join(lines, "\n")

	defaults := config.Defaults()
	_, port, _ := net.SplitHostPort(defaults.ListenAddress)
	assert.Contains(t, lines, "EXPOSE "+port, "the image exposes the service's port")
	assert.Regexp(t, `(?m)^FROM golang:1\.26.* AS build$`, doc, "multi-stage build on the project's Go version")
	assert.Regexp(t, `(?m)^FROM gcr\.io/distroless/static`, doc, "minimal final image with CA certificates")
	assert.Contains(t, doc, "CGO_ENABLED=0")
	assert.Contains(t, doc, "-trimpath")
	assert.Contains(t, doc, "-X main.version=${VERSION}")
	assert.Regexp(t, `(?m)^USER 65532`, doc, "runs as non-root")
	assert.Regexp(t, `(?m)^HEALTHCHECK .*"--healthcheck"`, doc)
	known := config.EnvNames()
	for _, l := range lines {
		if !strings.HasPrefix(l, "ENV ") {
			continue
		}
		for _, field := range strings.Fields(strings.TrimPrefix(l, "ENV ")) {
			name, value, ok := strings.Cut(field, "=")
			require.True(t, ok, field)
			assert.Contains(t, known, name, "%s is not a configuration key", name)
			if name == config.EnvName("listen_address") {
				_, p, err := net.SplitHostPort(value)
				require.NoError(t, err)
				assert.Equal(t, port, p, "the image listens on the port it exposes")
			}
		}
	}
}

// Every image is pinned (no "latest", no bare name), and the REST catalog is the Apache
// Iceberg release the interop suite runs against.
func TestComposeImagesArePinned(t *testing.T) {
	project := loadCompose(t)
	for name, svc := range project.Services {
		if svc.Image == "" {
			continue // built from this repository
		}
		repo, tag, ok := strings.Cut(svc.Image, ":")
		assert.True(t, ok && tag != "" && tag != "latest", "service %s: image %q must name a fixed tag", name, svc.Image)
		if repo == "apache/iceberg-rest-fixture" {
			assert.Equal(t, peers.ApacheRESTVersion, tag, "service %s: the interop suite tests Apache's REST server %s", name, peers.ApacheRESTVersion)
		}
	}
	assert.Equal(t, "apache/iceberg-rest-fixture:"+peers.ApacheRESTVersion, project.Services["iceberg-rest"].Image)
}
