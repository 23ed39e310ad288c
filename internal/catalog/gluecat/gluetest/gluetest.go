// Package gluetest is an in-process AWS Glue Data Catalog stand-in for tests: an httptest
// server on 127.0.0.1 speaking Glue's awsJson1_1 protocol to the real aws-sdk-go-v2 client.
//
// It is strict where a lenient fake would hide bugs:
//   - transport: POST /, Content-Type application/x-amz-json-1.1, X-Amz-Target AWSGlue.<Op>;
//   - authentication: the SigV4 Authorization header must name the configured access key and
//     its signature is recomputed with the configured secret (AWS's documented SigV4 algorithm)
//     over the headers the client says it signed, so a wrong key or secret fails as on AWS;
//   - request shapes: there is no Glue OpenAPI document, so each body is decoded with
//     DisallowUnknownFields into aws-sdk-go-v2's own glue *Input struct (whose field names are
//     Glue's JSON member names) and the members Glue documents as required are checked;
//     anything else is InvalidInputException, as Glue answers;
//   - semantics: names are case-insensitive (Glue lower-cases them), VersionId is bumped on
//     every UpdateTable and checked against the request's VersionId
//     (ConcurrentModificationException on mismatch), SkipArchive decides whether the previous
//     version is archived.
//
// Errors are `{"__type":"<Code>","Message":"..."}` with status 400 (403 for signature
// failures, 500 for internal errors), like Glue. Fault injection (Fail) and one-shot hooks
// (Before) let tests provoke throttling and races. Timestamps in requests (TableInput's
// LastAccessTime, LastAnalyzedTime) are not supported and are rejected as invalid input.
package gluetest

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	"github.com/aws/aws-sdk-go-v2/service/glue/types"

	"github.com/iceberg-remotes/iceberg-remotes/internal/config"
)

// Default credentials the stand-in accepts.
const (
	AccessKeyID     = "AKIDGLUETEST00000001"
	SecretAccessKey = "gluetest-secret-key"
	Region          = "us-east-1"
)

// Server is a running Glue stand-in.
type Server struct {
	srv *httptest.Server

	accessKeyID, secretAccessKey, region string

	mu      sync.Mutex
	dbs     map[string]*database
	faults  map[string][]string
	hooks   map[string][]func()
	calls   map[string]int
	retries map[string]int // requests an AWS SDK marked as a repeated attempt
	updates []glue.UpdateTableInput
}

type database struct {
	name    string
	created time.Time
	tables  map[string]*table
}

type table struct {
	input    types.TableInput
	created  time.Time
	updated  time.Time
	version  int
	archived []types.TableInput // previous versions kept unless SkipArchive
}

// TableState is a snapshot of a stored table, for assertions.
type TableState struct {
	Name       string
	TableType  string
	Parameters map[string]string
	VersionID  string
	Archived   int // number of archived previous versions
	Location   string
}

// New starts a stand-in on 127.0.0.1 that accepts the default credentials; it is closed in
// t.Cleanup.
func New(t testing.TB) *Server { return start(t, httptest.NewServer) }

// NewTLS is New over HTTPS, with a certificate of its own (CertPEM).
func NewTLS(t testing.TB) *Server { return start(t, httptest.NewTLSServer) }

func start(t testing.TB, serve func(http.Handler) *httptest.Server) *Server {
	s := &Server{
		accessKeyID: AccessKeyID, secretAccessKey: SecretAccessKey, region: Region,
		dbs: map[string]*database{}, faults: map[string][]string{}, hooks: map[string][]func(){},
		calls: map[string]int{}, retries: map[string]int{},
	}
	s.srv = serve(http.HandlerFunc(s.serveHTTP))
	t.Cleanup(s.srv.Close)
	return s
}

// CertPEM is the PEM of an HTTPS stand-in's certificate (NewTLS), for a client's CA bundle.
func (s *Server) CertPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.srv.Certificate().Raw})
}

// Endpoint is the base URL to set as the Glue client's BaseEndpoint.
func (s *Server) Endpoint() string { return s.srv.URL }

// Config returns a glue remote configuration pointing at the stand-in with valid keys.
func (s *Server) Config() config.GlueRemote {
	return config.GlueRemote{
		Region: s.region, AccessKeyID: s.accessKeyID, SecretAccessKey: s.secretAccessKey,
		Endpoint: s.srv.URL,
	}
}

