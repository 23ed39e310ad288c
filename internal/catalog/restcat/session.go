package restcat

// The requests this package makes itself (config, register with overwrite) over iceberg-go's transport.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/apache/iceberg-go/catalog/rest"
	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	ourcatalog "github.com/iceberg-remotes/iceberg-remotes/internal/catalog"
	"github.com/iceberg-remotes/iceberg-remotes/internal/config"
)

// session makes this package's own requests with the same transport, auth and headers as
// iceberg-go's client.
type session struct {
	hc      *http.Client
	auth    rest.ContextAuthManager
	headers map[string]string
	signer  *v4.Signer
	awsCfg  aws.Config
	service string

	// Resolved from /v1/config.
	base  *url.URL // .../v1[/prefix]
	nsSep string   // encoded namespace separator
	query url.Values
	uri   *url.URL
	// keyLifetime is the server's idempotency-key-lifetime (0: not advertised, no keys sent).
	keyLifetime time.Duration
	// unregister: the server advertises the spec's unregisterTable endpoint.
	unregister bool
	// nessie is the server's native API when the server is Nessie (nil otherwise).
	nessie *nessie
}

// unregisterEndpoint is how a server advertises the REST spec's unregisterTable in
// /v1/config "endpoints" (third_party/iceberg/rest-catalog-open-api.yaml).
const unregisterEndpoint = "POST /v1/{prefix}/namespaces/{namespace}/tables/{table}/unregister"

// resolve reads /v1/config and applies iceberg-go's precedence (server defaults < client
// settings < server overrides) to the keys this package needs.
func (s *session) resolve(ctx context.Context, base *url.URL, cfg config.RESTRemote) error {
	s.uri = base
	if cfg.Warehouse != "" {
		s.query = url.Values{"warehouse": {cfg.Warehouse}}
	}
	c, err := s.config(ctx)
	if err != nil {
		return err
	}
	props := maps.Clone(c.Defaults)
	if props == nil {
		props = map[string]string{}
	}
	if cfg.Prefix != "" {
		props["prefix"] = cfg.Prefix
	}
	maps.Copy(props, c.Overrides)
	root := base
	if u, ok := props["uri"]; ok && u != "" {
		if root, err = url.Parse(u); err != nil {
			return fmt.Errorf("server config has an invalid uri: %w", err)
		}
	}
	s.base = root.JoinPath("v1")
	if p := props["prefix"]; p != "" {
		s.base = s.base.JoinPath(p)
	}
	s.unregister = slices.Contains(c.Endpoints, unregisterEndpoint)
	s.nessie = nessieFrom(s, props, root)
	s.nsSep = props["namespace-separator"]
	if s.nsSep == "" {
		s.nsSep = "%1F"
	}
	if c.IdempotencyKeyLifetime != "" {
		// An unreadable lifetime counts as none: sending keys to a server whose promise we
		// cannot read could make us retry what it will not deduplicate.
		if d, err := parseISODuration(c.IdempotencyKeyLifetime); err == nil {
			s.keyLifetime = d
		}
	}
	return nil
}

type configResponse struct {
	Defaults               map[string]string `json:"defaults"`
	Overrides              map[string]string `json:"overrides"`
	Endpoints              []string          `json:"endpoints"`
	IdempotencyKeyLifetime string            `json:"idempotency-key-lifetime"`
}

func (s *session) config(ctx context.Context) (configResponse, error) {
	var out configResponse
	u := s.uri.JoinPath("v1", "config")
	u.RawQuery = s.query.Encode()
	st, body, err := s.do(ctx, http.MethodGet, u, nil)
	if err != nil {
		return out, err
	}
	if st != http.StatusOK {
		return out, remoteError(st, body)
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return out, fmt.Errorf("decode config: %w", err)
	}
	return out, nil
}

// nsPath is the namespace's resource under the negotiated prefix, plus more segments.
func (s *session) nsPath(ns []string, more ...string) *url.URL {
	levels := make([]string, len(ns))
	for i, l := range ns {
		levels[i] = url.PathEscape(l)
	}
	return s.base.JoinPath(append([]string{"namespaces", strings.Join(levels, s.nsSep)}, more...)...)
}

// unregisterTable posts the spec's unregister request: the table leaves the catalog, its
// data and metadata files stay (the spec's guarantee, unlike a drop, which some servers
// follow with their own clean-up).
func (s *session) unregisterTable(ctx context.Context, id ourcatalog.Ident) error {
	st, body, err := s.do(ctx, http.MethodPost, s.nsPath(id.Namespace, "tables", url.PathEscape(id.Table), "unregister"), nil)
	if err != nil {
		return err
	}
	if st != http.StatusOK && st != http.StatusNoContent {
		return remoteError(st, body)
	}
	return nil
}

// registerOverwrite posts {"name","metadata-location","overwrite":true} to the register
// endpoint and returns the metadata location the server answered.
func (s *session) registerOverwrite(ctx context.Context, id ourcatalog.Ident, loc string) (string, error) {
	u := s.nsPath(id.Namespace, "register")
	payload, err := json.Marshal(map[string]any{"name": id.Table, "metadata-location": loc, "overwrite": true})
	if err != nil {
		return "", err
	}
	st, body, err := s.do(ctx, http.MethodPost, u, payload)
	if err != nil {
		return "", err
	}
	if st != http.StatusOK {
		return "", remoteError(st, body)
	}
	var res struct {
		MetadataLocation string `json:"metadata-location"`
	}
	if err := json.Unmarshal(body, &res); err != nil {
		return "", fmt.Errorf("decode register response: %w", err)
	}
	return res.MetadataLocation, nil
}

// do sends one request as iceberg-go's session does: default headers, configured headers,
// the auth header, then the SigV4 signature over the final request.
func (s *session) do(ctx context.Context, method string, u *url.URL, body []byte) (int, []byte, error) {
	var rdr io.Reader
	if body != nil {
		rdr = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rdr)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Client-Version", "0.14.1")
	req.Header.Set("User-Agent", "iceberg-remotes")
	for k, v := range s.headers {
		req.Header.Set(k, v)
	}
	if s.auth != nil {
		k, v, err := s.auth.AuthHeaderWithContext(ctx)
		if err != nil {
			return 0, nil, err
		}
		req.Header.Set(k, v)
	}
	if s.signer != nil {
		sum := sha256.Sum256(body)
		hash := hex.EncodeToString(sum[:])
		creds, err := s.awsCfg.Credentials.Retrieve(ctx)
		if err != nil {
			return 0, nil, err
		}
		req.Header.Set("x-amz-content-sha256", hash)
		if err := s.signer.SignHTTP(ctx, creds, req, hash, s.service, s.awsCfg.Region, time.Now()); err != nil {
			return 0, nil, err
		}
	}
	rsp, err := s.hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer rsp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(rsp.Body, 64<<20))
	if err != nil {
		return rsp.StatusCode, nil, err
	}
	return rsp.StatusCode, data, nil
}
