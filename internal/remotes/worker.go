package remotes

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/iceberg-remotes/iceberg-remotes/internal/apperr"
	"github.com/iceberg-remotes/iceberg-remotes/internal/config"
	"github.com/iceberg-remotes/iceberg-remotes/internal/requestctx"
	"github.com/iceberg-remotes/iceberg-remotes/internal/state"
)

// EventUser is the user named in the audit rows of event-driven operations.
const EventUser = "lakefs-events"

// RunEventWorkers processes recorded events until ctx ends, with cfg.Workers workers
// (every replica runs them; the queue hands each event to one). It returns when all
// workers have stopped; an event a worker was processing when ctx ended is taken over by
// another worker once its lease expires.
func (s *Service) RunEventWorkers(ctx context.Context, cfg config.Publications) {
	cfg = cfg.WithDefaults()
	host, _ := os.Hostname()
	var wg sync.WaitGroup
	for i := 0; i < cfg.Workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b := make([]byte, 4)
			_, _ = rand.Read(b)
			s.eventWorker(ctx, cfg, host+"/"+hex.EncodeToString(b))
		}()
	}
	wg.Wait()
}

func (s *Service) eventWorker(ctx context.Context, cfg config.Publications, owner string) {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		case <-s.wake:
		}
		// Drain the queue, then wait for a nudge or the poll interval.
		for ctx.Err() == nil {
			ev, ok, err := s.store.ClaimEvent(ctx, owner, cfg.Lease)
			if err != nil {
				if ctx.Err() == nil {
					s.logger.WarnContext(ctx, "could not claim an event", "error", err)
				}
				break
			}
			if !ok {
				break
			}
			s.runEvent(ctx, cfg, owner, ev)
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(cfg.PollInterval)
	}
}

// runEvent processes one claimed event, renewing its lease meanwhile, and stores the
// outcome: done, failed, or pending again after an exponential backoff.
func (s *Service) runEvent(ctx context.Context, cfg config.Publications, owner string, ev state.Event) {
	pctx, _ := requestctx.With(ctx, "event-"+strconv.FormatInt(ev.ID, 10))
	requestctx.SetUser(pctx, EventUser)
	pctx, cancel := context.WithCancel(pctx)
	renewed := make(chan struct{})
	go func() {
		defer close(renewed)
		t := time.NewTicker(cfg.Lease / 3)
		defer t.Stop()
		for {
			select {
			case <-pctx.Done():
				return
			case <-t.C:
				if err := s.store.RenewEventLease(pctx, ev.ID, owner, cfg.Lease); errors.Is(err, state.ErrNotFound) {
					cancel() // another worker took the event over
					return
				}
			}
		}
	}()
	out := s.ProcessEvent(pctx, ev)
	cancel()
	<-renewed
	if ctx.Err() != nil {
		return // shutting down: the lease expires and another worker retries the event
	}
	ev.NextAttemptAt = time.Time{}
	switch {
	case out.Err == nil:
		// A note says why nothing was published; otherwise the last failed attempt's
		// error stays, as the event's history.
		ev.State = state.EventDone
		if out.Note != "" {
			ev.LastError = out.Note
		}
	case out.Retry && ev.Attempts < cfg.MaxAttempts:
		ev.State, ev.LastError = state.EventPending, apperr.PublicMessage(out.Err)
		ev.NextAttemptAt = time.Now().Add(backoff(cfg, ev.Attempts))
	default:
		ev.State, ev.LastError = state.EventFailed, apperr.PublicMessage(out.Err)
	}
	raw, _ := json.Marshal(out.Results)
	ev.Results = string(raw)
	fctx, fcancel := context.WithTimeout(context.WithoutCancel(ctx), settleTimeout)
	defer fcancel()
	if err := s.store.FinishEvent(fctx, &ev, owner); err != nil {
		s.logger.WarnContext(ctx, "could not store an event's outcome", "event", ev.ID, "error", err)
	}
	if ev.State != state.EventDone {
		s.logger.WarnContext(ctx, "event not published", "event", ev.ID, "state", ev.State, "attempts", ev.Attempts, "error", ev.LastError)
	}
}

// backoff is the wait before attempt n+1: initial_backoff doubled per attempt, at most
// max_backoff.
func backoff(cfg config.Publications, attempts int) time.Duration {
	d := cfg.InitialBackoff
	for i := 1; i < attempts && d < cfg.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, cfg.MaxBackoff)
}
