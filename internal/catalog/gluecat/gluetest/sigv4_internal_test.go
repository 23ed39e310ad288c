package gluetest

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"
)

// botocoreRequest is a Glue GetTable request signed by botocore 1.44.8 (SigV4Auth, the
// stand-in's default keys), recorded as a known answer. botocore signs every header except
// expect, transfer-encoding, user-agent and x-amzn-trace-id, here amz-sdk-invocation-id and
// amz-sdk-request too, which aws-sdk-go-v2's signer would never choose to sign: a verifier
// that lets its own signer pick the headers rejects pyiceberg's (boto3's) valid requests.
func botocoreRequest(t *testing.T, sdkRequest string) *http.Request {
	body := []byte(`{"DatabaseName": "db", "Name": "events"}`)
	r := httptest.NewRequest(http.MethodPost, "http://127.0.0.1:8080/", bytes.NewReader(body))
	r.Host = "127.0.0.1:8080"
	for k, v := range map[string]string{
		"X-Amz-Target":          "AWSGlue.GetTable",
		"Content-Type":          "application/x-amz-json-1.1",
		"User-Agent":            "Boto3/1.44.8",
		"amz-sdk-invocation-id": "0b3a5f2e-1111-2222-3333-444455556666",
		"amz-sdk-request":       sdkRequest,
		"X-Amz-Date":            "20261130T135751Z",
		"Authorization": "AWS4-HMAC-SHA256 Credential=AKIDGLUETEST00000001/20261130/us-east-1/glue/aws4_request, " +
			"SignedHeaders=amz-sdk-invocation-id;amz-sdk-request;content-type;host;x-amz-date;x-amz-target, " +
			"Signature=0d6d7486292db6caf98a46f5d6f82e87fec5de4c38e18b8944631cc5a11ecd3d",
	} {
		r.Header.Set(k, v)
	}
	return r
}

func TestSigV4AcceptsBotocoreSignedHeaders(t *testing.T) {
	s := New(t)
	body := []byte(`{"DatabaseName": "db", "Name": "events"}`)
	if e := s.authenticate(botocoreRequest(t, "attempt=1"), body); e != nil {
		t.Fatalf("a request botocore signed correctly was refused: %s %s", e.code, e.message)
	}
	// A signed header changed after signing must still be caught.
	e := s.authenticate(botocoreRequest(t, "attempt=2"), body)
	if e == nil || e.code != "InvalidSignatureException" {
		t.Fatalf("a tampered signed header was accepted: %+v", e)
	}
}
