package ent

import (
	"bytes"
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"time"

	atlasmigrate "ariga.io/atlas/sql/migrate"

	"github.com/orchestrix/persistence/abstractions/stores"
)

// migrationFiles are the versioned migrations of each dialect, in the Atlas
// migration directory format, generated from ent/schema by
// internal/cmd/migrategen.
//
//go:embed migrations/postgres/*.sql migrations/postgres/atlas.sum migrations/sqlite/*.sql migrations/sqlite/atlas.sum
var migrationFiles embed.FS

// migration is one embedded migration file.
type migration struct {
	version string
	name    string
	stmts   []string
}

// loadMigrations reads the embedded migrations of a dialect in version order
// and checks them against the directory's atlas.sum.
func loadMigrations(dialectName string) ([]migration, error) {
	dir := path.Join("migrations", dialectName)
	entries, err := fs.ReadDir(migrationFiles, dir)
	if err != nil {
		return nil, err
	}
	var files []atlasmigrate.File
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		data, err := migrationFiles.ReadFile(path.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		files = append(files, atlasmigrate.NewLocalFile(e.Name(), data))
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Name() < files[j].Name() })
	sum, err := atlasmigrate.NewHashFile(files)
	if err != nil {
		return nil, err
	}
	want, err := sum.MarshalText()
	if err != nil {
		return nil, err
	}
	have, err := migrationFiles.ReadFile(path.Join(dir, atlasmigrate.HashFileName))
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(bytes.TrimSpace(want), bytes.TrimSpace(have)) {
		return nil, fmt.Errorf("ent: embedded %s migrations do not match their atlas.sum (edited by hand?)", dialectName)
	}
	out := make([]migration, 0, len(files))
	for _, f := range files {
		stmts, err := f.Stmts()
		if err != nil {
			return nil, fmt.Errorf("ent: migration %s: %w", f.Name(), err)
		}
		out = append(out, migration{version: f.Version(), name: f.Desc(), stmts: stmts})
	}
	return out, nil
}

// The version table. Each migration file runs in one transaction that also
// records its version, so a migration is applied entirely or not at all.
const (
	createMigrationTablePostgres = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version text PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL)`
	createMigrationTableSQLite = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version text PRIMARY KEY, name text NOT NULL, applied_at datetime NOT NULL)`
	// lockMigrationsPostgres serialises concurrent openers of one schema
	// until the transaction ends (SQLite serialises them with BEGIN
	// IMMEDIATE).
	lockMigrationsPostgres  = `SELECT pg_advisory_xact_lock(1869768303, hashtext(current_schema()))`
	migrationTableExistsPG  = `SELECT to_regclass('schema_migrations') IS NOT NULL`
	migrationTableExistsSQL = `SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'`
	selectAppliedMigrations = `SELECT version, applied_at FROM schema_migrations`
	selectMigrationApplied  = `SELECT count(*) FROM schema_migrations WHERE version = $1`
	insertMigration         = `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`
)

// MigrationStatus lists every embedded migration and whether it is applied
// (stores.Migrator).
func (b *backend) MigrationStatus(ctx context.Context) ([]stores.Migration, error) {
	applied, err := b.appliedMigrations(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]stores.Migration, 0, len(b.migrations))
	for _, m := range b.migrations {
		at, ok := applied[m.version]
		out = append(out, stores.Migration{Version: m.version, Name: m.name, Applied: ok, AppliedAt: at})
	}
	return out, nil
}

func (b *backend) appliedMigrations(ctx context.Context) (map[string]time.Time, error) {
	exists := migrationTableExistsSQL
	if b.cfg.Dialect == DialectPostgres {
		exists = migrationTableExistsPG
	}
	var ok bool
	if err := b.db.QueryRowContext(ctx, exists).Scan(&ok); err != nil {
		return nil, b.wrap(ctx, err)
	}
	applied := map[string]time.Time{}
	if !ok {
		return applied, nil
	}
	rows, err := b.db.QueryContext(ctx, selectAppliedMigrations)
	if err != nil {
		return nil, b.wrap(ctx, err)
	}
	defer rows.Close()
	for rows.Next() {
		var v string
		var at nullTime
		if err := rows.Scan(&v, &at); err != nil {
			return nil, b.wrap(ctx, err)
		}
		applied[v] = at.Time
	}
	return applied, b.wrap(ctx, rows.Err())
}

// Migrate applies every pending migration in version order, each in its own
// transaction, and returns the ones it applied (stores.Migrator). Concurrent
// callers, in one process or many, apply each migration once.
func (b *backend) Migrate(ctx context.Context) ([]stores.Migration, error) {
	return b.migrateTo(ctx, "")
}

// migrateTo applies the pending migrations up to and including version
// last, or all of them when last is empty.
func (b *backend) migrateTo(ctx context.Context, last string) ([]stores.Migration, error) {
	var done []stores.Migration
	for _, m := range b.migrations {
		if last != "" && m.version > last {
			break
		}
		applied, at, err := b.applyMigration(ctx, m)
		if err != nil {
			return done, fmt.Errorf("ent: migration %s_%s: %w", m.version, m.name, err)
		}
		if applied {
			done = append(done, stores.Migration{Version: m.version, Name: m.name, Applied: true, AppliedAt: at})
		}
	}
	return done, nil
}

func (b *backend) applyMigration(ctx context.Context, m migration) (applied bool, at time.Time, err error) {
	err = b.inTx(ctx, func(tx *sql.Tx) error {
		create := createMigrationTableSQLite
		if b.cfg.Dialect == DialectPostgres {
			if _, err := tx.ExecContext(ctx, lockMigrationsPostgres); err != nil {
				return err
			}
			create = createMigrationTablePostgres
		}
		if _, err := tx.ExecContext(ctx, create); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, selectMigrationApplied, m.version).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		for _, stmt := range m.stmts {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return err
			}
		}
		at = stores.NormalizeTime(time.Now())
		if _, err := tx.ExecContext(ctx, insertMigration, m.version, m.name, at); err != nil {
			return err
		}
		applied = true
		return nil
	})
	return applied, at, err
}
