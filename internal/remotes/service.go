// Package remotes is the push/pull service (docs/design.md sections 5–7): it reads a table's
// metadata in lakeFS, registers it in a remote catalog, and brings the remote's newer state
// back onto the originating lakeFS branch, with a sync record and an audit row per
// operation, crash-consistent intents, and per-table serialization.
//
// The service talks to its three backends through narrow interfaces (LakeFS, a
// catalog.Adapter per remote, MetadataReader) so each can be a real client or a stand-in.
package remotes

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/apache/iceberg-go/table"

	"github.com/iceberg-remotes/iceberg-remotes/internal/apperr"
	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog"
	"github.com/iceberg-remotes/iceberg-remotes/internal/config"
	"github.com/iceberg-remotes/iceberg-remotes/internal/lakefs"
	"github.com/iceberg-remotes/iceberg-remotes/internal/names"
	"github.com/iceberg-remotes/iceberg-remotes/internal/selector"
	"github.com/iceberg-remotes/iceberg-remotes/internal/state"
)

// LakeFS is what the service needs from lakeFS: the table locator (*lakefs.Locator)
// implements it.
type LakeFS interface {
	ResolveRef(ctx context.Context, repo, ref string) (*lakefs.ResolvedRef, error)
	// GetRepository gives the repository's storage namespace (what a pull may link).
	GetRepository(ctx context.Context, repo string) (*lakefs.Repository, error)
	ReadTable(ctx context.Context, ref lakefs.TableRef) (*lakefs.TableState, error)
	// LocateTables finds where many tables' current metadata is, from listings (no reads).
	LocateTables(ctx context.Context, repo, ref string, tables []lakefs.TableName) (*lakefs.TableListing, error)
	// Log returns the ids of ref's newest commits, at most limit.
	Log(ctx context.Context, repo, ref string, limit int) ([]string, error)
	// LoadMetadata reads and parses what LocateCommitted (or a listing) located.
	LoadMetadata(ctx context.Context, ref lakefs.TableRef, st *lakefs.TableState) error
	// LocateCommitted finds the table's metadata object at the reference and tells whether a
	// branch's table is its head commit's, reading the metadata when read asks and the read
	// doubles as that check.
	LocateCommitted(ctx context.Context, ref lakefs.TableRef, known lakefs.KnownCommitted, read func(location string) bool) (*lakefs.TableState, error)
	// ListTables locates every table sel selects at a reference with object listings.
	ListTables(ctx context.Context, repo, ref string, sel selector.Tables) (*lakefs.TableListing, error)
	// ListTablesAtCommit is ListTables at a commit id already resolved (no resolve call).
	ListTablesAtCommit(ctx context.Context, repo, commit string, sel selector.Tables) (*lakefs.TableListing, error)
	// LocateForWrite reads a branch whose head resolved to head for a write: the table at
	// that commit and the uncommitted changes (lakefs.BranchBase).
	LocateForWrite(ctx context.Context, ref lakefs.TableRef, head string) (*lakefs.BranchBase, error)
	NamespaceExists(ctx context.Context, repo, reference string, namespace []string) (bool, error)
	// PlanWrite decides the exact paths a write stages, without staging anything.
	PlanWrite(ctx context.Context, ref lakefs.TableRef, w lakefs.TableWrite) (*lakefs.WritePlan, error)
	// WriteTables links several tables of one branch and commits them in one commit.
	WriteTables(ctx context.Context, writes []lakefs.TableWriteAt, message string, metadata map[string]string) (string, error)
	// ResetStaged resets those of objs still staged on branch as recorded, nothing else.
	ResetStaged(ctx context.Context, repo, branch string, objs []lakefs.StagedObject) error
	// CommittedLocation is the table's metadata location in a commit ("" if absent there).
	CommittedLocation(ctx context.Context, ref lakefs.TableRef, commit string) (string, error)
	// ProtectCommit makes a (hidden) branch point at commit, keeping it from lakeFS's GC.
	ProtectCommit(ctx context.Context, repo, name, commit string) error
	// DeleteBranch deletes a branch; one already gone is success.
	DeleteBranch(ctx context.Context, repo, name string) error
	// ChangedTables lists the tables that differ between two commits (publishing a commit).
	ChangedTables(ctx context.Context, repo, from, to string) ([]lakefs.TableChange, error)
}

