package lakefstest

// Handlers for commits and the branch diff.

import (
	"encoding/json"
	"net/http"
	"net/url"
	"sort"
	"strings"
)

func (s *Server) commit(w http.ResponseWriter, r *http.Request, rp *repo, branchName string) {
	b := rp.branches[branchName]
	if b == nil {
		writeErr(w, http.StatusNotFound, "branch not found")
		return
	}
	var body struct {
		Message  string            `json:"message"`
		Metadata map[string]string `json:"metadata"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		writeErr(w, http.StatusBadRequest, "invalid body: %v", err)
		return
	}
	head := rp.commits[b.head]
	changes := diff(head.tree, b.staging)
	if len(changes) == 0 {
		writeErr(w, http.StatusBadRequest, "commit: no changes")
		return
	}
	if s.hook != nil {
		ev := HookEvent{Repository: rp.id, Branch: branchName, Message: body.Message, Metadata: body.Metadata}
		for _, c := range changes {
			ev.Paths = append(ev.Paths, c.path)
		}
		if err := s.hook(ev); err != nil {
			writeErr(w, http.StatusPreconditionFailed, "pre-commit hook aborted: %v", err)
			return
		}
	}
	c := s.newCommitLocked(rp, []string{b.head}, body.Message, body.Metadata, applyStaging(head.tree, b.staging))
	b.head, b.staging = c.id, map[string]*entry{}
	writeJSON(w, http.StatusCreated, commitJSON(c))
}

type change struct {
	path, typ string
	e         *entry
}

// diff lists staged changes that differ from the committed tree, sorted by path.
func diff(tree map[string]*entry, staging map[string]*entry) []change {
	var out []change
	for p, e := range staging {
		old := tree[p]
		switch {
		case e == nil && old == nil:
		case e == nil:
			out = append(out, change{path: p, typ: "removed", e: old})
		case old == nil:
			out = append(out, change{path: p, typ: "added", e: e})
		case *old != *e:
			out = append(out, change{path: p, typ: "changed", e: e})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].path < out[j].path })
	return out
}

func (s *Server) diffBranch(w http.ResponseWriter, q url.Values, rp *repo, b *branch) {
	writeDiff(w, q, diff(rp.commits[b.head].tree, b.staging))
}

// diffRefs compares two references' trees: two_dot compares them directly, three_dot (the
// default) compares right with the merge base of the two, as lakeFS does.
func (s *Server) diffRefs(w http.ResponseWriter, q url.Values, rp *repo, leftRef, rightRef string) {
	left, right := s.resolveLocked(rp, leftRef), s.resolveLocked(rp, rightRef)
	if left == nil || right == nil {
		writeErr(w, http.StatusNotFound, "not found")
		return
	}
	switch q.Get("type") {
	case "two_dot":
	case "", "three_dot":
		left = mergeBase(rp, left, right)
		if left == nil {
			writeErr(w, http.StatusNotFound, "no merge base")
			return
		}
	default:
		writeErr(w, http.StatusBadRequest, "invalid diff type %q", q.Get("type"))
		return
	}
	delta := map[string]*entry{}
	for p, e := range right.tree {
		delta[p] = e
	}
	for p := range left.tree {
		if _, ok := right.tree[p]; !ok {
			delta[p] = nil
		}
	}
	writeDiff(w, q, diff(left.tree, delta))
}

// mergeBase is the nearest commit that is an ancestor of both (breadth first from b).
func mergeBase(rp *repo, a, b *commit) *commit {
	ancestors := map[string]bool{}
	for queue := []string{a.id}; len(queue) > 0; queue = queue[1:] {
		if id := queue[0]; !ancestors[id] && rp.commits[id] != nil {
			ancestors[id] = true
			queue = append(queue, rp.commits[id].parents...)
		}
	}
	seen := map[string]bool{}
	for queue := []string{b.id}; len(queue) > 0; queue = queue[1:] {
		id := queue[0]
		if seen[id] || rp.commits[id] == nil {
			continue
		}
		if ancestors[id] {
			return rp.commits[id]
		}
		seen[id] = true
		queue = append(queue, rp.commits[id].parents...)
	}
	return nil
}

// writeDiff answers one page of a diff listing (prefix, after, amount).
func writeDiff(w http.ResponseWriter, q url.Values, changes []change) {
	var filtered []change
	for _, c := range changes {
		if strings.HasPrefix(c.path, q.Get("prefix")) && c.path > q.Get("after") {
			filtered = append(filtered, c)
		}
	}
	writePage(w, q, filtered, func(c change) (string, map[string]any) {
		return c.path, map[string]any{"path": c.path, "path_type": "object", "type": c.typ, "size_bytes": c.e.size}
	})
}

// logCommits lists the commits reachable from ref, newest first (lakeFS orders its log by
// commit date; creation order here), paginated by commit id.
func (s *Server) logCommits(w http.ResponseWriter, q url.Values, rp *repo, ref string) {
	head := s.resolveLocked(rp, ref)
	if head == nil {
		writeErr(w, http.StatusNotFound, "not found")
		return
	}
	seen := map[string]bool{head.id: true}
	all := []*commit{head}
	for i := 0; i < len(all); i++ {
		for _, p := range all[i].parents {
			if !seen[p] {
				seen[p] = true
				all = append(all, rp.commits[p])
			}
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].seq > all[j].seq })
	if after := q.Get("after"); after != "" {
		for i, c := range all {
			if c.id == after {
				all = all[i+1:]
				break
			}
		}
	}
	writePage(w, q, all, func(c *commit) (string, map[string]any) { return c.id, commitJSON(c) })
}

func (s *Server) getCommit(w http.ResponseWriter, rp *repo, ref string) {
	c := s.resolveLocked(rp, ref)
	if c == nil {
		writeErr(w, http.StatusNotFound, "commit: not found")
		return
	}
	writeJSON(w, http.StatusOK, commitJSON(c))
}

func commitJSON(c *commit) map[string]any {
	parents := c.parents
	if parents == nil {
		parents = []string{}
	}
	return map[string]any{"id": c.id, "parents": parents, "committer": "lakefstest", "message": c.message,
		"creation_date": c.created, "meta_range_id": "mr-" + c.id[:16], "metadata": c.metadata}
}
