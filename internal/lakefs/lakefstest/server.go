// Package lakefstest is an in-process lakeFS stand-in for tests: an httptest server with
// in-memory repositories, branches, tags, commits, staging and objects at physical addresses,
// lakeFS-style authentication (basic auth access keys, HS256 JWTs and the login session
// cookie) with per-user
// read-only/deny access, fault injection and a pluggable pre-commit hook.
//
// It cannot drift from the real API unnoticed: every request and every response is validated
// with kin-openapi against the vendored lakeFS swagger (third_party/lakefs/lakefs-swagger.yml).
// A failed validation fails the test. Where lakeFS 1.84 is known to answer differently from
// its own spec (docs/design.md section 12), the stand-in reproduces lakeFS and the deviation is listed
// in knownDeviations below, narrowly.
package lakefstest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// Access is what a user may do.
type Access int

const (
	// FullAccess allows everything.
	FullAccess Access = iota
	// ReadOnly refuses writes (upload, stage, commit, reset, create branch) with 401
	// "insufficient permissions".
	ReadOnly
	// Deny refuses every operation except getCurrentUser with 401 "insufficient permissions".
	Deny
)

// HookEvent is what a pre-commit hook sees.
type HookEvent struct {
	Repository, Branch, Message string
	Metadata                    map[string]string
	Paths                       []string // staged paths about to be committed
}

// Options configure a Server.
type Options struct {
	// JWTSecret signs and verifies bearer tokens (HS256). Default "lakefstest-secret".
	JWTSecret []byte
	// ReadPhysical, when set, reads physical addresses the in-memory block store does not
	// hold (e.g. an S3 stand-in). Objects uploaded through the API always go to memory.
	ReadPhysical func(ctx context.Context, physicalAddress string) ([]byte, error)
	// Errorf reports contract violations; default t.Errorf. Tests that deliberately break
	// the contract capture it.
	Errorf func(format string, args ...any)
	// SkipValidation turns off the OpenAPI validation of requests and responses. It is for
	// benchmarks only, so that their CPU and allocation figures are the service's own and
	// not kin-openapi's; tests keep it off, since the validation is the stand-in's contract.
	SkipValidation bool
}

// Server is the stand-in. Create it with NewServer; it is closed by t.Cleanup.
type Server struct {
	t      testing.TB
	opts   Options
	srv    *httptest.Server
	router routers.Router
	closed chan struct{}

	mu       sync.Mutex
	repos    map[string]*repo
	keys     map[string]*user // by access key id
	users    map[string]*user // by user id
	blocks   map[string][]byte
	counts   map[string]int
	headers  map[string]http.Header
	faults   map[string][]fault
	tampers  map[string]func(status int, header http.Header, body []byte) (int, []byte)
	hook     func(HookEvent) error
	seq      int
	clockSec int64

	// collected holds the physical addresses CollectGarbage deleted (read: 410).
	collected map[string]bool
}

type user struct {
	id, accessKey, secret string
	access                Access
}

type fault struct {
	status int
	hang   bool
}

var registerDecoders sync.Once

// specPath finds the vendored swagger relative to this source file, so tests of any package
// can use the stand-in.
func specPath() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "third_party", "lakefs", "lakefs-swagger.yml")
}

// NewServer starts a stand-in. It fails the test if the spec cannot be loaded.
func NewServer(t testing.TB, opts Options) *Server {
	t.Helper()
	registerDecoders.Do(func() {
		// The spec declares createBranch's answer as text/html (lakeFS sends text/plain);
		// kin-openapi has no decoder for text/html, so validate it as plain text.
		openapi3filter.RegisterBodyDecoder("text/html", openapi3filter.PlainBodyDecoder)
	})
	raw, err := os.ReadFile(specPath())
	if err != nil {
		t.Fatalf("lakefstest: read spec: %v", err)
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(raw)
	if err != nil {
		t.Fatalf("lakefstest: load spec: %v", err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		t.Fatalf("lakefstest: spec invalid: %v", err)
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatalf("lakefstest: router: %v", err)
	}
	if len(opts.JWTSecret) == 0 {
		opts.JWTSecret = []byte("lakefstest-secret")
	}
	if opts.Errorf == nil {
		opts.Errorf = t.Errorf
	}
	s := &Server{
		t: t, opts: opts, router: router, closed: make(chan struct{}),
		repos: map[string]*repo{}, keys: map[string]*user{}, users: map[string]*user{},
		blocks: map[string][]byte{}, counts: map[string]int{}, headers: map[string]http.Header{}, faults: map[string][]fault{},
		tampers:  map[string]func(int, http.Header, []byte) (int, []byte){},
		clockSec: time.Now().Unix(),
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(func() {
		close(s.closed)
		s.srv.Close()
	})
	return s
}

// URL is the API base URL (ending in /api/v1), i.e. config lakefs.endpoint.
func (s *Server) URL() string { return s.srv.URL + "/api/v1" }
