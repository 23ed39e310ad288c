// Package lakefs is everything the service does in lakeFS: a typed client for the lakeFS API
// calls it needs (wrapping the generated lakefsapi client, mapping lakeFS's answers to
// *apperr.Error) and the Iceberg table locator of docs/design.md section 4, which reads and writes a
// table's current metadata location at a reference in the `pointer` or `hadoop` layout.
package lakefs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/iceberg-remotes/iceberg-remotes/internal/apperr"
	"github.com/iceberg-remotes/iceberg-remotes/internal/config"
	"github.com/iceberg-remotes/iceberg-remotes/internal/httpclient"
	"github.com/iceberg-remotes/iceberg-remotes/internal/lakefs/lakefsapi"
)

// Credentials authenticates one outbound lakeFS request (sets a header or cookie). In
// `forward` mode the caller's own credential is forwarded so that lakeFS RBAC decides; in
// `service` mode the service's key is used (ServiceCredentials).
type Credentials func(ctx context.Context, req *http.Request) error

// ServiceCredentials authenticates with a lakeFS access key (HTTP basic auth).
func ServiceCredentials(accessKeyID, secretAccessKey string) Credentials {
	return func(_ context.Context, req *http.Request) error {
		req.SetBasicAuth(accessKeyID, secretAccessKey)
		return nil
	}
}

// DefaultPageSize is the page size used for listings (lakeFS's maximum is 1000).
const DefaultPageSize = 1000

// Client calls the lakeFS API. It is safe for concurrent use.
type Client struct {
	api      *lakefsapi.ClientWithResponses
	pageSize int
}

// New returns a client for cfg.Endpoint (e.g. http://127.0.0.1:8000/api/v1). creds is applied
// to every request (nil sends none). httpClient should be an *httpclient.Client (timeout per
// attempt, retries) or an *http.Client from httpclient.New; nil builds one from
// cfg.RetryPolicy().
func New(cfg config.LakeFS, creds Credentials, httpClient lakefsapi.HttpRequestDoer) (*Client, error) {
	if cfg.Endpoint == "" {
		return nil, errors.New("lakefs: endpoint is required")
	}
	if httpClient == nil {
		httpClient = httpclient.NewClient(httpclient.Options{Policy: cfg.RetryPolicy()})
	}
	// The request id and idempotency key are set on the request as it is built (the
	// transport would otherwise copy its headers to set them).
	opts := []lakefsapi.ClientOption{lakefsapi.WithHTTPClient(httpClient),
		lakefsapi.WithRequestEditorFn(httpclient.StampHeaders)}
	if creds != nil {
		opts = append(opts, lakefsapi.WithRequestEditorFn(lakefsapi.RequestEditorFn(creds)))
	}
	api, err := lakefsapi.NewClientWithResponses(strings.TrimRight(cfg.Endpoint, "/"), opts...)
	if err != nil {
		return nil, fmt.Errorf("lakefs: %w", err)
	}
	return &Client{api: api, pageSize: DefaultPageSize}, nil
}

// Repository is a lakeFS repository.
type Repository struct {
	ID               string
	DefaultBranch    string
	StorageNamespace string
	ReadOnly         bool
}

// Branch is a lakeFS branch and its head commit.
type Branch struct {
	ID       string
	CommitID string
}

// ResolvedRef is what a reference (branch, tag, commit id) points at.
type ResolvedRef struct {
	CommitID string
	// IsBranch tells that the reference is a branch: reading it includes staged changes and
	// it may be written to.
	IsBranch bool
}

// Object is a lakeFS object's stat.
type Object struct {
	Path            string
	PhysicalAddress string
	Checksum        string
	ContentType     string
	SizeBytes       int64
	Mtime           time.Time
}

// Change is one uncommitted change on a branch.
type Change struct {
	Path      string
	Type      string // added | removed | changed | conflict | prefix_changed
	PathType  string // object | common_prefix
	SizeBytes int64
}

