package ent

import (
	"strconv"
	"strings"
)

// The SQL of the job store. Statements both dialects accept are constants
// here ($n placeholders work on PostgreSQL and modernc SQLite alike); the
// ones that differ are fields of queries, one value per dialect. No
// statement is built from caller text (E3): the few built at run time
// (batch inserts, Query filters) only repeat placeholders.

// jobColumns is the column list every job query reads, in scanJob order.
const jobColumns = `id, type, queue, args, status, priority, correlation_id, unique_key, ` +
	`created_at, scheduled_at, dispatched_at, started_at, completed_at, ` +
	`timeout_ms, retry_count, max_retries, retry_initial_delay_ms, retry_multiplier, retry_max_delay_ms, ` +
	`last_error, worker_id, follower_node_id, channels_cleaned, schedule_id, schedule_type, schedule_tick, attempt`

// jobColumnCount is the number of columns in jobColumns.
const jobColumnCount = 27

// terminalStatus is word for word the predicate of the partial indexes
// jobs_purge and jobs_uncleaned (ent/schema): SQLite uses a partial index
// only for a query whose WHERE holds each term of the index's.
const terminalStatus = `status = 'completed' OR status = 'failed' OR status = 'timed_out' OR status = 'cancelled'`

// enqueueChunk bounds the rows of one multi-row INSERT, under both dialects'
// parameter limits (PostgreSQL 65535, SQLite 32766).
const enqueueChunk = 1000

const (
	selectJob  = `SELECT ` + jobColumns + ` FROM jobs WHERE id = $1`
	countJobID = `SELECT count(*) FROM jobs WHERE id = $1`

	// selectPendingJobs is J3's pending query, in dispatch order.
	selectPendingJobs = `SELECT ` + jobColumns + ` FROM jobs
WHERE status = 'pending' AND (scheduled_at IS NULL OR scheduled_at <= $1)
ORDER BY priority DESC, created_at, id LIMIT $2`

	// selectDueScheduledJobs is J3's due-scheduled query, oldest first.
	selectDueScheduledJobs = `SELECT ` + jobColumns + ` FROM jobs
WHERE status = 'pending' AND scheduled_at IS NOT NULL AND scheduled_at <= $1
ORDER BY scheduled_at, id LIMIT $2`

	// markJobRunning: $1 id, $2 attempt, $3 now, $4 worker id or ''.
	markJobRunning = `UPDATE jobs SET status = 'running', started_at = $3,
	worker_id = CASE WHEN $4 = '' THEN worker_id ELSE $4 END
WHERE id = $1 AND attempt = $2 AND status = 'dispatched'
RETURNING ` + jobColumns

	// finishJob moves an in-flight attempt to a terminal status: $1 id,
	// $2 attempt, $3 now, $4 status, $5 last error or NULL to keep it.
	finishJob = `UPDATE jobs SET status = $4, completed_at = $3, last_error = COALESCE($5, last_error)
WHERE id = $1 AND attempt = $2 AND status IN ('dispatched', 'running')`

	// retryJob sends an in-flight attempt back to pending, conditional on
	// the retry count the caller read: $1 id, $2 attempt, $3 seen retry
	// count, $4 scheduled at, $5 last error.
	retryJob = `UPDATE jobs SET status = 'pending', retry_count = retry_count + 1, scheduled_at = $4,
	last_error = $5, worker_id = ''
WHERE id = $1 AND attempt = $2 AND status IN ('dispatched', 'running') AND retry_count = $3 AND retry_count < max_retries
RETURNING ` + jobColumns

	// requeueDispatchedJob returns a dispatched attempt to pending (J8).
	requeueDispatchedJob = `UPDATE jobs SET status = 'pending', worker_id = ''
WHERE id = $1 AND attempt = $2 AND status = 'dispatched'`

	// timeOutRunningJob ends a running attempt as timed_out (J8).
	timeOutRunningJob = `UPDATE jobs SET status = 'timed_out', completed_at = $3
WHERE id = $1 AND attempt = $2 AND status = 'running'`

	cancelJob = `UPDATE jobs SET status = 'cancelled', completed_at = $2
WHERE id = $1 AND status NOT IN ('completed', 'failed', 'timed_out', 'cancelled')`

	// deleteJobAttempt takes a job out of the live set for the dead
	// letters, returning it as stored.
	deleteJobAttempt = `DELETE FROM jobs WHERE id = $1 AND attempt = $2 RETURNING ` + jobColumns

	claimJobForFollower = `UPDATE jobs SET follower_node_id = $2
WHERE id = $1 AND (follower_node_id = '' OR follower_node_id = $2)`
	selectJobsByFollower = `SELECT ` + jobColumns + ` FROM jobs WHERE follower_node_id = $1
ORDER BY created_at, id LIMIT $2`
	countJobsByFollower = `SELECT count(*) FROM jobs WHERE follower_node_id = $1`
	releaseFollowerJobs = `UPDATE jobs SET follower_node_id = '' WHERE follower_node_id = $1`

	selectUncleanedJobs = `SELECT ` + jobColumns + ` FROM jobs
WHERE channels_cleaned = false AND (` + terminalStatus + `)
ORDER BY completed_at, id LIMIT $1`
)

