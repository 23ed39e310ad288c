package api_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/iceberg-remotes/iceberg-remotes/internal/api"
)

// The request id header is spelled as net/http stores it, so that reading and echoing it
// costs no conversion.
func TestRequestIDHeaderIsCanonical(t *testing.T) {
	assert.Equal(t, http.CanonicalHeaderKey(api.RequestIDHeader), api.RequestIDHeader)
}
