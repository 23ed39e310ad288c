package api_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/iceberg-remotes/iceberg-remotes/internal/api"
	"github.com/iceberg-remotes/iceberg-remotes/internal/api/apigen"
)

// allowService records the allow_uncommitted a push sees.
type allowService struct {
	*recordingService
	seen []*bool
}

func (s *allowService) Push(ctx context.Context, catalog string, req apigen.IcebergPushRequest, dryRun bool) (*apigen.IcebergPlan, error) {
	s.seen = append(s.seen, api.AllowUncommitted(ctx))
	return s.recordingService.Push(ctx, catalog, req, dryRun)
}

// allow_uncommitted is a query parameter of push (its body stays lakeFS's): absent is nil
// (the remote's default decides), true/false are passed on, anything else is 400 before the
// service is called.
func TestAllowUncommittedQueryParameter(t *testing.T) {
	svc := &allowService{recordingService: &recordingService{}}
	srv := newServer(t, api.Options{Service: svc, Authenticate: allowAs("alice")})

	for _, q := range []string{"", "?allow_uncommitted=true", "?allow_uncommitted=0"} {
		r := do(t, srv, "POST", pushPath+q, "application/json", validPush)
		assert.Equal(t, 204, r.status, r.body)
	}
	r := do(t, srv, "POST", pushPath+"?allow_uncommitted=perhaps", "application/json", validPush)
	assert.Equal(t, 400, r.status)
	assert.Contains(t, r.message(t), "allow_uncommitted")

	if assert.Len(t, svc.seen, 3) {
		assert.Nil(t, svc.seen[0])
		assert.Equal(t, true, *svc.seen[1])
		assert.Equal(t, false, *svc.seen[2])
	}
	// Other operations ignore it.
	r = do(t, srv, "POST", pullPath+"?allow_uncommitted=perhaps", "application/json", validPull)
	assert.Equal(t, 204, r.status, r.body)
}
