package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/iceberg-remotes/iceberg-remotes/internal/api/apiclient"
	"github.com/iceberg-remotes/iceberg-remotes/internal/httpclient"
)

// client is the generated API client with the CLI's credentials and call policy:
// every call has a timeout; GETs are retried a bounded number of times, POSTs never
// (a push that timed out may have happened).
type client struct {
	api     *apiclient.ClientWithResponses
	stream  *apiclient.Client // bulk calls: no overall timeout, see streamTimeout
	timeout time.Duration
	baseURL string
}

func newClient(baseURL, version string, creds Credentials, timeout time.Duration, retries int) (*client, error) {
	policy := httpclient.Policy{Timeout: timeout, MaxRetries: retries}
	noRetry := policy
	noRetry.MaxRetries = 0
	doer := methodDoer{
		get:   httpclient.New(httpclient.Options{Policy: policy}),
		other: httpclient.New(httpclient.Options{Policy: noRetry}),
	}
	auth := apiclient.WithRequestEditorFn(authEditor(creds, "iceberg-remotes-cli/"+first(version, "dev")))
	api, err := apiclient.NewClientWithResponses(baseURL, apiclient.WithHTTPClient(doer), auth)
	if err != nil {
		return nil, fmt.Errorf("--url %s: %w", baseURL, err)
	}
	// A bulk answer streams for as long as the tables take: the transport bounds the wait
	// for the answer's headers, and readStream bounds the wait for each next line.
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.ResponseHeaderTimeout = timeout
	stream, err := apiclient.NewClient(baseURL, apiclient.WithHTTPClient(&http.Client{Transport: transport}), auth)
	if err != nil {
		return nil, err
	}
	return &client{api: api, stream: stream, timeout: timeout, baseURL: baseURL}, nil
}

type methodDoer struct{ get, other *http.Client }

func (d methodDoer) Do(req *http.Request) (*http.Response, error) {
	if req.Method == http.MethodGet {
		return d.get.Do(req)
	}
	return d.other.Do(req)
}

// authEditor sets the credential and the User-Agent (which the server's access log shows).
func authEditor(c Credentials, userAgent string) apiclient.RequestEditorFn {
	return func(_ context.Context, req *http.Request) error {
		req.Header.Set("User-Agent", userAgent)
		switch {
		case c.Token != "":
			req.Header.Set("Authorization", "Bearer "+c.Token)
		case c.AccessKeyID != "":
			req.SetBasicAuth(c.AccessKeyID, c.SecretAccessKey)
		}
		return nil
	}
}

// dryRun adds dry_run=true, the query parameter every write operation accepts.
func dryRun(on bool) apiclient.RequestEditorFn {
	return func(_ context.Context, req *http.Request) error {
		if on {
			q := req.URL.Query()
			q.Set("dry_run", "true")
			req.URL.RawQuery = q.Encode()
		}
		return nil
	}
}

// APIError is an answer other than success, with the server's JSON message.
type APIError struct {
	Status  int
	Message string
}

func (e *APIError) Error() string {
	hint := ""
	switch e.Status {
	case http.StatusUnauthorized:
		hint = " (check --token, --access-key-id/--secret-access-key, " + EnvAccessKeyID + " or ~/.lakectl.yaml)"
	case http.StatusNotImplemented:
		hint = " (this server does not implement the operation yet)"
	}
	return fmt.Sprintf("%s: %d %s%s", e.Message, e.Status, http.StatusText(e.Status), hint)
}

// apiError reads lakeFS's {"message": ...} from an error answer; a body that is not that
// (a proxy's HTML page) is summarized by its status.
func apiError(status int, body []byte) error {
	var e struct {
		Message string `json:"message"`
	}
	msg := strings.TrimSpace(string(body))
	if json.Unmarshal(body, &e) == nil && e.Message != "" {
		msg = e.Message
	} else if len(msg) > 200 || strings.ContainsAny(msg, "<\n") || msg == "" {
		msg = "the server answered " + http.StatusText(status)
	}
	return &APIError{Status: status, Message: msg}
}

func (c *client) callError(err error) error {
	return fmt.Errorf("calling %s: %w", c.baseURL, err)
}
