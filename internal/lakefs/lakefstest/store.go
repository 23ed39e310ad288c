package lakefstest

// The in-memory model: repositories, branches with staging, commits with their trees, and
// objects at physical addresses. Every *Locked function runs under Server.mu.

import (
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"time"
)

type entry struct {
	physicalAddress string
	size            int64
	checksum        string
	contentType     string
	mtime           int64
}

type commit struct {
	id       string
	parents  []string
	message  string
	metadata map[string]string
	created  int64
	seq      int // creation order: the log's order when timestamps tie
	tree     map[string]*entry
}

type branch struct {
	head    string
	staging map[string]*entry // nil value = tombstone (deleted)
}

type repo struct {
	id, storageNamespace, defaultBranch string
	created                             int64
	branches                            map[string]*branch
	tags                                map[string]string
	commits                             map[string]*commit
}

// viewLocked is the content of a reference: a branch's committed tree plus its staging, or
// a commit's tree. It writes 404 and returns false for an unknown reference.
func (s *Server) viewLocked(w http.ResponseWriter, rp *repo, ref string) (map[string]*entry, bool) {
	if b := rp.branches[ref]; b != nil {
		return applyStaging(rp.commits[b.head].tree, b.staging), true
	}
	c := s.resolveLocked(rp, ref)
	if c == nil {
		writeErr(w, http.StatusNotFound, "not found")
		return nil, false
	}
	return c.tree, true
}

func applyStaging(tree map[string]*entry, staging map[string]*entry) map[string]*entry {
	out := make(map[string]*entry, len(tree)+len(staging))
	for p, e := range tree {
		out[p] = e
	}
	for p, e := range staging {
		if e == nil {
			delete(out, p)
		} else {
			out[p] = e
		}
	}
	return out
}

// resolveLocked resolves a branch, tag or full commit id.
func (s *Server) resolveLocked(rp *repo, ref string) *commit {
	if b := rp.branches[ref]; b != nil {
		return rp.commits[b.head]
	}
	if id, ok := rp.tags[ref]; ok {
		return rp.commits[id]
	}
	return rp.commits[ref]
}

func (s *Server) newCommitLocked(rp *repo, parents []string, message string, metadata map[string]string, tree map[string]*entry) *commit {
	s.seq++
	sum := sha256.Sum256([]byte(fmt.Sprintf("%s/%d/%s", rp.id, s.seq, message)))
	md := map[string]string{}
	for k, v := range metadata {
		md[k] = v
	}
	c := &commit{id: hex.EncodeToString(sum[:]), parents: parents, message: message, metadata: md, created: s.now(), seq: s.seq, tree: tree}
	rp.commits[c.id] = c
	return c
}

func (s *Server) storeLocked(rp *repo, content []byte, contentType string) *entry {
	s.seq++
	sum := md5.Sum(content)
	addr := fmt.Sprintf("%s/data/obj-%06d-%s", rp.storageNamespace, s.seq, hex.EncodeToString(sum[:4]))
	s.blocks[addr] = bytes.Clone(content)
	return &entry{physicalAddress: addr, size: int64(len(content)), checksum: hex.EncodeToString(sum[:]),
		contentType: contentType, mtime: s.now()}
}

func (s *Server) now() int64 { return time.Now().Unix() }

func (s *Server) mustRepo(name string) *repo {
	r := s.repos[name]
	if r == nil {
		s.t.Fatalf("lakefstest: unknown repository %q", name)
	}
	return r
}
