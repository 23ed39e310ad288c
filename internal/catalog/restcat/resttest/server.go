// Package resttest is an in-process Iceberg REST catalog stand-in for tests.
//
// No Java REST catalog can run here, so tests talk to this httptest server instead. It is not
// a mock that accepts anything: every request it receives and every response it sends is
// validated with kin-openapi against the vendored contract
// (third_party/iceberg/rest-catalog-open-api.yaml). A violation fails the test and is answered
// with a 500, so a client that speaks the protocol wrongly, or a stand-in that answers wrongly,
// cannot pass unnoticed.
//
// It serves GET /v1/config, the OAuth2 client-credentials token endpoint (tokens expire;
// missing, unknown or expired tokens get 401), namespaces (create, load, exists, list) and
// tables (load, exists, commit, register with and without "overwrite", drop with
// purgeRequested, unregister when Options.Unregister). Table state is a map from identifier
// to metadata location held in memory; LoadTable reads the real metadata from that location
// through iceberg-go's io, and commits (from iceberg-go writers) apply the requested updates
// with iceberg-go and write the new metadata file next to the old one, as a real catalog does.
package resttest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/iceberg-go"
	icebergio "github.com/apache/iceberg-go/io"
	_ "github.com/apache/iceberg-go/io/gocloud/s3" // s3:// metadata (Options.IOProps)
	"github.com/apache/iceberg-go/table"
	"github.com/google/uuid"
)

// OverwriteMode says how the stand-in treats `"overwrite": true` on register.
type OverwriteMode int

const (
	// OverwriteSupported re-points an existing table (the spec's RegisterTableRequest.overwrite).
	OverwriteSupported OverwriteMode = iota
	// OverwriteRejected answers 400 BadRequestException, as a server that knows the field but
	// does not implement it would.
	OverwriteRejected
	// OverwriteIgnored ignores the field, as a server predating it does: an existing table
	// gives 409 AlreadyExistsException.
	OverwriteIgnored
	// OverwriteUnsupported answers 406 UnsupportedOperationException, as Apache Iceberg's
	// reference REST server (1.11) over a JDBC catalog does (the Java Catalog API's default
	// registerTable with overwrite throws UnsupportedOperationException). The contract lists
	// no 406 for registerTable; the real server answers it anyway.
	OverwriteUnsupported
)

// Options configure the stand-in.
type Options struct {
	// Prefix, when set, is served as the {prefix} path segment (one segment) and advertised
	// in /v1/config overrides.
	Prefix string
	// Warehouse, when set, must be passed as ?warehouse= to /v1/config (400 otherwise).
	Warehouse string
	// ClientID and ClientSecret enable the OAuth2 client-credentials token endpoint.
	ClientID, ClientSecret string
	// Token is a static bearer token the server accepts.
	Token string
	// TokenTTL is the lifetime of issued tokens (default 1h).
	TokenTTL time.Duration
	// Overwrite selects how register-with-overwrite is treated.
	Overwrite OverwriteMode
	// SpecPath overrides the contract file (default DefaultSpecPath()).
	SpecPath string
	// TLS serves HTTPS with httptest's self-signed certificate (see CACertPEM).
	TLS bool
	// OnViolation receives contract violations; the default fails the test with t.Errorf.
	OnViolation func(error)
	// ImplicitNamespaces makes register succeed in a namespace nobody created (which then
	// exists), as Apache Iceberg's reference REST server over a JDBC catalog does.
	ImplicitNamespaces bool
	// RequireParentNamespace refuses (404 NoSuchNamespaceException) to create a nested
	// namespace whose parent does not exist, as Nessie does.
	RequireParentNamespace bool
	// RequireCurrentSnapshotID answers 500 to register when the metadata file has no
	// current-snapshot-id field (iceberg-go omits it for a table without snapshots), as
	// Nessie 0.99 does (it cannot build its table model without it).
	RequireCurrentSnapshotID bool
	// IOProps are the iceberg-go FileIO properties the stand-in reads and writes metadata
	// with (e.g. s3.endpoint and keys for metadata in an S3-compatible store); none are
	// needed for file:// locations.
	IOProps iceberg.Properties
	// Unregister advertises and serves the spec's unregisterTable (POST
	// .../tables/{table}/unregister): the table leaves the catalog, its files stay.
	Unregister bool
}

// Call is one request the stand-in served (after authentication and validation).
type Call struct {
	Method string
	Path   string // escaped path
	Query  url.Values
	Body   []byte
}

