// Package apiclient is the typed HTTP client of the iceberg-remotes API, generated from
// api/openapi.yaml (the spec the server's apigen is generated from).
package apiclient

//go:generate go tool oapi-codegen -config config.yaml ../../../api/openapi.yaml
