package resttest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// DefaultSpecPath is the vendored Iceberg REST catalog contract
// (third_party/iceberg/rest-catalog-open-api.yaml), located from this source file so that
// tests in any package find it.
func DefaultSpecPath() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "..", "third_party", "iceberg", "rest-catalog-open-api.yaml")
}

// validator checks requests and responses against the Iceberg REST OpenAPI contract.
type validator struct {
	router routers.Router
	doc    *openapi3.T
}

// newValidator loads the contract. The spec's server list (`{scheme}://{host}/{basePath}`)
// is dropped so that routes match on the path alone (the stand-in listens on a random
// loopback port). The spec calls the {prefix} path segment "an optional prefix in the path";
// for a server without a prefix every /v1/{prefix}/... path is also registered without that
// segment (and without the prefix parameter), so that both shapes are validated against the
// same operations.
func newValidator(specPath string, withPrefix bool) (*validator, error) {
	// Loading the 6000-line contract is the slow part of starting a stand-in, and the
	// result is read-only, so it is shared by every stand-in of the test binary.
	key := fmt.Sprintf("%s|%t", specPath, withPrefix)
	validatorsMu.Lock()
	defer validatorsMu.Unlock()
	if v, ok := validators[key]; ok {
		return v, nil
	}
	v, err := loadValidator(specPath, withPrefix)
	if err != nil {
		return nil, err
	}
	validators[key] = v
	return v, nil
}

var (
	validatorsMu sync.Mutex
	validators   = map[string]*validator{}
)

func loadValidator(specPath string, withPrefix bool) (*validator, error) {
	raw, err := os.ReadFile(specPath)
	if err != nil {
		return nil, err
	}
	// The upstream spec points three response headers (ETag) at a *parameter* object,
	// which OpenAPI does not allow and kin-openapi rejects; the header is replaced by the
	// equivalent inline header object (a string). Nothing else is changed.
	raw = bytes.ReplaceAll(raw, []byte("$ref: '#/components/parameters/etag'"), []byte("schema: {type: string}"))
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(raw)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", specPath, err)
	}
	doc.Servers = nil
	if !withPrefix {
		paths := openapi3.NewPaths()
		for p, item := range doc.Paths.Map() {
			if rest, ok := strings.CutPrefix(p, "/v1/{prefix}/"); ok {
				paths.Set("/v1/"+rest, withoutPrefixParam(item))
				continue
			}
			paths.Set(p, item)
		}
		doc.Paths = paths
	}
	r, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("build router: %w", err)
	}
	return &validator{router: r, doc: doc}, nil
}

func withoutPrefixParam(item *openapi3.PathItem) *openapi3.PathItem {
	c := *item
	c.Parameters = dropPrefix(item.Parameters)
	for method, op := range item.Operations() {
		oc := *op
		oc.Parameters = dropPrefix(op.Parameters)
		c.SetOperation(method, &oc)
	}
	return &c
}

func dropPrefix(in openapi3.Parameters) openapi3.Parameters {
	var out openapi3.Parameters
	for _, p := range in {
		if p.Value != nil && p.Value.In == openapi3.ParameterInPath && p.Value.Name == "prefix" {
			continue
		}
		out = append(out, p)
	}
	return out
}

var filterOptions = &openapi3filter.Options{
	// The stand-in authenticates requests itself (and answers 401 in the contract's shape);
	// the validator checks shapes only.
	AuthenticationFunc: openapi3filter.NoopAuthenticationFunc,
	MultiError:         true,
}

// checkRequest validates r (its body is read and restored) and returns the input needed to
// validate the response later.
func (v *validator) checkRequest(r *http.Request) (*openapi3filter.RequestValidationInput, error) {
	route, params, err := v.router.FindRoute(r)
	if err != nil {
		return nil, fmt.Errorf("request %s %s matches no operation of the contract: %w", r.Method, r.URL.Path, err)
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	in := &openapi3filter.RequestValidationInput{Request: r.Clone(r.Context()), PathParams: params, Route: route, Options: filterOptions}
	in.Request.Body = io.NopCloser(bytes.NewReader(body))
	if route.Path == "/v1/oauth/tokens" {
		// kin-openapi decodes form bodies only for plain object schemas, and
		// OAuthTokenRequest is an anyOf; validate the decoded form against it directly.
		if err := v.checkTokenForm(body); err != nil {
			return nil, fmt.Errorf("request %s %s violates the contract: %w", r.Method, r.URL.Path, err)
		}
		opts := *filterOptions
		opts.ExcludeRequestBody = true
		in.Options = &opts
	}
	if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
		return nil, fmt.Errorf("request %s %s violates the contract: %w", r.Method, r.URL.Path, err)
	}
	return in, nil
}

func (v *validator) checkTokenForm(body []byte) error {
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return fmt.Errorf("malformed form body: %w", err)
	}
	obj := map[string]any{}
	for k, vs := range form {
		if len(vs) != 1 {
			return fmt.Errorf("form field %q repeated", k)
		}
		obj[k] = vs[0]
	}
	schema := v.doc.Components.Schemas["OAuthTokenRequest"]
	if schema == nil || schema.Value == nil {
		return fmt.Errorf("contract has no OAuthTokenRequest schema")
	}
	return schema.Value.VisitJSON(obj)
}

// checkResponse validates a recorded response against the operation the request matched.
func (v *validator) checkResponse(in *openapi3filter.RequestValidationInput, rec *httptest.ResponseRecorder) error {
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 rec.Code,
		Header:                 rec.Header(),
		Options:                filterOptions,
	}
	out.SetBodyBytes(rec.Body.Bytes())
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		return fmt.Errorf("response %d to %s %s violates the contract: %w", rec.Code, in.Request.Method, in.Request.URL.Path, err)
	}
	return nil
}
