package server

import (
	"net/http"
	"net/http/pprof"
)

// adminHandler serves Go's profiler under /debug/pprof/ for the optional admin listener
// (admin_address). It is mounted on a mux of its own, never on the API router: profiles
// expose internals and cost CPU, so they are reachable only where an operator chose to
// listen, typically 127.0.0.1.
func adminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}
