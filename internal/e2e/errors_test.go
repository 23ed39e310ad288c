package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/config"
	"github.com/iceberg-remotes/iceberg-remotes/internal/lakefs/lakefstest"
)

// The error paths of docs/design.md sections 5 (push) and 6 (pull), over HTTP as the lakeFS SDKs
// call the service. Each case checks the status, the lakeFS-style JSON message, and that
// nothing changed where nothing should: the remote table, the lakeFS branch heads, what is
// staged, and (for dry runs) the audit log.

const pushPath = "/api/v1/iceberg/remotes/" + remoteID + "/push"

// assertError checks a lakeFS-style error answer: the status, a JSON body with a message
// containing every fragment.
func assertError(t *testing.T, r resp, status int, fragments ...string) {
	t.Helper()
	require.Equal(t, status, r.Status, r.Body)
	msg := r.message()
	t.Logf("%d %s", r.Status, msg)
	require.NotEmpty(t, msg, "an error answers {\"message\": ...}: %s", r.Body)
	for _, f := range fragments {
		assert.Contains(t, msg, f)
	}
}

// TestPushErrors: every refusal of a push, each leaving the remote, lakeFS and the staging
// area as they were. The layout matters for reading the table (not-Iceberg metadata).
func TestPushErrors(t *testing.T) {
	for _, layout := range []string{"pointer", "hadoop"} {
		t.Run(layout, func(t *testing.T) {
			e := newEnv(t, sqlSQLite(), layout)
			// A table whose "metadata" is a JSON object that is not Iceberg metadata.
			if layout == "pointer" {
				e.lake.PutObject(repo, "etl-42", "_lakefs_tables/iceberg/accounting/bogus/metadata.json", []byte(`{"hello":"world"}`))
			} else {
				e.lake.PutObject(repo, "etl-42", "warehouse/accounting/bogus/metadata/version-hint.text", []byte("1"))
				e.lake.PutObject(repo, "etl-42", "warehouse/accounting/bogus/metadata/v1.metadata.json", []byte(`{"hello":"world"}`))
			}
			bearer := "Bearer " + e.token
			okBody := pushBody(repo, "etl-42", localNS, tableName, tableName, false, true)
			cases := []struct {
				name      string
				path      string
				auth      string
				body      map[string]any
				setup     func()
				status    int
				fragments []string
			}{
				{name: "unknown remote", path: "/api/v1/iceberg/remotes/nowhere/push", body: okBody,
					status: 404, fragments: []string{"remote catalog", "nowhere", "not found"}},
				{name: "unknown repository", body: pushBody("no-such-repo", "etl-42", localNS, tableName, tableName, false, true),
					status: 404, fragments: []string{"no-such-repo"}},
				{name: "unknown reference", body: pushBody(repo, "no-such-branch", localNS, tableName, tableName, false, true),
					status: 404, fragments: []string{"no-such-branch"}},
				{name: "unknown table", body: pushBody(repo, "etl-42", localNS, "nosuchtable", tableName, false, true),
					status: 404, fragments: []string{"accounting.nosuchtable", "not found"}},
				{name: "unknown local namespace", body: pushBody(repo, "etl-42", []string{"nosuchns"}, tableName, tableName, false, true),
					status: 404, fragments: []string{"nosuchns", "not found"}},
				{name: "remote namespace missing without create_namespace", body: pushBody(repo, "etl-42", localNS, tableName, tableName, false, false),
					status: 404, fragments: []string{"namespace analytics not found", "create_namespace"}},
				{name: "metadata that is not Iceberg", body: pushBody(repo, "etl-42", localNS, "bogus", tableName, false, true),
					status: 400, fragments: []string{"not Iceberg table metadata"}},
				{name: "lakeFS denies the caller", body: okBody,
					setup:  func() { e.lake.SetAccess("alice", lakefstest.Deny) },
					status: 401, fragments: []string{"insufficient permissions"}},
				{name: "invalid token", auth: "Bearer not-a-jwt", body: okBody, status: 401},
				{name: "token signed with another secret", body: okBody, status: 401,
					auth: "Bearer " + lakefstest.NewServer(t, lakefstest.Options{JWTSecret: []byte("another-secret")}).Token("alice", time.Hour)},
				{name: "expired token", auth: "Bearer " + e.lake.Token("alice", -time.Minute), body: okBody, status: 401},
				{name: "no credentials", auth: "-", body: okBody, status: 401},
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					e.lake.SetAccess("alice", lakefstest.FullAccess)
					before := e.world()
					if c.setup != nil {
						c.setup()
						t.Cleanup(func() { e.lake.SetAccess("alice", lakefstest.FullAccess) })
					}
					path, auth := c.path, c.auth
					if path == "" {
						path = pushPath
					}
					switch auth {
					case "":
						auth = bearer
					case "-":
						auth = ""
					}
					r := e.callWithAuth("POST", path, auth, c.body)
					assertError(t, r, c.status, c.fragments...)
					e.lake.SetAccess("alice", lakefstest.FullAccess)
					after := e.world()
					// A refused push may leave an audit row; nothing else may change.
					after.Operations = before.Operations
					assert.Equal(t, before, after, "a refused push changes nothing")
					assert.False(t, after.RemoteNSExists, "the remote namespace was not created")
				})
			}

			// The failures that reached the service's checks are in the audit log with their
			// status and message; the unauthenticated ones and the unknown remote are not.
			ops := e.operations()
			byStatus := map[int]int{}
			for _, op := range ops {
				assert.Equal(t, "push", op.Operation)
				assert.Equal(t, "failed", op.Outcome)
				assert.NotEmpty(t, op.Error)
				byStatus[op.StatusCode]++
			}
			assert.Equal(t, 5, byStatus[404], "unknown repository, reference, table, namespace; remote namespace missing: %+v", ops)
			assert.Equal(t, 1, byStatus[400], "not Iceberg: %+v", ops)
			assert.Equal(t, 1, byStatus[401], "lakeFS denial (authenticated, unauthorized): %+v", ops)
			assert.Len(t, ops, 7)

			// With create_namespace the same push succeeds and registers lakeFS's file.
			r := e.push(pushOpts{createNS: true})
			require.Equal(t, 204, r.Status, r.Body)
			assert.Equal(t, e.m1, e.remoteLocation())
		})
	}
}

