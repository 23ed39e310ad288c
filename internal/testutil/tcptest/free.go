package tcptest

import (
	"net"
	"testing"
)

// FreeAddr returns a 127.0.0.1 address whose port was free a moment ago, for a listener a
// test configures by address (e.g. admin_address, or a peer process's port).
func FreeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("tcptest: %v", err)
	}
	defer l.Close()
	return l.Addr().String()
}
