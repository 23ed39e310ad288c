package remotes

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/iceberg-remotes/iceberg-remotes/internal/apperr"
	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog"
	"github.com/iceberg-remotes/iceberg-remotes/internal/lakefs"
	"github.com/iceberg-remotes/iceberg-remotes/internal/state"
)

const (
	// statusParallelism bounds the groups (and pending rows) one listing page reads at once.
	statusParallelism = 8
	// statusTimeout bounds the reads of one group.
	statusTimeout = 30 * time.Second
	// commitsBehindLimit is how far back one logCommits call looks for a record's commit.
	commitsBehindLimit = 100
)

// liveRow is one record being read: where its table lives on each side and what each
// side answered.
type liveRow struct {
	ts        TableStatus
	lake      lakefs.TableRef
	lakeErr   error
	remoteErr error
}

// liveStatuses reads the live state of a page of records in groups instead of row by row:
// the lakeFS side with one LocateTables per (repository, reference) (one resolve plus one
// listing page per 1,000 objects in the group's span; a branch also one logCommits for
// commits_behind), the remote side with one catalog.LoadMany per remote namespace (the
// remote's batch read where it has one). Each group reads exactly what the one-row read
// did: a branch by name including staged changes, anything else at its commit.
func (s *Service) liveStatuses(ctx context.Context, r *Remote, recs []state.SyncRecord) []TableStatus {
	rows := make([]*liveRow, len(recs))
	for i, rec := range recs {
		rows[i] = &liveRow{ts: TableStatus{Record: rec}, lake: lakefs.TableRef{Repository: rec.Repository,
			Reference: rec.Reference, Namespace: rec.LocalNamespace, Table: rec.LocalTable}}
	}
	// A pending record is first viewed as reconcile would settle it (a few calls per such
	// row: rare, a crashed operation's leftover).
	runBounded(ctx, rows, func(ctx context.Context, row *liveRow) {
		if row.ts.Record.Pending != "" {
			row.ts.Record, row.lake = s.settledView(ctx, r, row.ts.Record, row.lake)
		}
	})

	lakeGroups := map[[2]string][]*liveRow{}
	remoteGroups := map[string][]*liveRow{}
	var lakeKeys [][2]string
	var remoteKeys []string
	for _, row := range rows {
		if row.ts.Record.PushedLocation == "" {
			row.ts.State = Missing // never pushed: nothing to ask
			continue
		}
		lk := [2]string{row.lake.Repository, row.lake.Reference}
		if lakeGroups[lk] == nil {
			lakeKeys = append(lakeKeys, lk)
		}
		lakeGroups[lk] = append(lakeGroups[lk], row)
		rk := strings.Join(row.ts.Record.Namespace, "\x00")
		if remoteGroups[rk] == nil {
			remoteKeys = append(remoteKeys, rk)
		}
		remoteGroups[rk] = append(remoteGroups[rk], row)
	}

	var jobs []func(context.Context)
	for _, k := range lakeKeys {
		group := lakeGroups[k]
		jobs = append(jobs, func(ctx context.Context) { s.readLakeGroup(ctx, group) })
	}
	// The one-by-one reads of a remote without a batch read share the bound, so that many
	// groups do not multiply it.
	perGroup := max(1, statusParallelism/max(1, len(remoteKeys)))
	for _, k := range remoteKeys {
		group := remoteGroups[k]
		jobs = append(jobs, func(ctx context.Context) { readRemoteGroup(ctx, r, group, perGroup) })
	}
	runBounded(ctx, jobs, func(ctx context.Context, job func(context.Context)) { job(ctx) })

	out := make([]TableStatus, len(rows))
	for i, row := range rows {
		if row.ts.State == "" {
			liveState(&row.ts, row.remoteErr, row.lakeErr)
		}
		out[i] = row.ts
	}
	return out
}

// runBounded runs fn on every item, at most statusParallelism at once, each under
// statusTimeout.
func runBounded[T any](ctx context.Context, items []T, fn func(context.Context, T)) {
	sem := make(chan struct{}, statusParallelism)
	var wg sync.WaitGroup
	for _, it := range items {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			ctx, cancel := context.WithTimeout(ctx, statusTimeout)
			defer cancel()
			fn(ctx, it)
		}()
	}
	wg.Wait()
}

// readLakeGroup locates the tables of rows that share a repository and reference, and, on
// a branch, counts the commits each record's commit is behind its head.
func (s *Service) readLakeGroup(ctx context.Context, rows []*liveRow) {
	repo, ref := rows[0].lake.Repository, rows[0].lake.Reference
	names := make([]lakefs.TableName, len(rows))
	for i, row := range rows {
		names[i] = lakefs.TableName{Namespace: row.lake.Namespace, Table: row.lake.Table}
	}
	listing, err := s.lakefs.LocateTables(ctx, repo, ref, names)
	if err != nil {
		for _, row := range rows {
			row.lakeErr = err
		}
		return
	}
	found := make(map[string]string, len(listing.Tables))
	for _, t := range listing.Tables {
		found[tableKey(t.Namespace, t.Table)] = t.MetadataLocation
	}
	for _, row := range rows {
		loc, ok := found[tableKey(row.lake.Namespace, row.lake.Table)]
		if !ok {
			row.lakeErr = apperr.NotFound("table %s not found in repository %q at reference %q", row.lake, repo, ref)
			continue
		}
		row.ts.CurrentLakeFSLocation = loc
	}
	if !listing.IsBranch {
		return
	}
	// commits_behind is optional: a failed log leaves it unknown, not the row.
	log, err := s.lakefs.Log(ctx, repo, ref, commitsBehindLimit)
	if err != nil {
		return
	}
	for _, row := range rows {
		if row.ts.Record.Reference != ref || row.ts.Record.ResolvedCommit == "" {
			continue // read elsewhere (a pending pull's committed view)
		}
		if n, ok := lakefs.CommitsSince(log, row.ts.Record.ResolvedCommit); ok {
			row.ts.CommitsBehind = &n
		}
	}
}

// readRemoteGroup reads the remote tables of rows that share a remote namespace.
func readRemoteGroup(ctx context.Context, r *Remote, rows []*liveRow, parallelism int) {
	ns := rows[0].ts.Record.Namespace
	tables := make([]string, len(rows))
	for i, row := range rows {
		tables[i] = row.ts.Record.Table
	}
	loaded, err := catalog.LoadMany(ctx, r.Adapter, ns, tables, parallelism)
	for _, row := range rows {
		t := row.ts.Record.Table
		switch {
		case err != nil:
			row.remoteErr = err
		case loaded.Errors[t] != nil:
			row.remoteErr = loaded.Errors[t]
		default:
			loc, ok := loaded.Locations[t]
			if !ok {
				row.remoteErr = apperr.NotFound("table %s not found in remote %q", dotted(ns, t), r.Config.ID)
				continue
			}
			row.ts.CurrentRemoteLocation = loc
		}
	}
}

func tableKey(ns []string, table string) string {
	return strings.Join(ns, "\x00") + "\x00\x00" + table
}
