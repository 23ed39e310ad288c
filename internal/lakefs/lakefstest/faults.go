package lakefstest

// Fault injection and call accounting.

import "net/http"

// Calls returns how many requests reached an operation (by operationId), including those
// answered by injected faults.
func (s *Server) Calls(operationID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts[operationID]
}

// TotalCalls returns how many requests the stand-in received, of every operation.
func (s *Server) TotalCalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.counts {
		n += c
	}
	return n
}

// LastRequestHeader returns the headers of the last request of an operation (nil if none),
// e.g. to check that credentials and the request id are forwarded.
func (s *Server) LastRequestHeader(operationID string) http.Header {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.headers[operationID].Clone()
}

// FailNext makes the next n calls of an operation answer status with a lakeFS error body.
func (s *Server) FailNext(operationID string, n, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.faults[operationID] = append(s.faults[operationID], fault{status: status})
	}
}

// HangNext makes the next n calls of an operation never answer (until the client gives up
// or the server closes).
func (s *Server) HangNext(operationID string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.faults[operationID] = append(s.faults[operationID], fault{hang: true})
	}
}

// TamperResponse rewrites every answer of an operation before it is validated and sent. It
// exists to prove that the contract check catches a wrong response.
func (s *Server) TamperResponse(operationID string, f func(status int, header http.Header, body []byte) (int, []byte)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tampers[operationID] = f
}

func (s *Server) count(op string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counts[op]++
}

func (s *Server) takeFault(op string) (fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.faults[op]
	if len(q) == 0 {
		return fault{}, false
	}
	s.faults[op] = q[1:]
	return q[0], true
}
