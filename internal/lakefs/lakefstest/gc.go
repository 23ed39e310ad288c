package lakefstest

// A model of lakeFS's garbage collector, so that tests can check what a published table
// still reads after branches are deleted and GC runs. It follows lakeFS's own rule
// (treeverse/lakeFS pkg/graveler/retention/active_commits.go, GetGarbageCollectionCommits,
// with the starting points of garbage_collection_manager.go SaveGarbageCollectionCommits):
//   - the starting points are every branch head (hidden branches included: GCBranchIterator
//     lists with ShowHidden) and every commit that is no commit's first parent ("dangling"
//     commits, e.g. the old head of a deleted branch); tags are not starting points;
//   - a branch head is always active; walking its first-parent ancestry, a parent is active
//     while its child was created within the retention period;
//   - a dangling commit is treated as the parent of a hypothetical head created when it
//     was, so it stays active only while it is itself within the retention period.
// Objects under the repository's storage namespace that no active commit and no branch's
// staging area references are deleted; reading them through lakeFS then answers 410.
// Per-branch retention rules are not modelled (one retention for every branch).

import (
	"sort"
	"strings"
	"time"
)

// CollectGarbage runs the model on a repository with the given retention and returns the
// physical addresses it deleted, sorted.
func (s *Server) CollectGarbage(repoName string, retention time.Duration) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp := s.mustRepo(repoName)
	active := activeCommits(rp, time.Now().Add(-retention))

	keep := map[string]bool{}
	for id := range active {
		for _, e := range rp.commits[id].tree {
			keep[e.physicalAddress] = true
		}
	}
	for _, b := range rp.branches {
		for _, e := range b.staging {
			if e != nil {
				keep[e.physicalAddress] = true
			}
		}
	}
	candidates := map[string]bool{}
	for _, c := range rp.commits {
		for _, e := range c.tree {
			candidates[e.physicalAddress] = true
		}
	}
	for addr := range s.blocks {
		candidates[addr] = true
	}
	var deleted []string
	for addr := range candidates {
		// lakeFS's GC deletes only inside the repository's storage namespace.
		if keep[addr] || !strings.HasPrefix(addr, rp.storageNamespace+"/") {
			continue
		}
		if s.collected == nil {
			s.collected = map[string]bool{}
		}
		s.collected[addr] = true
		delete(s.blocks, addr)
		deleted = append(deleted, addr)
	}
	sort.Strings(deleted)
	return deleted
}

// Collected reports whether the GC model deleted a physical address.
func (s *Server) Collected(physicalAddress string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.collected[physicalAddress]
}

// Branch returns the head of a branch and whether it is hidden (ok false when absent).
func (s *Server) Branch(repoName, name string) (head string, hidden, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.mustRepo(repoName).branches[name]
	if b == nil {
		return "", false, false
	}
	return b.head, b.hidden, true
}

// activeCommits is lakeFS's GetGarbageCollectionCommits for one retention threshold.
func activeCommits(rp *repo, threshold time.Time) map[string]bool {
	type start struct{ commit, branch string }
	var starts []start
	heads := map[string]bool{}
	for name, b := range rp.branches {
		starts = append(starts, start{commit: b.head, branch: name})
		heads[b.head] = true
	}
	firstParents := map[string]bool{}
	for _, c := range rp.commits {
		if len(c.parents) > 0 {
			firstParents[c.parents[0]] = true
		}
	}
	for id := range rp.commits {
		if !firstParents[id] && !heads[id] {
			starts = append(starts, start{commit: id})
		}
	}
	sort.Slice(starts, func(i, j int) bool { return starts[i].commit < starts[j].commit })

	created := func(id string) time.Time { return time.Unix(rp.commits[id].created, 0) }
	active := map[string]bool{}
	processed := map[string]bool{}
	for _, sp := range starts {
		// node is the commit whose creation time decides whether its first parent is active.
		nodeCreated, parent := created(sp.commit), sp.commit
		if sp.branch != "" {
			active[sp.commit] = true
			processed[sp.commit] = true
			parent = firstParent(rp, sp.commit)
		}
		for parent != "" && !processed[parent] {
			if nodeCreated.After(threshold) {
				active[parent] = true
			}
			processed[parent] = true
			nodeCreated, parent = created(parent), firstParent(rp, parent)
		}
	}
	return active
}

func firstParent(rp *repo, id string) string {
	if c := rp.commits[id]; c != nil && len(c.parents) > 0 {
		return c.parents[0]
	}
	return ""
}