// Fail makes the next n calls of op (e.g. "UpdateTable") fail with the Glue error code
// (e.g. "ThrottlingException") before anything else happens.
func (s *Server) Fail(op, code string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := 0; i < n; i++ {
		s.faults[op] = append(s.faults[op], code)
	}
}

// Before runs fn once, just before the next call of op is executed (after authentication
// and validation), outside the server's lock: fn may use the Server's methods.
func (s *Server) Before(op string, fn func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hooks[op] = append(s.hooks[op], fn)
}

// Calls returns how many requests for op reached the stand-in (including failed ones).
func (s *Server) Calls(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[op]
}

// Retries counts the requests of operation op that an AWS SDK sent as a repeated attempt
// (its amz-sdk-request header says attempt=2 or more); Calls minus Retries is the calls.
func (s *Server) Retries(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.retries[op]
}

// sdkRetry tells whether an AWS SDK sent r as a repeated attempt ("attempt=N; max=M").
func sdkRetry(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Amz-Sdk-Request"), ";") {
		if n, ok := strings.CutPrefix(strings.TrimSpace(part), "attempt="); ok {
			return n != "1"
		}
	}
	return false
}

// Updates returns the UpdateTable requests accepted so far.
func (s *Server) Updates() []glue.UpdateTableInput {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]glue.UpdateTableInput(nil), s.updates...)
}

// Table returns a copy of a stored table.
func (s *Server) Table(db, name string) (TableState, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.dbs[strings.ToLower(db)]
	if !ok {
		return TableState{}, false
	}
	t, ok := d.tables[strings.ToLower(name)]
	if !ok {
		return TableState{}, false
	}
	st := TableState{
		Name: aws.ToString(t.input.Name), TableType: aws.ToString(t.input.TableType),
		Parameters: map[string]string{}, VersionID: strconv.Itoa(t.version), Archived: len(t.archived),
	}
	for k, v := range t.input.Parameters {
		st.Parameters[k] = v
	}
	if t.input.StorageDescriptor != nil {
		st.Location = aws.ToString(t.input.StorageDescriptor.Location)
	}
	return st, true
}

// PutTable stores a table directly (e.g. a non-Iceberg one), as another Glue client would.
func (s *Server) PutTable(db string, in types.TableInput) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.dbs[strings.ToLower(db)]
	if !ok {
		d = &database{name: strings.ToLower(db), created: time.Now(), tables: map[string]*table{}}
		s.dbs[d.name] = d
	}
	in.Name = aws.String(strings.ToLower(aws.ToString(in.Name)))
	d.tables[*in.Name] = &table{input: in, created: time.Now(), updated: time.Now(), version: 1}
}

// SetParameter changes one parameter of a stored table and bumps its version, as a
// concurrent writer's UpdateTable would. A missing table is left alone.
func (s *Server) SetParameter(db, name, key, value string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.dbs[strings.ToLower(db)]
	if !ok {
		return
	}
	t, ok := d.tables[strings.ToLower(name)]
	if !ok {
		return
	}
	params := map[string]string{}
	for k, v := range t.input.Parameters {
		params[k] = v
	}
	params[key] = value
	t.archived = append(t.archived, t.input)
	t.input.Parameters = params
	t.version++
	t.updated = time.Now()
}

// apiError is a Glue error answer.
type apiError struct {
	status  int
	code    string
	message string
}

func errf(status int, code, format string, args ...any) *apiError {
	return &apiError{status: status, code: code, message: fmt.Sprintf(format, args...)}
}

func invalid(format string, args ...any) *apiError {
	return errf(http.StatusBadRequest, "InvalidInputException", format, args...)
}

func notFound(format string, args ...any) *apiError {
	return errf(http.StatusBadRequest, "EntityNotFoundException", format, args...)
}

func writeError(w http.ResponseWriter, e *apiError) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-ErrorType", e.code)
	w.WriteHeader(e.status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": e.code, "Message": e.message})
}

