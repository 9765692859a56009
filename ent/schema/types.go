// Package schema is the ent schema of the Orchestrix relational store: the
// single source of truth for the generated client (internal/entgen) and the
// versioned migrations (migrations/<dialect>). Column types are chosen per
// dialect so that every value round-trips exactly:
//
//   - ids of jobs, schedules, history, logs and dead letters are uuid on
//     PostgreSQL and text on SQLite (canonical lowercase, so text order equals
//     uuid byte order);
//   - times are timestamptz on PostgreSQL (microseconds) and "datetime"
//     columns holding int64 Unix microseconds on SQLite (the driver is opened
//     with _time_integer_format=unix_micro and _inttotime=1), which keeps
//     microseconds exactly and sorts numerically; the zero time is NULL;
//   - arguments and metadata are bytea/blob, stored byte for byte (jsonb
//     would rewrite the JSON);
//   - durations are int64 milliseconds;
//   - optional names are NOT NULL with an empty default, except where a NULL carries
//     meaning for an index (jobs.unique_key, jobs.schedule_id).
package schema

import (
	"entgo.io/ent/dialect"
)

// Per-dialect column types.
var (
	uuidType = map[string]string{dialect.Postgres: "uuid", dialect.SQLite: "text"}
	timeType = map[string]string{dialect.Postgres: "timestamptz", dialect.SQLite: "datetime"}
	textType = map[string]string{dialect.Postgres: "text", dialect.SQLite: "text"}
	blobType = map[string]string{dialect.Postgres: "bytea", dialect.SQLite: "blob"}
	jsonType = map[string]string{dialect.Postgres: "jsonb", dialect.SQLite: "text"}
)

// Partial index predicates, written in SQL both dialects understand and in
// a form whose PostgreSQL deparsing Atlas compares stably (no IN lists), so
// the committed migrations stay in sync with the schema.
const (
	pendingOnly   = "status = 'pending'"
	scheduledOnly = "status = 'pending' AND scheduled_at IS NOT NULL"
	inFlightOnly  = "status = 'dispatched' OR status = 'running'"
	ownedOnly     = "follower_node_id <> ''"
	// Terminal-only indexes stay out of every dispatch/running update: a
	// row that no index predicate covers costs no index write.
	// The queries repeat these predicates word for word: SQLite uses a
	// partial index only for a query whose WHERE holds each of its terms.
	terminalOnly  = "status = 'completed' OR status = 'failed' OR status = 'timed_out' OR status = 'cancelled'"
	uncleanedOnly = "channels_cleaned = false AND (" + terminalOnly + ")"
	firedOnly     = "schedule_id IS NOT NULL"
	// liveUniqueKey: a unique key binds only non-terminal jobs (J1).
	liveUniqueKey = "unique_key IS NOT NULL AND (status = 'pending' OR status = 'dispatched' OR status = 'running')"
)
