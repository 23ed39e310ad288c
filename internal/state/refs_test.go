package state_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/state"
)

// WithRefLock counts a protecting branch's users without the caller's record: claims are
// records of the branch's repository naming it and not un-published; pending intents are
// matched by the quoted name; whether it exists is what SetExists recorded.
func TestRefUseCounts(t *testing.T) {
	for name, backend := range backends() {
		t.Run(name, func(t *testing.T) {
			s := backend(t)(t)
			const ref = "iceberg-remotes-c0ffee"
			use := func(repo string, except state.TableKey) state.RefUse {
				var u state.RefUse
				require.NoError(t, s.WithRefLock(ctx(t), repo, ref, except, func(l state.RefLocked) error {
					u = l.Use()
					return nil
				}))
				return u
			}
			set := func(exists bool) {
				require.NoError(t, s.WithRefLock(ctx(t), "repo", ref, state.TableKey{}, func(l state.RefLocked) error {
					return l.SetExists(ctx(t), exists)
				}))
			}
			assert.Equal(t, state.RefUse{}, use("repo", state.TableKey{}))

			add := func(table, repo, protected, status, pending string) state.SyncRecord {
				rec := newRecord("c1", []string{"a"}, table)
				rec.Repository, rec.ProtectedRef, rec.Status, rec.Pending = repo, protected, status, pending
				require.NoError(t, s.CreateSyncRecord(ctx(t), &rec))
				return rec
			}
			a := add("a", "repo", ref, state.StatusSynced, "")
			add("b", "repo", ref, state.StatusFailed, "")
			add("gone", "repo", ref, state.StatusUnpublished, "")   // not a claim
			add("other", "other-repo", ref, state.StatusSynced, "") // another repository's branch
			add("longer", "repo", ref+"0", state.StatusSynced, "")  // another name
			add("p", "repo", "", state.StatusPending, `{"protect_ref":"`+ref+`"}`)
			add("q", "repo", "", state.StatusPending, `{"protect_ref":"`+ref+`1"}`) // not the quoted name

			assert.Equal(t, state.RefUse{Claims: 2, Pending: 1}, use("repo", state.TableKey{}))
			assert.Equal(t, state.RefUse{Claims: 1, Pending: 1}, use("repo", a.TableKey), "the caller's record is not counted")
			assert.Equal(t, state.RefUse{Claims: 1, Pending: 1}, use("other-repo", state.TableKey{}))
			assert.True(t, use("repo", state.TableKey{}).InUse())

			set(true)
			assert.True(t, use("repo", state.TableKey{}).Exists)
			assert.False(t, use("other-repo", state.TableKey{}).Exists)
			set(true) // repeatable
			set(false)
			assert.False(t, use("repo", state.TableKey{}).Exists)
		})
	}
}

// One branch's sections never overlap, across goroutines (and, on PostgreSQL, across
// stores opened on one database, as replicas are); another branch's do.
func TestRefLockSerializes(t *testing.T) {
	for name, backend := range backends() {
		t.Run(name, func(t *testing.T) {
			open := backend(t)
			s1, s2 := open(t), open(t)
			var inside, overlaps atomic.Int32
			var wg sync.WaitGroup
			for i := range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					s := s1
					if i%2 == 1 {
						s = s2
					}
					err := s.WithRefLock(ctx(t), "repo", "iceberg-remotes-x", state.TableKey{}, func(state.RefLocked) error {
						if inside.Add(1) > 1 {
							overlaps.Add(1)
						}
						time.Sleep(5 * time.Millisecond)
						inside.Add(-1)
						return nil
					})
					assert.NoError(t, err)
				}()
			}
			wg.Wait()
			assert.Zero(t, overlaps.Load())

			// Another branch's lock is free while one is held; fn's error is returned.
			boom := errors.New("boom")
			err := s1.WithRefLock(ctx(t), "repo", "iceberg-remotes-x", state.TableKey{}, func(state.RefLocked) error {
				c, cancel := context.WithTimeout(ctx(t), 5*time.Second)
				defer cancel()
				require.NoError(t, s2.WithRefLock(c, "repo", "iceberg-remotes-y", state.TableKey{}, func(state.RefLocked) error { return nil }))
				return boom
			})
			assert.ErrorIs(t, err, boom)
		})
	}
}
