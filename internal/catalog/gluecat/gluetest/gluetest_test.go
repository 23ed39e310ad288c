package gluetest_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog/gluecat/gluetest"
)

// call sends a raw awsJson1_1 request, signed with the given secret unless it is "".
func call(t *testing.T, srv *gluetest.Server, op, body, contentType, secret string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, srv.Endpoint()+"/", bytes.NewReader([]byte(body)))
	require.NoError(t, err)
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("X-Amz-Target", "AWSGlue."+op)
	if secret != "" {
		sum := sha256.Sum256([]byte(body))
		creds := aws.Credentials{AccessKeyID: gluetest.AccessKeyID, SecretAccessKey: secret}
		require.NoError(t, v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]),
			"glue", gluetest.Region, time.Now()))
	}
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Do(req)
	require.NoError(t, err)
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(raw, &m), "body: %s", raw)
	return resp.StatusCode, m
}

const json11 = "application/x-amz-json-1.1"

func TestAcceptsValidSignedRequests(t *testing.T) {
	srv := gluetest.New(t)
	code, body := call(t, srv, "CreateDatabase", `{"DatabaseInput":{"Name":"Sales"}}`, json11, gluetest.SecretAccessKey)
	require.Equal(t, 200, code, "%v", body)
	code, body = call(t, srv, "GetDatabase", `{"Name":"sales"}`, json11, gluetest.SecretAccessKey)
	require.Equal(t, 200, code, "%v", body)
	assert.Equal(t, "sales", body["Database"].(map[string]any)["Name"], "Glue lower-cases names")
}

func TestRejectsRequestsThatBreakTheContract(t *testing.T) {
	srv := gluetest.New(t)
	good := gluetest.SecretAccessKey
	cases := []struct {
		name, op, body, contentType, secret string
		status                              int
		code                                string
	}{
		{"unsigned", "GetDatabases", `{}`, json11, "", 403, "MissingAuthenticationTokenException"},
		{"wrong secret", "GetDatabases", `{}`, json11, "wrong", 403, "InvalidSignatureException"},
		{"wrong content type", "GetDatabases", `{}`, "application/json", good, 400, "SerializationException"},
		{"unknown operation", "DropEverything", `{}`, json11, good, 400, "UnknownOperationException"},
		{"unknown member", "GetTable", `{"DatabaseName":"db","Name":"t","Extra":1}`, json11, good, 400, "InvalidInputException"},
		{"misplaced member", "CreateTable", `{"DatabaseName":"db","TableInput":{"Name":"t","metadata_location":"s3://b/m.json"}}`, json11, good, 400, "InvalidInputException"},
		{"missing DatabaseName", "GetTable", `{"Name":"t"}`, json11, good, 400, "InvalidInputException"},
		{"missing TableInput", "CreateTable", `{"DatabaseName":"db"}`, json11, good, 400, "InvalidInputException"},
		{"missing TableInput.Name", "UpdateTable", `{"DatabaseName":"db","TableInput":{"TableType":"EXTERNAL_TABLE"}}`, json11, good, 400, "InvalidInputException"},
		{"missing DatabaseInput.Name", "CreateDatabase", `{"DatabaseInput":{}}`, json11, good, 400, "InvalidInputException"},
		{"wrong member type", "GetDatabases", `{"MaxResults":"ten"}`, json11, good, 400, "InvalidInputException"},
		{"missing database", "GetTable", `{"DatabaseName":"nope","Name":"t"}`, json11, good, 400, "EntityNotFoundException"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, body := call(t, srv, c.op, c.body, c.contentType, c.secret)
			assert.Equal(t, c.status, code)
			assert.Equal(t, c.code, body["__type"], "%v", body)
			assert.NotEmpty(t, body["Message"])
		})
	}
}