var _ LakeFS = (*lakefs.Locator)(nil)

// RemoteMetadata is a metadata file read from the object store.
type RemoteMetadata struct {
	SizeBytes int64
	Checksum  string
	Metadata  table.Metadata
}

// MetadataReader reads and parses a metadata file the remote points at (pull).
type MetadataReader interface {
	ReadMetadata(ctx context.Context, location string) (*RemoteMetadata, error)
}

// Remote is a configured remote catalog with its adapter (nil when it failed to start).
type Remote struct {
	Config  config.Remote
	Adapter catalog.Adapter
	// History is the remote's own history of its tables (nil: none), consulted by a pull
	// when the metadata file alone cannot show that it descends from the synced state.
	History catalog.History
	// StartErr is why the adapter could not be created; operations answer 503 with it.
	StartErr error
}

// Service performs push and pull.
type Service struct {
	remotes      map[string]*Remote
	order        []string
	lakefs       LakeFS
	reader       MetadataReader
	store        state.Store
	logger       *slog.Logger
	checkAllowed func(ctx context.Context, remote config.Remote) error
	now          func() time.Time
	// subs are the remotes' auto_push subscriptions; wake nudges this process's event
	// workers when an event is recorded.
	subs []subscription
	wake chan struct{}
}

// Options configure a Service.
type Options struct {
	Remotes []*Remote
	LakeFS  LakeFS
	Reader  MetadataReader
	Store   state.Store
	Logger  *slog.Logger
	// CheckAllowed enforces a remote's allowed_users (authn.CheckAllowed); nil allows all.
	CheckAllowed func(ctx context.Context, remote config.Remote) error
}

// New returns a Service.
func New(o Options) *Service {
	s := &Service{
		remotes:      map[string]*Remote{},
		lakefs:       o.LakeFS,
		reader:       o.Reader,
		store:        o.Store,
		logger:       o.Logger,
		checkAllowed: o.CheckAllowed,
		now:          time.Now,
		wake:         make(chan struct{}, 1),
	}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	for _, r := range o.Remotes {
		s.remotes[r.Config.ID] = r
		s.order = append(s.order, r.Config.ID)
	}
	s.subs = parseSubscriptions(o.Remotes, s.logger)
	return s
}

// RemoteInfo is a configured remote as listed to callers (no secrets).
type RemoteInfo struct {
	ID    string `json:"id"`
	Type  string `json:"type"`
	Ready bool   `json:"ready"`
	Error string `json:"error,omitempty"`
}

// ListRemotes returns the configured remotes in configuration order.
func (s *Service) ListRemotes() []RemoteInfo {
	out := make([]RemoteInfo, 0, len(s.order))
	for _, id := range s.order {
		r := s.remotes[id]
		info := RemoteInfo{ID: id, Type: r.Config.Type, Ready: r.Adapter != nil}
		if r.StartErr != nil {
			info.Error = apperr.PublicMessage(r.StartErr)
		}
		out = append(out, info)
	}
	return out
}

// planRemote is a single operation's first check: remote (the caller may use it), recorded
// in plan as "remote_catalog".
func (s *Service) planRemote(ctx context.Context, plan *Plan, id string) (*Remote, error) {
	r, err := s.remote(ctx, id)
	if err != nil {
		return nil, plan.fail("remote_catalog", err)
	}
	plan.pass("remote_catalog", "remote catalog %q (%s)", id, r.Config.Type)
	return r, nil
}

// remote returns the adapter of catalog after checking the caller may use it.
func (s *Service) remote(ctx context.Context, id string) (*Remote, error) {
	r, ok := s.remotes[id]
	if !ok {
		return nil, apperr.NotFound("remote catalog %q not found", id)
	}
	if s.checkAllowed != nil {
		if err := s.checkAllowed(ctx, r.Config); err != nil {
			return nil, err
		}
	}
	if r.Adapter == nil {
		return nil, apperr.Wrap(http.StatusServiceUnavailable, r.StartErr, "remote catalog %q is not available: %s", id, apperr.PublicMessage(r.StartErr))
	}
	return r, nil
}

