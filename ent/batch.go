package ent

import (
	"context"
	"database/sql"
	"fmt"
)

// Batch inserts of jobs, log lines and history rows.

// PostgreSQL batch inserts by COPY … FROM STDIN (lib/pq's COPY support).
// COPY hands the server rows ready for the heap's multi-row insert, with no
// statement to plan and no arrays to unpack: the insert phase of a
// 100,000-job burn-down went from about 1.4× River's InsertMany to about
// 1.9× (docs/PERFORMANCE.md). lib/pq runs COPY only inside a transaction,
// and the transaction is what keeps a batch all-or-nothing (J1, L1): a
// duplicate key in any row aborts the COPY, copyBatch rolls the
// transaction back, and nothing of the batch is stored.

// copyMinRows is the smallest batch sent by COPY. A smaller one keeps its
// single INSERT, atomic without BEGIN and COMMIT (two round trips fewer);
// the threshold is a round number, not tuned.
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

// rowFunc appends the values of row i of a batch to dst and returns it.
type rowFunc func(i int, dst []any) []any

// copyBatch stores n rows with query (one of the COPY statements above) in
// a transaction of its own: every row or none. It fails unless the server
// stored exactly n rows.
func (b *backend) copyBatch(ctx context.Context, query string, n int, row rowFunc) error {
	select {
	case b.copySlots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-b.copySlots }()
	return b.inTx(ctx, func(tx *sql.Tx) error {
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
		// An Exec without values ends the stream and reports what it
		// stored, or the first error of any row.
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
	})
}

// SQLite batch inserts: prepared multi-row INSERTs of sqliteInsertRows
// rows, the rest (or a single row) with one more INSERT. Preparing a
// 1,000-row INSERT took SQLite about as long as running it; each row costs
// the same from about 100 rows up, and a prepared statement keeps its
// program and parameters (about 200 KiB for jobs) for the life of the
// connection.
const sqliteInsertRows = 100

// sqliteInsert is the multi-row INSERT of one table: prefix ("INSERT INTO
// t (cols) VALUES ") and cols, and the statements kept prepared.
type sqliteInsert struct {
	prefix    string
	cols      int
	full, one string
}

func newSQLiteInsert(prefix string, cols int) sqliteInsert {
	return sqliteInsert{prefix: prefix, cols: cols,
		full: multiRowInsert(prefix, DialectSQLite, sqliteInsertRows, cols),
		one:  multiRowInsert(prefix, DialectSQLite, 1, cols)}
}

// The SQLite batch inserts of jobs, log lines and history rows.
var (
	sqliteJobInsert     = newSQLiteInsert("INSERT INTO jobs ("+jobColumns+") VALUES ", jobColumnCount)
	sqliteLogInsert     = newSQLiteInsert(insertLogEntries, logEntryColumnCount)
	sqliteHistoryInsert = newSQLiteInsert(insertHistoryRows, historyColumnCount)
)

// insertSQLite stores every one of n rows or none (J1, L1). One statement
// is atomic by itself; several run in one transaction. The modernc driver
// reports a bad connection only before a statement runs, so database/sql's
// retry of a prepared statement never runs an INSERT twice (see execOnce).
func (b *backend) insertSQLite(ctx context.Context, ins *sqliteInsert, n int, row rowFunc) error {
	full, err := b.prepared(ctx, ins.full)
	if err != nil {
		return b.wrap(ctx, err)
	}
	one, err := b.prepared(ctx, ins.one)
	if err != nil {
		return b.wrap(ctx, err)
	}
	// insert runs the INSERT of rows [start, end): a prepared one when its
	// size has one (stmt turns it into the statement of ex), else one
	// built for it.
	insert := func(ex execer, stmt func(*sql.Stmt) *sql.Stmt, start, end int) error {
		args := make([]any, 0, (end-start)*ins.cols)
		for i := start; i < end; i++ {
			args = row(i, args)
		}
		var err error
		switch end - start {
		case sqliteInsertRows:
			_, err = stmt(full).ExecContext(ctx, args...)
		case 1:
			_, err = stmt(one).ExecContext(ctx, args...)
		default:
			_, err = ex.ExecContext(ctx, multiRowInsert(ins.prefix, DialectSQLite, end-start, ins.cols), args...)
		}
		return err
	}
	if n <= sqliteInsertRows {
		return b.wrap(ctx, insert(onceExecer{b.db}, func(s *sql.Stmt) *sql.Stmt { return s }, 0, n))
	}
	return b.inTx(ctx, func(tx *sql.Tx) error {
		inTx := func(s *sql.Stmt) *sql.Stmt { return tx.StmtContext(ctx, s) }
		for start := 0; start < n; start += sqliteInsertRows {
			if err := insert(tx, inTx, start, min(start+sqliteInsertRows, n)); err != nil {
				return err
			}
		}
		return nil
	})
}
