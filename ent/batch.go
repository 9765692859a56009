package ent

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"
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
// stored exactly n rows. The rows are written as COPY's text format
// (appendCopyValue) straight into lib/pq's stream, several per message:
// through database/sql each value of each row was converted and checked on
// its own, a sixth of the client's CPU in an insert phase (pprof).
func (b *backend) copyBatch(ctx context.Context, query string, n int, row rowFunc) error {
	return b.onCopyConn(ctx, func(conn pqConn) error {
		return inDriverTx(ctx, conn, func() error { return copyRows(ctx, conn, query, n, row) })
	})
}

// pqConn is what the COPY paths use of a lib/pq connection.
type pqConn interface {
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
}

// onCopyConn runs f on a lib/pq connection of the pool, at the driver
// level, holding one of the copySlots. A connection left unusable by a
// failure is marked bad by lib/pq, and the pool drops it.
func (b *backend) onCopyConn(ctx context.Context, f func(conn pqConn) error) error {
	select {
	case b.copySlots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-b.copySlots }()
	c, err := b.db.Conn(ctx)
	if err != nil {
		return b.wrap(ctx, err)
	}
	defer c.Close()
	err = c.Raw(func(dc any) error {
		conn, ok := dc.(pqConn)
		if !ok {
			return fmt.Errorf("ent: COPY needs lib/pq, the connection is a %T", dc)
		}
		return f(conn)
	})
	return b.wrap(ctx, err)
}

// inDriverTx runs f in a transaction on conn and commits it when f returns
// nil.
func inDriverTx(ctx context.Context, conn pqConn, f func() error) (err error) {
	tx, err := conn.BeginTx(ctx, driver.TxOptions{})
	if err != nil {
		return err
	}
	if err := f(); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// copyStream is lib/pq's COPY statement: CopyData sends raw lines of the
// stream, each given a newline; Exec without values ends the stream and
// reports what it stored, or the first error of any row.
type copyStream interface {
	CopyData(ctx context.Context, line string) (driver.Result, error)
	Exec(args []driver.Value) (driver.Result, error)
}

// copyChunk is how many bytes of rows copyRows gathers per CopyData call,
// under lib/pq's 64 KiB message buffer.
const copyChunk = 60 << 10

// copyRows streams n rows with query (one of the COPY statements) on conn,
// in the transaction open there, and fails unless the server stored all.
func copyRows(ctx context.Context, conn pqConn, query string, n int, row rowFunc) error {
	st, err := conn.PrepareContext(ctx, query)
	if err != nil {
		return err
	}
	defer st.Close()
	stream, ok := st.(copyStream)
	if !ok {
		return fmt.Errorf("ent: %T has no CopyData", st)
	}
	var (
		vals []any
		buf  = make([]byte, 0, copyChunk+4096)
	)
	for i := range n {
		if len(buf) > 0 {
			buf = append(buf, '\n')
		}
		vals = row(i, vals[:0])
		for k, v := range vals {
			if k > 0 {
				buf = append(buf, '\t')
			}
			if buf, err = appendCopyValue(buf, v); err != nil {
				return err
			}
		}
		if len(buf) >= copyChunk || i == n-1 {
			if _, err := stream.CopyData(ctx, string(buf)); err != nil {
				return err
			}
			buf = buf[:0]
		}
	}
	res, err := stream.Exec(nil)
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

// appendCopyValue appends v, one value of a row of jobArgs or of the log
// and history row functions, in COPY's text format: \N for NULL, text
// with backslash, newline, carriage return and tab escaped, bytea as \\x
// and hex, times in UTC to the microsecond (truncated, as the store keeps
// them).
func appendCopyValue(buf []byte, v any) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return append(buf, `\N`...), nil
	case string:
		return appendCopyText(buf, v), nil
	case []byte:
		buf = append(buf, `\\x`...)
		return hex.AppendEncode(buf, v), nil
	case int:
		return strconv.AppendInt(buf, int64(v), 10), nil
	case int64:
		return strconv.AppendInt(buf, v, 10), nil
	case float64:
		return strconv.AppendFloat(buf, v, 'g', -1, 64), nil
	case bool:
		if v {
			return append(buf, 't'), nil
		}
		return append(buf, 'f'), nil
	case time.Time:
		return v.UTC().AppendFormat(buf, "2006-01-02 15:04:05.999999Z07:00"), nil
	default:
		return nil, fmt.Errorf("ent: no COPY text form for %T", v)
	}
}

// appendCopyText appends s with COPY's text escapes.
func appendCopyText(buf []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			buf = append(buf, '\\', '\\')
		case '\n':
			buf = append(buf, '\\', 'n')
		case '\r':
			buf = append(buf, '\\', 'r')
		case '\t':
			buf = append(buf, '\\', 't')
		default:
			buf = append(buf, c)
		}
	}
	return buf
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
	st, err := b.sqliteStmts(ctx, ins)
	if err != nil {
		return b.wrap(ctx, err)
	}
	if n <= sqliteInsertRows {
		return b.wrap(ctx, st.insert(ctx, onceExecer{b.db}, func(s *sql.Stmt) *sql.Stmt { return s }, 0, n, row))
	}
	return b.inTx(ctx, func(tx *sql.Tx) error { return st.insertTx(ctx, tx, n, row) })
}

// sqliteStmts are the prepared statements of an sqliteInsert.
type sqliteStmts struct {
	ins       *sqliteInsert
	full, one *sql.Stmt
}

// sqliteStmts prepares the statements of ins, once per backend. Call it
// before a transaction begins (see prepared).
func (b *backend) sqliteStmts(ctx context.Context, ins *sqliteInsert) (sqliteStmts, error) {
	full, err := b.prepared(ctx, ins.full)
	if err != nil {
		return sqliteStmts{}, err
	}
	one, err := b.prepared(ctx, ins.one)
	if err != nil {
		return sqliteStmts{}, err
	}
	return sqliteStmts{ins, full, one}, nil
}

// insertTx stores n rows in tx, sqliteInsertRows per statement.
func (st sqliteStmts) insertTx(ctx context.Context, tx *sql.Tx, n int, row rowFunc) error {
	inTx := func(s *sql.Stmt) *sql.Stmt { return tx.StmtContext(ctx, s) }
	for start := 0; start < n; start += sqliteInsertRows {
		if err := st.insert(ctx, tx, inTx, start, min(start+sqliteInsertRows, n), row); err != nil {
			return err
		}
	}
	return nil
}

// insert runs the INSERT of rows [start, end): a prepared one when its size
// has one (stmt turns it into the statement of ex), else one built for it.
func (st sqliteStmts) insert(ctx context.Context, ex execer, stmt func(*sql.Stmt) *sql.Stmt, start, end int, row rowFunc) error {
	args := make([]any, 0, (end-start)*st.ins.cols)
	for i := start; i < end; i++ {
		args = row(i, args)
	}
	var err error
	switch end - start {
	case sqliteInsertRows:
		_, err = stmt(st.full).ExecContext(ctx, args...)
	case 1:
		_, err = stmt(st.one).ExecContext(ctx, args...)
	default:
		_, err = ex.ExecContext(ctx, multiRowInsert(st.ins.prefix, DialectSQLite, end-start, st.ins.cols), args...)
	}
	return err
}
