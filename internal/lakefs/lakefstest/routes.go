package lakefstest

// Dispatch of validated, authenticated requests to the handlers by operationId.

import "net/http"

func (s *Server) handle(w http.ResponseWriter, r *http.Request, op string, pp map[string]string) {
	if op == "getCurrentUser" {
		s.getCurrentUser(w, r)
		return
	}
	if op == "healthCheck" {
		w.WriteHeader(http.StatusNoContent) // lakeFS's health check needs no credentials
		return
	}
	u, ok := s.authenticate(w, r)
	if !ok {
		return
	}
	if u.access == Deny || (u.access == ReadOnly && writeOps[op]) {
		writeErr(w, http.StatusUnauthorized, "insufficient permissions")
		return
	}
	if op == "getObject" {
		// Reading the block may call out (ReadPhysical): not under the lock.
		s.getObject(w, r, pp)
		return
	}
	if op == "createRepository" {
		s.createRepository(w, r)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rp := s.repos[pp["repository"]]
	if rp == nil {
		writeErr(w, http.StatusNotFound, "repository not found")
		return
	}
	q := r.URL.Query()
	switch op {
	case "getRepository":
		s.getRepository(w, rp)
	case "getBranch":
		s.getBranch(w, rp, pp["branch"])
	case "getCommit":
		s.getCommit(w, rp, pp["commitId"])
	case "statObject":
		view, ok := s.viewLocked(w, rp, pp["ref"])
		if !ok {
			return
		}
		e := view[q.Get("path")]
		if e == nil {
			writeErr(w, http.StatusNotFound, "not found")
			return
		}
		writeJSON(w, http.StatusOK, statJSON(q.Get("path"), e))
	case "listObjects":
		view, ok := s.viewLocked(w, rp, pp["ref"])
		if !ok {
			return
		}
		s.listObjects(w, q, view)
	case "uploadObject":
		s.uploadObject(w, r, rp, pp["branch"])
	case "stageObject":
		s.stageObject(w, r, rp, pp["branch"])
	case "diffBranch":
		b := rp.branches[pp["branch"]]
		if b == nil {
			writeErr(w, http.StatusNotFound, "branch not found")
			return
		}
		s.diffBranch(w, q, rp, b)
	case "diffRefs":
		s.diffRefs(w, q, rp, pp["leftRef"], pp["rightRef"])
	case "commit":
		s.commit(w, r, rp, pp["branch"])
	case "logCommits":
		s.logCommits(w, q, rp, pp["ref"])
	case "resetBranch":
		s.resetBranch(w, r, rp, pp["branch"])
	case "createBranch":
		s.createBranch(w, r, rp)
	case "deleteBranch":
		s.deleteBranch(w, rp, pp["branch"])
	default:
		s.opts.Errorf("lakefstest: operation %s is not implemented by the stand-in", op)
		writeErr(w, http.StatusInternalServerError, "lakefstest: operation %s not implemented", op)
	}
}