const maxBody = 1 << 20

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/" {
		writeError(w, errf(http.StatusNotFound, "UnknownOperationException", "expected POST /, got %s %s", r.Method, r.URL.Path))
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-amz-json-1.1" {
		writeError(w, errf(http.StatusBadRequest, "SerializationException", "unexpected Content-Type %q", ct))
		return
	}
	target := r.Header.Get("X-Amz-Target")
	op, ok := strings.CutPrefix(target, "AWSGlue.")
	if !ok {
		writeError(w, errf(http.StatusBadRequest, "UnknownOperationException", "unexpected X-Amz-Target %q", target))
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		writeError(w, errf(http.StatusBadRequest, "SerializationException", "reading body: %v", err))
		return
	}
	s.mu.Lock()
	s.calls[op]++
	if sdkRetry(r) {
		s.retries[op]++
	}
	s.mu.Unlock()
	if e := s.authenticate(r, body); e != nil {
		writeError(w, e)
		return
	}
	s.mu.Lock()
	var fault string
	if q := s.faults[op]; len(q) > 0 {
		fault, s.faults[op] = q[0], q[1:]
	}
	s.mu.Unlock()
	if fault != "" {
		status := http.StatusBadRequest
		if fault == "InternalServiceException" || fault == "ServiceUnavailableException" {
			status = http.StatusInternalServerError
		}
		writeError(w, errf(status, fault, "injected %s", fault))
		return
	}
	handler, ok := operations[op]
	if !ok {
		writeError(w, errf(http.StatusBadRequest, "UnknownOperationException", "operation %q is not supported by the stand-in", op))
		return
	}
	out, e := handler(s, body)
	if e != nil {
		writeError(w, e)
		return
	}
	raw, err := json.Marshal(out)
	if err != nil {
		writeError(w, errf(http.StatusInternalServerError, "InternalServiceException", "encoding response: %v", err))
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	_, _ = w.Write(raw)
}

// authenticate checks the SigV4 Authorization header: the access key must be the configured
// one and the signature must match the one recomputed with the configured secret.
func (s *Server) authenticate(r *http.Request, body []byte) *apiError {
	authz := r.Header.Get("Authorization")
	if authz == "" {
		return errf(http.StatusForbidden, "MissingAuthenticationTokenException", "Missing Authentication Token")
	}
	rest, ok := strings.CutPrefix(authz, "AWS4-HMAC-SHA256 ")
	if !ok {
		return errf(http.StatusBadRequest, "IncompleteSignatureException", "unsupported authorization scheme")
	}
	fields := map[string]string{}
	for _, part := range strings.Split(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		fields[k] = v
	}
	scope := strings.Split(fields["Credential"], "/")
	if len(scope) != 5 || fields["SignedHeaders"] == "" || fields["Signature"] == "" {
		return errf(http.StatusBadRequest, "IncompleteSignatureException", "incomplete Authorization header")
	}
	if scope[0] != s.accessKeyID {
		return errf(http.StatusBadRequest, "UnrecognizedClientException", "The security token included in the request is invalid.")
	}
	if scope[2] != s.region || scope[3] != "glue" || scope[4] != "aws4_request" {
		return errf(http.StatusBadRequest, "InvalidSignatureException", "Credential should be scoped to region %q and service glue", s.region)
	}
	signingTime, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if err != nil {
		return errf(http.StatusBadRequest, "IncompleteSignatureException", "missing or malformed X-Amz-Date")
	}
	if scope[1] != signingTime.Format("20060102") {
		return errf(http.StatusForbidden, "InvalidSignatureException", "Date in Credential scope does not match YYYYMMDD from X-Amz-Date")
	}
	// Recompute the signature over exactly the headers the client says it signed. Which
	// headers a client signs is its choice (botocore signs amz-sdk-invocation-id and
	// amz-sdk-request, aws-sdk-go-v2 does not), so the verifier must not pick them itself.
	want := sigV4Signature(r, body, strings.Split(fields["SignedHeaders"], ";"), fields["Credential"],
		r.Header.Get("X-Amz-Date"), s.secretAccessKey)
	if !hmac.Equal([]byte(want), []byte(fields["Signature"])) {
		return errf(http.StatusForbidden, "InvalidSignatureException",
			"The request signature we calculated does not match the signature you provided.")
	}
	return nil
}

