package objstore

// GCS and Azure have no emulator here, so their error mapping is checked on the error types
// their SDKs return (as iceberg-go's gocloud backends wrap them: gcerrors inside an
// fs.PathError), not over the wire.

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/stretchr/testify/assert"
	"google.golang.org/api/googleapi"

	"github.com/iceberg-remotes/iceberg-remotes/internal/apperr"
)

func TestClassifySDKErrors(t *testing.T) {
	s := &Store{}
	const loc = "gs://bucket/t/metadata/v1.metadata.json"
	wrap := func(err error) error {
		return &fs.PathError{Op: "open", Path: loc, Err: fmt.Errorf("blob (key %q): %w", "t/metadata/v1.metadata.json", err)}
	}
	cases := []struct {
		name     string
		err      error
		status   int // 0: transient
		timedOut bool
	}{
		{"gcs 403 is denied (gcsblob alone would call it not found)", wrap(&googleapi.Error{Code: 403}), http.StatusBadGateway, false},
		{"gcs 404", wrap(&googleapi.Error{Code: 404}), http.StatusNotFound, false},
		{"gcs 429", wrap(&googleapi.Error{Code: 429}), 0, false},
		{"gcs 503", wrap(&googleapi.Error{Code: 503}), 0, false},
		{"gcs 400", wrap(&googleapi.Error{Code: 400}), http.StatusBadGateway, false},
		{"azure 403", wrap(&azcore.ResponseError{StatusCode: 403, ErrorCode: "AuthorizationFailure"}), http.StatusBadGateway, false},
		{"azure 404", wrap(&azcore.ResponseError{StatusCode: 404, ErrorCode: "BlobNotFound"}), http.StatusNotFound, false},
		{"azure 500", wrap(&azcore.ResponseError{StatusCode: 500}), 0, false},
		{"not exist", &fs.PathError{Op: "open", Path: loc, Err: fs.ErrNotExist}, http.StatusNotFound, false},
		{"permission", &fs.PathError{Op: "open", Path: loc, Err: fs.ErrPermission}, http.StatusBadGateway, false},
		{"unknown error is final", wrap(errors.New("something odd")), http.StatusBadGateway, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := s.classify(context.Background(), loc, tc.err, false)
			if tc.status == 0 {
				var tr *transient
				assert.ErrorAs(t, got, &tr)
				assert.Equal(t, tc.timedOut, tr != nil && tr.timedOut)
				return
			}
			var ae *apperr.Error
			assert.ErrorAs(t, got, &ae)
			assert.Equal(t, tc.status, apperr.StatusOf(got))
			assert.Contains(t, apperr.PublicMessage(got), loc)
		})
	}

	// A failure while this attempt's deadline has passed is a timeout, whatever the SDK wrapped.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var tr *transient
	assert.ErrorAs(t, s.classify(ctx, loc, wrap(errors.New("request canceled")), false), &tr)
}