// TestPushNotAllowedUser: a caller not in the remote's allowed_users is refused with 401
// before anything is read or written.
func TestPushNotAllowedUser(t *testing.T) {
	e := newEnvWith(t, sqlSQLite(), "pointer", func(c *config.Config) {
		c.IcebergCatalog.Remotes[0].AllowedUsers = []string{"bob"}
	})
	before := e.world()
	statCalls := e.lake.Calls("statObject")
	r := e.push(pushOpts{createNS: true})
	assertError(t, r, 401, "insufficient permissions")
	assert.NotContains(t, r.message(), "bob", "the allow-list is not disclosed")
	assert.Equal(t, statCalls, e.lake.Calls("statObject"), "the table was not even read")
	r = e.pull(pullOpts{})
	assertError(t, r, 401, "insufficient permissions")
	r = e.call("GET", "/api/v1/iceberg/remotes/"+remoteID+"/tables", nil)
	assertError(t, r, 401, "insufficient permissions")
	r = e.call("GET", "/api/v1/iceberg/remotes/"+remoteID+"/operations", nil)
	assertError(t, r, 401, "insufficient permissions")
	e.unchanged(before, "a caller not allowed on the remote")
	assert.False(t, before.RemoteNSExists)
}

// TestPushExistingTable: a remote table the service did not create is not overwritten
// without force_update (409); with it, it is re-pointed at lakeFS's metadata.
func TestPushExistingTable(t *testing.T) {
	e := newEnv(t, sqlSQLite(), "pointer")
	c := ctx(t)
	require.NoError(t, e.writer.CreateNamespace(c, remoteNS, nil))
	tbl, err := e.writer.CreateTable(c, remoteIdent(tableName), icebergSchema)
	require.NoError(t, err)
	theirs := tbl.MetadataLocation()

	before := e.world()
	r := e.push(pushOpts{})
	assertError(t, r, 409, "already exists", theirs, "force_update")
	after := e.world()
	assert.Equal(t, before.Operations+1, after.Operations, "the refusal is audited")
	after.Operations = before.Operations
	assert.Equal(t, before, after)
	assert.Equal(t, theirs, e.remoteLocation())

	r = e.push(pushOpts{force: true})
	require.Equal(t, 204, r.Status, r.Body)
	assert.Equal(t, e.m1, e.remoteLocation(), "re-pointed at lakeFS's metadata")
	assert.Equal(t, before.Heads, e.world().Heads, "push never commits in lakeFS")
	assert.Equal(t, "in_sync", e.tables()[tableName])
	ops := e.operations()
	require.Len(t, ops, 2)
	assert.Equal(t, 204, ops[0].StatusCode)
	assert.Equal(t, "failed", ops[1].Outcome)
	assert.Equal(t, 409, ops[1].StatusCode)
	assert.Contains(t, ops[1].Error, "already exists")
}

