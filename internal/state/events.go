package state

import (
	"context"
	"time"
)

// Event states (api/openapi.yaml IcebergEvent.state).
const (
	EventPending = "pending" // waiting for a worker (or for its next attempt after a failure)
	EventRunning = "running" // a worker holds its lease
	EventDone    = "done"
	EventFailed  = "failed" // its attempts are exhausted, or it failed in a way a retry cannot fix
)

// Event is one lakeFS event recorded for automatic publication. Events of one repository
// and branch are handed out one at a time, in the order they were recorded.
type Event struct {
	ID            int64
	EventType     string
	Repository    string
	Branch        string
	CommitID      string
	SourceRef     string
	State         string
	Attempts      int
	LastError     string
	Results       string // JSON of the per-table results of the last attempt
	ReceivedAt    time.Time
	NextAttemptAt time.Time
	LeaseOwner    string
	LeaseUntil    time.Time
	FinishedAt    time.Time
}

// EventFilter narrows ListEvents ("" matches all).
type EventFilter struct {
	Repository string
	State      string
}

// EventStats counts events by state; OldestPending is the receipt time of the oldest
// event not yet finished (zero when none).
type EventStats struct {
	ByState       map[string]int
	OldestPending time.Time
}

// Publication is the branch a remote table follows: written when an event publishes it,
// so that deleting the branch can find it.
type Publication struct {
	TableKey
	Repository string
	Branch     string
	CommitID   string
}

// EventQueue is the durable queue of lakeFS events and the per-branch publication state.
type EventQueue interface {
	// EnqueueEvent records ev as pending, due now, and sets its ID and ReceivedAt.
	EnqueueEvent(ctx context.Context, ev *Event) error
	// ClaimEvent hands owner the next due event whose repository and branch have no
	// earlier unfinished event (pending, or running under a live lease), leasing it until
	// now+lease and counting the attempt. ok is false when none is due. An event whose
	// lease expired (its worker died) is due again.
	ClaimEvent(ctx context.Context, owner string, lease time.Duration) (ev Event, ok bool, err error)
	// RenewEventLease extends owner's lease; ErrNotFound when owner no longer holds it.
	RenewEventLease(ctx context.Context, id int64, owner string, lease time.Duration) error
	// FinishEvent stores the outcome of owner's attempt: ev.State (done, failed, or pending
	// with ev.NextAttemptAt for a retry), LastError and Results. ErrNotFound when owner
	// no longer holds the lease (another worker took the event over).
	FinishEvent(ctx context.Context, ev *Event, owner string) error
	// ListEvents lists events newest first, after the given id token.
	ListEvents(ctx context.Context, filter EventFilter, after string, amount int) (Page[Event], error)
	// PendingEvents counts the unfinished (pending or running) events of a repository.
	PendingEvents(ctx context.Context, repository string) (int, error)
	// EventStats counts all events by state.
	EventStats(ctx context.Context) (EventStats, error)

	// BranchCursor is the last commit of the branch whose changes were all published
	// ("" when none: the branch's next event publishes every selected table).
	BranchCursor(ctx context.Context, repository, branch string) (string, error)
	// SetBranchCursor sets it; commit "" removes it.
	SetBranchCursor(ctx context.Context, repository, branch, commit string) error

	// PutPublication records (or moves) the branch a remote table follows.
	PutPublication(ctx context.Context, p Publication) error
	// BranchPublications lists the remote tables that follow a branch.
	BranchPublications(ctx context.Context, repository, branch string) ([]Publication, error)
	// DeletePublication forgets a remote table's branch.
	DeletePublication(ctx context.Context, key TableKey) error
}