// Server is a running stand-in.
type Server struct {
	URL string

	t     testing.TB
	opts  Options
	v     *validator
	httpd *httptest.Server

	authRequired bool // set at start: OAuth2 or a static token configured

	mu         sync.Mutex
	tokens     map[string]time.Time // issued token -> expiry
	tokenCount int
	namespaces map[string]map[string]string
	tables     map[string]string // nsKey + "\x00" + name -> metadata location
	faults     []int             // statuses to answer next, one per request
	corrupt    int               // number of next responses to corrupt (for validator tests)
	calls      []Call
}

// New starts a stand-in; it is closed in t.Cleanup.
func New(t testing.TB, opts Options) *Server {
	t.Helper()
	if opts.TokenTTL == 0 {
		opts.TokenTTL = time.Hour
	}
	if opts.SpecPath == "" {
		opts.SpecPath = DefaultSpecPath()
	}
	if strings.Contains(opts.Prefix, "/") {
		t.Fatalf("resttest: prefix must be one path segment")
	}
	v, err := newValidator(opts.SpecPath, opts.Prefix != "")
	if err != nil {
		t.Fatalf("resttest: %v", err)
	}
	s := &Server{
		t:            t,
		opts:         opts,
		v:            v,
		authRequired: opts.ClientID != "" || opts.Token != "",
		tokens:       map[string]time.Time{},
		namespaces:   map[string]map[string]string{},
		tables:       map[string]string{},
	}
	if opts.TLS {
		s.httpd = httptest.NewTLSServer(http.HandlerFunc(s.serve))
	} else {
		s.httpd = httptest.NewServer(http.HandlerFunc(s.serve))
	}
	s.URL = s.httpd.URL
	t.Cleanup(s.httpd.Close)
	return s
}

// Client returns an *http.Client that trusts the server.
func (s *Server) Client() *http.Client { return s.httpd.Client() }

// CACertPEM returns the PEM of the server's certificate (TLS only), for a ca_file.
func (s *Server) CACertPEM() []byte {
	c := s.httpd.Certificate()
	if c == nil {
		return nil
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}

// FailNext makes the next n requests (the token endpoint excepted) fail with status, with an
// error body the contract allows.
func (s *Server) FailNext(n, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.faults = append(s.faults, status)
	}
}

// PendingFaults returns how many injected failures have not been served yet.
func (s *Server) PendingFaults() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.faults)
}

// CorruptNextResponse makes the next successful response break the contract (its body is
// replaced by a JSON value of the wrong shape) so that tests can prove the validator works.
func (s *Server) CorruptNextResponse() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.corrupt++
}

// RevokeTokens invalidates every issued token (the static Token too), as a server whose
// client was disabled would.
func (s *Server) RevokeTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens = map[string]time.Time{}
	s.opts.Token = ""
	s.opts.ClientSecret = "revoked-" + uuid.NewString()
}

// TokensIssued returns how many tokens the token endpoint issued.
func (s *Server) TokensIssued() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tokenCount
}

// Calls returns the requests served so far.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls)
}

// TableLocation returns the metadata location the stand-in holds for ns.name.
func (s *Server) TableLocation(ns []string, name string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	loc, ok := s.tables[tableKey(ns, name)]
	return loc, ok
}

func nsKey(ns []string) string { return strings.Join(ns, "\x1f") }

func tableKey(ns []string, name string) string { return nsKey(ns) + "\x00" + name }

