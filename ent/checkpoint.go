package ent

import (
	"context"
	"database/sql"
	"time"
)

// SQLite in WAL mode appends every commit to the write-ahead log and copies
// the log back into the database file in a checkpoint. Left to SQLite, the
// checkpoint runs in the committing connection once the log holds 1,000
// pages: on a SQLite file that is the store's only writer, so every
// goroutine waiting for the write lock also waited for the copy and its two
// fsyncs. The checkpointer runs PASSIVE checkpoints from the read pool
// instead, which copy what they can without taking the write lock; the
// writer keeps an automatic checkpoint at writerCheckpointPages only as a
// bound on the log, for when the checkpointer falls behind (a PASSIVE
// checkpoint copies no frame a reader may still need, and the log starts
// over only at a write that finds it fully copied). Measured on a 2-core
// VM with ext4, 100,000-job lean burn-downs: the writer's work 55k → 62k
// jobs/s, the insert 86k → 101k (docs/PERFORMANCE.md).
const (
	// writerCheckpointPages is the writer's own automatic checkpoint, in
	// pages of the log (4 KiB each by default: a log of up to 40 MiB).
	writerCheckpointPages = 10000
	// checkpointEvery is the least time between two checkpoints, so a
	// burst of commits costs one checkpoint per interval, not one each.
	checkpointEvery = 20 * time.Millisecond
)

// checkpointer runs PASSIVE checkpoints on db after writes. A nil
// checkpointer (PostgreSQL, in-memory SQLite) does nothing.
type checkpointer struct {
	db   *sql.DB
	kick chan struct{}
	stop context.CancelFunc
	done chan struct{}
}

func startCheckpointer(db *sql.DB) *checkpointer {
	ctx, stop := context.WithCancel(context.Background())
	c := &checkpointer{db: db, kick: make(chan struct{}, 1), stop: stop, done: make(chan struct{})}
	go c.run(ctx)
	return c
}

// wrote tells the checkpointer that a write committed. It never blocks: a
// kick already waiting covers this one.
func (c *checkpointer) wrote() {
	if c == nil {
		return
	}
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// close stops the checkpointer and waits for a checkpoint under way.
func (c *checkpointer) close() {
	if c == nil {
		return
	}
	c.stop()
	<-c.done
}

func (c *checkpointer) run(ctx context.Context) {
	defer close(c.done)
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.kick:
		}
		// An error (the database busy in another process's exclusive
		// checkpoint, a closed pool) leaves the copy to the next kick or
		// to the writer's own checkpoint.
		_, _ = c.db.ExecContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)")
		select {
		case <-ctx.Done():
			return
		case <-time.After(checkpointEvery):
		}
	}
}
