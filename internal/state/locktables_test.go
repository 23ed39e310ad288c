package state_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/state"
)

// LockTables holds many tables' locks at once (a bulk pull), in any order asked, with one
// PostgreSQL connection however many tables: more tables than the store has connections
// for single locks (MaxConnections 8 here) must not wait forever. Held, each table is
// refused to another replica; released, every one is free again.
func TestLockTables(t *testing.T) {
	for name, backend := range backends() {
		t.Run(name, func(t *testing.T) {
			open := backend(t)
			a, b := open(t), open(t)
			var keys []state.TableKey
			for i := 19; i >= 0; i-- { // unsorted, with a duplicate
				keys = append(keys, state.TableKey{Catalog: "c", Namespace: []string{"ns"}, Table: fmt.Sprintf("t%02d", i)})
			}
			keys = append(keys, keys[3])
			c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			unlock, err := a.LockTables(c, keys)
			require.NoError(t, err)

			for _, s := range []state.Store{a, b} {
				short, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
				_, err = s.LockTable(short, keys[7])
				cancel()
				require.Error(t, err, "a held table is not taken again")
			}
			other, err := b.LockTable(ctx(t), state.TableKey{Catalog: "c", Namespace: []string{"ns"}, Table: "other"})
			require.NoError(t, err, "a table not in the set is free")
			other()

			unlock()
			unlock() // idempotent
			again, err := b.LockTables(ctx(t), keys)
			require.NoError(t, err, "released: the other replica takes them all")
			again()
			one, err := a.LockTable(ctx(t), keys[0])
			require.NoError(t, err)
			one()
			assert.NotNil(t, one)
		})
	}
}

// One table's unlock may be called twice (deferred and on an early path): the second call
// must not release the lock a later holder took meanwhile.
func TestLockTableUnlockTwice(t *testing.T) {
	for name, backend := range backends() {
		t.Run(name, func(t *testing.T) {
			s := backend(t)(t)
			key := state.TableKey{Catalog: "c", Namespace: []string{"ns"}, Table: "t"}
			first, err := s.LockTable(ctx(t), key)
			require.NoError(t, err)
			first()
			second, err := s.LockTable(ctx(t), key)
			require.NoError(t, err)
			first()
			short, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			_, err = s.LockTable(short, key)
			cancel()
			require.Error(t, err, "the second holder still holds the table")
			second()
		})
	}
}
