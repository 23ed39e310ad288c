package authn

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"sync"
	"time"

	"github.com/iceberg-remotes/iceberg-remotes/internal/apperr"
)

// asymmetricMethods are the JWT algorithms accepted from the configured JWKS issuer.
var asymmetricMethods = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"}

const (
	// jwksMaxAge is how long a fetched key set is used before it is fetched again.
	jwksMaxAge = time.Hour
	// jwksMinRefresh throttles refetches caused by unknown key ids, so that tokens with
	// made-up kids cannot make the service hammer the identity provider.
	jwksMinRefresh = time.Minute
	// maxJWKSBody bounds what is read of the key set.
	maxJWKSBody = 1 << 20
)

// jwksCache holds the public keys of one external issuer, fetched lazily (the service must
// start even when the identity provider is down) and refreshed on age or on an unknown kid.
type jwksCache struct {
	url    string
	client *http.Client
	now    func() time.Time

	fetchMu sync.Mutex // one fetch at a time
	mu      sync.Mutex
	keys    map[string]crypto.PublicKey
	fetched time.Time // zero: never fetched successfully
	tried   time.Time // last fetch attempt
	lastErr error     // outcome of the last attempt
}

// key returns the public key for kid. An unknown kid triggers a (throttled) refetch: the
// issuer may have rotated its keys. A token without kid is accepted only when the set holds
// exactly one key.
func (c *jwksCache) key(ctx context.Context, kid string) (crypto.PublicKey, error) {
	if k, ok, fresh := c.lookup(kid); ok && fresh {
		return k, nil
	}
	if err := c.refresh(ctx); err != nil {
		if k, ok, _ := c.lookup(kid); ok {
			return k, nil // stale but known: better than refusing during an IdP outage
		}
		return nil, err
	}
	if k, ok, _ := c.lookup(kid); ok {
		return k, nil
	}
	return nil, invalid("token: unknown key id")
}

func (c *jwksCache) lookup(kid string) (crypto.PublicKey, bool, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	fresh := !c.fetched.IsZero() && c.now().Sub(c.fetched) < jwksMaxAge
	if kid == "" {
		if len(c.keys) != 1 {
			return nil, false, fresh
		}
		for _, k := range c.keys {
			return k, true, fresh
		}
	}
	k, ok := c.keys[kid]
	return k, ok, fresh
}

func (c *jwksCache) refresh(ctx context.Context) error {
	c.fetchMu.Lock()
	defer c.fetchMu.Unlock()
	c.mu.Lock()
	recent := !c.tried.IsZero() && c.now().Sub(c.tried) < jwksMinRefresh
	lastErr := c.lastErr
	c.mu.Unlock()
	if recent {
		return lastErr // throttled: answer from what we have
	}
	keys, err := c.fetch(ctx)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.tried = c.now()
	if err != nil {
		c.lastErr = apperr.Wrap(http.StatusServiceUnavailable, err, "%s: identity provider keys unavailable", apperr.MsgAuthenticationFailed)
		return c.lastErr
	}
	c.keys, c.fetched, c.lastErr = keys, c.now(), nil
	return nil
}

func (c *jwksCache) fetch(ctx context.Context) (map[string]crypto.PublicKey, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET JWKS answered %d", resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSBody))
	if err != nil {
		return nil, err
	}
	return parseJWKS(body)
}

type jwk struct {
	Kty string `json:"kty"`
	Use string `json:"use"`
	Kid string `json:"kid"`
	N   string `json:"n"`
	E   string `json:"e"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y"`
}

// parseJWKS reads the RSA and EC signing keys of an RFC 7517 key set; other keys
// (encryption keys, key types this service does not verify with) are skipped.
func parseJWKS(body []byte) (map[string]crypto.PublicKey, error) {
	var set struct {
		Keys []jwk `json:"keys"`
	}
	if err := json.Unmarshal(body, &set); err != nil {
		return nil, fmt.Errorf("JWKS is not JSON: %w", err)
	}
	keys := make(map[string]crypto.PublicKey, len(set.Keys))
	for _, k := range set.Keys {
		if k.Use != "" && k.Use != "sig" {
			continue
		}
		var pub crypto.PublicKey
		var err error
		switch k.Kty {
		case "RSA":
			pub, err = rsaKey(k)
		case "EC":
			pub, err = ecKey(k)
		default:
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("JWKS key %q: %w", k.Kid, err)
		}
		keys[k.Kid] = pub
	}
	if len(keys) == 0 {
		return nil, errors.New("JWKS holds no usable signing key")
	}
	return keys, nil
}

func b64(s string) ([]byte, error) { return base64.RawURLEncoding.DecodeString(s) }

func rsaKey(k jwk) (*rsa.PublicKey, error) {
	n, err := b64(k.N)
	if err != nil || len(n) == 0 {
		return nil, errors.New("bad modulus")
	}
	e, err := b64(k.E)
	if err != nil || len(e) == 0 || len(e) > 4 {
		return nil, errors.New("bad exponent")
	}
	pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
	if pub.N.BitLen() < 2048 {
		return nil, errors.New("RSA key shorter than 2048 bits")
	}
	return pub, nil
}

func ecKey(k jwk) (*ecdsa.PublicKey, error) {
	var curve elliptic.Curve
	switch k.Crv {
	case "P-256":
		curve = elliptic.P256()
	case "P-384":
		curve = elliptic.P384()
	case "P-521":
		curve = elliptic.P521()
	default:
		return nil, fmt.Errorf("unsupported curve %q", k.Crv)
	}
	x, errX := b64(k.X)
	y, errY := b64(k.Y)
	size := (curve.Params().BitSize + 7) / 8
	if errX != nil || errY != nil || len(x) != size || len(y) != size {
		return nil, errors.New("bad coordinates")
	}
	// ParseUncompressedPublicKey checks that the point is on the curve.
	return ecdsa.ParseUncompressedPublicKey(curve, append(append([]byte{4}, x...), y...))
}
