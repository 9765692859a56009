package ent

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/lib/pq"

	"github.com/orchestrix/persistence/abstractions/stores"
)

// jobStore implements stores.JobStore (J1–J10).
type jobStore struct{ b *backend }

// scanJob reads one row of jobColumns.
func scanJob(sc rowScanner) (*stores.Job, error) {
	var (
		j                                                        stores.Job
		args                                                     []byte
		status, scheduleType                                     string
		uniqueKey, scheduleID                                    sql.NullString
		created, scheduled, dispatched, started, completed, tick nullTime
		timeout, initial, maxDelay                               int64
	)
	err := sc.Scan(&j.ID, &j.Type, &j.Queue, &args, &status, &j.Priority, &j.CorrelationID, &uniqueKey,
		&created, &scheduled, &dispatched, &started, &completed,
		&timeout, &j.RetryCount, &j.MaxRetries, &initial, &j.RetryPolicy.Multiplier, &maxDelay,
		&j.LastError, &j.WorkerID, &j.FollowerNodeID, &j.ChannelsCleaned, &scheduleID, &scheduleType, &tick, &j.Attempt)
	if err != nil {
		return nil, err
	}
	j.Args = copyBytes(args)
	j.Status = stores.JobStatus(status)
	j.UniqueKey = uniqueKey.String
	j.CreatedAt, j.ScheduledAt, j.DispatchedAt = created.Time, scheduled.Time, dispatched.Time
	j.StartedAt, j.CompletedAt, j.ScheduleTick = started.Time, completed.Time, tick.Time
	j.Timeout = fromMS(timeout)
	j.RetryPolicy.InitialDelay, j.RetryPolicy.MaxDelay = fromMS(initial), fromMS(maxDelay)
	j.ScheduleID = scheduleID.String
	j.ScheduleType = stores.ScheduleType(scheduleType)
	return &j, nil
}

// jobArgs returns the parameters of one row of jobColumns.
func jobArgs(j *stores.Job) []any {
	return []any{j.ID, j.Type, j.Queue, bytesArg(j.Args), string(j.Status), j.Priority, j.CorrelationID, nullStringArg(j.UniqueKey),
		j.CreatedAt.UTC(), timeArg(j.ScheduledAt), timeArg(j.DispatchedAt), timeArg(j.StartedAt), timeArg(j.CompletedAt),
		ms(j.Timeout), j.RetryCount, j.MaxRetries, ms(j.RetryPolicy.InitialDelay), j.RetryPolicy.Multiplier, ms(j.RetryPolicy.MaxDelay),
		j.LastError, j.WorkerID, j.FollowerNodeID, j.ChannelsCleaned, nullStringArg(j.ScheduleID), string(j.ScheduleType), timeArg(j.ScheduleTick), j.Attempt}
}

// queryJobs runs a query of jobColumns and returns every row.
func (b *backend) queryJobs(ctx context.Context, ex execer, query string, args ...any) ([]*stores.Job, error) {
	rows, err := ex.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, b.wrap(ctx, err)
	}
	defer rows.Close()
	var out []*stores.Job
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			return nil, b.wrap(ctx, err)
		}
		out = append(out, j)
	}
	return out, b.wrap(ctx, rows.Err())
}

// insertJobs stores jobs: on PostgreSQL with one INSERT … SELECT FROM
// unnest, atomic by itself; on SQLite with multi-row INSERTs of up to
// enqueueChunk rows, which the caller runs in a transaction when there is
// more than one chunk. Enqueue and EnqueueMany on SQLite take
// insertSQLite instead.
func (b *backend) insertJobs(ctx context.Context, ex execer, jobs []*stores.Job) error {
	if b.cfg.Dialect == DialectPostgres {
		_, err := ex.ExecContext(ctx, insertJobsUnnest, jobArrays(jobs)...)
		return err
	}
	for start := 0; start < len(jobs); start += enqueueChunk {
		chunk := jobs[start:min(start+enqueueChunk, len(jobs))]
		args := make([]any, 0, len(chunk)*jobColumnCount)
		for _, j := range chunk {
			args = append(args, jobArgs(j)...)
		}
		if _, err := ex.ExecContext(ctx, insertJobsSQL(b.cfg.Dialect, len(chunk)), args...); err != nil {
			return err
		}
	}
	return nil
}