// TestPushIdempotent: re-pushing the same state answers 204 and changes nothing.
func TestPushIdempotent(t *testing.T) {
	e := newEnv(t, sqlSQLite(), "pointer")
	require.Equal(t, 204, e.push(pushOpts{createNS: true}).Status)
	before := e.world()
	r := e.push(pushOpts{})
	require.Equal(t, 204, r.Status, r.Body)
	assert.Empty(t, r.Body)
	after := e.world()
	assert.Equal(t, before.Operations+1, after.Operations)
	after.Operations = before.Operations
	assert.Equal(t, before, after)
	assert.Equal(t, "in_sync", e.tables()[tableName])
}

// TestPushFromTagAndCommit: immutable references push fine and the sync record names them
// and the commit they resolved to.
func TestPushFromTagAndCommit(t *testing.T) {
	e := newEnv(t, sqlSQLite(), "pointer")
	mainHead := e.headOf("main")
	e.lake.CreateTag(repo, "v1", "main")
	before := e.world()

	r := e.push(pushOpts{ref: "v1", destTable: "events_tag", createNS: true})
	require.Equal(t, 204, r.Status, r.Body)
	r = e.push(pushOpts{ref: mainHead, destTable: "events_commit"})
	require.Equal(t, 204, r.Status, r.Body)

	assert.Equal(t, e.m1, e.remoteLocationOf("events_tag"))
	assert.Equal(t, e.m1, e.remoteLocationOf("events_commit"))
	list := e.syncedTables()
	assert.Equal(t, "v1", list["events_tag"].ReferenceID)
	assert.Equal(t, mainHead, list["events_tag"].ResolvedCommit)
	assert.Equal(t, mainHead, list["events_commit"].ReferenceID)
	assert.Equal(t, mainHead, list["events_commit"].ResolvedCommit)
	assert.Equal(t, "in_sync", list["events_tag"].State)
	assert.Equal(t, "in_sync", list["events_commit"].State)
	assert.Equal(t, before.Heads, e.world().Heads)

	// Pull into the tag or the commit is refused: pull commits onto a branch.
	e.appendRemoteTo("events_tag", 1)
	for _, ref := range []string{"v1", mainHead} {
		b := e.world()
		r := e.pull(pullOpts{ref: ref, srcTable: "events_tag"})
		assertError(t, r, 400, "is not a branch", ref)
		a := e.world()
		a.Operations = b.Operations
		assert.Equal(t, b, a)
	}
}

