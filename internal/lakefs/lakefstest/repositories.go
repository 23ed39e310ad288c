package lakefstest

// Handlers for repositories and branches.

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
)

// createRepository creates a repository as lakeFS does: 201 with the repository, 409 when
// the name is taken.
func (s *Server) createRepository(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Name             string `json:"name"`
		StorageNamespace string `json:"storage_namespace"`
		DefaultBranch    string `json:"default_branch"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		writeErr(w, http.StatusBadRequest, "invalid request body")
		return
	}
	if body.DefaultBranch == "" {
		body.DefaultBranch = "main"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, exists := s.repos[body.Name]; exists {
		writeErr(w, http.StatusConflict, "repository already exists")
		return
	}
	rp := s.createRepositoryLocked(body.Name, body.StorageNamespace, body.DefaultBranch)
	writeJSON(w, http.StatusCreated, map[string]any{"id": rp.id, "creation_date": rp.created,
		"default_branch": rp.defaultBranch, "storage_namespace": rp.storageNamespace})
}

func (s *Server) getRepository(w http.ResponseWriter, rp *repo) {
	writeJSON(w, http.StatusOK, map[string]any{"id": rp.id, "creation_date": rp.created,
		"default_branch": rp.defaultBranch, "storage_namespace": rp.storageNamespace})
}

func (s *Server) getBranch(w http.ResponseWriter, rp *repo, name string) {
	b := rp.branches[name]
	if b == nil {
		writeErr(w, http.StatusNotFound, "branch not found")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": name, "commit_id": b.head})
}

func (s *Server) createBranch(w http.ResponseWriter, r *http.Request, rp *repo) {
	var body struct {
		Name   string `json:"name"`
		Source string `json:"source"`
		Hidden bool   `json:"hidden"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		writeErr(w, http.StatusBadRequest, "invalid body: %v", err)
		return
	}
	if _, exists := rp.branches[body.Name]; exists {
		writeErr(w, http.StatusConflict, "branch already exists")
		return
	}
	c := s.resolveLocked(rp, body.Source)
	if c == nil {
		writeErr(w, http.StatusNotFound, "source reference not found")
		return
	}
	rp.branches[body.Name] = &branch{head: c.id, staging: map[string]*entry{}, hidden: body.Hidden}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusCreated)
	_, _ = io.WriteString(w, c.id)
}

func (s *Server) resetBranch(w http.ResponseWriter, r *http.Request, rp *repo, branchName string) {
	b := rp.branches[branchName]
	if b == nil {
		writeErr(w, http.StatusNotFound, "branch not found")
		return
	}
	var body struct {
		Type string `json:"type"`
		Path string `json:"path"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		writeErr(w, http.StatusBadRequest, "invalid body: %v", err)
		return
	}
	switch body.Type {
	case "object":
		delete(b.staging, body.Path)
	case "common_prefix":
		for p := range b.staging {
			if strings.HasPrefix(p, body.Path) {
				delete(b.staging, p)
			}
		}
	default:
		b.staging = map[string]*entry{}
	}
	w.WriteHeader(http.StatusNoContent)
}

// deleteBranch deletes a branch as lakeFS does: 204, 404 when absent, 403 for the
// repository's default branch (lakeFS's controller maps ErrDeleteDefaultBranch to 403).
func (s *Server) deleteBranch(w http.ResponseWriter, rp *repo, name string) {
	if rp.branches[name] == nil {
		writeErr(w, http.StatusNotFound, "branch not found")
		return
	}
	if name == rp.defaultBranch {
		writeErr(w, http.StatusForbidden, "cannot delete repository default branch")
		return
	}
	delete(rp.branches, name)
	w.WriteHeader(http.StatusNoContent)
}