// queries holds the statements whose SQL differs between the dialects.
type queries struct {
	// dispatchDue / dispatchDueQueues (J4). PostgreSQL: $1 now, $2 limit,
	// $3 worker id or '', $4 the new status (dispatched, or running for
	// DispatchParams.Start), $5 the new StartedAt or NULL to keep it, $6
	// queues; one statement that claims and returns the jobs. SQLite: $1
	// now, $2 limit, $3 queues; the read of the due jobs (jobColumns, then
	// rowid) in dispatch order, which claimDueRows claims in the same
	// transaction.
	dispatchDue       string
	dispatchDueQueues string
	// dispatchDueQueue is dispatchDueQueues for one queue (the last
	// parameter): an equality on the index's leading column lets
	// jobs_dispatch_queue hand rows out in dispatch order and stop at the
	// limit, where a list of queues makes the planner read and sort every
	// pending job of them.
	dispatchDueQueue string
	// claimDueRows (SQLite): $1 now, $2 worker id or '', $3 JSON array of
	// the rowids dispatchDue* read, $4 the new status, $5 the new StartedAt
	// or NULL to keep it; the change RETURNING would report is applied to
	// the jobs read in Go (claimedJob).
	claimDueRows string
	// completeJobs (J5): $1 now, $2 ids, $3 attempts (PostgreSQL) or $2
	// JSON ["attempt:id", …] (SQLite); returns (id, attempt) of each
	// completed job.
	completeJobs string
	// markJobsRunning (J5): $1 now, $2 worker id or '', then the refs as
	// for completeJobs from $3; returns (id, attempt) of each job it moved.
	markJobsRunning string
	// completeJobsAll and markJobsRunningAll (SQLite) are completeJobs and
	// markJobsRunning without RETURNING, for the common case where every
	// ref moves: the row count says so, and reading back a row per job
	// costs about a fifth of the statement.
	completeJobsAll    string
	markJobsRunningAll string
	// completeJobsByRow and markJobsRunningByRow (PostgreSQL) are
	// completeJobs and markJobsRunning with a plan that cannot go wrong:
	// one primary-key probe per ref, then the change of the rows found by
	// their ctid (pgByRow).
	completeJobsByRow    string
	markJobsRunningByRow string
	// existingJobIDs: $1 ids; returns those that exist.
	existingJobIDs string
	// markJobsCleaned (J9): $1 ids.
	markJobsCleaned string
	// selectExpiredJobs (J8): $1 now, $2 dispatch cut-off or NULL, $3
	// dead workers, $4 limit.
	selectExpiredJobs string
	// purgeJobs (J9), PostgreSQL: $1 before, $2 limit, one statement.
	purgeJobs string
	// selectPurgeableJobIDs, deleteHistoryOfJobs, deleteLogsOfJobs,
	// deleteJobsByID: the SQLite purge, run in one transaction.
	selectPurgeableJobIDs string
	deleteHistoryOfJobs   string
	deleteLogsOfJobs      string
	deleteJobsByID        string
	// inList returns the membership test of column against list
	// parameter n.
	inList func(column string, n int) string
	// Worker, node and lease statements, see members_sql.go.
	members memberQueries
}

