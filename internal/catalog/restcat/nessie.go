package restcat

// Nessie's own commit history of a table, for pulls from a Nessie server's Iceberg REST
// endpoint: Nessie rewrites a table's metadata on every commit with an empty metadata log and
// only the current snapshot, so the metadata file cannot show that it descends from the
// synced state; Nessie's commit log can.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"

	"github.com/iceberg-remotes/iceberg-remotes/internal/apperr"
	ourcatalog "github.com/iceberg-remotes/iceberg-remotes/internal/catalog"
	"github.com/iceberg-remotes/iceberg-remotes/internal/httpclient"
)

// The bounds of one history walk: pages of nessiePageSize log entries of the table, at most
// nessieHistoryLimit entries in all (so at most 10 requests). A synced state further back
// than that is not proven to be an ancestor, and the pull is refused as it would be without
// a history.
const (
	nessiePageSize     = 100
	nessieHistoryLimit = 1000
)

// nessie is how a Nessie server's native API (v2) is reached: Nessie's /v1/config advertises
// it (nessie.is-nessie-catalog, nessie.core-base-uri) next to its Iceberg REST endpoint.
type nessie struct {
	sess     *session
	api      *url.URL // .../api/v2
	ref      string   // the branch the REST prefix names
	pageSize int
	limit    int
}

// nessieFrom returns the Nessie API the server's configuration advertises, or nil when the
// server is not Nessie. The API is used only on the same scheme and host as the REST
// endpoint, because the remote's credentials go with every request.
func nessieFrom(s *session, props map[string]string, root *url.URL) *nessie {
	if props["nessie.is-nessie-catalog"] != "true" {
		return nil
	}
	core, err := url.Parse(props["nessie.core-base-uri"])
	if err != nil || core.Scheme != root.Scheme || core.Host != root.Host {
		return nil
	}
	ref := props["nessie.default-branch.name"]
	// Nessie's prefix is "{ref}|{warehouse}" (nessie.prefix-pattern), URL-encoded or not;
	// a ref may be pinned ("main@hash"): the history is read at the branch's head.
	if p, err := url.PathUnescape(props["prefix"]); err == nil && p != "" {
		if r, _, _ := strings.Cut(p, "|"); r != "" {
			ref, _, _ = strings.Cut(r, "@")
		}
	}
	if ref == "" {
		return nil
	}
	return &nessie{sess: s, api: core.JoinPath("v2"), ref: ref, pageSize: nessiePageSize, limit: nessieHistoryLimit}
}

// History implements catalog.HistorySource: Nessie's commit log when the server is Nessie.
func (a *Adapter) History() ourcatalog.History {
	if a.sess.nessie == nil {
		return nil
	}
	return &nessieHistory{a: a, n: a.sess.nessie}
}