// sigV4Signature computes the AWS Signature Version 4 of r as AWS documents it (canonical
// request, string to sign, derived signing key) over the given signed headers, for the
// credential scope <key>/<date>/<region>/<service>/aws4_request.
func sigV4Signature(r *http.Request, body []byte, signed []string, credential, amzDate, secret string) string {
	var canon strings.Builder
	canon.WriteString(r.Method + "\n")
	path := r.URL.EscapedPath()
	if path == "" {
		path = "/"
	}
	canon.WriteString(path + "\n")
	q := r.URL.Query()
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var pairs []string
	for _, k := range keys {
		vs := append([]string(nil), q[k]...)
		sort.Strings(vs)
		for _, v := range vs {
			pairs = append(pairs, url.QueryEscape(k)+"="+strings.ReplaceAll(url.QueryEscape(v), "+", "%20"))
		}
	}
	canon.WriteString(strings.Join(pairs, "&") + "\n")
	for _, h := range signed {
		var vals []string
		switch h {
		case "host":
			vals = []string{r.Host}
		case "content-length":
			vals = []string{strconv.FormatInt(r.ContentLength, 10)}
		default:
			vals = r.Header.Values(h)
		}
		for i, v := range vals {
			vals[i] = strings.Join(strings.Fields(v), " ")
		}
		canon.WriteString(h + ":" + strings.Join(vals, ",") + "\n")
	}
	canon.WriteString("\n" + strings.Join(signed, ";") + "\n")
	sum := sha256.Sum256(body)
	canon.WriteString(hex.EncodeToString(sum[:]))

	scope := credential[strings.Index(credential, "/")+1:]
	crSum := sha256.Sum256([]byte(canon.String()))
	toSign := "AWS4-HMAC-SHA256\n" + amzDate + "\n" + scope + "\n" + hex.EncodeToString(crSum[:])
	parts := strings.Split(scope, "/") // date, region, service, aws4_request
	key := []byte("AWS4" + secret)
	for _, p := range parts {
		key = hmacSHA256(key, p)
	}
	return hex.EncodeToString(hmacSHA256(key, toSign))
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

// decode parses a request body strictly into the SDK's input struct.
func decode(body []byte, into any) *apiError {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(into); err != nil {
		return invalid("request does not match the Glue API shape: %v", err)
	}
	if dec.More() {
		return invalid("trailing data after the request object")
	}
	return nil
}

// name checks a required Glue name member (1-255 characters, single line).
func name(member string, v *string) (string, *apiError) {
	if v == nil || *v == "" {
		return "", invalid("1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", member)
	}
	if len(*v) > 255 || strings.ContainsAny(*v, "\r\n") {
		return "", invalid("1 validation error detected: Value at '%s' failed to satisfy constraint: Member must have length less than or equal to 255 and be a single line", member)
	}
	return strings.ToLower(*v), nil
}

func checkTableInput(in *types.TableInput) (string, *apiError) {
	if in == nil {
		return "", invalid("1 validation error detected: Value null at 'tableInput' failed to satisfy constraint: Member must not be null")
	}
	n, e := name("tableInput.name", in.Name)
	if e != nil {
		return "", e
	}
	for k, v := range in.Parameters {
		if k == "" || len(k) > 255 || len(v) > 512000 {
			return "", invalid("table parameter %q violates Glue's length constraints", k)
		}
	}
	if sd := in.StorageDescriptor; sd != nil {
		for i, c := range sd.Columns {
			if _, e := name(fmt.Sprintf("tableInput.storageDescriptor.columns.%d.member.name", i+1), c.Name); e != nil {
				return "", e
			}
		}
	}
	return n, nil
}

type opFunc func(s *Server, body []byte) (any, *apiError)

var operations = map[string]opFunc{
	"GetDatabase":    (*Server).getDatabase,
	"GetDatabases":   (*Server).getDatabases,
	"CreateDatabase": (*Server).createDatabase,
	"GetTable":       (*Server).getTable,
	"GetTables":      (*Server).getTables,
	"CreateTable":    (*Server).createTable,
	"UpdateTable":    (*Server).updateTable,
	"DeleteTable":    (*Server).deleteTable,
}

// runHooks runs the one-shot hooks registered for op.
func (s *Server) runHooks(op string) {
	s.mu.Lock()
	hooks := s.hooks[op]
	delete(s.hooks, op)
	s.mu.Unlock()
	for _, fn := range hooks {
		fn()
	}
}

func epoch(t time.Time) float64 { return float64(t.UnixMilli()) / 1000 }

func dbJSON(d *database) map[string]any {
	return map[string]any{"Name": d.name, "CatalogId": "000000000000", "CreateTime": epoch(d.created)}
}

// tableJSON renders a stored table as Glue's Table shape (timestamps as epoch seconds, as
// awsJson1_1 encodes them; null members omitted).
func tableJSON(db string, t *table) (map[string]any, *apiError) {
	raw, err := json.Marshal(t.input)
	if err != nil {
		return nil, errf(http.StatusInternalServerError, "InternalServiceException", "encoding table: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, errf(http.StatusInternalServerError, "InternalServiceException", "encoding table: %v", err)
	}
	out := stripNulls(m).(map[string]any)
	delete(out, "LastAccessTime")
	delete(out, "LastAnalyzedTime")
	out["DatabaseName"] = db
	out["CatalogId"] = "000000000000"
	out["CreateTime"] = epoch(t.created)
	out["UpdateTime"] = epoch(t.updated)
	out["VersionId"] = strconv.Itoa(t.version)
	out["IsRegisteredWithLakeFormation"] = false
	return out, nil
}

func stripNulls(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if e == nil {
				delete(x, k)
				continue
			}
			x[k] = stripNulls(e)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = stripNulls(e)
		}
		return x
	}
	return v
}