var postgresQueries = queries{
	dispatchDue:       pgDispatchDue(""),
	dispatchDueQueues: pgDispatchDue(" AND queue = ANY($6::text[])"),
	dispatchDueQueue:  pgDispatchDue(" AND queue = $6"),
	completeJobs: `UPDATE jobs SET status = 'completed', completed_at = $1
FROM unnest($2::uuid[], $3::bigint[]) AS ref(ref_id, ref_attempt)
WHERE jobs.id = ref.ref_id AND jobs.attempt = ref.ref_attempt AND jobs.status IN ('dispatched', 'running')
RETURNING jobs.id, jobs.attempt`,
	markJobsRunning: `UPDATE jobs SET status = 'running', started_at = $1,
	worker_id = CASE WHEN $2 = '' THEN worker_id ELSE $2 END
FROM unnest($3::uuid[], $4::bigint[]) AS ref(ref_id, ref_attempt)
WHERE jobs.id = ref.ref_id AND jobs.attempt = ref.ref_attempt AND jobs.status = 'dispatched'
RETURNING jobs.id, jobs.attempt`,
	completeJobsByRow: pgByRow(pgCompleteSet, pgInFlight, 2),
	markJobsRunningByRow: pgByRow(`status = 'running', started_at = $1, worker_id = CASE WHEN $2 = '' THEN worker_id ELSE $2 END`,
		`= 'dispatched'`, 3),
	existingJobIDs:  `SELECT id FROM jobs WHERE id = ANY($1::uuid[])`,
	markJobsCleaned: `UPDATE jobs SET channels_cleaned = true WHERE id = ANY($1::uuid[])`,
	selectExpiredJobs: `SELECT ` + jobColumns + ` FROM jobs
WHERE (status = 'dispatched' AND (dispatched_at <= $2 OR worker_id = ANY($3::text[])))
   OR (status = 'running' AND ((timeout_ms > 0 AND started_at + timeout_ms * interval '1 millisecond' <= $1)
                               OR worker_id = ANY($3::text[])))
ORDER BY COALESCE(started_at, dispatched_at), id LIMIT $4`,
	purgeJobs: `WITH victims AS (
	SELECT id FROM jobs
	WHERE (` + terminalStatus + `) AND completed_at < $1
	ORDER BY completed_at LIMIT $2 FOR UPDATE SKIP LOCKED
), history AS (
	DELETE FROM job_history WHERE job_id IN (SELECT id FROM victims)
), logs AS (
	DELETE FROM log_entries WHERE job_id IN (SELECT id FROM victims)
)
DELETE FROM jobs WHERE id IN (SELECT id FROM victims)`,
	inList: func(column string, n int) string {
		return column + " = ANY($" + strconv.Itoa(n) + ")"
	},
	members: postgresMemberQueries,
}

// pgDispatchPlan runs before the dispatch of one queue or of all, in its
// transaction, so that the subquery walks the dispatch index in order and
// stops at the limit. The planner's estimate of a queue's pending rows lags
// a busy queue (rows=1 to 3 against tens of thousands in auto_explain of a
// burn-down), and from such an estimate it sometimes picked a bitmap scan
// of every pending row of the queue and a sort: 100-280 ms for 1,000 jobs,
// where the ordered walk took 5-50. It costs two round trips (BEGIN, this)
// more than the statement alone.
const pgDispatchPlan = `SET LOCAL enable_bitmapscan = off`

