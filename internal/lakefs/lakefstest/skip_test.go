package lakefstest

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
)

// SkipValidation (benchmarks only) serves a request without checking it against the
// contract: a stat without its required path is answered by the handler (404) instead of
// being reported as a contract violation (400); requests are still counted.
func TestSkipValidation(t *testing.T) {
	for _, skip := range []bool{false, true} {
		v := &violations{}
		s := NewServer(t, Options{Errorf: v.Errorf, SkipValidation: skip})
		s.AddUser("alice", "AK", "SK", FullAccess)
		s.CreateRepository("repo", "s3://bucket/repo", "main")
		status, _, _ := do(t, http.MethodGet, s.URL()+"/repositories/repo/refs/main/objects/stat", "", authed)
		if skip {
			assert.Equal(t, http.StatusNotFound, status)
			assert.Empty(t, v.take())
		} else {
			assert.Equal(t, http.StatusBadRequest, status)
			assert.NotEmpty(t, v.take())
		}
		assert.Equal(t, 1, s.TotalCalls())
		assert.Equal(t, 1, s.Calls("statObject"))
	}
}