// serve validates the request, dispatches it, and validates the response before sending it.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	in, err := s.v.checkRequest(r)
	if err != nil {
		s.violation(w, err)
		return
	}
	rec := httptest.NewRecorder()
	s.route(rec, r)
	s.mu.Lock()
	if s.corrupt > 0 && rec.Code == http.StatusOK {
		s.corrupt--
		rec.Body = bytes.NewBufferString(`{"unexpected": ["shape"]}`)
	}
	s.mu.Unlock()
	if err := s.v.checkResponse(in, rec); err != nil {
		s.violation(w, err)
		return
	}
	for k, vs := range rec.Header() {
		w.Header()[k] = vs
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

func (s *Server) violation(w http.ResponseWriter, err error) {
	if s.opts.OnViolation != nil {
		s.opts.OnViolation(err)
	} else {
		s.t.Errorf("resttest: contract violation: %v", err)
	}
	writeError(w, http.StatusInternalServerError, "ContractViolation", "the stand-in detected a contract violation")
}

// route dispatches a validated request.
func (s *Server) route(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.EscapedPath(), "/v1/")
	if !ok {
		writeError(w, http.StatusNotFound, "NotFoundException", "no such route")
		return
	}
	if rest == "oauth/tokens" {
		s.token(w, r)
		return
	}
	if !s.authorized(r) {
		writeError(w, http.StatusUnauthorized, "NotAuthorizedException", "missing, unknown or expired token")
		return
	}
	if status, injected := s.takeFault(); injected {
		writeError(w, status, faultType(status), "injected fault")
		return
	}
	body := readBody(r)
	s.mu.Lock()
	s.calls = append(s.calls, Call{Method: r.Method, Path: r.URL.EscapedPath(), Query: r.URL.Query(), Body: body})
	s.mu.Unlock()

	if rest == "config" {
		s.config(w, r)
		return
	}
	if s.opts.Prefix != "" {
		p, after, _ := strings.Cut(rest, "/")
		if p != url.PathEscape(s.opts.Prefix) {
			writeError(w, http.StatusNotFound, "NotFoundException", "unknown prefix")
			return
		}
		rest = after
	}
	segs := strings.Split(rest, "/")
	for i, seg := range segs {
		dec, err := url.PathUnescape(seg)
		if err != nil {
			writeError(w, http.StatusBadRequest, "BadRequestException", "malformed path")
			return
		}
		segs[i] = dec
	}
	ctx := r.Context()
	switch {
	case len(segs) == 1 && segs[0] == "namespaces":
		switch r.Method {
		case http.MethodGet:
			s.listNamespaces(w, r)
		case http.MethodPost:
			s.createNamespace(w, body)
		}
	case len(segs) == 2 && segs[0] == "namespaces":
		s.namespace(w, r, strings.Split(segs[1], "\x1f"))
	case len(segs) == 3 && segs[0] == "namespaces" && segs[2] == "tables":
		s.listTables(w, strings.Split(segs[1], "\x1f"))
	case len(segs) == 3 && segs[0] == "namespaces" && segs[2] == "register":
		s.register(ctx, w, strings.Split(segs[1], "\x1f"), body)
	case len(segs) == 5 && segs[0] == "namespaces" && segs[2] == "tables" && segs[4] == "unregister" &&
		s.opts.Unregister && r.Method == http.MethodPost:
		s.unregister(ctx, w, tableKey(strings.Split(segs[1], "\x1f"), segs[3]))
	case len(segs) == 4 && segs[0] == "namespaces" && segs[2] == "tables":
		s.table(ctx, w, r, strings.Split(segs[1], "\x1f"), segs[3], body)
	default:
		writeError(w, http.StatusNotImplemented, "UnsupportedOperationException", "not implemented by the stand-in")
	}
}

func readBody(r *http.Request) []byte {
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(r.Body)
	return buf.Bytes()
}

func (s *Server) takeFault() (int, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.faults) == 0 {
		return 0, false
	}
	st := s.faults[0]
	s.faults = s.faults[1:]
	return st, true
}

func faultType(status int) string {
	switch status {
	case http.StatusServiceUnavailable:
		return "ServiceUnavailableException"
	case http.StatusUnauthorized:
		return "NotAuthorizedException"
	case http.StatusForbidden:
		return "ForbiddenException"
	default:
		return "ServerErrorException"
	}
}

func (s *Server) authorized(r *http.Request) bool {
	if !s.authRequired {
		return true
	}
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || tok == "" {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.opts.Token != "" && tok == s.opts.Token {
		return true
	}
	exp, ok := s.tokens[tok]
	return ok && time.Now().Before(exp)
}

// token implements the OAuth2 client-credentials grant of /v1/oauth/tokens.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request"})
		return
	}
	if r.PostForm.Get("grant_type") != "client_credentials" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "unsupported_grant_type"})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id, secret := r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	if s.opts.ClientID == "" || id != s.opts.ClientID || secret != s.opts.ClientSecret {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client"})
		return
	}
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	tok := hex.EncodeToString(b)
	s.tokens[tok] = time.Now().Add(s.opts.TokenTTL)
	s.tokenCount++
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token":      tok,
		"token_type":        "bearer",
		"expires_in":        int(s.opts.TokenTTL / time.Second),
		"issued_token_type": "urn:ietf:params:oauth:token-type:access_token",
	})
}