func (s *Server) lookupDB(n string) (*database, *apiError) {
	d, ok := s.dbs[n]
	if !ok {
		return nil, notFound("Database %s not found.", n)
	}
	return d, nil
}

func (s *Server) getDatabase(body []byte) (any, *apiError) {
	var in glue.GetDatabaseInput
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	n, e := name("name", in.Name)
	if e != nil {
		return nil, e
	}
	s.runHooks("GetDatabase")
	s.mu.Lock()
	defer s.mu.Unlock()
	d, e := s.lookupDB(n)
	if e != nil {
		return nil, e
	}
	return map[string]any{"Database": dbJSON(d)}, nil
}

func (s *Server) getDatabases(body []byte) (any, *apiError) {
	var in glue.GetDatabasesInput
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	if in.MaxResults != nil && (*in.MaxResults < 1 || *in.MaxResults > 100) {
		return nil, invalid("maxResults must be between 1 and 100")
	}
	s.runHooks("GetDatabases")
	s.mu.Lock()
	defer s.mu.Unlock()
	names := make([]string, 0, len(s.dbs))
	for n := range s.dbs {
		names = append(names, n)
	}
	sort.Strings(names)
	start := 0
	if in.NextToken != nil {
		i, err := strconv.Atoi(*in.NextToken)
		if err != nil || i < 0 || i > len(names) {
			return nil, invalid("invalid NextToken")
		}
		start = i
	}
	limit := 100
	if in.MaxResults != nil {
		limit = int(*in.MaxResults)
	}
	list := []any{}
	end := min(start+limit, len(names))
	for _, n := range names[start:end] {
		list = append(list, dbJSON(s.dbs[n]))
	}
	out := map[string]any{"DatabaseList": list}
	if end < len(names) {
		out["NextToken"] = strconv.Itoa(end)
	}
	return out, nil
}

func (s *Server) createDatabase(body []byte) (any, *apiError) {
	var in glue.CreateDatabaseInput
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	if in.DatabaseInput == nil {
		return nil, invalid("1 validation error detected: Value null at 'databaseInput' failed to satisfy constraint: Member must not be null")
	}
	n, e := name("databaseInput.name", in.DatabaseInput.Name)
	if e != nil {
		return nil, e
	}
	s.runHooks("CreateDatabase")
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.dbs[n]; ok {
		return nil, errf(http.StatusBadRequest, "AlreadyExistsException", "Database already exists.")
	}
	s.dbs[n] = &database{name: n, created: time.Now(), tables: map[string]*table{}}
	return map[string]any{}, nil
}

func (s *Server) getTable(body []byte) (any, *apiError) {
	var in glue.GetTableInput
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	db, e := name("databaseName", in.DatabaseName)
	if e != nil {
		return nil, e
	}
	tn, e := name("name", in.Name)
	if e != nil {
		return nil, e
	}
	s.runHooks("GetTable")
	s.mu.Lock()
	defer s.mu.Unlock()
	d, e := s.lookupDB(db)
	if e != nil {
		return nil, e
	}
	t, ok := d.tables[tn]
	if !ok {
		return nil, notFound("Table %s not found.", tn)
	}
	tj, e := tableJSON(db, t)
	if e != nil {
		return nil, e
	}
	return map[string]any{"Table": tj}, nil
}