// TestPullErrors: refusals of a pull that are decided before anything is written; the remote
// moved, so a pull would otherwise have something to do.
func TestPullErrors(t *testing.T) {
	e := newEnv(t, sqlSQLite(), "pointer")
	require.Equal(t, 204, e.push(pushOpts{createNS: true}).Status)
	e.appendRemote(1)
	// A table the remote's own writer created: it exists there, but lakeFS never pushed it.
	_, err := e.writer.CreateTable(ctx(t), remoteIdent("never"), icebergSchema)
	require.NoError(t, err)
	e.lake.CreateTag(repo, "v1", "etl-42")
	e.lake.CreateRepository("other-repo", "file://"+filepath.Join(e.dir, "other-repo"), "main")
	cases := []struct {
		name      string
		o         pullOpts
		access    lakefstest.Access // alice's access in lakeFS during the call
		status    int
		fragments []string
	}{
		{"never pushed", pullOpts{srcTable: "never"}, lakefstest.FullAccess, 404, []string{"analytics.never", "never pushed"}},
		{"into a tag", pullOpts{ref: "v1"}, lakefstest.FullAccess, 400, []string{`"v1" is not a branch`}},
		{"into a commit id", pullOpts{ref: e.headOf("etl-42")}, lakefstest.FullAccess, 400, []string{e.headOf("etl-42"), "is not a branch"}},
		{"into an unknown branch", pullOpts{ref: "no-such-branch"}, lakefstest.FullAccess, 404, []string{"no-such-branch"}},
		{"into another table", pullOpts{destTable: "other"}, lakefstest.FullAccess, 409, []string{"accounting.events", "originating"}},
		{"into another repository", pullOpts{destRepo: "other-repo", ref: "main"}, lakefstest.FullAccess, 409, []string{repo, "originating"}},
		{"force_update does not override origin", pullOpts{destTable: "other", force: true}, lakefstest.FullAccess, 409, []string{"originating"}},
		{"lakeFS denies the caller", pullOpts{}, lakefstest.Deny, 401, []string{"insufficient permissions"}},
		{"lakeFS lets the caller read only", pullOpts{}, lakefstest.ReadOnly, 401, []string{"insufficient permissions"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := e.world()
			e.lake.SetAccess("alice", c.access)
			r := e.pull(c.o)
			e.lake.SetAccess("alice", lakefstest.FullAccess)
			assertError(t, r, c.status, c.fragments...)
			after := e.world()
			// Every refused pull on a known remote is audited, with its status and message.
			require.Equal(t, before.Operations+1, after.Operations, "one audit row for the refused pull")
			op := e.operations()[0]
			assert.Equal(t, "pull", op.Operation)
			assert.Equal(t, "failed", op.Outcome)
			assert.Equal(t, c.status, op.StatusCode)
			assert.Equal(t, r.message(), op.Error)
			after.Operations = before.Operations
			if c.access == lakefstest.ReadOnly {
				// It tried to stage (and to reset what it may have staged): lakeFS refused
				// both, which the staging area and heads below show.
				assert.Greater(t, after.Writes, before.Writes)
				after.Writes = before.Writes
			}
			assert.Equal(t, before, after)
			_, ok := e.lake.GetCommit("other-repo", "main")
			assert.True(t, ok)
			assert.Empty(t, e.lake.Staged("other-repo", "main"))
		})
	}
	// None of that stuck anything: the real pull still works.
	r := e.pull(pullOpts{})
	require.Equal(t, 204, r.Status, r.Body)
	assert.Equal(t, "in_sync", e.tables()[tableName])
}

// TestPullRemoteMissing: the remote table was dropped after the push.
func TestPullRemoteMissing(t *testing.T) {
	e := newEnv(t, sqlSQLite(), "pointer")
	require.Equal(t, 204, e.push(pushOpts{createNS: true}).Status)
	require.NoError(t, e.writer.DropTable(ctx(t), remoteIdent(tableName)))
	before := e.world()
	r := e.pull(pullOpts{})
	assertError(t, r, 404, "analytics.events", "not found in remote catalog")
	after := e.world()
	after.Operations = before.Operations
	assert.Equal(t, before, after)
	assert.Equal(t, e.m1, e.readLakeFS("etl-42", localNS, tableName).MetadataLocation)
}