// endpoints the stand-in implements, advertised in /v1/config.
var endpoints = []string{
	"GET /v1/{prefix}/namespaces",
	"POST /v1/{prefix}/namespaces",
	"GET /v1/{prefix}/namespaces/{namespace}",
	"HEAD /v1/{prefix}/namespaces/{namespace}",
	"GET /v1/{prefix}/namespaces/{namespace}/tables",
	"GET /v1/{prefix}/namespaces/{namespace}/tables/{table}",
	"HEAD /v1/{prefix}/namespaces/{namespace}/tables/{table}",
	"POST /v1/{prefix}/namespaces/{namespace}/tables/{table}",
	"DELETE /v1/{prefix}/namespaces/{namespace}/tables/{table}",
	"POST /v1/{prefix}/namespaces/{namespace}/register",
}

func (s *Server) config(w http.ResponseWriter, r *http.Request) {
	if s.opts.Warehouse != "" && r.URL.Query().Get("warehouse") != s.opts.Warehouse {
		writeError(w, http.StatusBadRequest, "BadRequestException", "unknown warehouse")
		return
	}
	overrides := map[string]string{}
	if s.opts.Prefix != "" {
		overrides["prefix"] = s.opts.Prefix
	}
	advertised := endpoints
	if s.opts.Unregister {
		advertised = append(slices.Clone(endpoints), "POST /v1/{prefix}/namespaces/{namespace}/tables/{table}/unregister")
	}
	writeJSON(w, http.StatusOK, map[string]any{"defaults": map[string]string{}, "overrides": overrides, "endpoints": advertised})
}