// pgDispatchDue is the PostgreSQL dispatch of the due jobs that also meet
// queueFilter, in dispatch order. The subquery walks the dispatch index in
// that order and locks rows FOR UPDATE SKIP LOCKED until it has the limit;
// the UPDATE then finds each locked row by its ctid, a TID scan, where a
// join on id read the whole table into a hash (EXPLAIN ANALYZE at 100,000
// rows: 23 of the statement's 33 ms; by ctid 2 ms). A row updated and
// committed by another transaction after this statement's snapshot is
// skipped by the TID scan, not claimed twice: it stays as that transaction
// left it.
func pgDispatchDue(queueFilter string) string {
	return `UPDATE jobs SET status = $4, dispatched_at = $1, started_at = COALESCE($5, started_at), attempt = attempt + 1,
	worker_id = CASE WHEN $3 = '' THEN worker_id ELSE $3 END
FROM (SELECT ctid AS due_ctid FROM jobs
	WHERE status = 'pending' AND (scheduled_at IS NULL OR scheduled_at <= $1)` + queueFilter + `
	ORDER BY priority DESC, created_at, id LIMIT $2
	FOR UPDATE SKIP LOCKED) AS due
WHERE jobs.ctid = due.due_ctid
RETURNING ` + jobColumns
}

// The SET and status test of PostgreSQL's completions.
const (
	pgCompleteSet = `status = 'completed', completed_at = $1`
	pgInFlight    = `IN ('dispatched', 'running')`
)

// pgByRow is a set-based transition of the jobs whose (id, attempt) are in
// parameters $refs and $refs+1 and whose status passes statusTest: set,
// returning (id, attempt) of each changed row. The lateral subquery makes
// one primary-key probe per ref ((status || ”) keeps it off
// jobs_in_flight), and the UPDATE takes the rows it found by ctid, a TID
// scan. The join of completeJobs leaves the plan to the statistics, which
// lag behind a busy queue: auto_explain of a burn-down showed it reading
// 95,542 entries of jobs_in_flight, most of them dead, into a bitmap for
// 1,000 refs, or the whole table when told not to use that index. A row
// another transaction changed after the snapshot fails the ctid test on
// recheck and is left unchanged, for completeJobs to decide.
func pgByRow(set, statusTest string, refs int) string {
	return pgByRowAll(set, statusTest, refs) + `
RETURNING id, attempt`
}

// pgByRowAll is pgByRow without RETURNING, for a caller that needs only
// the row count: CompleteRecorded's transaction goes on only when every
// ref moved.
func pgByRowAll(set, statusTest string, refs int) string {
	ids, attempts := "$"+strconv.Itoa(refs), "$"+strconv.Itoa(refs+1)
	return `UPDATE jobs SET ` + set + `
WHERE ctid = ANY(ARRAY(
	SELECT probe.ctid FROM unnest(` + ids + `::uuid[], ` + attempts + `::bigint[]) AS ref(ref_id, ref_attempt)
	CROSS JOIN LATERAL (SELECT ctid FROM jobs WHERE id = ref.ref_id AND attempt = ref.ref_attempt
		AND (status || '') ` + statusTest + ` OFFSET 0) AS probe))
	AND status ` + statusTest
}

