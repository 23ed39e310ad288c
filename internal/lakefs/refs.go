package lakefs

import (
	"context"
	"net/http"

	"github.com/iceberg-remotes/iceberg-remotes/internal/apperr"
	"github.com/iceberg-remotes/iceberg-remotes/internal/httpclient"
	"github.com/iceberg-remotes/iceberg-remotes/internal/lakefs/lakefsapi"
)

// ProtectCommit makes branch name point at commit, hidden from lakeFS's default branch
// listings: a branch head is what keeps a commit's objects from lakeFS's garbage collector
// (README, "Garbage collection"). It succeeds when the branch already points at commit
// (a repeated call, or one whose answer was lost), so it is safe to repeat; a branch of
// that name at another commit is 409.
func (c *Client) ProtectCommit(ctx context.Context, repo, name, commit string) error {
	hidden := true
	// Repeating the create after an ambiguous failure is safe: a 409 is checked below.
	rsp, err := c.api.CreateBranchWithResponse(httpclient.Idempotent(ctx), repo,
		lakefsapi.BranchCreation{Name: name, Source: commit, Hidden: &hidden})
	if err != nil {
		return transportError("create protecting branch", err)
	}
	err = check("create protecting branch", rsp.HTTPResponse, rsp.Body, http.StatusCreated)
	if err == nil || !apperr.Is(err, http.StatusConflict) {
		return err
	}
	b, gerr := c.GetBranch(ctx, repo, name)
	if gerr != nil {
		return gerr
	}
	if b.CommitID != commit {
		return apperr.Conflict("branch %q exists in repository %q at commit %s, not at %s: it is not this service's protecting branch",
			name, repo, b.CommitID, commit)
	}
	return nil
}

// DeleteBranch deletes a branch. A branch that is already gone is success (the call is
// repeated after ambiguous failures).
func (c *Client) DeleteBranch(ctx context.Context, repo, name string) error {
	rsp, err := c.api.DeleteBranchWithResponse(ctx, repo, name, nil)
	if err != nil {
		return transportError("delete branch", err)
	}
	err = check("delete branch", rsp.HTTPResponse, rsp.Body, http.StatusNoContent)
	if apperr.Is(err, http.StatusNotFound) {
		return nil
	}
	return err
}

// ProtectCommit makes branch name point at commit (see Client.ProtectCommit).
func (l *Locator) ProtectCommit(ctx context.Context, repo, name, commit string) error {
	return l.c.ProtectCommit(ctx, repo, name, commit)
}

// DeleteBranch deletes a branch (see Client.DeleteBranch).
func (l *Locator) DeleteBranch(ctx context.Context, repo, name string) error {
	return l.c.DeleteBranch(ctx, repo, name)
}