// getTables pages like Glue: MaxResults 1 to 100 (100 when absent), an opaque NextToken
// while more tables remain. The filters the adapter never sends (Expression, a transaction
// or point in time) are refused rather than ignored.
func (s *Server) getTables(body []byte) (any, *apiError) {
	var in glue.GetTablesInput
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	db, e := name("databaseName", in.DatabaseName)
	if e != nil {
		return nil, e
	}
	if in.MaxResults != nil && (*in.MaxResults < 1 || *in.MaxResults > 100) {
		return nil, invalid("1 validation error detected: Value at 'maxResults' failed to satisfy constraint: Member must have value between 1 and 100")
	}
	if in.Expression != nil || in.TransactionId != nil || in.QueryAsOfTime != nil || in.IncludeStatusDetails != nil || len(in.AttributesToGet) > 0 {
		return nil, invalid("gluetest: GetTables filters are not supported by the stand-in")
	}
	s.runHooks("GetTables")
	s.mu.Lock()
	defer s.mu.Unlock()
	d, e := s.lookupDB(db)
	if e != nil {
		return nil, e
	}
	names := make([]string, 0, len(d.tables))
	for n := range d.tables {
		names = append(names, n)
	}
	sort.Strings(names)
	start := 0
	if in.NextToken != nil {
		// The token names the last table returned, so a page stays correct when tables are
		// added or dropped between pages.
		last, err := url.QueryUnescape(*in.NextToken)
		if err != nil || *in.NextToken == "" {
			return nil, invalid("invalid NextToken")
		}
		start = sort.SearchStrings(names, last)
		if start < len(names) && names[start] == last {
			start++
		}
	}
	limit := 100
	if in.MaxResults != nil {
		limit = int(*in.MaxResults)
	}
	end := min(start+limit, len(names))
	list := []any{}
	for _, n := range names[start:end] {
		tj, e := tableJSON(db, d.tables[n])
		if e != nil {
			return nil, e
		}
		list = append(list, tj)
	}
	out := map[string]any{"TableList": list}
	if end < len(names) {
		out["NextToken"] = url.QueryEscape(names[end-1])
	}
	return out, nil
}

func (s *Server) createTable(body []byte) (any, *apiError) {
	var in glue.CreateTableInput
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	db, e := name("databaseName", in.DatabaseName)
	if e != nil {
		return nil, e
	}
	tn, e := checkTableInput(in.TableInput)
	if e != nil {
		return nil, e
	}
	s.runHooks("CreateTable")
	s.mu.Lock()
	defer s.mu.Unlock()
	d, e := s.lookupDB(db)
	if e != nil {
		return nil, e
	}
	if _, ok := d.tables[tn]; ok {
		return nil, errf(http.StatusBadRequest, "AlreadyExistsException", "Table already exists.")
	}
	stored := *in.TableInput
	stored.Name = aws.String(tn)
	now := time.Now()
	d.tables[tn] = &table{input: stored, created: now, updated: now, version: 1}
	return map[string]any{}, nil
}

func (s *Server) updateTable(body []byte) (any, *apiError) {
	var in glue.UpdateTableInput
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	db, e := name("databaseName", in.DatabaseName)
	if e != nil {
		return nil, e
	}
	tn, e := checkTableInput(in.TableInput)
	if e != nil {
		return nil, e
	}
	s.runHooks("UpdateTable")
	s.mu.Lock()
	defer s.mu.Unlock()
	d, e := s.lookupDB(db)
	if e != nil {
		return nil, e
	}
	t, ok := d.tables[tn]
	if !ok {
		return nil, notFound("Table %s not found.", tn)
	}
	if in.VersionId != nil && *in.VersionId != strconv.Itoa(t.version) {
		return nil, errf(http.StatusBadRequest, "ConcurrentModificationException",
			"Update table failed due to concurrent modifications.")
	}
	if !aws.ToBool(in.SkipArchive) {
		t.archived = append(t.archived, t.input)
	}
	stored := *in.TableInput
	stored.Name = aws.String(tn)
	t.input = stored
	t.version++
	t.updated = time.Now()
	s.updates = append(s.updates, in)
	return map[string]any{}, nil
}

func (s *Server) deleteTable(body []byte) (any, *apiError) {
	var in glue.DeleteTableInput
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	db, e := name("databaseName", in.DatabaseName)
	if e != nil {
		return nil, e
	}
	tn, e := name("name", in.Name)
	if e != nil {
		return nil, e
	}
	s.runHooks("DeleteTable")
	s.mu.Lock()
	defer s.mu.Unlock()
	d, e := s.lookupDB(db)
	if e != nil {
		return nil, e
	}
	if _, ok := d.tables[tn]; !ok {
		return nil, notFound("Table %s not found.", tn)
	}
	delete(d.tables, tn)
	return map[string]any{}, nil
}