func TestVersionIdIsChecked(t *testing.T) {
	srv := gluetest.New(t)
	good := gluetest.SecretAccessKey
	code, _ := call(t, srv, "CreateDatabase", `{"DatabaseInput":{"Name":"db"}}`, json11, good)
	require.Equal(t, 200, code)
	code, _ = call(t, srv, "CreateTable", `{"DatabaseName":"db","TableInput":{"Name":"t","Parameters":{"k":"v0"}}}`, json11, good)
	require.Equal(t, 200, code)
	code, body := call(t, srv, "UpdateTable", `{"DatabaseName":"db","VersionId":"1","TableInput":{"Name":"t","Parameters":{"k":"v1"}}}`, json11, good)
	require.Equal(t, 200, code, "%v", body)
	code, body = call(t, srv, "UpdateTable", `{"DatabaseName":"db","VersionId":"1","TableInput":{"Name":"t","Parameters":{"k":"v2"}}}`, json11, good)
	assert.Equal(t, 400, code)
	assert.Equal(t, "ConcurrentModificationException", body["__type"])
	code, body = call(t, srv, "GetTable", `{"DatabaseName":"db","Name":"t"}`, json11, good)
	require.Equal(t, 200, code)
	tbl := body["Table"].(map[string]any)
	assert.Equal(t, "2", tbl["VersionId"])
	assert.Equal(t, "v1", tbl["Parameters"].(map[string]any)["k"])
	assert.IsType(t, float64(0), tbl["CreateTime"], "timestamps are epoch seconds in awsJson1_1")
}

func TestFaultInjection(t *testing.T) {
	srv := gluetest.New(t)
	srv.Fail("GetDatabases", "ThrottlingException", 2)
	for i := 0; i < 2; i++ {
		code, body := call(t, srv, "GetDatabases", `{}`, json11, gluetest.SecretAccessKey)
		assert.Equal(t, 400, code)
		assert.Equal(t, "ThrottlingException", body["__type"])
	}
	code, _ := call(t, srv, "GetDatabases", `{}`, json11, gluetest.SecretAccessKey)
	assert.Equal(t, 200, code)
	assert.Equal(t, 3, srv.Calls("GetDatabases"))
}

// TestGetTablesPagesAsGlue: MaxResults 1 to 100, NextToken until the last page, every table
// once, in name order; filters the stand-in does not implement are refused, not ignored.
func TestGetTablesPagesAsGlue(t *testing.T) {
	srv := gluetest.New(t)
	good := gluetest.SecretAccessKey
	code, _ := call(t, srv, "CreateDatabase", `{"DatabaseInput":{"Name":"db"}}`, json11, good)
	require.Equal(t, 200, code)
	for _, n := range []string{"e", "a", "d", "c", "b"} {
		code, _ = call(t, srv, "CreateTable", `{"DatabaseName":"db","TableInput":{"Name":"`+n+`"}}`, json11, good)
		require.Equal(t, 200, code)
	}
	var seen []any
	token := ""
	pages := 0
	for {
		body := `{"DatabaseName":"db","MaxResults":2`
		if token != "" {
			body += `,"NextToken":"` + token + `"`
		}
		code, page := call(t, srv, "GetTables", body+`}`, json11, good)
		require.Equal(t, 200, code, "%v", page)
		pages++
		for _, tb := range page["TableList"].([]any) {
			seen = append(seen, tb.(map[string]any)["Name"])
		}
		next, ok := page["NextToken"].(string)
		if !ok {
			break
		}
		token = next
	}
	assert.Equal(t, []any{"a", "b", "c", "d", "e"}, seen)
	assert.Equal(t, 3, pages)
	for _, bad := range []string{`{"DatabaseName":"db","MaxResults":101}`, `{"DatabaseName":"db","MaxResults":0}`,
		`{"DatabaseName":"db","Expression":"a.*"}`} {
		code, body := call(t, srv, "GetTables", bad, json11, good)
		assert.Equal(t, 400, code, bad)
		assert.Equal(t, "InvalidInputException", body["__type"], bad)
	}
	code, body := call(t, srv, "GetTables", `{"DatabaseName":"nope"}`, json11, good)
	assert.Equal(t, 400, code)
	assert.Equal(t, "EntityNotFoundException", body["__type"])
}
