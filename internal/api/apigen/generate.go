// Package apigen holds the code oapi-codegen generates from api/openapi.yaml: the request and
// response models, the chi router glue and the strict server interface the handlers implement.
// Do not edit apigen.gen.go; change the spec and run `go generate ./internal/api/apigen`.
package apigen

//go:generate go tool oapi-codegen -config config.yaml ../../../api/openapi.yaml
