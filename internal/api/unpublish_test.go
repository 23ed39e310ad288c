package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/api"
	"github.com/iceberg-remotes/iceberg-remotes/internal/api/apigen"
	"github.com/iceberg-remotes/iceberg-remotes/internal/apperr"
	"github.com/iceberg-remotes/iceberg-remotes/internal/requestctx"
)

func (s *recordingService) Unpublish(ctx context.Context, catalog string, req apigen.IcebergUnpublishRequest, dryRun bool) (*apigen.IcebergPlan, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pages = append(s.pages, fmt.Sprintf("unpublish %s@%s %v.%s force=%v dry_run=%v",
		requestctx.User(ctx), catalog, req.Source.Namespace, req.Source.Table, req.Force, dryRun))
	return s.plan("unpublish", dryRun), s.err
}

const unpublishPath = "/api/v1/iceberg/remotes/glue/unpublish"

func TestUnpublishHandler(t *testing.T) {
	svc := &recordingService{}
	srv := newServer(t, api.Options{Service: svc, Authenticate: allowAs("alice")})

	r := do(t, srv, "POST", unpublishPath, "application/json", `{"source":{"namespace":["analytics"],"table":"events"},"force":true}`)
	assert.Equal(t, 204, r.status, r.body)
	assert.Empty(t, r.body)
	assert.Empty(t, r.header.Get("Content-Type"))

	r = do(t, srv, "POST", unpublishPath+"?dry_run=true", "application/json", `{"source":{"namespace":["analytics"],"table":"events"}}`)
	assert.Equal(t, 200, r.status, r.body)
	var plan apigen.IcebergPlan
	require.NoError(t, json.Unmarshal([]byte(r.body), &plan))
	assert.Equal(t, "unpublish", plan.Operation)
	assert.True(t, plan.DryRun)

	svc.err = apperr.Conflict("table analytics.events in remote catalog \"glue\" was not pushed by this service")
	r = do(t, srv, "POST", unpublishPath, "application/json", `{"source":{"namespace":["analytics"],"table":"events"}}`)
	assert.Equal(t, 409, r.status)
	assert.Equal(t, "application/json", r.header.Get("Content-Type"))
	assert.Contains(t, r.message(t), "not pushed by this service")
	svc.err = nil

	for _, bad := range []string{``, `{}`, `{"source":{"namespace":["a/b"],"table":"events"}}`, `{"source":{"namespace":["a"],"table":".."}}`} {
		r = do(t, srv, "POST", unpublishPath, "application/json", bad)
		assert.Equal(t, 400, r.status, "%q: %s", bad, r.body)
	}
	assert.Equal(t, []string{
		"unpublish alice@glue [analytics].events force=true dry_run=false",
		"unpublish alice@glue [analytics].events force=false dry_run=true",
		"unpublish alice@glue [analytics].events force=false dry_run=false",
	}, svc.pages, "invalid requests never reach the service")

	unauth := newServer(t, api.Options{Service: svc})
	r = do(t, unauth, "POST", unpublishPath, "application/json", `{"source":{"namespace":["analytics"],"table":"events"}}`)
	assert.Equal(t, 401, r.status)
}
