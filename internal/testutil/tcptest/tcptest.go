// Package tcptest serves misbehaving TCP peers on 127.0.0.1 for tests of timeouts and
// retries: a server that hangs up at once, or one that accepts and never answers. Each
// counts the connections it accepted, which is how a test counts a client's attempts.
package tcptest

import (
	"net"
	"sync/atomic"
	"testing"
)

// HangUp accepts connections and closes each at once: every call through it fails after
// connecting (an ambiguous failure for the client). It returns its address and the count.
func HangUp(t testing.TB) (string, *atomic.Int32) {
	return serve(t, func(c net.Conn) { _ = c.Close() })
}

// Silent accepts connections and never answers (a hung server); they close when the test
// ends. It returns its address and the count.
func Silent(t testing.TB) (string, *atomic.Int32) {
	return serve(t, func(c net.Conn) { t.Cleanup(func() { _ = c.Close() }) })
}

func serve(t testing.TB, handle func(net.Conn)) (string, *atomic.Int32) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("tcptest: %v", err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	var n atomic.Int32
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			n.Add(1)
			handle(conn)
		}
	}()
	return ln.Addr().String(), &n
}
