package ent_test

import (
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/orchestrix/persistence/abstractions/stores"
	"github.com/orchestrix/persistence/ent"
	"github.com/orchestrix/persistence/ent/internal/migrationdiff"
)

// checkMigrationsMatchSchema replays the committed migrations of a dialect
// on a scratch database and fails if the ent schema still differs: a schema
// change without `go run ./internal/cmd/migrategen -name …`.
func checkMigrationsMatchSchema(t *testing.T, dialect string) {
	dir := filepath.Join(t.TempDir(), dialect)
	if err := os.CopyFS(dir, os.DirFS(filepath.Join("migrations", dialect))); err != nil {
		t.Fatal(err)
	}
	wrote, err := migrationdiff.Generate(t.Context(), dialect, dir, "pending")
	if err != nil {
		t.Fatalf("diff %s migrations against the schema: %v", dialect, err)
	}
	if wrote {
		entries, _ := os.ReadDir(dir)
		var last []byte
		for _, e := range entries {
			if filepath.Ext(e.Name()) == ".sql" {
				last, _ = os.ReadFile(filepath.Join(dir, e.Name()))
			}
		}
		t.Fatalf("ent/schema changed without a migration; run `go run ./internal/cmd/migrategen -name <change>` in ent/. Missing:\n%s", last)
	}
}

func TestMigrationsMatchSchemaSQLite(t *testing.T) { checkMigrationsMatchSchema(t, "sqlite") }

func TestMigrationsMatchSchemaPostgres(t *testing.T) {
	requirePostgres(t)
	checkMigrationsMatchSchema(t, "postgres")
}

// checkUpgradeFromFirstVersion creates a database at the first migration,
// stores a job there, migrates to the latest and runs the job through.
func checkUpgradeFromFirstVersion(t *testing.T, b *ent.Backend) {
	ctx := t.Context()
	status, err := b.MigrationStatus(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(status) < 2 {
		t.Fatalf("want at least two migrations, have %d", len(status))
	}
	for _, m := range status {
		if m.Applied {
			t.Fatalf("migrate=false applied %s", m.Version)
		}
	}
	first := status[0].Version
	if done, err := ent.MigrateTo(ctx, b, first); err != nil || len(done) != 1 {
		t.Fatalf("migrate to %s: applied %v, %v", first, done, err)
	}
	st := stores.Wrap("ent", b)
	now := time.Date(2030, 1, 2, 3, 4, 5, 123456000, time.UTC)
	job := &stores.Job{Type: "upgrade", Queue: "q", Args: []byte(`{ "kept" : "as is" }`), CreatedAt: now}
	if err := st.Jobs().Enqueue(ctx, job); err != nil {
		t.Fatalf("enqueue at the first version: %v", err)
	}
	done, err := b.Migrate(ctx)
	if err != nil || len(done) != len(status)-1 {
		t.Fatalf("migrate to latest: applied %d of %d, %v", len(done), len(status)-1, err)
	}
	if again, err := b.Migrate(ctx); err != nil || len(again) != 0 {
		t.Fatalf("second Migrate applied %v, %v", again, err)
	}
	status, err = b.MigrationStatus(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range status {
		if !m.Applied || m.AppliedAt.IsZero() {
			t.Errorf("after Migrate, %s_%s applied=%v at %v", m.Version, m.Name, m.Applied, m.AppliedAt)
		}
	}
	got, err := st.Jobs().Dispatch(ctx, stores.DispatchParams{Limit: 10, Now: now.Add(time.Second)})
	if err != nil || len(got) != 1 || got[0].ID != job.ID || string(got[0].Args) != string(job.Args) {
		t.Fatalf("dispatch after upgrade: %v, %v", got, err)
	}
	if err := st.Jobs().Complete(ctx, got[0].Ref(), now.Add(2*time.Second)); err != nil {
		t.Fatalf("complete after upgrade: %v", err)
	}
}

func TestMigrateUpgradeFromFirstVersionSQLite(t *testing.T) {
	cfg, err := ent.ParseDSN("sqlite://" + filepath.Join(t.TempDir(), "o.db") + "?migrate=false")
	if err != nil {
		t.Fatal(err)
	}
	b, err := ent.OpenConfig(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	checkUpgradeFromFirstVersion(t, b)
}

func TestMigrateUpgradeFromFirstVersionPostgres(t *testing.T) {
	b, err := openPostgresSchema(t.Context(), t, url.Values{"migrate": {"false"}})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	checkUpgradeFromFirstVersion(t, b.Backend)
}

// checkConcurrentOpeners opens one fresh database from several goroutines at
// once, each migrating on open: every open succeeds and every migration is
// recorded once.
func checkConcurrentOpeners(t *testing.T, dsn string) {
	const openers = 6
	var wg sync.WaitGroup
	backends := make([]*ent.Backend, openers)
	errs := make([]error, openers)
	for i := range openers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cfg, err := ent.ParseDSN(dsn)
			if err == nil {
				backends[i], err = ent.OpenConfig(t.Context(), cfg)
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("opener %d: %v", i, err)
			continue
		}
		defer backends[i].Close()
	}
	if t.Failed() {
		return
	}
	var n int
	if err := backends[0].DB().QueryRowContext(t.Context(), "SELECT count(*) FROM schema_migrations").Scan(&n); err != nil {
		t.Fatal(err)
	}
	status, _ := backends[0].MigrationStatus(t.Context())
	if n != len(status) {
		t.Fatalf("schema_migrations has %d rows, want %d", n, len(status))
	}
}

func TestMigrateConcurrentOpenersSQLite(t *testing.T) {
	checkConcurrentOpeners(t, "sqlite://"+filepath.Join(t.TempDir(), "o.db"))
}

func TestMigrateConcurrentOpenersPostgres(t *testing.T) {
	admin := requirePostgres(t)
	schema := randomName("orchestrix_test_")
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = admin.Exec("DROP SCHEMA " + schema + " CASCADE") })
	checkConcurrentOpeners(t, withParams(t, postgresDSN(), url.Values{"search_path": {schema}, "max_open_conns": {"2"}}))
}