// jobArrays returns the 27 array parameters of insertJobsUnnest.
func jobArrays(jobs []*stores.Job) []any {
	n := len(jobs)
	var (
		ids, types, queues, statuses, corrs, uks   = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		lastErrs, workers, followers, sids, stypes = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		args                                       = make([][]byte, n)
		prios, created, sched, disp, started       = make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
		completed, timeouts, retries, maxRetries   = make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
		initial, maxDelay, ticks, attempts         = make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
		mults                                      = make([]float64, n)
		cleaned                                    = make([]bool, n)
	)
	for i, j := range jobs {
		ids[i], types[i], queues[i], statuses[i], corrs[i], uks[i] = j.ID, j.Type, j.Queue, string(j.Status), j.CorrelationID, j.UniqueKey
		lastErrs[i], workers[i], followers[i], sids[i], stypes[i] = j.LastError, j.WorkerID, j.FollowerNodeID, j.ScheduleID, string(j.ScheduleType)
		args[i] = j.Args
		prios[i], created[i], sched[i], disp[i], started[i] = int64(j.Priority), unixMicro(j.CreatedAt), unixMicro(j.ScheduledAt), unixMicro(j.DispatchedAt), unixMicro(j.StartedAt)
		completed[i], timeouts[i], retries[i], maxRetries[i] = unixMicro(j.CompletedAt), ms(j.Timeout), int64(j.RetryCount), int64(j.MaxRetries)
		initial[i], maxDelay[i], ticks[i], attempts[i] = ms(j.RetryPolicy.InitialDelay), ms(j.RetryPolicy.MaxDelay), unixMicro(j.ScheduleTick), j.Attempt
		mults[i], cleaned[i] = j.RetryPolicy.Multiplier, j.ChannelsCleaned
	}
	return []any{pq.StringArray(ids), pq.StringArray(types), pq.StringArray(queues), pq.ByteaArray(args), pq.StringArray(statuses),
		pq.Int64Array(prios), pq.StringArray(corrs), pq.StringArray(uks),
		pq.Int64Array(created), pq.Int64Array(sched), pq.Int64Array(disp), pq.Int64Array(started), pq.Int64Array(completed),
		pq.Int64Array(timeouts), pq.Int64Array(retries), pq.Int64Array(maxRetries), pq.Int64Array(initial), pq.Float64Array(mults), pq.Int64Array(maxDelay),
		pq.StringArray(lastErrs), pq.StringArray(workers), pq.StringArray(followers), pq.BoolArray(cleaned), pq.StringArray(sids), pq.StringArray(stypes),
		pq.Int64Array(ticks), pq.Int64Array(attempts)}
}

// Enqueue stores one job (J1).
func (s *jobStore) Enqueue(ctx context.Context, job *stores.Job) error {
	if s.b.cfg.Dialect == DialectSQLite {
		return s.b.insertSQLite(ctx, &sqliteJobInsert, 1, func(_ int, dst []any) []any { return append(dst, jobArgs(job)...) })
	}
	return s.b.wrap(ctx, s.b.insertJobs(ctx, onceExecer{s.b.db}, []*stores.Job{job}))
}

// EnqueueMany stores every job or none (J1): on PostgreSQL a batch of
// copyMinRows or more by COPY in a transaction, a smaller one with one
// INSERT, atomic by itself; on SQLite prepared multi-row INSERTs
// (insertSQLite).
func (s *jobStore) EnqueueMany(ctx context.Context, jobs []*stores.Job) error {
	row := func(i int, dst []any) []any { return append(dst, jobArgs(jobs[i])...) }
	if s.b.cfg.Dialect == DialectSQLite {
		return s.b.insertSQLite(ctx, &sqliteJobInsert, len(jobs), row)
	}
	if len(jobs) >= copyMinRows {
		return s.b.copyBatch(ctx, copyJobs, len(jobs), row)
	}
	return s.b.wrap(ctx, s.b.insertJobs(ctx, onceExecer{s.b.db}, jobs))
}

// Get returns a job by id (J2).
func (s *jobStore) Get(ctx context.Context, id string) (*stores.Job, error) {
	return s.b.getJob(ctx, s.b.rdb, id)
}

