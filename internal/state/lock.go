package state

import (
	"context"
	"sync"
)

// keyedMutex is a set of per-key mutexes that can be waited on with a context. Entries are
// reference-counted and removed when unused, so memory does not grow with the number of
// tables ever locked.
type keyedMutex struct {
	mu    sync.Mutex
	locks map[string]*keyLock
}

type keyLock struct {
	ch   chan struct{} // holds one token while the key is locked
	refs int
}

func newKeyedMutex() *keyedMutex { return &keyedMutex{locks: map[string]*keyLock{}} }

// Lock waits for the key's lock or ctx's end.
func (m *keyedMutex) Lock(ctx context.Context, key string) (func(), error) {
	m.mu.Lock()
	l, ok := m.locks[key]
	if !ok {
		l = &keyLock{ch: make(chan struct{}, 1)}
		m.locks[key] = l
	}
	l.refs++
	m.mu.Unlock()

	select {
	case l.ch <- struct{}{}:
		var once sync.Once
		return func() { once.Do(func() { <-l.ch; m.release(key, l) }) }, nil
	case <-ctx.Done():
		m.release(key, l)
		return nil, ctx.Err()
	}
}

func (m *keyedMutex) release(key string, l *keyLock) {
	m.mu.Lock()
	defer m.mu.Unlock()
	l.refs--
	if l.refs == 0 {
		delete(m.locks, key)
	}
}
