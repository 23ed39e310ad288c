package restcat

// A pull's proof of descent from a Nessie server: Nessie rewrites a table's metadata on every
// commit with an empty metadata log and only the current snapshot, so the metadata file
// cannot show that it descends from the synced state; Nessie's commit log can.

import (
	"cmp"
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	ourcatalog "github.com/iceberg-remotes/iceberg-remotes/internal/catalog"
)

// The bounds of one history walk: pages of nessiePageSize log entries of the table, at most
// nessieHistoryLimit entries in all (so at most 10 requests). A synced state further back
// than that is not proven to be an ancestor, and the pull is refused as it would be without
// a history. Options.HistoryPageSize and HistoryLimit replace them.
const (
	nessiePageSize     = 100
	nessieHistoryLimit = 1000
)

// historyBounds are one walk's page size and limit, from the options or the defaults.
type historyBounds struct{ page, limit int }

func boundsOf(opts Options) historyBounds {
	return historyBounds{page: cmp.Or(opts.HistoryPageSize, nessiePageSize), limit: cmp.Or(opts.HistoryLimit, nessieHistoryLimit)}
}

// History implements catalog.HistorySource: Nessie's commit log when the server is Nessie.
func (a *Adapter) History() ourcatalog.History {
	if a.sess.nessie == nil {
		return nil
	}
	return nessieHistory{a: a}
}

type nessieHistory struct{ a *Adapter }

// nessieLog is one page of GET /api/v2/trees/{ref}/history?fetch=ALL.
type nessieLog struct {
	Token      string `json:"token"`
	HasMore    bool   `json:"hasMore"`
	LogEntries []struct {
		Operations []struct {
			Type string `json:"type"` // PUT, DELETE, UNCHANGED
			Key  struct {
				Elements []string `json:"elements"`
			} `json:"key"`
			Content *struct {
				ID               string `json:"id"`
				MetadataLocation string `json:"metadataLocation"`
			} `json:"content"`
		} `json:"operations"`
	} `json:"logEntries"`
}

// Descends implements catalog.History over the branch's commit log, newest first: it finds
// the commit that put current, then, going back, the one that put from, and answers true
// only when every commit of the table on the way kept its content id (Nessie gives a table
// dropped and created again, or replaced under the same name, a new id) and none deleted it.
func (h nessieHistory) Descends(ctx context.Context, id ourcatalog.Ident, from, current string) (bool, error) {
	key := []string(ident(id))
	bounds := h.a.history
	var contentID string // set once current is found
	token, seen := "", 0
	for seen < bounds.limit {
		page, err := h.page(ctx, key, token, min(bounds.page, bounds.limit-seen))
		if err != nil {
			return false, h.a.mapErr(err, nil, "read the history of table %s", id)
		}
		for _, e := range page.LogEntries {
			for _, op := range e.Operations {
				if !slices.Equal(op.Key.Elements, key) {
					continue
				}
				if contentID == "" {
					// Newer than current (the table moved since it was loaded): irrelevant
					// to whether current descends from from.
					if op.Type == "PUT" && op.Content != nil && op.Content.MetadataLocation == current {
						contentID = op.Content.ID
						if current == from {
							return true, nil
						}
					}
					continue
				}
				if op.Type != "PUT" || op.Content == nil || op.Content.ID != contentID {
					return false, nil // dropped, renamed away or replaced on the way
				}
				if op.Content.MetadataLocation == from {
					return true, nil
				}
			}
		}
		seen += len(page.LogEntries)
		if !page.HasMore || page.Token == "" || len(page.LogEntries) == 0 {
			return false, nil
		}
		token = page.Token
	}
	return false, nil
}

// page reads one page of the branch's log, narrowed to the commits that touch key where a
// filter can say so (Nessie's CEL filter sees a key as its elements joined by dots, so the
// filter may let through another key's commits; Descends compares elements).
func (h nessieHistory) page(ctx context.Context, key []string, token string, size int) (nessieLog, error) {
	n := h.a.sess.nessie
	u := n.api.JoinPath("trees", n.ref, "history")
	q := url.Values{"fetch": {"ALL"}, "max-records": {strconv.Itoa(size)}}
	if lit, ok := celString(strings.Join(key, ".")); ok {
		q.Set("filter", "operations.exists(op, op.key == "+lit+")")
	}
	if token != "" {
		q.Set("page-token", token)
	}
	u.RawQuery = q.Encode()
	var out nessieLog
	err := n.call(ctx, http.MethodGet, u, nil, &out)
	return out, err
}

// celString quotes s as a CEL string literal; false for a string with control characters,
// which the caller then does not filter on.
func celString(s string) (string, bool) {
	if strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return "", false
	}
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`, true
}