func (b *backend) getJob(ctx context.Context, ex execer, id string) (*stores.Job, error) {
	j, err := scanJob(ex.QueryRowContext(ctx, selectJob, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("job %s: %w", id, stores.ErrNotFound)
	}
	return j, b.wrap(ctx, err)
}

// missingOrConflict runs after a conditional write on a job changed no row:
// the job is missing (ErrNotFound) or its state did not match (ErrConflict).
func (b *backend) missingOrConflict(ctx context.Context, ex execer, id, what string) error {
	var n int
	if err := ex.QueryRowContext(ctx, countJobID, id).Scan(&n); err != nil {
		return b.wrap(ctx, err)
	}
	if n == 0 {
		return fmt.Errorf("job %s: %w", id, stores.ErrNotFound)
	}
	return fmt.Errorf("job %s: %s: %w", id, what, stores.ErrConflict)
}

// Pending returns due pending jobs in dispatch order (J3).
func (s *jobStore) Pending(ctx context.Context, now time.Time, limit int) ([]*stores.Job, error) {
	return s.b.queryJobs(ctx, s.b.rdb, selectPendingJobs, now, limit)
}

// DueScheduled returns pending jobs whose scheduled time has come (J3).
func (s *jobStore) DueScheduled(ctx context.Context, now time.Time, limit int) ([]*stores.Job, error) {
	return s.b.queryJobs(ctx, s.b.rdb, selectDueScheduledJobs, now, limit)
}

// Dispatch claims up to p.Limit due jobs (J4). On PostgreSQL one UPDATE …
// RETURNING picks the rows FOR UPDATE SKIP LOCKED, so concurrent
// dispatchers take disjoint sets without waiting, and is its own
// transaction. On SQLite an IMMEDIATE transaction, which holds the single
// write lock from its first read, reads the due jobs and claims exactly
// those rows.
func (s *jobStore) Dispatch(ctx context.Context, p stores.DispatchParams) ([]*stores.Job, error) {
	if s.b.cfg.Dialect == DialectSQLite {
		return s.dispatchSQLite(ctx, p)
	}
	status, started := dispatchedStatus(p)
	query, args := s.b.q.dispatchDue, []any{p.Now, p.Limit, p.WorkerID, status, started}
	switch len(p.Queues) {
	case 0:
	case 1:
		query, args = s.b.q.dispatchDueQueue, append(args, p.Queues[0])
	default:
		query, args = s.b.q.dispatchDueQueues, append(args, s.b.listArg(p.Queues))
	}
	var (
		jobs []*stores.Job
		err  error
	)
	if len(p.Queues) > 1 {
		// Every pending job of the queues is read and sorted anyway.
		jobs, err = s.b.queryJobs(ctx, s.b.db, query, args...)
	} else {
		err = s.b.inTx(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, pgDispatchPlan); err != nil {
				return err
			}
			var err error
			jobs, err = s.b.queryJobs(ctx, tx, query, args...)
			return err
		})
	}
	if err != nil {
		return nil, err
	}
	// RETURNING gives no order; hand the jobs out in dispatch order.
	sort.Slice(jobs, func(i, k int) bool { return dispatchOrder(jobs[i], jobs[k]) })
	return jobs, nil
}