// GetRepository returns a repository.
func (c *Client) GetRepository(ctx context.Context, repo string) (*Repository, error) {
	rsp, err := c.api.GetRepositoryWithResponse(ctx, repo)
	if err != nil {
		return nil, transportError("get repository", err)
	}
	if err := check("get repository", rsp.HTTPResponse, rsp.Body, http.StatusOK); err != nil {
		return nil, err
	}
	if rsp.JSON200 == nil {
		return nil, badAnswer("get repository")
	}
	r := rsp.JSON200
	return &Repository{ID: r.Id, DefaultBranch: r.DefaultBranch, StorageNamespace: r.StorageNamespace,
		ReadOnly: r.ReadOnly != nil && *r.ReadOnly}, nil
}

// GetBranch returns a branch and its head commit.
func (c *Client) GetBranch(ctx context.Context, repo, branch string) (*Branch, error) {
	rsp, err := c.api.GetBranchWithResponse(ctx, repo, branch)
	if err != nil {
		return nil, transportError("get branch", err)
	}
	if err := check("get branch", rsp.HTTPResponse, rsp.Body, http.StatusOK); err != nil {
		return nil, err
	}
	if rsp.JSON200 == nil {
		return nil, badAnswer("get branch")
	}
	return &Branch{ID: rsp.JSON200.Id, CommitID: rsp.JSON200.CommitId}, nil
}

// ResolveRef returns the commit id a reference resolves to and whether it is a branch. A
// branch is tried first (its name may also look like a commit id prefix); anything else is
// resolved by lakeFS's getCommit, which accepts tags, commit ids and ref expressions.
func (c *Client) ResolveRef(ctx context.Context, repo, ref string) (*ResolvedRef, error) {
	b, err := c.GetBranch(ctx, repo, ref)
	if err == nil {
		return &ResolvedRef{CommitID: b.CommitID, IsBranch: true}, nil
	}
	if !apperr.Is(err, http.StatusNotFound) {
		return nil, err
	}
	rsp, err := c.api.GetCommitWithResponse(ctx, repo, ref)
	if err != nil {
		return nil, transportError("get commit", err)
	}
	if err := check("get commit", rsp.HTTPResponse, rsp.Body, http.StatusOK); err != nil {
		if apperr.Is(err, http.StatusNotFound) {
			// Keep lakeFS's message but say which reference: "commit: not found" alone
			// does not tell the caller what was looked up.
			return nil, apperr.Wrap(http.StatusNotFound, err, "reference %q not found in repository %q: %s", ref, repo, apperr.PublicMessage(err))
		}
		return nil, err
	}
	if rsp.JSON200 == nil {
		return nil, badAnswer("get commit")
	}
	return &ResolvedRef{CommitID: rsp.JSON200.Id}, nil
}

// StatObject returns an object's stat at a reference (a branch includes staged changes).
func (c *Client) StatObject(ctx context.Context, repo, ref, path string) (*Object, error) {
	rsp, err := c.api.StatObjectWithResponse(ctx, repo, ref, &lakefsapi.StatObjectParams{Path: path})
	if err != nil {
		return nil, transportError("stat object", err)
	}
	if err := check("stat object", rsp.HTTPResponse, rsp.Body, http.StatusOK); err != nil {
		return nil, err
	}
	if rsp.JSON200 == nil {
		return nil, badAnswer("stat object")
	}
	return objectFrom(*rsp.JSON200), nil
}

// ErrStopWalk ends WalkObjects early: the walk returns nil.
var ErrStopWalk = errors.New("stop walking")

// ErrTooLarge is wrapped by the error GetObject returns when the object exceeds the cap.
var ErrTooLarge = errors.New("object too large")

// GetObject reads an object's content at a reference, refusing objects larger than maxBytes
// (400: the service reads only metadata files and must not be made to buffer anything big).
func (c *Client) GetObject(ctx context.Context, repo, ref, path string, maxBytes int64) ([]byte, error) {
	data, _, err := c.ReadObject(ctx, repo, ref, path, maxBytes)
	return data, err
}

