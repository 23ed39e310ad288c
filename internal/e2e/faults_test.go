package e2e

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/apperr"
	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog/restcat/resttest"
	"github.com/iceberg-remotes/iceberg-remotes/internal/state"
)

// The lakeFS operations (operationIds) push and pull may use.
var lakeOps = []string{"getRepository", "getBranch", "getCommit", "statObject", "getObject", "listObjects",
	"diffBranch", "uploadObject", "stageObject", "commit", "resetBranch"}

func (f *faultEnv) lakeCounts() map[string]int {
	out := map[string]int{}
	for _, op := range lakeOps {
		out[op] = f.lake.Calls(op)
	}
	return out
}

func usedOps(before, after map[string]int) []string {
	var out []string
	for _, op := range lakeOps {
		if after[op] > before[op] {
			out = append(out, op)
		}
	}
	return out
}

// requireSettled checks, in the state store itself, that no intent is left pending.
func (f *faultEnv) requireSettled(table string) state.SyncRecord {
	f.t.Helper()
	rec := f.record(table)
	require.Empty(f.t, rec.Pending, "the intent is settled")
	require.NotEqual(f.t, state.StatusPending, rec.Status)
	return rec
}

// requireCleanError checks a failed API answer is a lakeFS-style error with a message.
func requireCleanError(t *testing.T, r resp, status int) {
	t.Helper()
	require.Equal(t, status, r.Status, r.Body)
	require.NotEmpty(t, r.message(), "a lakeFS-style {\"message\"} body: %s", r.Body)
	require.NotContains(t, r.Body, "svc-secret")
}