// sqliteQueries. "UPDATE OR FAIL" appears only in statements the store runs
// inside a transaction it rolls back on any error, so no partial change is
// ever committed; it spares SQLite the statement journal (a copy of every
// page the statement changes) kept to undo an ABORT that cannot happen
// there: no transition sets a NOT NULL column to NULL or moves a unique key
// into conflict.
var sqliteQueries = queries{
	dispatchDue: `SELECT ` + jobColumns + `, rowid FROM jobs
WHERE status = 'pending' AND (scheduled_at IS NULL OR scheduled_at <= $1)
ORDER BY priority DESC, created_at, id LIMIT $2`,
	dispatchDueQueues: `SELECT ` + jobColumns + `, rowid FROM jobs
WHERE status = 'pending' AND (scheduled_at IS NULL OR scheduled_at <= $1)
  AND queue IN (SELECT value FROM json_each($3))
ORDER BY priority DESC, created_at, id LIMIT $2`,
	dispatchDueQueue: `SELECT ` + jobColumns + `, rowid FROM jobs
WHERE status = 'pending' AND (scheduled_at IS NULL OR scheduled_at <= $1) AND queue = $3
ORDER BY priority DESC, created_at, id LIMIT $2`,
	claimDueRows: `UPDATE OR FAIL jobs SET status = $4, dispatched_at = $1, started_at = COALESCE($5, started_at), attempt = attempt + 1,
	worker_id = CASE WHEN $2 = '' THEN worker_id ELSE $2 END
WHERE rowid IN (SELECT value FROM json_each($3)) AND status = 'pending'`,
	completeJobs:       `UPDATE jobs ` + sqliteCompleteJobs + ` RETURNING id, attempt`,
	completeJobsAll:    `UPDATE OR FAIL jobs ` + sqliteCompleteJobs,
	markJobsRunning:    `UPDATE jobs ` + sqliteMarkJobsRunning + ` RETURNING id, attempt`,
	markJobsRunningAll: `UPDATE OR FAIL jobs ` + sqliteMarkJobsRunning,
	existingJobIDs:     `SELECT id FROM jobs WHERE id IN (SELECT value FROM json_each($1))`,
	markJobsCleaned:    `UPDATE jobs SET channels_cleaned = true WHERE id IN (SELECT value FROM json_each($1))`,
	selectExpiredJobs: `SELECT ` + jobColumns + ` FROM jobs
WHERE (status = 'dispatched' AND (dispatched_at <= $2 OR worker_id IN (SELECT value FROM json_each($3))))
   OR (status = 'running' AND ((timeout_ms > 0 AND started_at + timeout_ms * 1000 <= $1)
                               OR worker_id IN (SELECT value FROM json_each($3))))
ORDER BY COALESCE(started_at, dispatched_at), id LIMIT $4`,
	selectPurgeableJobIDs: `SELECT id FROM jobs
WHERE (` + terminalStatus + `) AND completed_at < $1
ORDER BY completed_at LIMIT $2`,
	deleteHistoryOfJobs: `DELETE FROM job_history WHERE job_id IN (SELECT value FROM json_each($1))`,
	deleteLogsOfJobs:    `DELETE FROM log_entries WHERE job_id IN (SELECT value FROM json_each($1))`,
	deleteJobsByID:      `DELETE FROM jobs WHERE id IN (SELECT value FROM json_each($1))`,
	inList: func(column string, n int) string {
		return column + " IN (SELECT value FROM json_each($" + strconv.Itoa(n) + "))"
	},
	members: sqliteMemberQueries,
}

// The SET and WHERE of the SQLite set-based transitions, $1 now, refs in
// the last parameter as JSON ["attempt:id", …]: CAST takes the leading
// integer, and one flat array costs json_each a string per ref where
// [[id, attempt], …] cost a JSON parse of every pair.
const (
	sqliteCompleteJobs = `SET status = 'completed', completed_at = $1
FROM (SELECT substr(value, instr(value, ':') + 1) AS ref_id, CAST(value AS INTEGER) AS ref_attempt
	FROM json_each($2)) AS ref
WHERE jobs.id = ref.ref_id AND jobs.attempt = ref.ref_attempt AND jobs.status IN ('dispatched', 'running')`
	// The unary + keeps the planner off jobs_in_flight: it would scan every
	// in-flight job per ref.
	sqliteMarkJobsRunning = `SET status = 'running', started_at = $1,
	worker_id = CASE WHEN $2 = '' THEN worker_id ELSE $2 END
FROM (SELECT substr(value, instr(value, ':') + 1) AS ref_id, CAST(value AS INTEGER) AS ref_attempt
	FROM json_each($3)) AS ref
WHERE jobs.id = ref.ref_id AND jobs.attempt = ref.ref_attempt AND +jobs.status = 'dispatched'`
)

