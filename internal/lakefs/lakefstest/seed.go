package lakefstest

// Seeding and inspection for tests: the same model the HTTP handlers serve, driven directly.

import (
	"bytes"
	"sort"
	"strings"
)

// CreateRepository creates a repository with a default branch holding an initial empty
// commit, and returns that commit's id.
func (s *Server) CreateRepository(name, storageNamespace, defaultBranch string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.createRepositoryLocked(name, storageNamespace, defaultBranch).branches[defaultBranch].head
}

func (s *Server) createRepositoryLocked(name, storageNamespace, defaultBranch string) *repo {
	r := &repo{id: name, storageNamespace: strings.TrimRight(storageNamespace, "/"), defaultBranch: defaultBranch,
		created: s.now(), branches: map[string]*branch{}, tags: map[string]string{}, commits: map[string]*commit{}}
	c := s.newCommitLocked(r, nil, "Repository created", nil, map[string]*entry{})
	r.branches[defaultBranch] = &branch{head: c.id, staging: map[string]*entry{}}
	s.repos[name] = r
	return r
}

// CreateBranch creates a branch from a reference directly (no HTTP) and returns its commit.
func (s *Server) CreateBranch(repoName, name, source string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.mustRepo(repoName)
	c := s.resolveLocked(r, source)
	if c == nil {
		s.t.Fatalf("lakefstest: unknown reference %q", source)
	}
	r.branches[name] = &branch{head: c.id, staging: map[string]*entry{}}
	return c.id
}

// DeleteBranch deletes a branch directly (no HTTP); its commits stay.
func (s *Server) DeleteBranch(repoName, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.mustRepo(repoName)
	if r.branches[name] == nil {
		s.t.Fatalf("lakefstest: unknown branch %q", name)
	}
	delete(r.branches, name)
}

// CreateTag tags a reference.
func (s *Server) CreateTag(repoName, tag, ref string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.mustRepo(repoName)
	c := s.resolveLocked(r, ref)
	if c == nil {
		s.t.Fatalf("lakefstest: unknown reference %q", ref)
	}
	r.tags[tag] = c.id
	return c.id
}

// DeleteTag removes a tag (the commit stays).
func (s *Server) DeleteTag(repoName, tag string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.mustRepo(repoName)
	if _, ok := r.tags[tag]; !ok {
		s.t.Fatalf("lakefstest: unknown tag %q", tag)
	}
	delete(r.tags, tag)
}

// PutObject stages content at path on a branch directly (as an upload would) and returns
// its physical address.
func (s *Server) PutObject(repoName, branchName, path string, content []byte) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.mustRepo(repoName)
	b := r.branches[branchName]
	if b == nil {
		s.t.Fatalf("lakefstest: unknown branch %q", branchName)
	}
	e := s.storeLocked(r, content, "application/octet-stream")
	b.staging[path] = e
	return e.physicalAddress
}

// DeleteObject stages the deletion of path on a branch directly (as lakeFS's deleteObject
// would): the branch no longer shows it, its last commit still does.
func (s *Server) DeleteObject(repoName, branchName, path string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.mustRepo(repoName).branches[branchName]
	if b == nil {
		s.t.Fatalf("lakefstest: unknown branch %q", branchName)
	}
	b.staging[path] = nil
}

// LinkObject stages an object at path on a branch directly that points at an existing
// physical address (as stageObject would), without a request: for seeding many tables.
func (s *Server) LinkObject(repoName, branchName, path, physicalAddress string, size int64, checksum string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.mustRepo(repoName).branches[branchName]
	if b == nil {
		s.t.Fatalf("lakefstest: unknown branch %q", branchName)
	}
	b.staging[path] = &entry{physicalAddress: physicalAddress, size: size, checksum: checksum,
		contentType: "application/json", mtime: s.now()}
}

// PutBlock stores bytes at a physical address in the in-memory block store (a file written
// to the object store outside lakeFS, e.g. by a remote catalog's writer).
func (s *Server) PutBlock(physicalAddress string, content []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.blocks[physicalAddress] = bytes.Clone(content)
}

// CommitBranch commits a branch's staged changes directly and returns the commit id.
func (s *Server) CommitBranch(repoName, branchName, message string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.mustRepo(repoName)
	b := r.branches[branchName]
	if b == nil {
		s.t.Fatalf("lakefstest: unknown branch %q", branchName)
	}
	c := s.newCommitLocked(r, []string{b.head}, message, nil, applyStaging(r.commits[b.head].tree, b.staging))
	b.head, b.staging = c.id, map[string]*entry{}
	return c.id
}

// CommitInfo describes a commit, for assertions.
type CommitInfo struct {
	ID       string
	Parents  []string
	Message  string
	Metadata map[string]string
	Paths    map[string]string // path -> physical address, the commit's full content
}

// GetCommit returns a commit (or a branch's head) for assertions.
func (s *Server) GetCommit(repoName, ref string) (CommitInfo, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.repos[repoName]
	if r == nil {
		return CommitInfo{}, false
	}
	c := s.resolveLocked(r, ref)
	if c == nil {
		return CommitInfo{}, false
	}
	ci := CommitInfo{ID: c.id, Parents: append([]string(nil), c.parents...), Message: c.message,
		Metadata: map[string]string{}, Paths: map[string]string{}}
	for k, v := range c.metadata {
		ci.Metadata[k] = v
	}
	for p, e := range c.tree {
		ci.Paths[p] = e.physicalAddress
	}
	return ci, true
}

// Staged returns the paths staged (uncommitted) on a branch, sorted.
func (s *Server) Staged(repoName, branchName string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.mustRepo(repoName)
	b := r.branches[branchName]
	if b == nil {
		return nil
	}
	var out []string
	for p := range b.staging {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// SetPreCommitHook installs a pre-commit hook; a non-nil error refuses the commit with 412.
// The hook runs under the server's lock: it must not call the Server's methods.
func (s *Server) SetPreCommitHook(h func(HookEvent) error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hook = h
}
