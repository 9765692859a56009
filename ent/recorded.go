package ent

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"

	"github.com/lib/pq"

	"github.com/orchestrix/persistence/abstractions/stores"
)

var _ stores.RecordedCompleter = (*jobStore)(nil)

// errNotAll rolls back a CompleteRecorded transaction whose completion
// without RETURNING changed fewer rows than refs, to run it again with
// the statements that say which refs failed.
var errNotAll = errors.New("ent: not every ref completed")

// pgCompleteAll is completeJobsByRow without RETURNING.
var pgCompleteAll = pgByRowAll(pgCompleteSet, pgInFlight, 2)

// CompleteRecorded implements stores.RecordedCompleter (J5, L1): one
// transaction completes the batch and then stores its log lines and
// history rows, so a failed insert (a duplicate record ID) or a crash rolls
// the completions back with them. On SQLite that is one write transaction
// where the three calls took three, each waiting for the single writer.
//
// The first try assumes every ref completes, the common case: SQLite runs
// the completion without RETURNING and its prepared INSERTs; PostgreSQL
// runs the completion and a COPY per table on one connection at the driver
// level, as copyBatch does. When fewer rows than refs changed, the
// transaction is rolled back and run again with the statements that report
// each ref (transitionRows), the records then inserted as Append and
// AppendMany insert small batches.
func (s *jobStore) CompleteRecorded(ctx context.Context, c stores.CompletedBatch) ([]error, error) {
	if s.b.cfg.Dialect == DialectPostgres {
		err := retryDeadlock(func() error { return s.b.completeRecordedCopy(ctx, c) })
		if !errors.Is(err, errNotAll) {
			if err != nil {
				return nil, err
			}
			return make([]error, len(c.Refs)), nil
		}
		return s.completeRecordedTx(ctx, c, false)
	}
	return s.completeRecordedTx(ctx, c, true)
}

// completeRecordedTx is CompleteRecorded in a database/sql transaction;
// all tries SQLite's completion without RETURNING first.
func (s *jobStore) completeRecordedTx(ctx context.Context, c stores.CompletedBatch, all bool) ([]error, error) {
	sqlite := s.b.cfg.Dialect == DialectSQLite
	var logs, hist sqliteStmts
	if sqlite { // before the transaction takes the only write connection
		var err error
		if logs, err = s.b.sqliteStmts(ctx, &sqliteLogInsert); err != nil {
			return nil, s.b.wrap(ctx, err)
		}
		if hist, err = s.b.sqliteStmts(ctx, &sqliteHistoryInsert); err != nil {
			return nil, s.b.wrap(ctx, err)
		}
	}
	q := s.b.q
	args := append([]any{c.Now}, s.b.refArgs(c.Refs)...)
	once := func(f func() error) error { return f() }
	for {
		var results []error
		err := retryDeadlock(func() error {
			return s.b.inTx(ctx, func(tx *sql.Tx) error {
				var err error
				if all {
					n, err := s.b.execCount(ctx, tx, q.completeJobsAll, args...)
					if err != nil {
						return err
					}
					if n != len(c.Refs) {
						return errNotAll
					}
					results = make([]error, len(c.Refs))
				} else if results, err = s.transitionRows(ctx, tx, tx, once, q.completeJobs, q.completeJobsByRow,
					c.Refs, "not in flight", args[:1:1]); err != nil {
					return err
				}
				if sqlite {
					if err := logs.insertTx(ctx, tx, len(c.Logs), logRow(c.Logs)); err != nil {
						return err
					}
					return hist.insertTx(ctx, tx, len(c.History), historyRow(c.History))
				}
				if len(c.Logs) > 0 {
					if err := insertLogsPostgres(ctx, tx, c.Logs); err != nil {
						return err
					}
				}
				if len(c.History) > 0 {
					_, err = tx.ExecContext(ctx, insertHistoryUnnest, historyArrays(c.History)...)
				}
				return err
			})
		})
		if all && errors.Is(err, errNotAll) {
			all = false
			continue
		}
		if err != nil {
			return nil, err
		}
		return results, nil
	}
}

// completeRecordedCopy is PostgreSQL's first try of CompleteRecorded: in
// one transaction on a lib/pq connection, the completion (pgCompleteAll)
// and, when it moved a row per ref, a COPY of the log lines and one of the
// history rows. Fewer rows is errNotAll, with the transaction rolled back.
func (b *backend) completeRecordedCopy(ctx context.Context, c stores.CompletedBatch) error {
	ids := make([]string, len(c.Refs))
	attempts := make([]int64, len(c.Refs))
	for i, r := range c.Refs {
		ids[i], attempts[i] = r.ID, r.Attempt
	}
	idArg, err := pq.StringArray(ids).Value()
	if err != nil {
		return err
	}
	attemptArg, err := pq.Int64Array(attempts).Value()
	if err != nil {
		return err
	}
	return b.onCopyConn(ctx, func(conn pqConn) error {
		return inDriverTx(ctx, conn, func() error {
			res, err := conn.ExecContext(ctx, pgCompleteAll, []driver.NamedValue{
				{Ordinal: 1, Value: c.Now}, {Ordinal: 2, Value: idArg}, {Ordinal: 3, Value: attemptArg}})
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			if n != int64(len(c.Refs)) {
				return errNotAll
			}
			if len(c.Logs) > 0 {
				if err := copyRows(ctx, conn, copyLogEntries, len(c.Logs), logRow(c.Logs)); err != nil {
					return err
				}
			}
			if len(c.History) > 0 {
				return copyRows(ctx, conn, copyHistory, len(c.History), historyRow(c.History))
			}
			return nil
		})
	})
}
