package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/go-chi/chi/v5"

	"github.com/iceberg-remotes/iceberg-remotes/internal/api/apigen"
	"github.com/iceberg-remotes/iceberg-remotes/internal/apperr"
)

// validator checks requests against api/openapi.yaml (embedded in the generated code) with
// kin-openapi, the way lakeFS validates its own API, and answers 400 with a message that
// names the offending field.
type validator struct {
	spec *openapi3.T
	// fields are the property names of every schema in the spec (see needsRewrite).
	fields [][]byte
}

func newValidator() (*validator, error) {
	spec, err := apigen.GetSpec()
	if err != nil {
		return nil, fmt.Errorf("api: load embedded spec: %w", err)
	}
	v := &validator{spec: spec}
	seen := map[string]bool{}
	for _, s := range spec.Components.Schemas {
		for name := range s.Value.Properties {
			if !seen[name] {
				seen[name] = true
				v.fields = append(v.fields, []byte(name))
			}
		}
	}
	return v, nil
}

// needsRewrite reports whether a body may hold a key that names a field only up to case
// (Go's JSON decoding matches keys case-insensitively, so "Force_Update" would set
// force_update), or an escaped one that might. Such a body is validated with the spec's
// defaults written into it, as kin-openapi does by default: the rewritten body carries the
// exact key too, which wins, so the variant is ignored like any unknown key. Every other
// body is validated once and left as it came.
func (v *validator) needsRewrite(body []byte) bool {
	if bytes.IndexByte(body, '\\') >= 0 {
		return true
	}
	for rest := body; ; {
		i := bytes.IndexByte(rest, '"')
		if i < 0 {
			return false
		}
		rest = rest[i+1:]
		j := bytes.IndexByte(rest, '"')
		if j < 0 {
			return false
		}
		tok := rest[:j]
		rest = rest[j+1:]
		for _, f := range v.fields {
			if bytes.EqualFold(tok, f) && !bytes.Equal(tok, f) {
				return true
			}
		}
	}
}

// middleware runs after chi routed the request, so the route pattern names the operation.
func (v *validator) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := v.validate(r); err != nil {
			apperr.Write(w, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (v *validator) validate(r *http.Request) error {
	rctx := chi.RouteContext(r.Context())
	path := strings.TrimPrefix(rctx.RoutePattern(), BaseURL)
	item := v.spec.Paths.Find(path)
	if item == nil {
		return fmt.Errorf("api: route %q is not in the spec", path) // a wiring bug: 500
	}
	op := item.GetOperation(r.Method)
	if op == nil {
		return fmt.Errorf("api: %s %q is not in the spec", r.Method, path)
	}

	var body []byte
	if op.RequestBody != nil {
		var err error
		body, err = io.ReadAll(r.Body) // bounded by limitBody
		if err != nil {
			return apperr.BadRequest("could not read request body")
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		// The spec marks the body optional (as lakeFS does); the operations cannot do
		// anything without one.
		if len(bytes.TrimSpace(body)) == 0 {
			return apperr.BadRequest("missing request body")
		}
		if ct := r.Header.Get("Content-Type"); ct == "" {
			r.Header.Set("Content-Type", "application/json") // curl -d without -H
		} else if mt, _, err := mime.ParseMediaType(ct); err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return apperr.BadRequest("unsupported Content-Type %q: send application/json", ct)
		}
	}

	params := map[string]string{}
	for i, k := range rctx.URLParams.Keys {
		params[k] = rctx.URLParams.Values[i]
	}
	input := &openapi3filter.RequestValidationInput{
		Request:    r,
		PathParams: params,
		Route:      &routers.Route{Spec: v.spec, Path: path, PathItem: item, Method: r.Method, Operation: op},
		Options:    validationOptions,
	}
	if body != nil && v.needsRewrite(body) {
		input.Options = rewritingOptions
	}
	err := openapi3filter.ValidateRequest(r.Context(), input)
	if err == nil {
		return nil
	}
	// The body is scanned for its syntax only when it failed validation, to name where it
	// stops being JSON (kin-openapi's own decoding error does not).
	if op.RequestBody != nil {
		if !json.Valid(body) {
			return apperr.BadRequest("malformed JSON body: %s", jsonSyntaxError(body))
		}
	}
	return apperr.BadRequest("%s", describeValidationError(err))
}

// validationOptions validate each request once, without rewriting it: every default the
// spec declares is the zero value its handler assumes anyway (false flags; a page size of
// 0 is pageSize's default), so writing them into the request would only make kin-openapi
// re-marshal the body for the handler to decode again (TestSpecDefaultsAreZeroValues keeps
// this true). rewritingOptions write them, for the bodies needsRewrite picks.
var (
	validationOptions = &openapi3filter.Options{
		AuthenticationFunc:  openapi3filter.NoopAuthenticationFunc, // authentication is its own middleware
		SkipSettingDefaults: true,
	}
	rewritingOptions = &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}
)

// describeValidationError turns kin-openapi's error into a one-line message naming the field.
func describeValidationError(err error) string {
	var schemaErr *openapi3.SchemaError
	if errors.As(err, &schemaErr) {
		where := "/" + strings.Join(schemaErr.JSONPointer(), "/")
		return fmt.Sprintf("invalid request body at %s: %s", where, schemaErr.Reason)
	}
	var reqErr *openapi3filter.RequestError
	if errors.As(err, &reqErr) {
		if reqErr.Parameter != nil {
			return fmt.Sprintf("invalid parameter %q: %s", reqErr.Parameter.Name, reqErr.Reason)
		}
		if reqErr.Reason != "" {
			return "invalid request: " + reqErr.Reason
		}
	}
	return "invalid request"
}

// jsonSyntaxError describes where a body stops being JSON.
func jsonSyntaxError(body []byte) string {
	var v any
	err := json.Unmarshal(body, &v)
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return fmt.Sprintf("%s (at byte %d)", syn.Error(), syn.Offset)
	}
	if err != nil {
		return err.Error()
	}
	return "invalid JSON"
}
