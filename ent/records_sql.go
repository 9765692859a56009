package ent

// The SQL of the log, history and dead letter stores (L1, D1, J7).

const (
	// Logs: seq is the autoincrement key that gives the written order.
	insertLogEntries = `INSERT INTO log_entries (entry_id, job_id, timestamp, level, message, exception) VALUES `
	selectLogPage    = `SELECT seq, entry_id, job_id, timestamp, level, message, exception FROM log_entries
WHERE job_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`
	purgeLogEntries = `DELETE FROM log_entries WHERE seq IN (
	SELECT seq FROM log_entries WHERE timestamp < $1 ORDER BY timestamp, seq LIMIT $2)`

	// History rows: insertHistoryRows is followed by multiRowInsert's
	// placeholders (SQLite); insertHistoryUnnest takes one array per column,
	// times as Unix microseconds with 0 for none (PostgreSQL).
	insertHistoryRows = `INSERT INTO job_history (id, job_id, attempt, worker_id, started_at, completed_at, status, error, duration_ms) VALUES `

	// History purge: the rows are picked by completed_at.
	purgeHistory = `DELETE FROM job_history WHERE id IN (
	SELECT id FROM job_history WHERE completed_at < $1 ORDER BY completed_at, id LIMIT $2)`

	// Dead letters.
	deadLetterColumns   = `id, job_id, type, queue, args, last_error, total_attempts, failed_at, job`
	insertDeadLetterSQL = `INSERT INTO dead_letters (` + deadLetterColumns + `)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`
	selectDeadLetter     = `SELECT ` + deadLetterColumns + ` FROM dead_letters WHERE id = $1`
	selectDeadLetterPage = `SELECT ` + deadLetterColumns + ` FROM dead_letters
ORDER BY failed_at DESC, id DESC LIMIT $1`
	// failed_at <= $2 first, as in the jobs' Query: the start of a walk of
	// dead_letters_by_failed_at instead of a sort of every older row.
	selectDeadLetterPageAfter = `SELECT ` + deadLetterColumns + ` FROM dead_letters
WHERE failed_at <= $2 AND (failed_at < $2 OR id < $3)
ORDER BY failed_at DESC, id DESC LIMIT $1`
	deleteDeadLetter          = `DELETE FROM dead_letters WHERE id = $1`
	deleteDeadLetterReturning = `DELETE FROM dead_letters WHERE id = $1 RETURNING ` + deadLetterColumns
)

// logEntryColumnCount and historyColumnCount are the numbers of columns
// insertLogEntries and insertHistoryRows name.
const (
	logEntryColumnCount = 6
	historyColumnCount  = 9
)

// insertHistoryUnnest stores history rows on PostgreSQL (see
// insertHistoryRows).
var insertHistoryUnnest = `INSERT INTO job_history (id, job_id, attempt, worker_id, started_at, completed_at, status, error, duration_ms)
SELECT h.id, h.job_id, h.attempt, h.worker_id,
	` + pgMicros("h.started") + `,
	` + pgMicros("h.completed") + `,
	h.status, h.error, h.duration_ms
FROM unnest($1::uuid[], $2::uuid[], $3::bigint[], $4::text[], $5::bigint[], $6::bigint[], $7::text[], $8::text[], $9::bigint[])
	AS h(id, job_id, attempt, worker_id, started, completed, status, error, duration_ms)`
