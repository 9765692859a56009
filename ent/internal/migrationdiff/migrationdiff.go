// Package migrationdiff computes versioned migrations from the ent schema:
// it replays a migration directory on a scratch database and writes the
// statements that bring it to the schema as a new migration file. It is used
// by the migrategen command and by the test that checks the committed
// migrations match the schema; the driver itself never imports it.
package migrationdiff

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"

	atlasmigrate "ariga.io/atlas/sql/migrate"
	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"entgo.io/ent/dialect/sql/schema"
	_ "github.com/lib/pq"
	_ "modernc.org/sqlite"

	"github.com/orchestrix/persistence/ent/internal/entgen/migrate"
)

// DefaultPostgresDSN is the server used when ORCHESTRIX_TEST_POSTGRES_DSN is
// unset.
const DefaultPostgresDSN = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// PostgresDSN returns the scratch server's DSN.
func PostgresDSN() string {
	if v := os.Getenv("ORCHESTRIX_TEST_POSTGRES_DSN"); v != "" {
		return v
	}
	return DefaultPostgresDSN
}

// Generate writes a migration named name into dir (an Atlas migration
// directory for dialectName, "sqlite" or "postgres") holding what the schema
// adds to the migrations already there. It reports whether it wrote one.
func Generate(ctx context.Context, dialectName, dir, name string) (bool, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return false, err
	}
	before, err := countFiles(dir)
	if err != nil {
		return false, err
	}
	db, d, cleanup, err := scratch(ctx, dialectName)
	if err != nil {
		return false, err
	}
	defer cleanup()
	local, err := atlasmigrate.NewLocalDir(dir)
	if err != nil {
		return false, err
	}
	m, err := schema.NewMigrate(entsql.OpenDB(d, db),
		schema.WithDir(local),
		schema.WithMigrationMode(schema.ModeReplay),
		schema.WithDialect(d),
		schema.WithDropIndex(true),
		schema.WithDropColumn(true),
		schema.WithForeignKeys(false),
		// One file per version, in the Atlas migration directory format.
		schema.WithFormatter(atlasmigrate.DefaultFormatter),
	)
	if err != nil {
		return false, err
	}
	if err := m.NamedDiff(ctx, name, migrate.Tables...); err != nil {
		return false, err
	}
	after, err := countFiles(dir)
	if err != nil {
		return false, err
	}
	return after > before, nil
}

func countFiles(dir string) (int, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	return len(entries), nil
}

// scratch opens an empty database of the dialect and returns a cleanup that
// closes and, for PostgreSQL, drops it.
func scratch(ctx context.Context, dialectName string) (*sql.DB, string, func(), error) {
	switch dialectName {
	case "sqlite":
		db, err := sql.Open("sqlite", "file::memory:?_pragma=foreign_keys(1)")
		if err != nil {
			return nil, "", nil, err
		}
		db.SetMaxOpenConns(1) // one connection: one in-memory database
		return db, dialect.SQLite, func() { db.Close() }, nil
	case "postgres":
		server, err := sql.Open("postgres", PostgresDSN())
		if err != nil {
			return nil, "", nil, err
		}
		var b [6]byte
		_, _ = rand.Read(b[:])
		name := "orchestrix_migrategen_" + hex.EncodeToString(b[:])
		if _, err := server.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
			server.Close()
			return nil, "", nil, fmt.Errorf("create scratch database: %w", err)
		}
		u, err := url.Parse(PostgresDSN())
		if err != nil {
			server.Close()
			return nil, "", nil, err
		}
		u.Path = "/" + name
		db, err := sql.Open("postgres", u.String())
		if err != nil {
			server.Close()
			return nil, "", nil, err
		}
		return db, dialect.Postgres, func() {
			db.Close()
			_, _ = server.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
			server.Close()
		}, nil
	}
	return nil, "", nil, fmt.Errorf("unknown dialect %q (want sqlite or postgres)", dialectName)
}
