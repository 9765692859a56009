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
package ent
