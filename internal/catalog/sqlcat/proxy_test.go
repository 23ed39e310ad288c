package sqlcat_test

import (
	"bytes"
	"net"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/apperr"
	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog"
	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog/catalogtest"
	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog/sqlcat"
	"github.com/iceberg-remotes/iceberg-remotes/internal/httpclient"
)

// tcpProxy forwards loopback connections to PostgreSQL. When killOn is set, the first
// statement containing it is forwarded for execution and, once the server has had time to run
// it, the connection is closed without passing the reply on: the client never learns the
// outcome. With the simple query protocol the text and the execution travel in one Query
// message; with the extended protocol the text comes in a Parse message and the execution in
// a later Bind/Execute, which is where the proxy cuts.
type tcpProxy struct {
	ln       net.Listener
	target   string
	killOn   []byte
	armed    atomic.Bool // extended protocol: the statement was parsed, cut at its execution
	killed   atomic.Bool
	wg       sync.WaitGroup
	mu       sync.Mutex
	conns    []net.Conn
	accepted atomic.Int32
}

func startProxy(t *testing.T, addr, target string, killOn string) *tcpProxy {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	require.NoError(t, err)
	p := &tcpProxy{ln: ln, target: target}
	if killOn != "" {
		p.killOn = []byte(killOn)
	}
	p.wg.Add(1)
	go p.serve()
	t.Cleanup(p.close)
	return p
}

func (p *tcpProxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.accepted.Add(1)
		s, err := net.DialTimeout("tcp", p.target, 5*time.Second)
		if err != nil {
			_ = c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, c, s)
		p.mu.Unlock()
		var cut atomic.Bool // set: the server's replies on this connection are dropped
		p.wg.Add(2)
		go func() { defer p.wg.Done(); p.clientToServer(c, s, &cut) }()
		go func() { defer p.wg.Done(); serverToClient(s, c, &cut) }()
	}
}

func (p *tcpProxy) clientToServer(c, s net.Conn, cut *atomic.Bool) {
	defer s.Close()
	buf := make([]byte, 64<<10)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			kill := false
			if p.killOn != nil && !p.killed.Load() {
				chunk := buf[:n]
				switch {
				case chunk[0] == 'Q' && bytes.Contains(chunk, p.killOn):
					kill = true
				case chunk[0] == 'P' && bytes.Contains(chunk, p.killOn):
					// A Parse of the statement; an Execute in the same chunk runs it now.
					if bytes.Contains(chunk, []byte{'E', 0, 0, 0, 9}) {
						kill = true
					} else {
						p.armed.Store(true)
					}
				case chunk[0] == 'B' && p.armed.Load():
					kill = true
				}
				kill = kill && p.killed.CompareAndSwap(false, true)
			}
			if kill {
				cut.Store(true)
			}
			if _, werr := s.Write(buf[:n]); werr != nil {
				return
			}
			if kill {
				time.Sleep(300 * time.Millisecond) // the server executes and commits meanwhile
				_ = c.Close()
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func serverToClient(s, c net.Conn, cut *atomic.Bool) {
	defer c.Close()
	buf := make([]byte, 64<<10)
	for {
		n, err := s.Read(buf)
		if n > 0 && !cut.Load() {
			if _, werr := c.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (p *tcpProxy) close() {
	_ = p.ln.Close()
	p.mu.Lock()
	for _, c := range p.conns {
		_ = c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

// proxiedDSN points a PostgreSQL DSN at addr and returns the original host:port.
func proxiedDSN(t *testing.T, dsn, addr string) (string, string) {
	t.Helper()
	u, err := url.Parse(dsn)
	require.NoError(t, err, "these tests need a URL-form DSN")
	target := u.Host
	u.Host = addr
	return u.String(), target
}

// TestUnavailableAtStartRecovers: a remote whose database is down when the adapter is built
// reports 503 (not ready) and works, schema detection included, once the database answers.
func TestUnavailableAtStartRecovers(t *testing.T) {
	cfg := freshPostgres(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close()) // nothing listens there now

	var target string
	cfg.DSN, target = proxiedDSN(t, cfg.DSN, addr)
	a := newAdapter(t, cfg, sqlcat.Options{RemoteID: "late", Policy: httpclient.Policy{MaxRetries: 1, Timeout: 5 * time.Second}})
	assert.Equal(t, "unknown", sqlcat.SchemaVersion(a))
	err = a.Ping(testCtx(t))
	assertStatus(t, err, http.StatusServiceUnavailable)
	assert.Contains(t, apperr.PublicMessage(err), `"late"`)

	startProxy(t, addr, target, "")
	require.NoError(t, a.Ping(testCtx(t)))
	assert.Equal(t, "V1", sqlcat.SchemaVersion(a), "schema created once the database answered")
	require.NoError(t, a.CreateNamespace(testCtx(t), []string{"ns"}))
}

// TestLostReplyIsNotMisreported: the connection dies after the server committed a
// compare-and-swap (or a drop) but before the client read the reply. pgx then reports the
// connection as closed and "safe to retry"; the retry on a new connection must recognise the
// committed change as this call's success rather than report a false 409 (or 404).
func TestLostReplyIsNotMisreported(t *testing.T) {
	for _, mode := range []string{"simple_protocol", "cache_statement", "exec"} {
		for _, op := range []string{"replace", "drop"} {
			t.Run(mode+"/"+op, func(t *testing.T) {
				cfg := freshPostgres(t)
				direct := newAdapter(t, cfg, sqlcat.Options{})
				ctx := testCtx(t)
				locs := catalogtest.WriteMetadataFiles(t, t.TempDir(), 3)
				id := catalog.Ident{Namespace: []string{"ns"}, Table: "t"}
				require.NoError(t, direct.CreateNamespace(ctx, id.Namespace))
				require.NoError(t, direct.RegisterTable(ctx, id, locs[0], catalog.Provenance{}))

				stmt := map[string]string{"replace": "UPDATE iceberg_tables", "drop": "DELETE FROM iceberg_tables"}[op]
				proxied := cfg
				var target string
				proxied.DSN, target = proxiedDSN(t, cfg.DSN+"&default_query_exec_mode="+mode, "127.0.0.1:0")
				p := startProxy(t, "127.0.0.1:0", target, stmt)
				proxied.DSN, _ = proxiedDSN(t, proxied.DSN, p.ln.Addr().String())
				a := newAdapter(t, proxied, sqlcat.Options{Policy: httpclient.Policy{MaxRetries: 2}})

				if op == "drop" {
					require.NoError(t, a.DropTable(ctx, id))
					require.True(t, p.killed.Load(), "the proxy cut the connection during the drop")
					_, err := direct.LoadTable(ctx, id)
					assertStatus(t, err, http.StatusNotFound)
					return
				}
				atomic, err := a.ReplaceTable(ctx, id, locs[0], locs[1], catalog.Provenance{})
				require.True(t, p.killed.Load(), "the proxy cut the connection during the swap")
				require.NoError(t, err)
				assert.True(t, atomic)
				got, err := direct.LoadTable(ctx, id)
				require.NoError(t, err)
				assert.Equal(t, locs[1], got)

				// A swap from the location the table has left to elsewhere is still a conflict.
				_, err = a.ReplaceTable(ctx, id, locs[0], locs[2], catalog.Provenance{})
				assertStatus(t, err, http.StatusConflict)
			})
		}
	}
}
