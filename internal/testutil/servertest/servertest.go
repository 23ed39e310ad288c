// Package servertest runs the real server (server.Run) for a test: on its own goroutine,
// returning its API address once it listens, and stopping it when the test ends.
package servertest

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/iceberg-remotes/iceberg-remotes/internal/config"
	"github.com/iceberg-remotes/iceberg-remotes/internal/server"
)

// stopWithin bounds the server's shutdown at the end of a test.
const stopWithin = 30 * time.Second

// Run starts server.Run with cfg and logger and returns the API's address. It fails the test
// when the server does not listen within startWithin or stops early, and, at the test's
// end, when it does not stop cleanly within 30 s.
func Run(t testing.TB, cfg *config.Config, logger *slog.Logger, startWithin time.Duration) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	addrCh, done := make(chan string, 1), make(chan error, 1)
	go func() { done <- server.Run(ctx, cfg, logger, func(a string) { addrCh <- a }) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("the server did not stop cleanly: %v", err)
			}
		case <-time.After(stopWithin):
			t.Error("the server did not stop")
		}
	})
	select {
	case a := <-addrCh:
		return a
	case err := <-done:
		t.Fatalf("server stopped early: %v", err)
	case <-time.After(startWithin):
		t.Fatal("server did not start")
	}
	return ""
}