// Ready reports, per remote, whether it answers (for /_ready).
func (s *Service) Ready(ctx context.Context) error {
	var errs []error
	for _, id := range s.order {
		r := s.remotes[id]
		if r.Adapter == nil {
			errs = append(errs, fmt.Errorf("remote %s: not started", id))
			continue
		}
		if err := r.Adapter.Ping(ctx); err != nil {
			errs = append(errs, fmt.Errorf("remote %s: %s", id, apperr.PublicMessage(err)))
		}
	}
	if len(errs) > 0 {
		return apperr.New(http.StatusServiceUnavailable, "%v", errors.Join(errs...))
	}
	return nil
}

// Check is one safety check of an operation, as shown by a dry run.
type Check struct {
	Name string `json:"name"`
	OK   bool   `json:"ok"`
	// The message is formatted when read (Message): most operations are carried out, not
	// dry runs, and nothing reads their checks' messages.
	format string
	args   []any
}

// Message describes the check's outcome.
func (c Check) Message() string {
	if c.args == nil {
		return c.format
	}
	return fmt.Sprintf(c.format, c.args...)
}

// Plan is what an operation did or, in a dry run, would do.
type Plan struct {
	Operation string   `json:"operation"`
	DryRun    bool     `json:"dry_run"`
	Checks    []Check  `json:"checks"`
	Actions   []string `json:"actions"`
	// Status is the HTTP status the operation answers (or would answer): 204 on success.
	Status  int    `json:"status"`
	Message string `json:"message,omitempty"`
	// Superseded: an automatic push skipped because its branch moved past the event's
	// commit (PushRequest.EventBranch).
	Superseded bool `json:"-"`
}

// pass records a passed check; its message is fmt.Sprintf(format, args...), formatted when
// read, so args must not change afterwards (they are values or immutable).
func (p *Plan) pass(name, format string, args ...any) {
	if args == nil {
		args = []any{} // formatted even without arguments, as fmt.Sprintf(format) would be
	}
	p.Checks = append(p.Checks, Check{Name: name, OK: true, format: format, args: args})
}

// fail records a failed check and returns err unchanged.
func (p *Plan) fail(name string, err error) error {
	p.Checks = append(p.Checks, Check{Name: name, OK: false, format: apperr.PublicMessage(err)})
	return err
}

func (p *Plan) action(format string, args ...any) {
	p.Actions = append(p.Actions, fmt.Sprintf(format, args...))
}

// finish sets the plan's outcome from err.
func (p *Plan) finish(err error) {
	if err == nil {
		p.Status = http.StatusNoContent
		return
	}
	p.Status, p.Message = apperr.StatusOf(err), apperr.PublicMessage(err)
}

func dotted(ns []string, table string) string {
	return names.Join(ns, table, ".")
}

// snapshotString renders a snapshot id for records and commit metadata ("" for none).
func snapshotString(id *int64) string {
	if id == nil {
		return ""
	}
	return fmt.Sprint(*id)
}

// icebergFileName reports whether a metadata location ends in a name Iceberg writers
// produce (NNNNN-<uuid>.metadata.json or v<N>.metadata.json, optionally .gz); writers that
// derive the next file name from the current one need it (docs/design.md section 4).
func icebergFileName(location string) bool {
	name := location[strings.LastIndex(location, "/")+1:]
	name = strings.TrimSuffix(strings.TrimSuffix(name, ".metadata.json"), ".gz")
	if name == location[strings.LastIndex(location, "/")+1:] {
		return false // no .metadata.json suffix
	}
	if strings.HasPrefix(name, "v") {
		return name != "v" && strings.Trim(name[1:], "0123456789") == ""
	}
	num, rest, ok := strings.Cut(name, "-")
	return ok && num != "" && strings.Trim(num, "0123456789") == "" && len(rest) == 36
}
