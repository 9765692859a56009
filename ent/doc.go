// Package ent is the "ent" driver of Orchestrix persistence: one relational
// schema (entgo.io/ent, see schema/) on PostgreSQL through github.com/lib/pq
// and on SQLite through modernc.org/sqlite (pure Go, no cgo).
//
//	import _ "github.com/orchestrix/persistence/ent" // registers "ent"
//
//	s, err := stores.Open("ent", "postgres://app@db:5432/orchestrix?sslmode=disable")
//	s, err := stores.Open("ent", "sqlite:///var/lib/orchestrix/orchestrix.db")
//
// See ParseDSN for the accepted data source names and parameters. The schema
// is migrated on open from versioned migration files embedded in the binary
// (migrations/<dialect>), unless the DSN says migrate=false; the backend
// implements stores.Migrator for explicit migration.
//
// Changing the schema: edit schema/, run `go generate ./...` (regenerates
// internal/entgen, no database needed), then
// `go run ./internal/cmd/migrategen -name <change>` (writes the next
// versioned migration for both dialects, replayed on an in-memory SQLite
// database and a scratch PostgreSQL database). TestMigrationsMatchSchema*
// fail while the committed migrations and the schema disagree.
//
// Hot paths are hand-written SQL next to the store that runs them
// (*_sql.go): Dispatch is one UPDATE … RETURNING with FOR UPDATE SKIP LOCKED
// on PostgreSQL, and on SQLite an IMMEDIATE transaction that reads the due
// jobs and claims their rows by rowid; EnqueueMany and log Append are
// multi-row INSERTs (on SQLite EnqueueMany's are prepared once per
// connection); CompleteMany and MarkRunningMany are one UPDATE joined to the
// refs (unnest on PostgreSQL, json_each on SQLite, where it first runs
// without RETURNING and is kept when every ref moved); every conditional
// transition is one statement checked by rows affected.
//
// On a SQLite file every write goes through one connection (SQLite has one
// writer) and the write-ahead log is copied back into the database by
// PASSIVE checkpoints from the read pool after commits, not by the writer
// (checkpoint.go); the writer checkpoints only a log of 10,000 pages.
//
// Operating PostgreSQL: the jobs table is a queue, and every job is updated
// at least three times (dispatched, running, terminal), each a new row
// version. Keep autovacuum on (the server default): with it off, dead row
// versions pile up in the table and its indexes. A 1M-job cluster soak on a
// server with autovacuum off held 1.3M dead rows after 20 minutes and was
// working 63 jobs a second; with autovacuum on (and 32 workers instead of
// 8) it kept pace with its producer at 500 (docs/RELIABILITY.md, Soak).
package ent