// TestPullBothChanged: the branch's table moved (an engine committed) and the remote moved:
// 409 without force_update, and with it the branch takes the remote's metadata.
func TestPullBothChanged(t *testing.T) {
	for _, layout := range []string{"pointer", "hadoop"} {
		t.Run(layout, func(t *testing.T) {
			e := newEnv(t, sqlSQLite(), layout)
			require.Equal(t, 204, e.push(pushOpts{createNS: true}).Status)
			lakeLoc := e.advanceLakeFS("etl-42", 2, 2)
			m2 := e.appendRemote(2)

			before := e.world()
			r := e.pull(pullOpts{})
			assertError(t, r, 409, "both sides changed", lakeLoc, "force_update")
			after := e.world()
			after.Operations = before.Operations
			assert.Equal(t, before, after)
			assert.Equal(t, lakeLoc, e.readLakeFS("etl-42", localNS, tableName).MetadataLocation)

			r = e.pull(pullOpts{force: true})
			require.Equal(t, 204, r.Status, r.Body)
			st := e.readLakeFS("etl-42", localNS, tableName)
			assert.Equal(t, m2, st.MetadataLocation, "the branch is at the remote's metadata")
			assert.EqualValues(t, 5, scanCount(t, st.MetadataLocation))
			commit, ok := e.lake.GetCommit(repo, "etl-42")
			require.True(t, ok)
			assert.Equal(t, []string{before.Heads["etl-42"]}, commit.Parents)
			assert.Equal(t, m2, commit.Metadata["iceberg_metadata_location"])
			assert.Empty(t, e.lake.Staged(repo, "etl-42"))
			assert.Equal(t, m2, e.remoteLocation(), "pull never changes the remote")
			assert.Equal(t, "in_sync", e.tables()[tableName])
			assert.Equal(t, before.Heads["main"], e.headOf("main"))
		})
	}
}

// TestPullUnrelatedRemote: the remote table was dropped and re-created with the same name: a
// different table (other table-uuid). Pulling it would replace lakeFS's table with a stranger:
// 409, and force_update does not change that.
func TestPullUnrelatedRemote(t *testing.T) {
	e := newEnv(t, sqlSQLite(), "pointer")
	require.Equal(t, 204, e.push(pushOpts{createNS: true}).Status)
	stranger := e.replaceRemote()
	before := e.world()
	require.Equal(t, stranger, before.RemoteTable)
	for _, force := range []bool{false, true} {
		r := e.pull(pullOpts{force: force})
		assertError(t, r, 409, "unrelated")
		after := e.world()
		after.Operations = before.Operations
		assert.Equal(t, before, after)
	}
	assert.Equal(t, e.m1, e.readLakeFS("etl-42", localNS, tableName).MetadataLocation)
}

// TestPullUnrelatedUncommittedChanges: someone's uncommitted work elsewhere on the branch is
// never swept into the pull's commit: 409, nothing committed, their change untouched.
func TestPullUnrelatedUncommittedChanges(t *testing.T) {
	for _, layout := range []string{"pointer", "hadoop"} {
		t.Run(layout, func(t *testing.T) {
			e := newEnv(t, sqlSQLite(), layout)
			require.Equal(t, 204, e.push(pushOpts{createNS: true}).Status)
			m2 := e.appendRemote(1)
			content := []byte("id,name\n1,someone's work\n")
			addr := e.lake.PutObject(repo, "etl-42", "raw/unrelated.csv", content)
			// Another table whose path starts like this table's: not this table's change.
			sibling := "_lakefs_tables/iceberg/accounting/events_backup/metadata.json"
			if layout == "hadoop" {
				sibling = "warehouse/accounting/events_backup/metadata/v1.metadata.json"
			}
			e.lake.PutObject(repo, "etl-42", sibling, []byte("{}"))

			before := e.world()
			require.ElementsMatch(t, []string{"raw/unrelated.csv", sibling}, before.Staged["etl-42"])
			for _, force := range []bool{false, true} {
				r := e.pull(pullOpts{force: force})
				assertError(t, r, 409, "uncommitted changes")
				after := e.world()
				after.Operations = before.Operations
				assert.Equal(t, before, after)
			}
			obj, err := e.client.StatObject(ctx(t), repo, "etl-42", "raw/unrelated.csv")
			require.NoError(t, err)
			assert.Equal(t, addr, obj.PhysicalAddress, "their staged object is untouched")
			got, err := e.client.GetObject(ctx(t), repo, "etl-42", "raw/unrelated.csv", 1<<20)
			require.NoError(t, err)
			assert.Equal(t, content, got)
			assert.Equal(t, "remote_ahead", e.tables()[tableName])

			// Once they commit their work, the pull goes through.
			e.lake.CommitBranch(repo, "etl-42", "their work")
			r := e.pull(pullOpts{})
			require.Equal(t, 204, r.Status, r.Body)
			assert.Equal(t, m2, e.readLakeFS("etl-42", localNS, tableName).MetadataLocation)
		})
	}
}

