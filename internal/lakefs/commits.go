package lakefs

import (
	"context"
	"net/http"

	"github.com/iceberg-remotes/iceberg-remotes/internal/lakefs/lakefsapi"
)

// MaxLogCommits is the most commits one logCommits call returns (lakeFS's page maximum).
const MaxLogCommits = 1000

// LogCommits returns the ids of the newest commits reachable from ref (lakeFS's log order,
// the reference's own commit first), at most limit (≤ MaxLogCommits): one call.
func (c *Client) LogCommits(ctx context.Context, repo, ref string, limit int) ([]string, error) {
	limit = max(1, min(limit, MaxLogCommits))
	yes := true
	rsp, err := c.api.LogCommitsWithResponse(ctx, repo, ref, &lakefsapi.LogCommitsParams{Amount: &limit, Limit: &yes})
	if err != nil {
		return nil, transportError("log commits", err)
	}
	if err := check("log commits", rsp.HTTPResponse, rsp.Body, http.StatusOK); err != nil {
		return nil, err
	}
	if rsp.JSON200 == nil {
		return nil, badAnswer("log commits")
	}
	ids := make([]string, 0, len(rsp.JSON200.Results))
	for _, cm := range rsp.JSON200.Results {
		ids = append(ids, cm.Id)
	}
	if len(ids) > limit {
		ids = ids[:limit]
	}
	return ids, nil
}

// CommitsSince returns how many commits ref's log holds before commit (0 when ref is at
// commit), reading at most limit commits; ok is false when commit is not among them (older,
// or not an ancestor).
func CommitsSince(log []string, commit string) (n int, ok bool) {
	for i, id := range log {
		if id == commit {
			return i, true
		}
	}
	return 0, false
}

// Log reads a reference's recent commits (see Client.LogCommits).
func (l *Locator) Log(ctx context.Context, repo, ref string, limit int) ([]string, error) {
	return l.c.LogCommits(ctx, repo, ref, limit)
}
