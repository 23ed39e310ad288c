package restcat

// Nessie's own API (v2), which a Nessie server advertises beside its Iceberg REST endpoint:
// the requests the adapter makes to it. What they serve is in nessie_history.go (a pull's
// proof of descent) and nessie_repoint.go (an atomic re-point).

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/apache/iceberg-go/catalog"
)

// nessie is how a Nessie server's native API (v2) is reached: Nessie's /v1/config advertises
// it (nessie.is-nessie-catalog, nessie.core-base-uri) next to its Iceberg REST endpoint.
type nessie struct {
	sess *session
	api  *url.URL // .../api/v2
	ref  string   // the branch the REST prefix names
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
	return &nessie{sess: s, api: core.JoinPath("v2"), ref: ref}
}

// call makes one request to Nessie's API and decodes a 200 answer into out (nil: not
// read). Any other status is an *httpStatusError with Nessie's message.
func (n *nessie) call(ctx context.Context, method string, u *url.URL, payload []byte, out any) error {
	st, body, err := n.sess.do(ctx, method, u, payload)
	if err != nil {
		return err
	}
	if st != http.StatusOK {
		return nessieError(st, body)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("decode Nessie's answer to %s %s: %w", method, u.Path, err)
	}
	return nil
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
	err := n.call(ctx, http.MethodGet, n.api.JoinPath("trees", n.ref, "contents", contentPath(key)), nil, &out)
	var he *httpStatusError
	if errors.As(err, &he) && he.status == http.StatusNotFound {
		return nessieContent{}, "", fmt.Errorf("%w: %w", catalog.ErrNoSuchTable, err)
	}
	if err != nil {
		return nessieContent{}, "", err
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
	return n.call(ctx, http.MethodPost, n.api.JoinPath("trees", n.ref+"@"+hash, "history", "commit"), payload, nil)
}