// ObjectVersion identifies which object a read returned, from getObject's answer headers:
// lakeFS sends the object's checksum as ETag and its mtime as Last-Modified.
type ObjectVersion struct {
	Checksum string // "" when the answer carried no ETag
	Mtime    time.Time
}

// ReadObject is GetObject that also tells which version of the object it read.
func (c *Client) ReadObject(ctx context.Context, repo, ref, path string, maxBytes int64) ([]byte, ObjectVersion, error) {
	// The raw call (not ...WithResponse) so that the body is read through a limit.
	hr, err := c.api.GetObject(ctx, repo, ref, &lakefsapi.GetObjectParams{Path: path})
	if err != nil {
		return nil, ObjectVersion{}, transportError("get object", err)
	}
	defer func() { _ = hr.Body.Close() }()
	if hr.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(hr.Body, 64<<10))
		return nil, ObjectVersion{}, check("get object", hr, body, http.StatusOK)
	}
	if hr.ContentLength > maxBytes {
		return nil, ObjectVersion{}, apperr.Wrap(http.StatusBadRequest, ErrTooLarge, "object %q is larger than %d bytes", path, maxBytes)
	}
	data, err := io.ReadAll(io.LimitReader(hr.Body, maxBytes+1))
	if err != nil {
		return nil, ObjectVersion{}, transportError("get object", err)
	}
	if int64(len(data)) > maxBytes {
		return nil, ObjectVersion{}, apperr.Wrap(http.StatusBadRequest, ErrTooLarge, "object %q is larger than %d bytes", path, maxBytes)
	}
	v := ObjectVersion{Checksum: strings.Trim(strings.TrimPrefix(hr.Header.Get("ETag"), "W/"), `"`)}
	if lm, perr := http.ParseTime(hr.Header.Get("Last-Modified")); perr == nil {
		v.Mtime = lm
	}
	return data, v, nil
}