// TestFaultsLakeFSOverHTTP fails, through the lakeFS stand-in, the first call of every lakeFS
// operation a pull and a push use, over the HTTP API: the API answers a clean 502, nothing is
// left staged, the record is not left pending, the listing shows the old state, the retry
// succeeds, and no data or metadata file vanished or changed. The REST remote's failure is
// injected the same way.
func TestFaultsLakeFSOverHTTP(t *testing.T) {
	var restSrv *resttest.Server
	for _, kind := range []remoteKind{sqlSQLite(), restRemoteKeeping(&restSrv)} {
		for _, layout := range []string{"pointer", "hadoop"} {
			t.Run(kind.name+"/"+layout, func(t *testing.T) {
				f := newFaultEnv(t, kind, layout)
				// One injected 500 must fail the call: a 500 is ambiguous and reads are
				// repeated after it (httpclient.Failure), so this test runs without retries.
				f.cfg.LakeFS.MaxRetries, f.cfg.IcebergCatalog.Remotes[0].MaxRetries = 0, 0
				f.restart()
				r := f.push(pushOpts{createNS: true})
				require.Equal(t, 204, r.Status, r.Body)

				// Which operations a pull and a push use.
				f.appendRemote(1)
				before := f.lakeCounts()
				require.Equal(t, 204, f.pull(pullOpts{}).Status)
				pullOps := usedOps(before, f.lakeCounts())
				// A pull locates lakeFS's table without reading its content (issue 14).
				require.Subset(t, pullOps, []string{"getBranch", "statObject", "diffBranch", "stageObject", "commit"})
				before = f.lakeCounts()
				require.Equal(t, 204, f.push(pushOpts{destTable: "probe"}).Status)
				pushOps := usedOps(before, f.lakeCounts())
				// The hadoop layout looks versions up by listing (v<N>.*), the pointer by a stat.
				lookup := map[string]string{"pointer": "statObject", "hadoop": "listObjects"}[layout]
				require.Subset(t, pushOps, []string{"getBranch", lookup, "getObject"})

				for _, op := range pullOps {
					t.Run("pull/"+op, func(t *testing.T) {
						m := f.appendRemote(1)
						prev := f.readLakeFS("etl-42", localNS, tableName).MetadataLocation
						files, commits, calls := f.files(), f.lake.Calls("commit"), f.lake.Calls(op)

						f.lake.FailNext(op, 1, 500)
						r := f.pull(pullOpts{})
						requireCleanError(t, r, 502)
						assert.Contains(t, r.message(), "lakeFS")
						require.Greater(t, f.lake.Calls(op), calls, "the fault was served")

						assert.Empty(t, f.lake.Staged(repo, "etl-42"), "nothing left staged")
						assert.Equal(t, prev, f.readLakeFS("etl-42", localNS, tableName).MetadataLocation, "the branch keeps the old state")
						// Calls counts the request the fault answered too.
						failed := btoi(op == "commit")
						assert.Equal(t, commits+failed, f.lake.Calls("commit"))
						f.requireSettled(tableName)
						assert.Equal(t, RemoteAheadState, f.tables()[tableName])

						r = f.pull(pullOpts{})
						require.Equal(t, 204, r.Status, r.Body)
						assert.Equal(t, m, f.readLakeFS("etl-42", localNS, tableName).MetadataLocation)
						assert.Equal(t, commits+failed+1, f.lake.Calls("commit"), "one commit")
						assert.Empty(t, f.lake.Staged(repo, "etl-42"))
						assert.Equal(t, "in_sync", f.tables()[tableName])
						f.requirePreserved(files)
					})
				}
				for i, op := range pushOps {
					t.Run("push/"+op, func(t *testing.T) {
						dest := fmt.Sprintf("push%d", i)
						loc := f.readLakeFS("etl-42", localNS, tableName).MetadataLocation
						files, calls := f.files(), f.lake.Calls(op)

						f.lake.FailNext(op, 1, 500)
						r := f.push(pushOpts{destTable: dest})
						requireCleanError(t, r, 502)
						require.Greater(t, f.lake.Calls(op), calls, "the fault was served")
						assert.Empty(t, f.remoteAt(dest), "the remote is untouched")
						_, listed := f.tables()[dest]
						assert.False(t, listed, "a push that failed before its intent leaves no record")

						r = f.push(pushOpts{destTable: dest})
						require.Equal(t, 204, r.Status, r.Body)
						assert.Equal(t, loc, f.remoteAt(dest))
						f.requireSettled(dest)
						assert.Equal(t, "in_sync", f.tables()[dest])
						f.requirePreserved(files)
					})
				}
				if kind.name == "rest" {
					// The remote fails: its first call (namespace check) answers 500.
					t.Run("push/remote", func(t *testing.T) {
						files := f.files()
						restSrv.FailNext(1, 500)
						r := f.push(pushOpts{destTable: "restfail"})
						require.GreaterOrEqual(t, r.Status, 500, r.Body)
						require.NotEmpty(t, r.message())
						require.Zero(t, restSrv.PendingFaults())
						assert.Empty(t, f.remoteAt("restfail"))
						r = f.push(pushOpts{destTable: "restfail"})
						require.Equal(t, 204, r.Status, r.Body)
						f.requireSettled("restfail")
						assert.Equal(t, "in_sync", f.tables()["restfail"])
						f.requirePreserved(files)
					})
					t.Run("pull/remote", func(t *testing.T) {
						m := f.appendRemote(1)
						files, commits := f.files(), f.lake.Calls("commit")
						restSrv.FailNext(1, 500)
						r := f.pull(pullOpts{})
						require.GreaterOrEqual(t, r.Status, 500, r.Body)
						require.NotEmpty(t, r.message())
						assert.Equal(t, commits, f.lake.Calls("commit"))
						assert.Empty(t, f.lake.Staged(repo, "etl-42"))
						f.requireSettled(tableName)
						r = f.pull(pullOpts{})
						require.Equal(t, 204, r.Status, r.Body)
						assert.Equal(t, m, f.readLakeFS("etl-42", localNS, tableName).MetadataLocation)
						assert.Equal(t, "in_sync", f.tables()[tableName])
						f.requirePreserved(files)
					})
				}
				assert.Equal(t, "in_sync", f.tables()[tableName])
			})
		}
	}
}

// RemoteAheadState is the listing's state of a table whose remote moved.
const RemoteAheadState = "remote_ahead"