type nessieHistory struct {
	a *Adapter
	n *nessie
}

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
func (h *nessieHistory) Descends(ctx context.Context, id ourcatalog.Ident, from, current string) (bool, error) {
	key := append(slices.Clone(id.Namespace), id.Table)
	var contentID string // set once current is found
	token, seen := "", 0
	for seen < h.n.limit {
		page, err := h.page(ctx, key, token, min(h.n.pageSize, h.n.limit-seen))
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
func (h *nessieHistory) page(ctx context.Context, key []string, token string, size int) (nessieLog, error) {
	var out nessieLog
	u := h.n.api.JoinPath("trees", h.n.ref, "history")
	q := url.Values{"fetch": {"ALL"}, "max-records": {strconv.Itoa(size)}}
	if lit, ok := celString(strings.Join(key, ".")); ok {
		q.Set("filter", "operations.exists(op, op.key == "+lit+")")
	}
	if token != "" {
		q.Set("page-token", token)
	}
	u.RawQuery = q.Encode()
	st, body, err := h.n.sess.do(ctx, http.MethodGet, u, nil)
	if err != nil {
		return out, err
	}
	if st != http.StatusOK {
		return out, nessieError(st, body)
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return out, fmt.Errorf("decode Nessie history: %w", err)
	}
	return out, nil
}

// celString quotes s as a CEL string literal; false for a string with control characters,
// which the caller then does not filter on.
func celString(s string) (string, bool) {
	if strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return "", false
	}
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`, true
}

// nessieError is a non-2xx answer of Nessie's API (whose error body is not Iceberg's).
func nessieError(status int, body []byte) error {
	var payload struct {
		Message   string `json:"message"`
		ErrorCode string `json:"errorCode"`
	}
	_ = json.Unmarshal(body, &payload)
	return &httpStatusError{status: status, typ: payload.ErrorCode, message: payload.Message}
}

// nessieContent is a Nessie content object of type ICEBERG_TABLE: Nessie's pointer to a
// table's metadata file, with the ids Nessie requires beside it.
type nessieContent struct {
	Type             string `json:"type"`
	ID               string `json:"id,omitempty"`
	MetadataLocation string `json:"metadataLocation"`
	SnapshotID       int64  `json:"snapshotId"`
	SchemaID         int    `json:"schemaId"`
	SpecID           int    `json:"specId"`
	SortOrderID      int    `json:"sortOrderId"`
}

// contentPath is key as a path segment of Nessie's API v2: elements joined by dots, a dot
// inside an element written as U+001D.
func contentPath(key []string) string {
	parts := make([]string, len(key))
	for i, e := range key {
		parts[i] = strings.ReplaceAll(e, ".", "\x1d")
	}
	return strings.Join(parts, ".")
}

// content reads table key on the branch: its content and the hash of the commit it was
// read at. A missing key is catalog's ErrNoSuchTable.
func (n *nessie) content(ctx context.Context, key []string) (nessieContent, string, error) {
	var out struct {
		Content            nessieContent `json:"content"`
		EffectiveReference struct {
			Hash string `json:"hash"`
		} `json:"effectiveReference"`
	}
	st, body, err := n.sess.do(ctx, http.MethodGet, n.api.JoinPath("trees", n.ref, "contents", contentPath(key)), nil)
	if err != nil {
		return out.Content, "", err
	}
	if st == http.StatusNotFound {
		return out.Content, "", fmt.Errorf("%w: %w", catalog.ErrNoSuchTable, nessieError(st, body))
	}
	if st != http.StatusOK {
		return out.Content, "", nessieError(st, body)
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return out.Content, "", fmt.Errorf("decode Nessie content: %w", err)
	}
	return out.Content, out.EffectiveReference.Hash, nil
}

// commitPut commits c as table key's content on the branch, based on hash: Nessie refuses
// it with 409 when the key changed after hash.
func (n *nessie) commitPut(ctx context.Context, key []string, c nessieContent, hash, message string) error {
	payload, err := json.Marshal(map[string]any{
		"commitMeta": map[string]any{"message": message},
		"operations": []any{map[string]any{"type": "PUT", "key": map[string]any{"elements": key}, "content": c}},
	})
	if err != nil {
		return err
	}
	st, body, err := n.sess.do(ctx, http.MethodPost, n.api.JoinPath("trees", n.ref+"@"+hash, "history", "commit"), payload)
	if err != nil {
		return err
	}
	if st != http.StatusOK {
		return nessieError(st, body)
	}
	return nil
}

// nessieReplace re-points table id from expected to location with one Nessie commit that
// keeps the table's content id (the same table to Nessie, its branches and its history),
// based on the commit the table was read at: Nessie refuses the commit when the table
// changed since, so the re-point is a compare-and-swap on the server. The new content's ids
// come from the metadata file itself (Options.ReadMetadata). A commit whose answer was lost
// may be repeated: a 409 then finds the table already at location, which is success.
//
// It declines (done false, nothing changed) metadata without a current snapshot: Nessie
// 0.99 cannot parse such a file when it lacks current-snapshot-id (pyiceberg and iceberg-go
// leave it out), and a content pointing at it would make the table unloadable through
// Nessie's REST endpoint. The caller's register path then lets Nessie judge the file.
func (a *Adapter) nessieReplace(ctx context.Context, id ourcatalog.Ident, expected, location string) (done bool, err error) {
	n := a.sess.nessie
	key := append(slices.Clone(id.Namespace), id.Table)
	cur, hash, err := n.content(ctx, key)
	if err != nil {
		return true, a.mapErr(err, nil, "read table %s", id)
	}
	if cur.Type != "ICEBERG_TABLE" {
		return true, apperr.Conflict("remote %q: %s is a Nessie %s, not an Iceberg table", a.name, id, cur.Type)
	}
	if cur.MetadataLocation != expected {
		return true, apperr.Conflict("remote %q: table %s changed: it no longer points at the expected metadata location", a.name, id)
	}
	md, err := a.readMetadata(ctx, location)
	if err != nil {
		return true, err
	}
	if md.CurrentSnapshot() == nil {
		return false, nil
	}
	next := nessieContent{Type: cur.Type, ID: cur.ID, MetadataLocation: location, SnapshotID: md.CurrentSnapshot().SnapshotID,
		SchemaID: md.CurrentSchema().ID, SpecID: md.DefaultPartitionSpec(), SortOrderID: md.DefaultSortOrder()}
	cerr := n.commitPut(httpclient.Idempotent(ctx), key, next, hash, fmt.Sprintf("iceberg-remotes: point %s at %s", id, location))
	if cerr == nil {
		return true, nil
	}
	var he *httpStatusError
	if errors.As(cerr, &he) && he.status == http.StatusConflict {
		if now, _, err := n.content(ctx, key); err == nil && now.ID == cur.ID && now.MetadataLocation == location {
			return true, nil
		}
		return true, apperr.Wrap(http.StatusConflict, cerr, "remote %q: table %s changed while it was re-pointed", a.name, id)
	}
	return true, a.mapErr(cerr, nil, "re-point table %s", id)
}

// readMetadata reads the metadata file at location with Options.ReadMetadata.
func (a *Adapter) readMetadata(ctx context.Context, location string) (table.Metadata, error) {
	md, err := a.readMD(ctx, location)
	if err != nil {
		var ae *apperr.Error
		if errors.As(err, &ae) {
			return nil, err
		}
		return nil, apperr.Wrap(http.StatusBadGateway, err, "remote %q: read the metadata file %s", a.name, location)
	}
	return md, nil
}
