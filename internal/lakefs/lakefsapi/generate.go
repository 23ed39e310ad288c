// Package lakefsapi holds the typed lakeFS API client oapi-codegen generates from the vendored
// lakeFS swagger (third_party/lakefs/lakefs-swagger.yml), restricted to the operations the
// service calls. Do not edit lakefsapi.gen.go; change config.yaml and run
// `go generate ./internal/lakefs/lakefsapi`.
package lakefsapi

//go:generate go tool oapi-codegen -config config.yaml ../../../third_party/lakefs/lakefs-swagger.yml
