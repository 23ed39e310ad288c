package restcat

// The auth header sources iceberg-go's client is given: a static token, or OAuth2 client credentials.

import (
	"context"

	"golang.org/x/oauth2"
)

// staticAuth is the bearer `token` of the remote.
type staticAuth struct{ token string }

func (s staticAuth) AuthHeader() (string, string, error) {
	return "Authorization", "Bearer " + s.token, nil
}

func (s staticAuth) AuthHeaderWithContext(context.Context) (string, string, error) {
	return s.AuthHeader()
}

// oauthAuth is OAuth2 client credentials; the token source caches and renews the token.
type oauthAuth struct{ src oauth2.TokenSource }

func (o *oauthAuth) AuthHeader() (string, string, error) {
	tok, err := o.src.Token()
	if err != nil {
		return "", "", &authError{err: err}
	}
	return "Authorization", "Bearer " + tok.AccessToken, nil
}

func (o *oauthAuth) AuthHeaderWithContext(ctx context.Context) (string, string, error) {
	if err := ctx.Err(); err != nil {
		return "", "", err
	}
	return o.AuthHeader()
}

// authError marks a failure to obtain a token from the remote's OAuth2 server.
type authError struct{ err error }

func (e *authError) Error() string { return "obtaining an OAuth2 token: " + e.err.Error() }
func (e *authError) Unwrap() error { return e.err }