// TestFaultsEveryStep drives an in-process service instance (same state file and backends)
// and fails each call it makes to lakeFS and to the remote, one at a time, in two ways: the
// call fails without effect, or it takes effect and its answer is lost (a timeout). After
// each, the operation answers an error, the backends show either the old or the new state,
// the record and the listing agree with them, nothing is left staged, and the next
// operation over the API completes without a second commit.
func TestFaultsEveryStep(t *testing.T) {
	for _, kind := range []remoteKind{sqlSQLite(), restRemote()} {
		for _, layout := range []string{"pointer", "hadoop"} {
			t.Run(kind.name+"/"+layout, func(t *testing.T) {
				f := newFaultEnv(t, kind, layout)
				require.Equal(t, 204, f.push(pushOpts{createNS: true}).Status)
				rg := f.newRig()
				loc := f.readLakeFS("etl-42", localNS, tableName).MetadataLocation

				// The calls of a successful pull and push.
				f.appendRemote(1)
				require.NoError(t, rg.pull())
				pullLake, pullRemote := rg.calls()
				rg.reset()
				require.NoError(t, rg.push("probe", false, false))
				pushLake, pushRemote := rg.calls()
				require.Contains(t, pullLake, "commit")
				require.Contains(t, pushRemote, "RegisterTable")
				loc = f.readLakeFS("etl-42", localNS, tableName).MetadataLocation

				type step struct {
					lake   bool
					n      int
					name   string
					effect fault
				}
				var steps []step
				for _, mode := range []fault{failCall, loseAnswer} {
					for i, op := range pullLake {
						steps = append(steps, step{true, i + 1, op, mode})
					}
					for i, m := range pullRemote {
						steps = append(steps, step{false, i + 1, m, mode})
					}
				}
				for _, s := range steps {
					t.Run(fmt.Sprintf("pull/%s-%d-%s/%s", map[bool]string{true: "lakefs", false: "remote"}[s.lake], s.n, s.name, s.effect), func(t *testing.T) {
						m := f.appendRemote(1)
						prev := f.readLakeFS("etl-42", localNS, tableName).MetadataLocation
						files, commits := f.files(), f.lake.Calls("commit")
						fired := false
						rg.reset()
						hook := func(n int, name string) fault {
							if n == s.n {
								require.Equal(t, s.name, name, "the calls repeat the successful pull's")
								fired = true
								return s.effect
							}
							return pass
						}
						if s.lake {
							rg.onLakeFS = hook
						} else {
							rg.onRemote = hook
						}
						err := rg.pull()
						require.True(t, fired)
						if s.name == "createBranch" || s.name == "deleteBranch" {
							// Moving the GC protection to the pull's commit follows the commit
							// and is best effort: the pull stands, its record notes the failure
							// (README, "Garbage collection").
							require.NoError(t, err)
							rec := f.requireSettled(tableName)
							_, _, exists := f.lake.Branch(repo, rec.ProtectedRef)
							assert.True(t, exists, "the record names a protecting branch that exists")
						} else {
							require.Error(t, err)
							require.GreaterOrEqual(t, apperr.StatusOf(err), 400)
							require.NotEmpty(t, apperr.PublicMessage(err))
						}

						assert.Empty(t, f.lake.Staged(repo, "etl-42"), "nothing left staged")
						now := f.readLakeFS("etl-42", localNS, tableName).MetadataLocation
						require.Contains(t, []string{prev, m}, now, "old or new state")
						applied := now == m
						assert.Equal(t, commits+btoi(applied), f.lake.Calls("commit"))
						rec := f.requireSettled(tableName)
						if applied {
							assert.Equal(t, m, rec.LakeFSLocation)
							assert.Equal(t, "in_sync", f.tables()[tableName])
						} else {
							assert.Equal(t, prev, rec.LakeFSLocation)
							assert.Equal(t, RemoteAheadState, f.tables()[tableName])
						}

						r := f.pull(pullOpts{})
						require.Equal(t, 204, r.Status, r.Body)
						assert.Equal(t, m, f.readLakeFS("etl-42", localNS, tableName).MetadataLocation)
						assert.Equal(t, commits+1, f.lake.Calls("commit"), "exactly one commit, no duplicate")
						assert.Equal(t, "in_sync", f.tables()[tableName])
						f.requirePreserved(files)
					})
				}

				steps = nil
				for _, mode := range []fault{failCall, loseAnswer} {
					for i, op := range pushLake {
						steps = append(steps, step{true, i + 1, op, mode})
					}
					for i, m := range pushRemote {
						steps = append(steps, step{false, i + 1, m, mode})
					}
				}
				// The pulls above moved the branch's table.
				loc = f.readLakeFS("etl-42", localNS, tableName).MetadataLocation
				for i, s := range steps {
					t.Run(fmt.Sprintf("push/%s-%d-%s/%s", map[bool]string{true: "lakefs", false: "remote"}[s.lake], s.n, s.name, s.effect), func(t *testing.T) {
						dest := fmt.Sprintf("step%d", i)
						files := f.files()
						fired := false
						rg.reset()
						hook := func(n int, name string) fault {
							if n == s.n {
								require.Equal(t, s.name, name)
								fired = true
								return s.effect
							}
							return pass
						}
						if s.lake {
							rg.onLakeFS = hook
						} else {
							rg.onRemote = hook
						}
						err := rg.push(dest, false, false)
						require.True(t, fired)
						require.Error(t, err)
						require.GreaterOrEqual(t, apperr.StatusOf(err), 400)

						now := f.remoteAt(dest)
						require.Contains(t, []string{"", loc}, now, "old or new state")
						listed, ok := f.tables()[dest]
						switch {
						case now == loc:
							assert.Equal(t, "in_sync", listed, "the remote changed: the record says so")
							f.requireSettled(dest)
						case ok:
							assert.Equal(t, "missing", listed)
							f.requireSettled(dest)
						}

						r := f.push(pushOpts{destTable: dest})
						require.Equal(t, 204, r.Status, r.Body)
						assert.Equal(t, loc, f.remoteAt(dest))
						f.requireSettled(dest)
						assert.Equal(t, "in_sync", f.tables()[dest])
						f.requirePreserved(files)
					})
				}

				// A forced re-point whose ReplaceTable fails or loses its answer.
				for _, mode := range []fault{failCall, loseAnswer} {
					t.Run("repoint/"+mode.String(), func(t *testing.T) {
						m := f.appendRemote(1)
						files := f.files()
						rg.reset()
						fired := false
						rg.onRemote = func(_ int, name string) fault {
							if name == "ReplaceTable" {
								fired = true
								return mode
							}
							return pass
						}
						err := rg.push(tableName, true, false)
						require.True(t, fired)
						require.Error(t, err)
						now := f.remoteAt(tableName)
						require.Contains(t, []string{m, loc}, now)
						rec := f.requireSettled(tableName)
						if now == loc {
							assert.Equal(t, loc, rec.RemoteLocation)
							assert.Equal(t, "in_sync", f.tables()[tableName])
						} else {
							assert.Equal(t, RemoteAheadState, f.tables()[tableName])
						}
						r := f.push(pushOpts{force: true})
						require.Equal(t, 204, r.Status, r.Body)
						assert.Equal(t, loc, f.remoteAt(tableName))
						assert.Equal(t, "in_sync", f.tables()[tableName])
						f.requirePreserved(files)
					})
				}
			})
		}
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestFaultsCrash simulates the process dying after each write of docs/design.md section 7: the
// intent written (push and pull), the remote changed (push), lakeFS staged but not
// committed (pull), lakeFS committed (pull). The dying instance leaves its intent in the
// state store; a fresh instance on the same store and backends must settle it on the next
// push or pull: the old or the new state everywhere, the staged pull discarded, no second
// commit, the listing consistent.
func TestFaultsCrash(t *testing.T) {
	for _, kind := range []remoteKind{sqlSQLite(), sqlPostgres(), restRemote()} {
		for _, layout := range []string{"pointer", "hadoop"} {
			t.Run(kind.name+"/"+layout, func(t *testing.T) {
				f := newFaultEnv(t, kind, layout)
				require.Equal(t, 204, f.push(pushOpts{createNS: true}).Status)
				loc := f.readLakeFS("etl-42", localNS, tableName).MetadataLocation

				crashedPending := func(table, op string) {
					t.Helper()
					rec := f.record(table)
					require.Equal(t, state.StatusPending, rec.Status, "the dead process left its intent")
					require.Contains(t, rec.Pending, `"op":"`+op+`"`)
				}

				t.Run("push/after-intent", func(t *testing.T) {
					files := f.files()
					rg := f.newRig()
					rg.onStoreWrite = func(_ string, rec *state.SyncRecord) fault {
						if rec.Pending != "" {
							return crashAfter
						}
						return pass
					}
					require.ErrorIs(t, rg.push("crash_a", false, false), errDead)
					crashedPending("crash_a", "push")
					assert.Empty(t, f.remoteAt("crash_a"), "the remote was not touched")

					rg.close() // the dead process is gone
					f.restart()
					assert.Equal(t, "missing", f.tables()["crash_a"], "never pushed")
					r := f.push(pushOpts{destTable: "crash_a"})
					require.Equal(t, 204, r.Status, r.Body)
					rec := f.requireSettled("crash_a")
					assert.Equal(t, loc, rec.PushedLocation)
					assert.Equal(t, loc, f.remoteAt("crash_a"))
					assert.Equal(t, "in_sync", f.tables()["crash_a"])
					f.requirePreserved(files)
				})

				for _, next := range []string{"push", "pull"} {
					for _, when := range []fault{crashBefore, crashAfter} {
						t.Run("push/"+when.String()+"-register/then-"+next, func(t *testing.T) {
							dest := "crash_" + next + "_" + strings.ReplaceAll(when.String(), "-", "_")
							files, commits := f.files(), f.lake.Calls("commit")
							rg := f.newRig()
							rg.onRemote = func(_ int, name string) fault {
								if name == "RegisterTable" {
									return when
								}
								return pass
							}
							require.ErrorIs(t, rg.push(dest, false, false), errDead)
							crashedPending(dest, "push")
							if when == crashAfter {
								assert.Equal(t, loc, f.remoteAt(dest), "the remote changed before the crash")
							} else {
								assert.Empty(t, f.remoteAt(dest))
							}

							rg.close() // the dead process is gone
							f.restart()
							if when == crashAfter {
								assert.Equal(t, "in_sync", f.tables()[dest], "the remote took the push: the listing says so")
							} else {
								assert.Equal(t, "missing", f.tables()[dest])
							}
							var r resp
							if next == "push" {
								r = f.push(pushOpts{destTable: dest})
								require.Equal(t, 204, r.Status, r.Body)
							} else {
								r = f.pull(pullOpts{srcTable: dest})
								if when == crashAfter {
									require.Equal(t, 204, r.Status, "the settled push makes the pull a no-op: %s", r.Body)
								} else {
									requireCleanError(t, r, 404) // never pushed
									r = f.push(pushOpts{destTable: dest})
									require.Equal(t, 204, r.Status, r.Body)
								}
							}
							rec := f.requireSettled(dest)
							assert.Equal(t, state.StatusSynced, rec.Status)
							assert.Equal(t, loc, rec.PushedLocation)
							assert.Equal(t, loc, f.remoteAt(dest))
							assert.Equal(t, "in_sync", f.tables()[dest])
							assert.Equal(t, commits, f.lake.Calls("commit"))
							f.requirePreserved(files)
						})
					}
				}

				t.Run("pull/after-intent", func(t *testing.T) {
					m := f.appendRemote(1)
					prev := f.readLakeFS("etl-42", localNS, tableName).MetadataLocation
					files, commits := f.files(), f.lake.Calls("commit")
					rg := f.newRig()
					rg.onStoreWrite = func(_ string, rec *state.SyncRecord) fault {
						if strings.Contains(rec.Pending, `"op":"pull"`) {
							return crashAfter
						}
						return pass
					}
					require.ErrorIs(t, rg.pull(), errDead)
					crashedPending(tableName, "pull")
					assert.Empty(t, f.lake.Staged(repo, "etl-42"))
					assert.Equal(t, prev, f.readLakeFS("etl-42", localNS, tableName).MetadataLocation)

					rg.close() // the dead process is gone
					f.restart()
					assert.Equal(t, RemoteAheadState, f.tables()[tableName])
					r := f.pull(pullOpts{})
					require.Equal(t, 204, r.Status, r.Body)
					f.requireSettled(tableName)
					assert.Equal(t, m, f.readLakeFS("etl-42", localNS, tableName).MetadataLocation)
					assert.Equal(t, commits+1, f.lake.Calls("commit"))
					assert.Equal(t, "in_sync", f.tables()[tableName])
					f.requirePreserved(files)
				})

				// Every lakeFS write of a pull (stage, version hint, commit), the process dying
				// just before it or just after it took effect; the next operation is a pull or
				// a push.
				rg := f.newRig()
				f.appendRemote(1)
				require.NoError(t, rg.pull())
				pullLake, _ := rg.calls()
				rg.close()
				require.Contains(t, pullLake, "stageObject")
				require.Contains(t, pullLake, "commit")
				for _, next := range []string{"pull", "push"} {
					for n, op := range pullLake {
						if !slices.Contains([]string{"stageObject", "uploadObject", "commit"}, op) {
							continue
						}
						for _, when := range []fault{crashBefore, crashAfter} {
							t.Run(fmt.Sprintf("pull/%s-%s-%d/then-%s", when, op, n+1, next), func(t *testing.T) {
								m := f.appendRemote(1)
								prev := f.readLakeFS("etl-42", localNS, tableName).MetadataLocation
								files, commits := f.files(), f.lake.Calls("commit")
								rg := f.newRig()
								rg.onLakeFS = func(i int, name string) fault {
									if i == n+1 {
										require.Equal(t, op, name)
										return when
									}
									return pass
								}
								require.ErrorIs(t, rg.pull(), errDead)
								crashedPending(tableName, "pull")
								committed := op == "commit" && when == crashAfter
								assert.Equal(t, commits+btoi(committed), f.lake.Calls("commit"))
								staged := f.lake.Staged(repo, "etl-42")
								if committed {
									assert.Empty(t, staged)
									c, ok := f.lake.GetCommit(repo, "etl-42")
									require.True(t, ok)
									assert.Equal(t, m, c.Metadata["iceberg_metadata_location"])
								} else if n > 0 && (when == crashAfter || op != "stageObject") {
									assert.NotEmpty(t, staged, "the dead process left its staged pull")
								}

								rg.close() // the dead process is gone
								f.restart()
								// Before any operation settles the intent, the listing already shows
								// the backends' true state (the staged half pull does not count).
								if committed {
									assert.Equal(t, "in_sync", f.tables()[tableName])
								} else {
									assert.Equal(t, RemoteAheadState, f.tables()[tableName])
								}
								if next == "pull" {
									r := f.pull(pullOpts{})
									require.Equal(t, 204, r.Status, r.Body)
									assert.Equal(t, m, f.readLakeFS("etl-42", localNS, tableName).MetadataLocation)
									assert.Equal(t, commits+1, f.lake.Calls("commit"), "exactly one commit, no duplicate")
								} else {
									r := f.push(pushOpts{})
									if committed {
										require.Equal(t, 204, r.Status, "the settled pull left nothing to push: %s", r.Body)
										assert.Equal(t, m, f.readLakeFS("etl-42", localNS, tableName).MetadataLocation)
									} else {
										requireCleanError(t, r, 409) // the remote is ahead: a push without force refuses
										assert.Equal(t, prev, f.readLakeFS("etl-42", localNS, tableName).MetadataLocation, "the staged pull was discarded")
										assert.Equal(t, RemoteAheadState, f.tables()[tableName])
										r = f.pull(pullOpts{})
										require.Equal(t, 204, r.Status, r.Body)
									}
									assert.Equal(t, commits+1, f.lake.Calls("commit"), "exactly one commit, no duplicate")
								}
								assert.Empty(t, f.lake.Staged(repo, "etl-42"), "nothing left staged")
								rec := f.requireSettled(tableName)
								assert.Equal(t, m, rec.LakeFSLocation)
								assert.Equal(t, m, rec.RemoteLocation)
								assert.Equal(t, "in_sync", f.tables()[tableName])
								f.requirePreserved(files)
							})
						}
					}
				}
			})
		}
	}
}

// TestFaultsLakeFSHang makes lakeFS stop answering (lakefstest HangNext) at a read, the
// staging and the commit of a pull: the service gives up after its timeout with a 504, the
// branch keeps its old state with nothing staged, the record is settled, and the retry
// commits exactly once.
func TestFaultsLakeFSHang(t *testing.T) {
	for _, layout := range []string{"pointer", "hadoop"} {
		t.Run(layout, func(t *testing.T) {
			f := newFaultEnv(t, sqlSQLite(), layout)
			require.Equal(t, 204, f.push(pushOpts{createNS: true}).Status)
			rg := f.newRig() // its lakeFS client gives up after 2s
			for _, op := range []string{"getBranch", "diffBranch", "stageObject", "commit"} {
				t.Run(op, func(t *testing.T) {
					m := f.appendRemote(1)
					prev := f.readLakeFS("etl-42", localNS, tableName).MetadataLocation
					files, commits := f.files(), f.lake.Calls("commit")
					rg.reset()
					f.lake.HangNext(op, 1)
					err := rg.pull()
					require.Error(t, err)
					require.Equal(t, 504, apperr.StatusOf(err), apperr.PublicMessage(err))
					assert.Empty(t, f.lake.Staged(repo, "etl-42"), "nothing left staged")
					assert.Equal(t, prev, f.readLakeFS("etl-42", localNS, tableName).MetadataLocation)
					f.requireSettled(tableName)
					assert.Equal(t, RemoteAheadState, f.tables()[tableName])

					r := f.pull(pullOpts{})
					require.Equal(t, 204, r.Status, r.Body)
					assert.Equal(t, m, f.readLakeFS("etl-42", localNS, tableName).MetadataLocation)
					hung := btoi(op == "commit") // Calls counts the hung request
					assert.Equal(t, commits+hung+1, f.lake.Calls("commit"))
					assert.Equal(t, "in_sync", f.tables()[tableName])
					f.requirePreserved(files)
				})
			}
		})
	}
}
