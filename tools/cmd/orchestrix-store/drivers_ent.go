package main

// The ent driver: PostgreSQL and SQLite.
import _ "github.com/orchestrix/persistence/ent"
