package resttest

// Idempotency-Key as the Iceberg REST spec describes it: advertised in /v1/config as
// idempotency-key-lifetime; a mutating request whose key was seen within the lifetime gets
// the first request's final answer again instead of being applied twice.

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"time"
)

// idemEntry is what the stand-in holds for one key.
type idemEntry struct {
	first    time.Time     // first submission: the lifetime counts from here
	inFlight bool          // the first request with the key is being served
	done     chan struct{} // closed when it is no longer in flight
	final    bool          // an answer was stored for replay
	status   int
	header   http.Header
	body     []byte
}

func isMutation(method string) bool {
	switch method {
	case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		return true
	}
	return false
}

// idempotencyKey is the request's key when the stand-in honours keys (it advertises a
// lifetime) and the request is a mutation; "" otherwise.
func (s *Server) idempotencyKey(r *http.Request) string {
	if s.opts.IdempotencyKeyLifetime <= 0 || !isMutation(r.Method) {
		return ""
	}
	return r.Header.Get("Idempotency-Key")
}

// finalizes says which answers are stored and replayed: the spec's "200, 201, 204 and
// deterministic terminal 4xx". 5xx are not; nor are the answers that say the request was not
// processed at all (authentication, 408, 429), which a retry may well change.
func finalizes(status int) bool {
	switch status {
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusRequestTimeout, 419, http.StatusTooManyRequests:
		return false
	}
	return status < 500
}

// replay answers rec from the stored answer for key and reports true, or claims key for this
// request (the caller serves it and calls settle) and reports false. A request arriving
// while another with the same key is being served waits for it.
func (s *Server) replay(key string, rec *httptest.ResponseRecorder) bool {
	for {
		s.mu.Lock()
		e, ok := s.keys[key]
		switch {
		case ok && e.inFlight:
			done := e.done
			s.mu.Unlock()
			<-done
			continue
		case ok && e.final && time.Since(e.first) <= s.opts.IdempotencyKeyLifetime:
			s.replays++
			for k, v := range e.header {
				rec.Header()[k] = append([]string(nil), v...)
			}
			rec.WriteHeader(e.status)
			_, _ = rec.Write(e.body)
			s.mu.Unlock()
			return true
		}
		first := time.Now()
		if ok && !e.final {
			first = e.first // a retry after an unstored (5xx) answer: still the same key's window
		}
		s.keys[key] = &idemEntry{first: first, inFlight: true, done: make(chan struct{})}
		s.mu.Unlock()
		return false
	}
}

// settle stores rec as key's answer when it is final, and releases waiting duplicates.
func (s *Server) settle(key string, rec *httptest.ResponseRecorder) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.keys[key]
	e.inFlight = false
	if finalizes(rec.Code) {
		e.final, e.status, e.header, e.body = true, rec.Code, rec.Header().Clone(), append([]byte(nil), rec.Body.Bytes()...)
	}
	close(e.done)
}

// Replays returns how many requests were answered from a stored answer.
func (s *Server) Replays() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.replays
}

// LoseNextAnswers makes the next n mutating requests take effect (and, with a key, have
// their answer stored) and then closes their connection without answering, as a network
// that loses the answer would.
func (s *Server) LoseNextAnswers(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lose += n
}

func (s *Server) takeLostAnswer(r *http.Request) bool {
	if !isMutation(r.Method) || r.URL.Path == "/v1/oauth/tokens" {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lose == 0 {
		return false
	}
	s.lose--
	return true
}

// isoDuration renders d as an ISO-8601 duration in seconds (PT1800S), as /v1/config
// advertises it.
func isoDuration(d time.Duration) string {
	return "PT" + strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + "S"
}
