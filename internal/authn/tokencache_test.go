package authn

import (
	"context"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A remembered token is no weaker than a verified one: it stops working at its exp even
// while remembered, and another token (a tampered copy) is checked on its own.
func TestTokenCacheKeepsExpiryAndSignature(t *testing.T) {
	h := newHarness(t, defaultAuth(), nil)
	ctx := context.Background()
	tok := signToken(t, jwt.SigningMethodHS256, testSecret, claims(func(c jwt.MapClaims) { c["exp"] = testNow.Add(30 * time.Second).Unix() }))

	id, err := h.a.verifyToken(ctx, tok)
	require.NoError(t, err)
	assert.Equal(t, "alice", id)
	assert.Equal(t, 1, h.a.tokens.len(), "remembered")
	id, err = h.a.verifyToken(ctx, tok)
	require.NoError(t, err)
	assert.Equal(t, "alice", id)

	_, err = h.a.verifyToken(ctx, tamper(t, tok, claims(func(c jwt.MapClaims) { c["sub"] = "mallory" })))
	require.Error(t, err, "a tampered copy is not the remembered token")

	h.clock.Advance(31 * time.Second)
	_, err = h.a.verifyToken(ctx, tok)
	require.Error(t, err, "expired, though remembered a minute ago")
}
