package hivecat

// The metastore table lock a re-point holds, and its release on every path.

import (
	"context"
	"os"
	"time"

	"github.com/beltran/gohive/hive_metastore"

	"github.com/iceberg-remotes/iceberg-remotes/internal/apperr"
)

// lock takes an EXCLUSIVE table lock, polling CheckLock with bounded backoff while another
// holder has it; 409 when it cannot be had within LockWait.
func (a *Adapter) lock(ctx context.Context, db, tbl string) (int64, error) {
	host, _ := os.Hostname()
	tn := tbl
	resp, err := a.client.Lock(ctx, &hive_metastore.LockRequest{
		Component: []*hive_metastore.LockComponent{{
			Type: hive_metastore.LockType_EXCLUSIVE, Level: hive_metastore.LockLevel_TABLE,
			Dbname: db, Tablename: &tn,
		}},
		User: "iceberg-remotes", Hostname: host,
	})
	if err != nil {
		return 0, a.mapErr(err, "locking table %s.%s", db, tbl)
	}
	deadline := time.Now().Add(a.lockWait)
	wait := 20 * time.Millisecond
	for resp.State == hive_metastore.LockState_WAITING {
		if time.Now().After(deadline) {
			break
		}
		select {
		case <-ctx.Done():
			a.abandonLock(ctx, resp.Lockid)
			return 0, a.mapErr(ctx.Err(), "waiting for the lock on %s.%s", db, tbl)
		case <-time.After(wait):
		}
		wait = min(wait*2, time.Second)
		resp, err = a.client.CheckLock(ctx, resp.Lockid)
		if err != nil {
			a.abandonLock(ctx, resp.Lockid)
			return 0, a.mapErr(err, "checking the lock on %s.%s", db, tbl)
		}
	}
	if resp.State != hive_metastore.LockState_ACQUIRED {
		a.abandonLock(ctx, resp.Lockid)
		return 0, apperr.Conflict("hive remote %q: table %s.%s is locked by another writer (lock state %s)", a.name, db, tbl, resp.State)
	}
	return resp.Lockid, nil
}

func (a *Adapter) abandonLock(ctx context.Context, id int64) {
	uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.client.timeout)
	defer cancel()
	_ = a.client.Unlock(uctx, id)
}