// TestPullHookRefusal: a lakeFS pre-commit hook refuses the pull's commit: 412 with the
// hook's reason, nothing left staged, the branch head unchanged; the next pull succeeds.
func TestPullHookRefusal(t *testing.T) {
	for _, layout := range []string{"pointer", "hadoop"} {
		t.Run(layout, func(t *testing.T) {
			e := newEnv(t, sqlSQLite(), layout)
			require.Equal(t, 204, e.push(pushOpts{createNS: true}).Status)
			m2 := e.appendRemote(1)
			var seen []lakefstest.HookEvent
			e.lake.SetPreCommitHook(func(ev lakefstest.HookEvent) error {
				seen = append(seen, ev)
				return errors.New("pulls into etl-42 need review")
			})

			before := e.world()
			r := e.pull(pullOpts{})
			assertError(t, r, 412, "pre-commit hook", "need review")
			e.lake.SetPreCommitHook(nil)
			require.Len(t, seen, 1, "the commit was attempted once")
			assert.Contains(t, seen[0].Message, "Pull iceberg table accounting.events")
			after := e.world()
			assert.Equal(t, before.CommitCalls+1, after.CommitCalls)
			assert.Greater(t, after.Writes, before.Writes, "the pull staged, then reset what it staged")
			after.CommitCalls, after.Operations, after.Writes = before.CommitCalls, before.Operations, before.Writes
			assert.Equal(t, before, after, "nothing staged, head unchanged")
			assert.Empty(t, after.Staged["etl-42"])
			assert.Equal(t, e.m1, e.readLakeFS("etl-42", localNS, tableName).MetadataLocation)
			assert.Equal(t, "remote_ahead", e.tables()[tableName])
			ops := e.operations()
			assert.Equal(t, 412, ops[0].StatusCode)
			assert.Contains(t, ops[0].Error, "need review")

			r = e.pull(pullOpts{})
			require.Equal(t, 204, r.Status, r.Body)
			assert.Equal(t, m2, e.readLakeFS("etl-42", localNS, tableName).MetadataLocation)
			assert.Equal(t, "in_sync", e.tables()[tableName])
		})
	}
}

// TestPullCreateNamespace: pulling onto a branch where the table (and, in the pointer layout,
// its namespace marker) does not exist: that is a change on the lakeFS side (409);
// force_update alone still needs the namespace (404; hadoop namespaces are plain folders);
// force_update with create_namespace creates both (204). A hook refusal on the way leaves
// nothing staged, not even the marker.
func TestPullCreateNamespace(t *testing.T) {
	for _, layout := range []string{"pointer", "hadoop"} {
		t.Run(layout, func(t *testing.T) {
			e := newEnv(t, sqlSQLite(), layout)
			require.Equal(t, 204, e.push(pushOpts{createNS: true}).Status)
			m2 := e.appendRemote(1)
			mainCommit, ok := e.lake.GetCommit(repo, "main")
			require.True(t, ok)
			require.Len(t, mainCommit.Parents, 1)
			e.lake.CreateBranch(repo, "fresh", mainCommit.Parents[0]) // before the table was added
			head := e.headOf("fresh")

			r := e.pull(pullOpts{ref: "fresh"})
			assertError(t, r, 409, "both sides changed", "missing")
			if layout == "pointer" {
				r = e.pull(pullOpts{ref: "fresh", force: true})
				assertError(t, r, 404, "namespace accounting not found", "create_namespace")
			}
			assert.Equal(t, head, e.headOf("fresh"))
			assert.Empty(t, e.lake.Staged(repo, "fresh"))

			e.lake.SetPreCommitHook(func(lakefstest.HookEvent) error { return errors.New("frozen") })
			r = e.pull(pullOpts{ref: "fresh", force: true, createNS: true})
			assertError(t, r, 412, "frozen")
			e.lake.SetPreCommitHook(nil)
			assert.Equal(t, head, e.headOf("fresh"))
			assert.Empty(t, e.lake.Staged(repo, "fresh"))

			r = e.pull(pullOpts{ref: "fresh", force: true, createNS: true})
			require.Equal(t, 204, r.Status, r.Body)
			assert.Equal(t, m2, e.readLakeFS("fresh", localNS, tableName).MetadataLocation)
			commit, ok := e.lake.GetCommit(repo, "fresh")
			require.True(t, ok)
			linked, want := "_lakefs_tables/iceberg/accounting/events/metadata.json", []string{"_lakefs_tables/iceberg/accounting/_namespace.json"}
			if layout == "hadoop" {
				linked, want = "warehouse/accounting/events/metadata/v1.metadata.json", []string{"warehouse/accounting/events/metadata/version-hint.text"}
			}
			assert.ElementsMatch(t, append(want, linked), keys(commit.Paths))
			assert.Equal(t, m2, commit.Paths[linked], "the remote's metadata file is linked, not copied")
			assert.Empty(t, e.lake.Staged(repo, "fresh"))
			assert.Equal(t, e.m1, e.readLakeFS("etl-42", localNS, tableName).MetadataLocation, "the other branch is untouched")
		})
	}
}

func keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestDryRun: dry_run=true answers 200 with a plan whose status is what the real call then
// answers, and changes nothing (not even the audit log).
func TestDryRun(t *testing.T) {
	e := newEnv(t, sqlSQLite(), "pointer")

	// Push, failing: the remote namespace is missing.
	before := e.world()
	p := decodePlan(t, e.push(pushOpts{dryRun: true}))
	e.unchanged(before, "dry-run push (failing)")
	assert.Equal(t, "push", p.Operation)
	assert.Equal(t, 404, p.Status)
	assert.Equal(t, "remote_namespace", p.failedCheck())
	assert.Contains(t, p.Message, "create_namespace")
	r := e.push(pushOpts{})
	assertError(t, r, p.Status)
	assert.Equal(t, p.Message, r.message())

	// Push, succeeding.
	before = e.world()
	p = decodePlan(t, e.push(pushOpts{dryRun: true, createNS: true}))
	e.unchanged(before, "dry-run push (succeeding)")
	assert.Equal(t, 204, p.Status)
	assert.Empty(t, p.failedCheck())
	assert.Len(t, p.Actions, 3, "protect the commit from lakeFS's GC, create the namespace, register the table: %v", p.Actions)
	assert.False(t, e.world().RemoteNSExists)
	r = e.push(pushOpts{createNS: true})
	require.Equal(t, p.Status, r.Status, r.Body)
	assert.Equal(t, e.m1, e.remoteLocation())

	// Pull, succeeding.
	m2 := e.appendRemote(1)
	before = e.world()
	p = decodePlan(t, e.pull(pullOpts{dryRun: true}))
	e.unchanged(before, "dry-run pull (succeeding)")
	assert.Equal(t, "pull", p.Operation)
	assert.Equal(t, 204, p.Status, p.Message)
	assert.NotEmpty(t, p.Actions)
	assert.Equal(t, "remote_ahead", e.tables()[tableName])
	r = e.pull(pullOpts{})
	require.Equal(t, p.Status, r.Status, r.Body)
	assert.Equal(t, m2, e.readLakeFS("etl-42", localNS, tableName).MetadataLocation)

	// Pull, failing: both sides changed.
	e.advanceLakeFS("etl-42", 1, 3)
	e.appendRemote(1)
	before = e.world()
	p = decodePlan(t, e.pull(pullOpts{dryRun: true}))
	e.unchanged(before, "dry-run pull (failing)")
	assert.Equal(t, 409, p.Status)
	assert.Equal(t, "lakefs_table", p.failedCheck())
	r = e.pull(pullOpts{})
	assertError(t, r, p.Status, "both sides changed")
	assert.Equal(t, p.Message, r.message())
}

