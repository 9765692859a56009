//go:build ignore

package main

// The ent driver: PostgreSQL and SQLite. Excluded (build tag ignore) until the ent
// module compiles; then the tag goes.
import _ "github.com/orchestrix/persistence/ent"
