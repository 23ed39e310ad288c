package tcptest

import (
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// Proxy forwards a loopback port to a server a test cannot stop itself (the shared
// PostgreSQL, an in-process stand-in): stopping the proxy makes that server unreachable for whoever dials the proxy,
// as stopping a peer process does, and Restart brings it back on the same address.
type Proxy struct {
	Addr   string // 127.0.0.1:port to dial instead of the target
	target string
	t      testing.TB

	mu    sync.Mutex
	l     net.Listener
	conns map[net.Conn]struct{}
}

// StartProxy listens on a free loopback port and forwards every connection to target; it
// is stopped when the test ends.
func StartProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	p := &Proxy{target: target, t: t, conns: map[net.Conn]struct{}{}}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("tcptest: proxy: %v", err)
	}
	p.Addr = l.Addr().String()
	p.serve(l)
	t.Cleanup(p.Stop)
	t.Logf("started tcp proxy %s -> %s", p.Addr, target)
	return p
}

func (p *Proxy) serve(l net.Listener) {
	p.mu.Lock()
	p.l = l
	p.mu.Unlock()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go p.forward(c)
		}
	}()
}

func (p *Proxy) forward(c net.Conn) {
	up, err := net.DialTimeout("tcp", p.target, 10*time.Second)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	if p.l == nil { // stopped meanwhile
		p.mu.Unlock()
		c.Close()
		up.Close()
		return
	}
	p.conns[c], p.conns[up] = struct{}{}, struct{}{}
	p.mu.Unlock()
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		done <- struct{}{}
	}
	go pipe(up, c)
	go pipe(c, up)
	<-done
	c.Close()
	up.Close()
	p.mu.Lock()
	delete(p.conns, c)
	delete(p.conns, up)
	p.mu.Unlock()
}

// Stop closes the listener and every forwarded connection. Stopping twice does nothing.
func (p *Proxy) Stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.l == nil {
		return
	}
	_ = p.l.Close()
	p.l = nil
	for c := range p.conns {
		_ = c.Close()
	}
	p.t.Logf("stopped tcp proxy %s", p.Addr)
}

// Restart listens on the same address again.
func (p *Proxy) Restart() {
	p.t.Helper()
	var l net.Listener
	var err error
	for i := 0; i < 50; i++ { // the port may linger briefly after Stop
		if l, err = net.Listen("tcp", p.Addr); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		p.t.Fatalf("tcptest: proxy restart %s: %v", p.Addr, err)
	}
	p.serve(l)
	p.t.Logf("restarted tcp proxy %s -> %s", p.Addr, p.target)
}
