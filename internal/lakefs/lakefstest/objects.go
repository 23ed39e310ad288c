package lakefstest

// Handlers for objects: read, upload, stage, stat and list.

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

func (s *Server) getObject(w http.ResponseWriter, r *http.Request, pp map[string]string) {
	path := r.URL.Query().Get("path")
	s.mu.Lock()
	rp := s.repos[pp["repository"]]
	if rp == nil {
		s.mu.Unlock()
		writeErr(w, http.StatusNotFound, "repository not found")
		return
	}
	view, ok := s.viewLocked(w, rp, pp["ref"])
	if !ok {
		s.mu.Unlock()
		return
	}
	e := view[path]
	var data []byte
	var inMemory, collected bool
	if e != nil {
		data, inMemory = s.blocks[e.physicalAddress]
		collected = s.collected[e.physicalAddress]
	}
	s.mu.Unlock()
	if e == nil {
		writeErr(w, http.StatusNotFound, "not found")
		return
	}
	if collected {
		writeErr(w, http.StatusGone, "object expired: garbage collected %s", e.physicalAddress)
		return
	}
	if !inMemory {
		var err error
		if s.opts.ReadPhysical == nil {
			err = errors.New("no such block")
		} else {
			data, err = s.opts.ReadPhysical(r.Context(), e.physicalAddress)
		}
		if err != nil {
			writeErr(w, http.StatusGone, "object expired: cannot read %s", e.physicalAddress)
			return
		}
	}
	// lakeFS serves exactly the size recorded at link time.
	if int64(len(data)) > e.size {
		data = data[:e.size]
	} else if int64(len(data)) < e.size {
		writeErr(w, http.StatusGone, "object expired: %s is shorter than recorded", e.physicalAddress)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("ETag", `"`+e.checksum+`"`)
	w.Header().Set("Last-Modified", time.Unix(e.mtime, 0).UTC().Format(http.TimeFormat))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(data)
}

func (s *Server) uploadObject(w http.ResponseWriter, r *http.Request, rp *repo, branchName string) {
	b := rp.branches[branchName]
	if b == nil {
		writeErr(w, http.StatusNotFound, "branch not found")
		return
	}
	path := r.URL.Query().Get("path")
	if inm := r.Header.Get("If-None-Match"); inm != "" {
		if inm != "*" {
			writeErr(w, http.StatusBadRequest, "If-None-Match only supports '*'")
			return
		}
		if applyStaging(rp.commits[b.head].tree, b.staging)[path] != nil {
			writeErr(w, http.StatusPreconditionFailed, "precondition failed")
			return
		}
	}
	var content []byte
	var err error
	mt, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt == "multipart/form-data" {
		content, err = readMultipartContent(r, params["boundary"])
	} else {
		content, err = io.ReadAll(r.Body)
	}
	if err != nil {
		writeErr(w, http.StatusBadRequest, "cannot read body: %v", err)
		return
	}
	e := s.storeLocked(rp, content, "application/octet-stream")
	b.staging[path] = e
	writeJSON(w, http.StatusCreated, statJSON(path, e))
}

func (s *Server) stageObject(w http.ResponseWriter, r *http.Request, rp *repo, branchName string) {
	path := r.URL.Query().Get("path")
	b := rp.branches[branchName]
	if b == nil {
		writeErr(w, http.StatusNotFound, "branch not found")
		return
	}
	var body struct {
		PhysicalAddress string  `json:"physical_address"`
		Checksum        string  `json:"checksum"`
		SizeBytes       int64   `json:"size_bytes"`
		ContentType     *string `json:"content_type"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		writeErr(w, http.StatusBadRequest, "invalid body: %v", err)
		return
	}
	e := &entry{physicalAddress: body.PhysicalAddress, size: body.SizeBytes, checksum: body.Checksum,
		contentType: "application/octet-stream", mtime: s.now()}
	if body.ContentType != nil && *body.ContentType != "" {
		e.contentType = *body.ContentType
	}
	b.staging[path] = e
	writeJSON(w, http.StatusCreated, statJSON(path, e))
}

func (s *Server) listObjects(w http.ResponseWriter, q url.Values, view map[string]*entry) {
	prefix, after, delim := q.Get("prefix"), q.Get("after"), q.Get("delimiter")
	type item struct {
		path   string
		e      *entry
		prefix bool
	}
	seen := map[string]bool{}
	var items []item
	for p, e := range view {
		if e == nil || !strings.HasPrefix(p, prefix) {
			continue
		}
		if delim != "" {
			if i := strings.Index(p[len(prefix):], delim); i >= 0 {
				cp := p[:len(prefix)+i+len(delim)]
				if !seen[cp] {
					seen[cp] = true
					items = append(items, item{path: cp, prefix: true})
				}
				continue
			}
		}
		items = append(items, item{path: p, e: e})
	}
	sort.Slice(items, func(i, j int) bool { return items[i].path < items[j].path })
	var page []item
	for _, it := range items {
		if it.path > after {
			page = append(page, it)
		}
	}
	writePage(w, q, page, func(it item) (string, map[string]any) {
		if it.prefix {
			return it.path, map[string]any{"path": it.path, "path_type": "common_prefix",
				"physical_address": "", "checksum": "", "mtime": 0}
		}
		return it.path, statJSON(it.path, it.e)
	})
}

// writePage answers a lakeFS listing with the first pageAmount(q) of items (those after the
// request's cursor, in order), each rendered by render with its cursor key, and lakeFS's
// pagination: next_offset is the last key sent when more follow, else "".
func writePage[T any](w http.ResponseWriter, q url.Values, items []T, render func(T) (key string, result map[string]any)) {
	amount := pageAmount(q)
	hasMore := len(items) > amount
	if hasMore {
		items = items[:amount]
	}
	results := make([]map[string]any, 0, len(items))
	next := ""
	for _, it := range items {
		key, r := render(it)
		results = append(results, r)
		next = key
	}
	if !hasMore {
		next = ""
	}
	writeJSON(w, http.StatusOK, map[string]any{"results": results, "pagination": map[string]any{
		"has_more": hasMore, "next_offset": next, "results": len(results), "max_per_page": 1000}})
}

func pageAmount(q url.Values) int {
	amount := 100
	if a, err := strconv.Atoi(q.Get("amount")); err == nil && a > 0 {
		amount = a
	}
	return min(amount, 1000)
}

func statJSON(path string, e *entry) map[string]any {
	return map[string]any{"path": path, "path_type": "object", "physical_address": e.physicalAddress,
		"checksum": e.checksum, "size_bytes": e.size, "mtime": e.mtime, "content_type": e.contentType}
}

func readMultipartContent(r *http.Request, boundary string) ([]byte, error) {
	if boundary == "" {
		return nil, errors.New("multipart body without boundary")
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, err
	}
	for {
		part, err := mr.NextPart()
		if err != nil {
			return nil, fmt.Errorf("no part named content: %w", err)
		}
		if part.FormName() == "content" {
			return io.ReadAll(part)
		}
	}
}