// dispatchSQLite reads the due jobs with their rowids, in dispatch order,
// and claims those rows by rowid in the same transaction: no RETURNING
// (SQLite would copy every claimed row through a temporary table) and no
// second search of the primary key index per job.
func (s *jobStore) dispatchSQLite(ctx context.Context, p stores.DispatchParams) ([]*stores.Job, error) {
	query, args := s.b.q.dispatchDue, []any{p.Now, p.Limit}
	switch len(p.Queues) {
	case 0:
	case 1:
		query, args = s.b.q.dispatchDueQueue, append(args, p.Queues[0])
	default:
		query, args = s.b.q.dispatchDueQueues, append(args, s.b.listArg(p.Queues))
	}
	var jobs []*stores.Job
	err := s.b.inTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, query, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		rowids := make([]byte, 1, 2+8*min(p.Limit, 4096))
		rowids[0] = '['
		jobs = make([]*stores.Job, 0, min(p.Limit, 4096))
		var rowid int64
		dest := make([]any, 0, jobColumnCount+1)
		withRowid := rowScannerFunc(func(cols ...any) error {
			dest = append(append(dest[:0], cols...), &rowid)
			return rows.Scan(dest...)
		})
		for rows.Next() {
			j, err := scanJob(withRowid)
			if err != nil {
				return err
			}
			if len(jobs) > 0 {
				rowids = append(rowids, ',')
			}
			rowids = strconv.AppendInt(rowids, rowid, 10)
			jobs = append(jobs, j)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if len(jobs) == 0 {
			return nil
		}
		status, started := dispatchedStatus(p)
		n, err := s.b.execCount(ctx, tx, s.b.q.claimDueRows, p.Now, p.WorkerID, string(append(rowids, ']')), status, started)
		if err != nil {
			return err
		}
		if n != len(jobs) {
			// The write lock held since BEGIN keeps the rows read pending.
			return fmt.Errorf("ent: dispatch claimed %d of the %d due jobs it read", n, len(jobs))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	dispatchedAt := sqliteTime(p.Now)
	for _, j := range jobs {
		claimedJob(j, dispatchedAt, p.WorkerID, p.Start)
	}
	return jobs, nil
}

// dispatchedStatus is the status and StartedAt (nil: keep it) that
// Dispatch gives its jobs: running from Now with p.Start, else dispatched.
func dispatchedStatus(p stores.DispatchParams) (string, any) {
	if p.Start {
		return string(stores.StatusRunning), p.Now
	}
	return string(stores.StatusDispatched), nil
}

// claimedJob applies claimDueRows' change to a job as read before it: the
// job as RETURNING would have reported it.
func claimedJob(j *stores.Job, dispatchedAt time.Time, workerID string, start bool) {
	j.Status = stores.StatusDispatched
	j.DispatchedAt = dispatchedAt
	j.Attempt++
	if workerID != "" {
		j.WorkerID = workerID
	}
	if start {
		j.Status, j.StartedAt = stores.StatusRunning, dispatchedAt
	}
}

// sqliteTime is t as a SQLite column holds it and scanJob reads it back:
// Unix microseconds, in UTC.
func sqliteTime(t time.Time) time.Time { return time.UnixMicro(t.UnixMicro()).UTC() }

// rowScannerFunc adapts a function to rowScanner.
type rowScannerFunc func(dest ...any) error

// Scan implements rowScanner.
func (f rowScannerFunc) Scan(dest ...any) error { return f(dest...) }

// dispatchOrder is J3's order: priority descending, then created, then id.
func dispatchOrder(a, b *stores.Job) bool {
	if a.Priority != b.Priority {
		return a.Priority > b.Priority
	}
	if !a.CreatedAt.Equal(b.CreatedAt) {
		return a.CreatedAt.Before(b.CreatedAt)
	}
	return a.ID < b.ID
}

// MarkRunning moves a dispatched attempt to running (J5).
func (s *jobStore) MarkRunning(ctx context.Context, ref stores.Ref, workerID string, now time.Time) (*stores.Job, error) {
	j, err := scanJob(s.b.db.QueryRowContext(ctx, markJobRunning, ref.ID, ref.Attempt, now, workerID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, s.b.missingOrConflict(ctx, s.b.rdb, ref.ID, "not dispatched at attempt "+strconv.FormatInt(ref.Attempt, 10))
	}
	return j, s.b.wrap(ctx, err)
}

// finish is the conditional terminal transition of Complete, Fail and
// TimeOut (J5); lastError nil keeps the stored one.
func (s *jobStore) finish(ctx context.Context, ref stores.Ref, status stores.JobStatus, lastError any, now time.Time) error {
	res, err := s.b.db.ExecContext(ctx, finishJob, ref.ID, ref.Attempt, now, string(status), lastError)
	if err != nil {
		return s.b.wrap(ctx, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return s.b.wrap(ctx, err)
	} else if n == 0 {
		return s.b.missingOrConflict(ctx, s.b.rdb, ref.ID, "not in flight at attempt "+strconv.FormatInt(ref.Attempt, 10))
	}
	return nil
}

// Complete moves an in-flight attempt to completed (J5).
func (s *jobStore) Complete(ctx context.Context, ref stores.Ref, now time.Time) error {
	return s.finish(ctx, ref, stores.StatusCompleted, nil, now)
}

// Fail moves an in-flight attempt to failed (J5).
func (s *jobStore) Fail(ctx context.Context, ref stores.Ref, errMsg string, now time.Time) error {
	return s.finish(ctx, ref, stores.StatusFailed, errMsg, now)
}

// TimeOut moves an in-flight attempt to timed_out (J5).
func (s *jobStore) TimeOut(ctx context.Context, ref stores.Ref, now time.Time) error {
	return s.finish(ctx, ref, stores.StatusTimedOut, nil, now)
}

// CompleteMany completes a batch with one set-based UPDATE (J5); only the
// refs it did not complete cost a follow-up read, to tell a missing job
// from a stale attempt.
func (s *jobStore) CompleteMany(ctx context.Context, refs []stores.Ref, now time.Time) ([]error, error) {
	return s.transitionMany(ctx, s.b.q.completeJobs, s.b.q.completeJobsAll, s.b.q.completeJobsByRow, refs, "not in flight", now)
}

// MarkRunningMany moves a batch of dispatched attempts to running with one
// set-based UPDATE (J5), like CompleteMany.
func (s *jobStore) MarkRunningMany(ctx context.Context, refs []stores.Ref, workerID string, now time.Time) ([]error, error) {
	return s.transitionMany(ctx, s.b.q.markJobsRunning, s.b.q.markJobsRunningAll, s.b.q.markJobsRunningByRow, refs, "not dispatched", now, workerID)
}

// transitionMany runs a set-based conditional transition, query: $1 now,
// then extra, then the refs (refArgs). The query returns (id, attempt) of
// every row it changed; each other ref is ErrNotFound or ErrConflict (what
// says why), its job unchanged. allQuery, when the dialect has one, is
// query without RETURNING: it runs first, in a transaction kept only when
// it changed one row per ref. byRowQuery, when the dialect has one, is
// query with one primary-key probe per ref: it runs first, and query only
// for the refs it left.
func (s *jobStore) transitionMany(ctx context.Context, query, allQuery, byRowQuery string, refs []stores.Ref, what string, now time.Time, extra ...any) ([]error, error) {
	args := make([]any, 0, 3+len(extra))
	args = append(args, now)
	args = append(args, extra...)
	fixed := len(args)
	args = append(args, s.b.refArgs(refs)...)
	if allQuery != "" {
		all, err := s.b.changedAll(ctx, allQuery, len(refs), args)
		if err != nil {
			return nil, err
		}
		if all {
			return make([]error, len(refs)), nil
		}
	}
	return s.transitionRows(ctx, s.b.db, s.b.rdb, retryDeadlock, query, byRowQuery, refs, what, args[:fixed:fixed])
}

// transitionRows runs byRowQuery (when set) and query of transitionMany on
// ex, each statement through run, with the fixed arguments args (now,
// extra); the refs not changed are told apart by a read on rd. Outside a
// transaction run is retryDeadlock; inside one it runs the statement once,
// since an aborted PostgreSQL transaction cannot run it again.
func (s *jobStore) transitionRows(ctx context.Context, ex, rd execer, run func(func() error) error, query, byRowQuery string, refs []stores.Ref, what string, args []any) ([]error, error) {
	transition := func(query string, refs []stores.Ref) (map[stores.Ref]bool, error) {
		var done map[stores.Ref]bool
		err := run(func() error {
			var err error
			done, err = s.b.refSet(ctx, ex, query, len(refs), append(args, s.b.refArgs(refs)...)...)
			return err
		})
		return done, err
	}
	pending := refs
	done := map[stores.Ref]bool{}
	if byRowQuery != "" {
		var err error
		if done, err = transition(byRowQuery, refs); err != nil {
			return nil, err
		}
		// What is left is stale or missing, or its row was changed by
		// another transaction after the statement's snapshot (the change
		// by ctid skips it): query, with a snapshot of its own, tells.
		pending = nil
		for _, r := range refs {
			if !done[r] {
				pending = append(pending, r)
			}
		}
	}
	if len(pending) > 0 {
		more, err := transition(query, pending)
		if err != nil {
			return nil, err
		}
		for r := range more {
			done[r] = true
		}
	}
	results := make([]error, len(refs))
	if len(done) == len(refs) {
		return results, nil
	}
	var missed []string
	for _, r := range refs {
		if !done[r] {
			missed = append(missed, r.ID)
		}
	}
	exists := map[string]bool{}
	if len(missed) > 0 { // empty when only repeats of changed refs are left
		var err error
		if exists, err = s.b.idSet(ctx, rd, s.b.q.existingJobIDs, s.b.listArg(missed)); err != nil {
			return nil, err
		}
	}
	for i, r := range refs {
		switch {
		case done[r]:
			// A ref listed twice changes its job once; the repeat is stale.
			delete(done, r)
			exists[r.ID] = true
		case exists[r.ID]:
			results[i] = fmt.Errorf("job %s: %s at attempt %d: %w", r.ID, what, r.Attempt, stores.ErrConflict)
		default:
			results[i] = fmt.Errorf("job %s: %w", r.ID, stores.ErrNotFound)
		}
	}
	return results, nil
}

// changedAll runs a set-based transition without RETURNING in a
// transaction and commits it only when it changed want rows. A ref changes
// at most one row (its id and attempt) and a repeated ref no second one,
// so want rows mean every ref moved; fewer, and the transaction is rolled
// back for the caller to rerun the statement that reports which did.
func (b *backend) changedAll(ctx context.Context, query string, want int, args []any) (bool, error) {
	tx, err := b.db.BeginTx(ctx, nil)
	if err != nil {
		return false, b.wrap(ctx, err)
	}
	n, err := b.execCount(ctx, tx, query, args...)
	if err != nil || n != want {
		_ = tx.Rollback()
		return false, err
	}
	return true, b.commit(ctx, tx)
}

// refArgs binds refs as the trailing parameters of a set-based transition:
// on PostgreSQL two arrays (ids, attempts), one parameter per column
// whatever the batch size; on SQLite one JSON array of "attempt:id"
// strings.
func (b *backend) refArgs(refs []stores.Ref) []any {
	if b.cfg.Dialect == DialectPostgres {
		ids := make([]string, len(refs))
		attempts := make([]int64, len(refs))
		for i, r := range refs {
			ids[i], attempts[i] = r.ID, r.Attempt
		}
		return []any{pq.StringArray(ids), pq.Int64Array(attempts)}
	}
	buf := make([]byte, 0, 2+len(refs)*(36+24))
	buf = append(buf, '[')
	for i, r := range refs {
		if i > 0 {
			buf = append(buf, ',')
		}
		// Canonical UUIDs (the portable layer checked them) need no escaping.
		buf = append(buf, '"')
		buf = strconv.AppendInt(buf, r.Attempt, 10)
		buf = append(buf, ':')
		buf = append(buf, r.ID...)
		buf = append(buf, '"')
	}
	buf = append(buf, ']')
	return []any{string(buf)}
}

// refSet runs a query returning (id, attempt) rows and collects them.
func (b *backend) refSet(ctx context.Context, ex execer, query string, size int, args ...any) (map[stores.Ref]bool, error) {
	rows, err := ex.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, b.wrap(ctx, err)
	}
	defer rows.Close()
	set := make(map[stores.Ref]bool, size)
	for rows.Next() {
		var r stores.Ref
		if err := rows.Scan(&r.ID, &r.Attempt); err != nil {
			return nil, b.wrap(ctx, err)
		}
		set[r] = true
	}
	return set, b.wrap(ctx, rows.Err())
}

// idSet runs a query returning one id column and collects the ids.
func (b *backend) idSet(ctx context.Context, ex execer, query string, args ...any) (map[string]bool, error) {
	rows, err := ex.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, b.wrap(ctx, err)
	}
	defer rows.Close()
	set := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, b.wrap(ctx, err)
		}
		set[id] = true
	}
	return set, b.wrap(ctx, rows.Err())
}