func (s *Server) listNamespaces(w http.ResponseWriter, r *http.Request) {
	var parent []string
	if p := r.URL.Query().Get("parent"); p != "" {
		parent = strings.Split(p, "\x1f")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if parent != nil {
		if _, ok := s.namespaces[nsKey(parent)]; !ok {
			writeError(w, http.StatusNotFound, "NoSuchNamespaceException", "parent namespace does not exist")
			return
		}
	}
	out := [][]string{}
	for k := range s.namespaces {
		ns := strings.Split(k, "\x1f")
		if len(ns) == len(parent)+1 && slices.Equal(ns[:len(parent)], parent) {
			out = append(out, ns)
		}
	}
	sort.Slice(out, func(i, j int) bool { return nsKey(out[i]) < nsKey(out[j]) })
	writeJSON(w, http.StatusOK, map[string]any{"namespaces": out})
}

func (s *Server) createNamespace(w http.ResponseWriter, body []byte) {
	var req struct {
		Namespace  []string          `json:"namespace"`
		Properties map[string]string `json:"properties"`
	}
	if err := json.Unmarshal(body, &req); err != nil || len(req.Namespace) == 0 {
		writeError(w, http.StatusBadRequest, "BadRequestException", "malformed namespace")
		return
	}
	if req.Properties == nil {
		req.Properties = map[string]string{}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k := nsKey(req.Namespace)
	if _, ok := s.namespaces[k]; ok {
		writeError(w, http.StatusConflict, "AlreadyExistsException", "namespace already exists")
		return
	}
	if n := len(req.Namespace); s.opts.RequireParentNamespace && n > 1 {
		if _, ok := s.namespaces[nsKey(req.Namespace[:n-1])]; !ok {
			writeError(w, http.StatusNotFound, "NoSuchNamespaceException", "parent namespace does not exist")
			return
		}
	}
	s.namespaces[k] = req.Properties
	writeJSON(w, http.StatusOK, map[string]any{"namespace": req.Namespace, "properties": req.Properties})
}

func (s *Server) namespace(w http.ResponseWriter, r *http.Request, ns []string) {
	s.mu.Lock()
	props, ok := s.namespaces[nsKey(ns)]
	s.mu.Unlock()
	if !ok {
		if r.Method == http.MethodHead {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		writeError(w, http.StatusNotFound, "NoSuchNamespaceException", "namespace does not exist")
		return
	}
	switch r.Method {
	case http.MethodHead:
		w.WriteHeader(http.StatusNoContent)
	case http.MethodGet:
		writeJSON(w, http.StatusOK, map[string]any{"namespace": ns, "properties": props})
	default:
		writeError(w, http.StatusNotImplemented, "UnsupportedOperationException", "not implemented by the stand-in")
	}
}

func (s *Server) listTables(w http.ResponseWriter, ns []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.namespaces[nsKey(ns)]; !ok {
		writeError(w, http.StatusNotFound, "NoSuchNamespaceException", "namespace does not exist")
		return
	}
	out := []map[string]any{}
	prefix := nsKey(ns) + "\x00"
	for k := range s.tables {
		if name, ok := strings.CutPrefix(k, prefix); ok {
			out = append(out, map[string]any{"namespace": ns, "name": name})
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"identifiers": out})
}

func (s *Server) register(ctx context.Context, w http.ResponseWriter, ns []string, body []byte) {
	var req struct {
		Name             string `json:"name"`
		MetadataLocation string `json:"metadata-location"`
		Overwrite        bool   `json:"overwrite"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		writeError(w, http.StatusBadRequest, "BadRequestException", "malformed register request")
		return
	}
	overwrite := req.Overwrite
	if overwrite {
		switch s.opts.Overwrite {
		case OverwriteRejected:
			writeError(w, http.StatusBadRequest, "BadRequestException", "overwrite is not supported by this catalog")
			return
		case OverwriteUnsupported:
			writeError(w, http.StatusNotAcceptable, "UnsupportedOperationException", "Registering tables with overwrite is not supported")
			return
		case OverwriteIgnored:
			overwrite = false
		}
	}
	// Read the metadata before taking the lock: a real catalog validates the file it is
	// asked to register.
	md, err := s.readMetadata(ctx, req.MetadataLocation)
	if err != nil {
		writeError(w, http.StatusBadRequest, "BadRequestException", "cannot read metadata at the given location")
		return
	}
	if s.opts.RequireCurrentSnapshotID && !s.hasCurrentSnapshotID(ctx, req.MetadataLocation) {
		writeError(w, http.StatusInternalServerError, "ValueInstantiationException", "Cannot build IcebergTableMetadata, some of required attributes are not set [currentSnapshotId]")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.namespaces[nsKey(ns)]; !ok {
		if !s.opts.ImplicitNamespaces {
			writeError(w, http.StatusNotFound, "NoSuchNamespaceException", "namespace does not exist")
			return
		}
		s.namespaces[nsKey(ns)] = map[string]string{}
	}
	k := tableKey(ns, req.Name)
	if _, exists := s.tables[k]; exists && !overwrite {
		writeError(w, http.StatusConflict, "AlreadyExistsException", "table already exists")
		return
	}
	s.tables[k] = req.MetadataLocation
	writeLoadResult(w, req.MetadataLocation, md)
}

func (s *Server) table(ctx context.Context, w http.ResponseWriter, r *http.Request, ns []string, name string, body []byte) {
	k := tableKey(ns, name)
	s.mu.Lock()
	loc, ok := s.tables[k]
	s.mu.Unlock()
	if !ok {
		if r.Method == http.MethodHead {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		writeError(w, http.StatusNotFound, "NoSuchTableException", "table does not exist")
		return
	}
	switch r.Method {
	case http.MethodHead:
		w.WriteHeader(http.StatusNoContent)
	case http.MethodGet:
		md, err := s.readMetadata(ctx, loc)
		if err != nil {
			writeError(w, http.StatusInternalServerError, "ServerErrorException", "cannot read table metadata")
			return
		}
		writeLoadResult(w, loc, md)
	case http.MethodDelete:
		s.mu.Lock()
		if s.tables[k] != loc {
			s.mu.Unlock()
			writeError(w, http.StatusNotFound, "NoSuchTableException", "table does not exist")
			return
		}
		delete(s.tables, k)
		s.mu.Unlock()
		// A purge deletes the table's files. Deleting the current metadata file is enough
		// for tests to notice a client that purges when it must not.
		if r.URL.Query().Get("purgeRequested") == "true" {
			if p, ok := strings.CutPrefix(loc, "file://"); ok {
				_ = os.Remove(p)
			}
		}
		w.WriteHeader(http.StatusNoContent)
	case http.MethodPost:
		s.commit(ctx, w, k, loc, body)
	}
}

// unregister removes the table and answers its last metadata location and metadata, as
// the spec's unregisterTable does; no file is touched.
func (s *Server) unregister(ctx context.Context, w http.ResponseWriter, k string) {
	s.mu.Lock()
	loc, ok := s.tables[k]
	delete(s.tables, k)
	s.mu.Unlock()
	if !ok {
		writeError(w, http.StatusNotFound, "NoSuchTableException", "table does not exist")
		return
	}
	md, err := s.readMetadata(ctx, loc)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "ServerErrorException", "cannot read table metadata")
		return
	}
	raw, err := json.Marshal(md)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "ServerErrorException", "cannot encode metadata")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"metadata-location": loc, "metadata": json.RawMessage(raw)})
}

// commit applies a CommitTableRequest the way a catalog does: check the requirements
// against the current metadata, apply the updates with iceberg-go, write the new metadata
// file, and swap the pointer only if nobody committed meanwhile.
func (s *Server) commit(ctx context.Context, w http.ResponseWriter, k, loc string, body []byte) {
	var req struct {
		Requirements table.Requirements `json:"requirements"`
		Updates      table.Updates      `json:"updates"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		writeError(w, http.StatusBadRequest, "BadRequestException", "malformed commit request: "+err.Error())
		return
	}
	base, err := s.readMetadata(ctx, loc)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "ServerErrorException", "cannot read table metadata")
		return
	}
	for _, req := range req.Requirements {
		if err := req.Validate(base); err != nil {
			writeError(w, http.StatusConflict, "CommitFailedException", "requirement failed: "+err.Error())
			return
		}
	}
	md, err := table.UpdateTableMetadata(base, req.Updates, loc)
	if err != nil {
		writeError(w, http.StatusBadRequest, "BadRequestException", "cannot apply updates: "+err.Error())
		return
	}
	newLoc, err := s.writeMetadata(ctx, md, loc)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "ServerErrorException", "cannot write table metadata")
		return
	}
	s.mu.Lock()
	if s.tables[k] != loc {
		s.mu.Unlock()
		writeError(w, http.StatusConflict, "CommitFailedException", "table changed concurrently")
		return
	}
	s.tables[k] = newLoc
	s.mu.Unlock()
	raw, _ := json.Marshal(md)
	writeJSON(w, http.StatusOK, map[string]any{"metadata-location": newLoc, "metadata": json.RawMessage(raw)})
}

