package ent

import "fmt"

// The SQL of the schedule stores (S1–S3). Cron and interval schedules live
// in two tables with the same shared columns; each kind's statements are
// made once, at start-up, from these templates and the kind's fixed table
// and column names (never from caller text).

// scheduleSQL is the statement set of one schedule kind.
type scheduleSQL struct {
	selectByID   string
	selectByName string // PostgreSQL adds FOR UPDATE in Register
	selectPage   string
	selectDue    string
	insert       string
	update       string
	setEnabled   string
	remove       string
	advance      string
	countID      string
}

const scheduleSharedColumns = `id, name, job_type, queue, args, next_run, last_run, enabled, created_at, misfire, misfire_limit`

// newScheduleSQL builds the statements of a table whose kind adds
// extraColumns; insertExtra and updateExtra bind them from $12 (insert) and
// $10 (update).
func newScheduleSQL(table, extraColumns, insertExtra, updateExtra string) scheduleSQL {
	cols := scheduleSharedColumns + ", " + extraColumns
	return scheduleSQL{
		selectByID:   fmt.Sprintf(`SELECT %s FROM %s WHERE id = $1`, cols, table),
		selectByName: fmt.Sprintf(`SELECT %s FROM %s WHERE name = $1`, cols, table),
		selectPage:   fmt.Sprintf(`SELECT %s FROM %s WHERE name > $1 ORDER BY name LIMIT $2`, cols, table),
		selectDue: fmt.Sprintf(`SELECT %s FROM %s WHERE enabled = true AND next_run <= $1
ORDER BY next_run, id LIMIT $2`, cols, table),
		insert: fmt.Sprintf(`INSERT INTO %s (%s) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, %s)
RETURNING %s`, table, cols, insertExtra, cols),
		update: fmt.Sprintf(`UPDATE %s SET job_type = $2, queue = $3, args = $4, next_run = $5, last_run = $6,
	enabled = $7, misfire = $8, misfire_limit = $9, %s
WHERE id = $1 RETURNING %s`, table, updateExtra, cols),
		setEnabled: fmt.Sprintf(`UPDATE %s SET enabled = $2 WHERE id = $1`, table),
		remove:     fmt.Sprintf(`DELETE FROM %s WHERE id = $1`, table),
		// advance is S3's compare-and-set on the next run the caller saw:
		// $1 id, $2 seen, $3 next, $4 last run.
		advance: fmt.Sprintf(`UPDATE %s SET next_run = $3, last_run = $4 WHERE id = $1 AND next_run = $2`, table),
		countID: fmt.Sprintf(`SELECT count(*) FROM %s WHERE id = $1`, table),
	}
}

var (
	cronSQL     = newScheduleSQL("cron_schedules", "expression, time_zone", "$12, $13", "expression = $10, time_zone = $11")
	intervalSQL = newScheduleSQL("interval_schedules", "interval_ms", "$12", "interval_ms = $10")
)
