package ent

import (
	"context"
	"database/sql"
	"fmt"
)

// PostgreSQL batch inserts by COPY … FROM STDIN (lib/pq's COPY support).
// COPY hands the server rows ready for the heap's multi-row insert, with no
// statement to plan and no arrays to unpack: EnqueueMany of 1,000 jobs
// spends about half the server time of INSERT … SELECT FROM unnest
// (docs/PERFORMANCE.md). lib/pq runs COPY only inside a transaction, and the
// transaction is what keeps a batch all-or-nothing (J1, L1): a duplicate key
// in any row aborts the COPY, the caller's inTx rolls it back, and nothing
// of the batch is stored.

// copyMinRows is the smallest batch sent by COPY. Below it the one-statement
// INSERT … unnest, with no BEGIN and COMMIT round trips, costs less.
const copyMinRows = 64

// maxConcurrentCopies bounds the COPYs one backend streams at once. Each
// COPY inserts at the right edge of the same indexes (UUIDv7 keys, creation
// times); past a few at once they only queue for those pages' locks and the
// WAL, and a CPU-bound server gets slower with every extra one.
const maxConcurrentCopies = 4

// The COPY statements, one per table, columns in the order of the rows
// their callers build.
const (
	copyJobs       = `COPY jobs (` + jobColumns + `) FROM STDIN`
	copyLogEntries = `COPY log_entries (entry_id, job_id, timestamp, level, message, exception) FROM STDIN`
	copyHistory    = `COPY job_history (id, job_id, attempt, worker_id, started_at, completed_at, status, error, duration_ms) FROM STDIN`
)

// copyIn streams n rows into a table with query (one of the COPY statements
// above) inside tx; row appends the values of row i to dst and returns it.
// It fails unless the server stored exactly n rows.
func (b *backend) copyIn(ctx context.Context, tx *sql.Tx, query string, n int, row func(i int, dst []any) []any) error {
	select {
	case b.copySlots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-b.copySlots }()
	st, err := tx.PrepareContext(ctx, query)
	if err != nil {
		return err
	}
	defer st.Close()
	var args []any
	for i := range n {
		args = row(i, args[:0])
		if _, err := st.ExecContext(ctx, args...); err != nil {
			return err
		}
	}
	// An Exec without values ends the stream and reports what it stored,
	// or the first error of any row.
	res, err := st.ExecContext(ctx)
	if err != nil {
		return err
	}
	stored, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if stored != int64(n) {
		return fmt.Errorf("ent: COPY stored %d of %d rows", stored, n)
	}
	return nil
}