func (s *Server) readMetadata(ctx context.Context, loc string) (table.Metadata, error) {
	fs, err := icebergio.LoadFS(ctx, s.opts.IOProps, loc)
	if err != nil {
		return nil, err
	}
	f, err := fs.Open(loc)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return table.ParseMetadata(f)
}

// hasCurrentSnapshotID reports whether the metadata file at loc has a current-snapshot-id
// field (parsed metadata cannot tell an absent field from -1).
func (s *Server) hasCurrentSnapshotID(ctx context.Context, loc string) bool {
	fs, err := icebergio.LoadFS(ctx, s.opts.IOProps, loc)
	if err != nil {
		return false
	}
	f, err := fs.Open(loc)
	if err != nil {
		return false
	}
	defer f.Close()
	var raw map[string]json.RawMessage
	if err := json.NewDecoder(f).Decode(&raw); err != nil {
		return false
	}
	_, ok := raw["current-snapshot-id"]
	return ok
}

// writeMetadata writes md as <dir of prev>/<n>-<uuid>.metadata.json through iceberg-go io.
func (s *Server) writeMetadata(ctx context.Context, md table.Metadata, prev string) (string, error) {
	fs, err := icebergio.LoadFS(ctx, s.opts.IOProps, prev)
	if err != nil {
		return "", err
	}
	wfs, ok := fs.(icebergio.WriteFileIO)
	if !ok {
		return "", errors.New("metadata location is not writable")
	}
	version := 0
	if n, err := fmt.Sscanf(path.Base(prev), "%05d-", &version); n != 1 || err != nil {
		version = 0
	}
	raw, err := json.Marshal(md)
	if err != nil {
		return "", err
	}
	// The folder of prev, kept as a URL (path.Dir would fold the "//" of s3://).
	dir := prev[:strings.LastIndex(prev, "/")]
	newPath := fmt.Sprintf("%s/%05d-%s.metadata.json", dir, version+1, uuid.NewString())
	if err := wfs.WriteFile(newPath, raw); err != nil {
		return "", err
	}
	return newPath, nil
}

func writeLoadResult(w http.ResponseWriter, loc string, md table.Metadata) {
	raw, err := json.Marshal(md)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "ServerErrorException", "cannot encode metadata")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"metadata-location": loc, "metadata": json.RawMessage(raw), "config": map[string]string{}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, typ, msg string) {
	writeJSON(w, status, map[string]any{"error": map[string]any{"message": msg, "type": typ, "code": status}})
}