// TestListingStates: the live state of a synced table follows both sides, and the audit log
// keeps failures with their status and error.
func TestListingStates(t *testing.T) {
	e := newEnv(t, sqlSQLite(), "pointer")
	require.Equal(t, 204, e.push(pushOpts{createNS: true}).Status)
	assert.Equal(t, map[string]string{tableName: "in_sync"}, e.tables())
	assert.Equal(t, map[string]int{tableName: 0}, e.commitsBehind(), "the branch is at the pushed commit")
	e.advanceLakeFS("etl-42", 1, 2)
	assert.Equal(t, map[string]string{tableName: "lakefs_ahead"}, e.tables())
	assert.Equal(t, map[string]int{tableName: 1}, e.commitsBehind(), "one commit since the push")
	e.appendRemote(1)
	assert.Equal(t, map[string]string{tableName: "diverged"}, e.tables())

	r := e.pull(pullOpts{})
	assertError(t, r, 409, "both sides changed")
	require.NoError(t, e.writer.DropTable(ctx(t), remoteIdent(tableName)))
	assert.Equal(t, map[string]string{tableName: "missing"}, e.tables())
	r = e.pull(pullOpts{})
	assertError(t, r, 404, "not found in remote catalog")

	ops := e.operations()
	require.Len(t, ops, 3)
	assert.Equal(t, operationRow{Operation: "pull", Outcome: "failed", User: "alice", StatusCode: 404, Error: r.message(),
		RemoteTable: tableName, ReferenceID: "etl-42"}, ops[0])
	assert.Equal(t, "failed", ops[1].Outcome)
	assert.Equal(t, 409, ops[1].StatusCode)
	assert.Contains(t, ops[1].Error, "both sides changed")
	assert.Equal(t, "succeeded", ops[2].Outcome)

	for _, p := range []string{"tables", "operations"} {
		r := e.call("GET", "/api/v1/iceberg/remotes/nowhere/"+p, nil)
		assertError(t, r, 404, "nowhere")
	}
}

// appendRemoteTo appends n rows to another remote table in the remote namespace.
func (e *env) appendRemoteTo(name string, n int) string {
	c := ctx(e.t)
	tbl, err := e.writer.LoadTable(c, remoteIdent(name))
	require.NoError(e.t, err)
	data := rows(2000, n)
	defer data.Release()
	tbl, err = tbl.AppendTable(c, data, 1024, nil)
	require.NoError(e.t, err)
	return tbl.MetadataLocation()
}

// TestErrorResponseShape: errors are lakeFS-style (Content-Type application/json, body
// {"message": ...}); success is 204 with an empty body and no Content-Type (docs/design.md section 2).
func TestErrorResponseShape(t *testing.T) {
	e := newEnv(t, sqlSQLite(), "pointer")
	do := func(path, auth string, body map[string]any) (*http.Response, string) {
		raw, err := json.Marshal(body)
		require.NoError(t, err)
		req, err := http.NewRequest("POST", e.api.URL+path, bytes.NewReader(raw))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		res, err := e.api.Client().Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		out, err := io.ReadAll(res.Body)
		require.NoError(t, err)
		return res, string(out)
	}
	bearer := "Bearer " + e.token
	for _, c := range []struct {
		name, path, auth string
		body             map[string]any
		status           int
	}{
		{"unknown remote", "/api/v1/iceberg/remotes/nowhere/push", bearer, pushBody(repo, "etl-42", localNS, tableName, tableName, false, true), 404},
		{"unauthenticated", pushPath, "", pushBody(repo, "etl-42", localNS, tableName, tableName, false, true), 401},
		{"remote namespace missing", pushPath, bearer, pushBody(repo, "etl-42", localNS, tableName, tableName, false, false), 404},
		{"pull never pushed", "/api/v1/iceberg/remotes/" + remoteID + "/pull", bearer, map[string]any{
			"source":      map[string]any{"namespace": remoteNS, "table": tableName},
			"destination": map[string]any{"repository_id": repo, "reference_id": "etl-42", "namespace": localNS, "table": tableName},
		}, 404},
	} {
		t.Run(c.name, func(t *testing.T) {
			res, body := do(c.path, c.auth, c.body)
			require.Equal(t, c.status, res.StatusCode, body)
			assert.Equal(t, "application/json", strings.TrimSpace(strings.Split(res.Header.Get("Content-Type"), ";")[0]))
			var msg map[string]any
			require.NoError(t, json.Unmarshal([]byte(body), &msg), body)
			assert.NotEmpty(t, msg["message"])
		})
	}
	res, body := do(pushPath, bearer, pushBody(repo, "etl-42", localNS, tableName, tableName, false, true))
	require.Equal(t, 204, res.StatusCode, body)
	assert.Empty(t, body)
	assert.Empty(t, res.Header.Get("Content-Type"))
}