// ListObjects lists all objects under prefix at a reference, following every page
// (recursive: no delimiter).
func (c *Client) ListObjects(ctx context.Context, repo, ref, prefix string) ([]Object, error) {
	var out []Object
	err := c.WalkObjects(ctx, repo, ref, prefix, func(o Object) error {
		out = append(out, o)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// WalkObjects calls fn for every object under prefix at a reference, in path order, one
// page (c.pageSize objects, lakeFS's maximum) per call, without holding more than a page:
// a listing of a whole warehouse can be large. An error from fn stops the walk and is
// returned.
func (c *Client) WalkObjects(ctx context.Context, repo, ref, prefix string, fn func(Object) error) error {
	return c.WalkObjectsAfter(ctx, repo, ref, prefix, "", fn)
}

// WalkObjectsAfter is WalkObjects starting after the path start (exclusive; "" for the
// beginning). Return ErrStopWalk from fn to end the walk early without an error.
func (c *Client) WalkObjectsAfter(ctx context.Context, repo, ref, prefix, start string, fn func(Object) error) error {
	after := start
	amount := c.pageSize
	for {
		params := &lakefsapi.ListObjectsParams{Prefix: &prefix, Amount: &amount}
		if after != "" {
			params.After = &after
		}
		rsp, err := c.api.ListObjectsWithResponse(ctx, repo, ref, params)
		if err != nil {
			return transportError("list objects", err)
		}
		if err := check("list objects", rsp.HTTPResponse, rsp.Body, http.StatusOK); err != nil {
			return err
		}
		if rsp.JSON200 == nil {
			return badAnswer("list objects")
		}
		for _, o := range rsp.JSON200.Results {
			if o.PathType == lakefsapi.ObjectStatsPathTypeObject {
				if err := fn(*objectFrom(o)); err != nil {
					if errors.Is(err, ErrStopWalk) {
						return nil
					}
					return err
				}
			}
		}
		p := rsp.JSON200.Pagination
		if !p.HasMore {
			return nil
		}
		if p.NextOffset == "" || p.NextOffset == after {
			return apperr.New(http.StatusBadGateway, "lakeFS: list objects: pagination did not advance")
		}
		after = p.NextOffset
	}
}

// UploadObject writes content to path on a branch (staged). With ifNoneMatch the upload
// fails with 412 when the object already exists (If-None-Match: *).
func (c *Client) UploadObject(ctx context.Context, repo, branch, path string, content []byte, ifNoneMatch bool) (*Object, error) {
	params := &lakefsapi.UploadObjectParams{Path: path}
	if ifNoneMatch {
		star := "*"
		params.IfNoneMatch = &star
	} else {
		// Writing the same bytes to the same path again leaves the same state: the upload
		// (a POST) may be repeated after an ambiguous failure. With If-None-Match a repeat
		// of an upload that went through would answer 412, so it is not.
		ctx = httpclient.Idempotent(ctx)
	}
	rsp, err := c.api.UploadObjectWithBodyWithResponse(ctx, repo, branch, params, "application/octet-stream", bytes.NewReader(content))
	if err != nil {
		return nil, transportError("upload object", err)
	}
	if err := check("upload object", rsp.HTTPResponse, rsp.Body, http.StatusCreated); err != nil {
		if ifNoneMatch && apperr.Is(err, http.StatusPreconditionFailed) {
			return nil, apperr.Wrap(http.StatusPreconditionFailed, err, "object %q already exists on branch %q", path, branch)
		}
		return nil, err
	}
	if rsp.JSON201 == nil {
		return nil, badAnswer("upload object")
	}
	return objectFrom(*rsp.JSON201), nil
}

// StageObject links an existing object-store file into path on a branch without copying
// (lakeFS's stageObject; see docs/design.md section 11 for why not linkPhysicalAddress). sizeBytes
// must be the file's true size: lakeFS serves the object by the size recorded here.
func (c *Client) StageObject(ctx context.Context, repo, branch, path, physicalAddress string, sizeBytes int64, checksum, contentType string) (*Object, error) {
	body := lakefsapi.ObjectStageCreation{PhysicalAddress: physicalAddress, SizeBytes: sizeBytes, Checksum: checksum}
	if contentType != "" {
		body.ContentType = &contentType
	}
	rsp, err := c.api.StageObjectWithResponse(ctx, repo, branch, &lakefsapi.StageObjectParams{Path: path}, body)
	if err != nil {
		return nil, transportError("stage object", err)
	}
	if err := check("stage object", rsp.HTTPResponse, rsp.Body, http.StatusCreated); err != nil {
		return nil, err
	}
	if rsp.JSON201 == nil {
		return nil, badAnswer("stage object")
	}
	return objectFrom(*rsp.JSON201), nil
}

// DiffBranchUncommitted lists all uncommitted changes on a branch (every page).
func (c *Client) DiffBranchUncommitted(ctx context.Context, repo, branch string) ([]Change, error) {
	return c.diffPages("diff branch", func(params pageParams) (*http.Response, []byte, *lakefsapi.DiffList, error) {
		rsp, err := c.api.DiffBranchWithResponse(ctx, repo, branch, &lakefsapi.DiffBranchParams{Amount: params.amount, After: params.after})
		if err != nil {
			return nil, nil, nil, err
		}
		return rsp.HTTPResponse, rsp.Body, rsp.JSON200, nil
	})
}

// DiffRefs lists the objects that differ between two references (two-dot: the trees of
// left and right compared directly), under prefix.
func (c *Client) DiffRefs(ctx context.Context, repo, left, right, prefix string) ([]Change, error) {
	twoDot := "two_dot"
	return c.diffPages("diff refs", func(params pageParams) (*http.Response, []byte, *lakefsapi.DiffList, error) {
		p := &lakefsapi.DiffRefsParams{Amount: params.amount, After: params.after, Type: &twoDot}
		if prefix != "" {
			pp := lakefsapi.PaginationPrefix(prefix)
			p.Prefix = &pp
		}
		rsp, err := c.api.DiffRefsWithResponse(ctx, repo, left, right, p)
		if err != nil {
			return nil, nil, nil, err
		}
		return rsp.HTTPResponse, rsp.Body, rsp.JSON200, nil
	})
}

type pageParams struct {
	amount *lakefsapi.PaginationAmount
	after  *lakefsapi.PaginationAfter
}

// diffPages follows a diff listing's pages to the end.
func (c *Client) diffPages(op string, fetch func(pageParams) (*http.Response, []byte, *lakefsapi.DiffList, error)) ([]Change, error) {
	var out []Change
	after := ""
	amount := lakefsapi.PaginationAmount(c.pageSize)
	for {
		params := pageParams{amount: &amount}
		if after != "" {
			a := lakefsapi.PaginationAfter(after)
			params.after = &a
		}
		hr, body, list, err := fetch(params)
		if err != nil {
			return nil, transportError(op, err)
		}
		if err := check(op, hr, body, http.StatusOK); err != nil {
			return nil, err
		}
		if list == nil {
			return nil, badAnswer(op)
		}
		for _, d := range list.Results {
			ch := Change{Path: d.Path, Type: string(d.Type), PathType: string(d.PathType)}
			if d.SizeBytes != nil {
				ch.SizeBytes = *d.SizeBytes
			}
			out = append(out, ch)
		}
		p := list.Pagination
		if !p.HasMore {
			return out, nil
		}
		if p.NextOffset == "" || p.NextOffset == after {
			return nil, apperr.New(http.StatusBadGateway, "lakeFS: %s: pagination did not advance", op)
		}
		after = p.NextOffset
	}
}

// Commit commits a branch's staged changes and returns the new commit id. A pre-commit hook
// refusal is 412; nothing staged is 400 ("commit: no changes").
func (c *Client) Commit(ctx context.Context, repo, branch, message string, metadata map[string]string) (string, error) {
	body := lakefsapi.CommitCreation{Message: message}
	if len(metadata) > 0 {
		md := make(map[string]string, len(metadata))
		for k, v := range metadata {
			md[k] = v
		}
		body.Metadata = &md
	}
	rsp, err := c.api.CommitWithResponse(ctx, repo, branch, nil, body)
	if err != nil {
		return "", transportError("commit", err)
	}
	if err := check("commit", rsp.HTTPResponse, rsp.Body, http.StatusCreated); err != nil {
		return "", err
	}
	if rsp.JSON201 == nil || rsp.JSON201.Id == "" {
		return "", badAnswer("commit")
	}
	return rsp.JSON201.Id, nil
}

// ResetObject drops the staged change of one path on a branch (back to its committed state).
func (c *Client) ResetObject(ctx context.Context, repo, branch, path string) error {
	p := path
	rsp, err := c.api.ResetBranchWithResponse(ctx, repo, branch, lakefsapi.ResetCreation{Type: lakefsapi.ResetCreationTypeObject, Path: &p})
	if err != nil {
		return transportError("reset object", err)
	}
	return check("reset object", rsp.HTTPResponse, rsp.Body, http.StatusNoContent)
}

// CreateBranch creates a branch from source and returns the commit id it points at.
func (c *Client) CreateBranch(ctx context.Context, repo, name, source string) (string, error) {
	rsp, err := c.api.CreateBranchWithResponse(ctx, repo, lakefsapi.BranchCreation{Name: name, Source: source})
	if err != nil {
		return "", transportError("create branch", err)
	}
	if err := check("create branch", rsp.HTTPResponse, rsp.Body, http.StatusCreated); err != nil {
		return "", err
	}
	// lakeFS answers the bare commit id as text (docs/design.md section 12).
	return strings.TrimSpace(string(rsp.Body)), nil
}

// GetCurrentUser returns the id of the user the credentials authenticate. lakeFS answers 200
// with an empty id when no credentials reached it; that is reported as 401, not success.
func (c *Client) GetCurrentUser(ctx context.Context) (string, error) {
	rsp, err := c.api.GetCurrentUserWithResponse(ctx)
	if err != nil {
		return "", transportError("get current user", err)
	}
	if rsp.StatusCode() == http.StatusUnauthorized {
		return "", apperr.Unauthorized(apperr.MsgAuthenticationFailed)
	}
	if err := check("get current user", rsp.HTTPResponse, rsp.Body, http.StatusOK); err != nil {
		return "", err
	}
	if rsp.JSON200 == nil {
		return "", badAnswer("get current user")
	}
	if rsp.JSON200.User.Id == "" {
		return "", apperr.Unauthorized(apperr.MsgAuthenticationFailed)
	}
	return rsp.JSON200.User.Id, nil
}

func objectFrom(o lakefsapi.ObjectStats) *Object {
	obj := &Object{Path: o.Path, PhysicalAddress: o.PhysicalAddress, Checksum: o.Checksum, Mtime: time.Unix(o.Mtime, 0)}
	if o.ContentType != nil {
		obj.ContentType = *o.ContentType
	}
	if o.SizeBytes != nil {
		obj.SizeBytes = *o.SizeBytes
	}
	return obj
}

// check maps a lakeFS answer that is not the expected status to an *apperr.Error.
func check(op string, hr *http.Response, body []byte, want int) error {
	if hr == nil {
		return apperr.New(http.StatusBadGateway, "lakeFS: %s: no response", op)
	}
	if hr.StatusCode == want {
		return nil
	}
	msg := lakeFSMessage(body)
	cause := fmt.Errorf("lakeFS %s: HTTP %d: %s", op, hr.StatusCode, msg)
	switch s := hr.StatusCode; {
	case s == http.StatusUnauthorized || s == http.StatusForbidden:
		if msg == "" {
			msg = "lakeFS refused " + op
		}
		if strings.HasPrefix(msg, apperr.MsgInsufficientPerms) {
			return apperr.Wrap(http.StatusUnauthorized, cause, "%s", msg)
		}
		return apperr.Wrap(http.StatusUnauthorized, cause, "%s: %s", apperr.MsgInsufficientPerms, msg)
	case s == http.StatusNotFound:
		if msg == "" {
			msg = "not found"
		}
		return apperr.Wrap(http.StatusNotFound, cause, "%s", msg)
	case s == http.StatusBadRequest, s == http.StatusConflict:
		if msg == "" {
			msg = op + " refused"
		}
		return apperr.Wrap(s, cause, "%s", msg)
	case s == http.StatusPreconditionFailed:
		if msg == "" {
			msg = "precondition failed"
		}
		return apperr.Wrap(s, cause, "%s", msg)
	case s == http.StatusTooManyRequests:
		return apperr.Wrap(s, cause, "lakeFS: too many requests (%s)", op)
	case s >= 500:
		if msg == "" {
			msg = http.StatusText(s)
		}
		return apperr.Wrap(http.StatusBadGateway, cause, "lakeFS: %s failed: %s", op, msg)
	default:
		return apperr.Wrap(http.StatusBadGateway, cause, "lakeFS: %s: unexpected HTTP %d", op, s)
	}
}

// lakeFSMessage extracts lakeFS's {"message": ...}, falling back to a short plain body.
func lakeFSMessage(body []byte) string {
	var e struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &e) == nil && e.Message != "" {
		return e.Message
	}
	s := strings.TrimSpace(string(body))
	if len(s) > 200 || strings.ContainsAny(s, "<{") {
		return ""
	}
	return s
}

func badAnswer(op string) error {
	return apperr.New(http.StatusBadGateway, "lakeFS: %s: unexpected answer", op)
}

// transportError maps a failure to reach lakeFS (after the HTTP client's retries).
func transportError(op string, err error) error {
	var nerr net.Error
	switch {
	case errors.Is(err, context.Canceled):
		return apperr.Wrap(http.StatusServiceUnavailable, err, "lakeFS: %s: request cancelled", op)
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &nerr) && nerr.Timeout():
		return apperr.Wrap(http.StatusGatewayTimeout, err, "lakeFS: %s: timed out waiting for lakeFS", op)
	default:
		return apperr.Wrap(http.StatusServiceUnavailable, err, "lakeFS: %s: lakeFS is unreachable", op)
	}
}