// Retry sends an in-flight attempt with retries left back to pending (J7).
// The backoff depends on the stored retry count, so the job is read first
// and the write is conditional on what was read.
func (s *jobStore) Retry(ctx context.Context, ref stores.Ref, errMsg string, now time.Time) (*stores.Job, bool, error) {
	j, err := s.b.getJob(ctx, s.b.rdb, ref.ID)
	if err != nil {
		return nil, false, err
	}
	if j.Attempt != ref.Attempt || !j.Status.InFlight() {
		return nil, false, fmt.Errorf("job %s: not in flight at attempt %d: %w", ref.ID, ref.Attempt, stores.ErrConflict)
	}
	if j.RetryCount >= j.MaxRetries {
		return j, false, nil
	}
	at := now.Add(j.RetryPolicy.Backoff(j.RetryCount + 1))
	out, err := scanJob(s.b.db.QueryRowContext(ctx, retryJob, ref.ID, ref.Attempt, j.RetryCount, at, errMsg))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, s.b.missingOrConflict(ctx, s.b.rdb, ref.ID, "changed while retrying attempt "+strconv.FormatInt(ref.Attempt, 10))
	}
	if err != nil {
		return nil, false, s.b.wrap(ctx, err)
	}
	return out, true, nil
}

// Cancel moves a non-terminal job to cancelled.
func (s *jobStore) Cancel(ctx context.Context, id string, now time.Time) error {
	res, err := s.b.db.ExecContext(ctx, cancelJob, id, now)
	if err != nil {
		return s.b.wrap(ctx, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return s.b.wrap(ctx, err)
	} else if n == 0 {
		return s.b.missingOrConflict(ctx, s.b.rdb, id, "already terminal")
	}
	return nil
}

// MoveToDeadLetter deletes the attempt from the live set and stores its dead
// letter in one transaction (J7).
func (s *jobStore) MoveToDeadLetter(ctx context.Context, ref stores.Ref, errMsg string, now time.Time) (*stores.DeadLetter, error) {
	var dl *stores.DeadLetter
	err := s.b.inTx(ctx, func(tx *sql.Tx) error {
		j, err := scanJob(tx.QueryRowContext(ctx, deleteJobAttempt, ref.ID, ref.Attempt))
		if errors.Is(err, sql.ErrNoRows) {
			return s.b.missingOrConflict(ctx, tx, ref.ID, "not at attempt "+strconv.FormatInt(ref.Attempt, 10))
		}
		if err != nil {
			return err
		}
		if errMsg == "" {
			errMsg = j.LastError
		}
		dl = &stores.DeadLetter{ID: stores.NewID(), Job: *j, LastError: errMsg, TotalAttempts: int(j.Attempt), FailedAt: now}
		return insertDeadLetter(ctx, tx, dl)
	})
	if err != nil {
		return nil, err
	}
	return dl, nil
}

// ClaimForFollower sets the follower of an unowned job (J6).
func (s *jobStore) ClaimForFollower(ctx context.Context, jobID, nodeID string) error {
	res, err := s.b.db.ExecContext(ctx, claimJobForFollower, jobID, nodeID)
	if err != nil {
		return s.b.wrap(ctx, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return s.b.wrap(ctx, err)
	} else if n == 0 {
		return s.b.missingOrConflict(ctx, s.b.rdb, jobID, "owned by another follower")
	}
	return nil
}

// ByFollower returns the jobs a follower owns (J6).
func (s *jobStore) ByFollower(ctx context.Context, nodeID string, limit int) ([]*stores.Job, error) {
	return s.b.queryJobs(ctx, s.b.rdb, selectJobsByFollower, nodeID, limit)
}

// CountByFollower counts the jobs a follower owns (J6).
func (s *jobStore) CountByFollower(ctx context.Context, nodeID string) (int, error) {
	var n int
	err := s.b.rdb.QueryRowContext(ctx, countJobsByFollower, nodeID).Scan(&n)
	return n, s.b.wrap(ctx, err)
}

// ReleaseFollower clears the follower of every job a node owns (J6).
func (s *jobStore) ReleaseFollower(ctx context.Context, nodeID string) (int, error) {
	var n int
	err := retryDeadlock(func() error {
		var err error
		n, err = s.b.execCount(ctx, s.b.db, releaseFollowerJobs, nodeID)
		return err
	})
	return n, err
}

// execCount runs a statement and returns the rows it changed.
func (b *backend) execCount(ctx context.Context, ex execer, query string, args ...any) (int, error) {
	res, err := ex.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, b.wrap(ctx, err)
	}
	n, err := res.RowsAffected()
	return int(n), b.wrap(ctx, err)
}

// Recover returns expired in-flight jobs to the queue or times them out
// (J8). Candidates are read and then each is written conditionally on the
// status, attempt and retry count read, in one transaction, so a completion
// that won the race is never overridden.
func (s *jobStore) Recover(ctx context.Context, p stores.RecoverParams) (stores.RecoverResult, error) {
	var cutoff any
	if p.DispatchLease > 0 {
		cutoff = p.Now.Add(-p.DispatchLease)
	}
	var res stores.RecoverResult
	err := retryDeadlock(func() error {
		return s.b.inTx(ctx, func(tx *sql.Tx) error {
			res = stores.RecoverResult{}
			jobs, err := s.b.queryJobs(ctx, tx, s.b.q.selectExpiredJobs, p.Now, cutoff, s.b.listArg(p.DeadWorkers), p.Limit)
			if err != nil {
				return err
			}
			for _, j := range jobs {
				var n int
				switch {
				case j.Status == stores.StatusDispatched:
					if n, err = s.b.execCount(ctx, tx, requeueDispatchedJob, j.ID, j.Attempt); err == nil && n == 1 {
						res.Requeued = append(res.Requeued, j.ID)
					}
				case j.RetryCount < j.MaxRetries:
					reason := "worker lost"
					if j.Timeout > 0 && !j.StartedAt.IsZero() && !j.StartedAt.Add(j.Timeout).After(p.Now) {
						reason = "timed out"
					}
					at := p.Now.Add(j.RetryPolicy.Backoff(j.RetryCount + 1))
					var rows *sql.Rows
					if rows, err = tx.QueryContext(ctx, retryJob, j.ID, j.Attempt, j.RetryCount, at, reason); err == nil {
						if rows.Next() {
							res.Requeued = append(res.Requeued, j.ID)
						}
						err = rows.Close()
					}
				default:
					if n, err = s.b.execCount(ctx, tx, timeOutRunningJob, j.ID, j.Attempt, p.Now); err == nil && n == 1 {
						res.TimedOut = append(res.TimedOut, j.ID)
					}
				}
				if err != nil {
					return err
				}
			}
			return nil
		})
	})
	return res, err
}

// Uncleaned returns terminal jobs whose channels are not cleaned (J9).
func (s *jobStore) Uncleaned(ctx context.Context, limit int) ([]*stores.Job, error) {
	return s.b.queryJobs(ctx, s.b.rdb, selectUncleanedJobs, limit)
}

// MarkCleaned flags the jobs' channels as cleaned (J9).
func (s *jobStore) MarkCleaned(ctx context.Context, ids []string) error {
	return retryDeadlock(func() error {
		_, err := s.b.db.ExecContext(ctx, s.b.q.markJobsCleaned, s.b.listArg(ids))
		return s.b.wrap(ctx, err)
	})
}

// Purge deletes up to limit terminal jobs finished before the cut-off with
// their history and logs (J9): one statement on PostgreSQL, one
// transaction on SQLite.
func (s *jobStore) Purge(ctx context.Context, before time.Time, limit int) (int, error) {
	if s.b.cfg.Dialect == DialectPostgres {
		return s.b.execCount(ctx, s.b.db, s.b.q.purgeJobs, before, limit)
	}
	var n int
	err := s.b.inTx(ctx, func(tx *sql.Tx) error {
		set, err := s.b.idSet(ctx, tx, s.b.q.selectPurgeableJobIDs, before, limit)
		if err != nil || len(set) == 0 {
			return err
		}
		ids := make([]string, 0, len(set))
		for id := range set {
			ids = append(ids, id)
		}
		list := s.b.listArg(ids)
		for _, q := range []string{s.b.q.deleteHistoryOfJobs, s.b.q.deleteLogsOfJobs} {
			if _, err := tx.ExecContext(ctx, q, list); err != nil {
				return err
			}
		}
		n, err = s.b.execCount(ctx, tx, s.b.q.deleteJobsByID, list)
		return err
	})
	return n, err
}

// Query filters and pages jobs in (created_at, id) order with a keyset
// cursor (J10).
func (s *jobStore) Query(ctx context.Context, q stores.JobQuery) (stores.JobPage, error) {
	query, args, err := s.pageQuery(q)
	if err != nil {
		return stores.JobPage{}, err
	}
	jobs, err := s.b.queryJobs(ctx, s.b.rdb, query, args...)
	if err != nil {
		return stores.JobPage{}, err
	}
	page := stores.JobPage{Jobs: jobs}
	if len(jobs) > q.Limit {
		page.Jobs = jobs[:q.Limit]
		last := page.Jobs[q.Limit-1]
		page.Next = stores.Cursor{Time: last.CreatedAt, ID: last.ID}.Encode()
	}
	return page, nil
}

// pageQuery builds Query's statement: the filters, the cursor and one row
// more than the limit (to know whether a next page exists).
func (s *jobStore) pageQuery(q stores.JobQuery) (string, []any, error) {
	var (
		where []string
		args  []any
	)
	arg := func(v any) int { args = append(args, v); return len(args) }
	list := func(column string, vals []string) {
		if len(vals) > 0 {
			where = append(where, s.b.q.inList(column, arg(s.b.listArg(vals))))
		}
	}
	statuses := make([]string, len(q.Statuses))
	for i, st := range q.Statuses {
		statuses[i] = string(st)
	}
	list("status", statuses)
	list("queue", q.Queues)
	list("type", q.Types)
	if !q.CreatedAfter.IsZero() {
		where = append(where, "created_at >= $"+strconv.Itoa(arg(q.CreatedAfter)))
	}
	if !q.CreatedBefore.IsZero() {
		where = append(where, "created_at < $"+strconv.Itoa(arg(q.CreatedBefore)))
	}
	if q.Cursor != "" {
		c, err := stores.DecodeCursor(q.Cursor)
		if err != nil {
			return "", nil, err
		}
		// "created_at >= t" first: it is what both planners turn into the
		// start of a walk of jobs_query. The bare OR form read and sorted
		// every row after the cursor on each page, so paging through a
		// million jobs took minutes on PostgreSQL (the soak's final check).
		t, id := arg(c.Time), arg(c.ID)
		where = append(where, fmt.Sprintf("created_at >= $%d AND (created_at > $%d OR id > $%d)", t, t, id))
	}
	query := "SELECT " + jobColumns + " FROM jobs"
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += " ORDER BY created_at, id LIMIT $" + strconv.Itoa(arg(q.Limit+1))
	return query, args, nil
}