// insertJobsUnnest (PostgreSQL) stores a batch of jobs with one parameter
// per column whatever the batch size (no 65,535-parameter limit, one short
// statement to parse): arrays in jobColumns order, times as Unix
// microseconds with 0 for none, ” for a NULL unique key or schedule id and
// an empty args for NULL args.
var insertJobsUnnest = `INSERT INTO jobs (` + jobColumns + `)
SELECT j.id, j.type, j.queue, NULLIF(j.args, ''::bytea), j.status, j.priority, j.correlation_id, NULLIF(j.unique_key, ''),
	` + pgMicros("j.created_at") + `, ` + pgMicros("j.scheduled_at") + `, ` + pgMicros("j.dispatched_at") + `,
	` + pgMicros("j.started_at") + `, ` + pgMicros("j.completed_at") + `,
	j.timeout_ms, j.retry_count, j.max_retries, j.retry_initial_delay_ms, j.retry_multiplier, j.retry_max_delay_ms,
	j.last_error, j.worker_id, j.follower_node_id, j.channels_cleaned, NULLIF(j.schedule_id, '')::uuid, j.schedule_type,
	` + pgMicros("j.schedule_tick") + `, j.attempt
FROM unnest($1::uuid[], $2::text[], $3::text[], $4::bytea[], $5::text[], $6::bigint[], $7::text[], $8::text[],
	$9::bigint[], $10::bigint[], $11::bigint[], $12::bigint[], $13::bigint[],
	$14::bigint[], $15::bigint[], $16::bigint[], $17::bigint[], $18::float8[], $19::bigint[],
	$20::text[], $21::text[], $22::text[], $23::bool[], $24::text[], $25::text[], $26::bigint[], $27::bigint[])
	AS j(` + jobColumns + `)`

// pgMicros is the PostgreSQL expression of the time whose Unix
// microseconds are in col, NULL for 0. Seconds and microseconds are added
// apart: one product of interval and float8 past 2^53 µs (year 2255) would
// lose the last microseconds.
func pgMicros(col string) string {
	return "CASE WHEN " + col + " = 0 THEN NULL ELSE timestamptz 'epoch' + (" + col + " / 1000000) * interval '1 second' + (" +
		col + " % 1000000) * interval '1 microsecond' END"
}

// insertJobsSQL returns the multi-row INSERT of n jobs.
func insertJobsSQL(dialectName string, n int) string {
	return multiRowInsert("INSERT INTO jobs ("+jobColumns+") VALUES ", dialectName, n, jobColumnCount)
}

// multiRowInsert returns prefix followed by n rows of cols placeholders:
// $1, $2, … on PostgreSQL, ? on SQLite, where numbered parameters cost a
// name lookup per parameter and make large statements quadratic to prepare.
func multiRowInsert(prefix, dialectName string, n, cols int) string {
	var sb strings.Builder
	sb.Grow(len(prefix) + n*cols*7)
	sb.WriteString(prefix)
	p := 1
	for i := 0; i < n; i++ {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteByte('(')
		for c := 0; c < cols; c++ {
			if c > 0 {
				sb.WriteByte(',')
			}
			if dialectName == DialectPostgres {
				sb.WriteByte('$')
				sb.WriteString(strconv.Itoa(p))
			} else {
				sb.WriteByte('?')
			}
			p++
		}
		sb.WriteByte(')')
	}
	return sb.String()
}
