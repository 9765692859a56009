// Command migrategen writes a new versioned migration (Atlas migration
// directory format) for each dialect from the difference between the ent
// schema and the migrations already in ent/migrations/<dialect>. It replays
// the directory on a scratch database: an in-memory SQLite database, and a
// fresh PostgreSQL database created on the server of
// ORCHESTRIX_TEST_POSTGRES_DSN (default postgres://postgres@127.0.0.1:5432/test?sslmode=disable)
// and dropped afterwards.
//
// Run it from the ent module after changing ent/schema and regenerating the
// client:
//
//	go run ./internal/cmd/migrategen -name add_something
//
// It writes nothing when the schema and the directory already agree.
// TestMigrationsMatchSchema fails while they disagree.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"

	"github.com/orchestrix/persistence/ent/internal/migrationdiff"
)

func main() {
	name := flag.String("name", "", "name of the new migration, e.g. add_dispatch_indexes (required)")
	dir := flag.String("dir", "migrations", "migration root holding one directory per dialect")
	only := flag.String("dialect", "", "generate for one dialect only (postgres or sqlite)")
	flag.Parse()
	if *name == "" {
		flag.Usage()
		os.Exit(2)
	}
	ctx := context.Background()
	for _, d := range []string{"sqlite", "postgres"} {
		if *only != "" && *only != d {
			continue
		}
		wrote, err := migrationdiff.Generate(ctx, d, *dir+"/"+d, *name)
		if err != nil {
			log.Fatalf("migrategen %s: %v", d, err)
		}
		fmt.Printf("%s: %s\n", d, map[bool]string{true: "new migration written", false: "no changes"}[wrote])
	}
}
