package ent_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/lib/pq"

	"github.com/orchestrix/persistence/abstractions/stores"
	"github.com/orchestrix/persistence/conformance"
	"github.com/orchestrix/persistence/ent"
)

// defaultPostgresDSN is the test server when ORCHESTRIX_TEST_POSTGRES_DSN is
// unset.
const defaultPostgresDSN = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

func postgresDSN() string {
	if v := os.Getenv("ORCHESTRIX_TEST_POSTGRES_DSN"); v != "" {
		return v
	}
	return defaultPostgresDSN
}

func randomName(prefix string) string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// sqliteFileHarness opens each store on its own file in a temporary
// directory of tb.
func sqliteFileHarness(tb testing.TB) conformance.Harness {
	return conformance.HarnessFunc(func(ctx context.Context) (*stores.Store, error) {
		path := filepath.Join(tb.TempDir(), "orchestrix.db")
		return stores.OpenContext(ctx, "ent", "sqlite://"+path)
	})
}

// sqliteMemoryHarness opens each store on its own in-memory database.
func sqliteMemoryHarness() conformance.Harness {
	return conformance.HarnessFunc(func(ctx context.Context) (*stores.Store, error) {
		return stores.OpenContext(ctx, "ent", "sqlite://:memory:")
	})
}

// pgServer is the PostgreSQL test server, reached once per test binary.
var pgServer struct {
	once sync.Once
	db   *sql.DB
	err  error
}

// requirePostgres returns a connection to the test server, or skips the
// test when none answers (fails it when CI=true).
func requirePostgres(tb testing.TB) *sql.DB {
	tb.Helper()
	pgServer.once.Do(func() {
		db, err := sql.Open("postgres", postgresDSN())
		if err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			err = db.PingContext(ctx)
			cancel()
		}
		if err != nil {
			pgServer.err = fmt.Errorf("PostgreSQL at %s: %v", stores.RedactDSN(postgresDSN()), err)
			return
		}
		db.SetMaxOpenConns(4)
		pgServer.db = db
	})
	if pgServer.err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("%v (CI=true: a missing server is a failure)", pgServer.err)
		}
		tb.Skipf("%v; start PostgreSQL or set ORCHESTRIX_TEST_POSTGRES_DSN to run the PostgreSQL tests", pgServer.err)
	}
	return pgServer.db
}

// withParams returns dsn with extra query parameters.
func withParams(tb testing.TB, dsn string, params url.Values) string {
	tb.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		tb.Fatalf("parse DSN: %v", err)
	}
	q := u.Query()
	for k, vs := range params {
		q[k] = vs
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// pgSchemaBackend is a backend on a schema of its own. Closing it empties
// the schema and returns it to pgSchemas for the next test (TRUNCATE is
// much faster than creating and migrating a schema); TestMain drops them.
type pgSchemaBackend struct {
	*ent.Backend
	admin  *sql.DB
	schema string
	reuse  bool
}

// storeTables are the tables a reused schema is emptied of.
const storeTables = "jobs, job_history, cron_schedules, interval_schedules, workers, coordinator_nodes, leader_lease, log_entries, dead_letters"

func (b pgSchemaBackend) Close() error {
	err := b.Backend.Close()
	if b.reuse && err == nil {
		if _, terr := b.admin.Exec("TRUNCATE " + qualify(b.schema, storeTables) + " RESTART IDENTITY"); terr == nil {
			pgSchemas.put(b.schema)
			return nil
		}
	}
	if _, derr := b.admin.Exec("DROP SCHEMA IF EXISTS " + b.schema + " CASCADE"); err == nil {
		err = derr
	}
	return err
}

func qualify(schema, tables string) string {
	var out []string
	for _, t := range strings.Split(tables, ", ") {
		out = append(out, schema+"."+t)
	}
	return strings.Join(out, ", ")
}

// pgSchemas holds emptied, migrated schemas for reuse.
var pgSchemas schemaPool

type schemaPool struct {
	mu   sync.Mutex
	free []string
	all  []string
}

func (p *schemaPool) get() (string, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if n := len(p.free); n > 0 {
		s := p.free[n-1]
		p.free = p.free[:n-1]
		return s, true
	}
	return "", false
}

func (p *schemaPool) put(s string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.free = append(p.free, s)
}

func (p *schemaPool) created(s string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.all = append(p.all, s)
}

// dropAll drops every schema the pool made.
func (p *schemaPool) dropAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if pgServer.db == nil {
		return
	}
	for _, s := range p.all {
		_, _ = pgServer.db.Exec("DROP SCHEMA IF EXISTS " + s + " CASCADE")
	}
	p.all, p.free = nil, nil
}

func TestMain(m *testing.M) {
	code := m.Run()
	pgSchemas.dropAll()
	os.Exit(code)
}

// openPostgresSchema opens a backend on a schema of the test database
// (search_path) that no other open store uses: an emptied one from
// pgSchemas when params is nil, else a fresh one, dropped on Close.
func openPostgresSchema(ctx context.Context, tb testing.TB, params url.Values) (pgSchemaBackend, error) {
	admin := requirePostgres(tb)
	reuse := params == nil
	schema, ok := "", false
	if reuse {
		schema, ok = pgSchemas.get()
	}
	if !ok {
		schema = randomName("orchestrix_test_")
		if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
			return pgSchemaBackend{}, err
		}
		if reuse {
			pgSchemas.created(schema)
		}
	}
	if params == nil {
		params = url.Values{}
	}
	params.Set("search_path", schema)
	params.Set("max_open_conns", "8")
	cfg, err := ent.ParseDSN(withParams(tb, postgresDSN(), params))
	if err != nil {
		return pgSchemaBackend{}, err
	}
	b, err := ent.OpenConfig(ctx, cfg)
	if err != nil {
		_, _ = admin.Exec("DROP SCHEMA IF EXISTS " + schema + " CASCADE")
		return pgSchemaBackend{}, err
	}
	return pgSchemaBackend{Backend: b, admin: admin, schema: schema, reuse: reuse}, nil
}

func postgresHarness(tb testing.TB) conformance.Harness {
	requirePostgres(tb)
	return conformance.HarnessFunc(func(ctx context.Context) (*stores.Store, error) {
		b, err := openPostgresSchema(ctx, tb, nil)
		if err != nil {
			return nil, err
		}
		return stores.Wrap("ent", b), nil
	})
}

// openNamedPostgres opens a store on a fresh schema whose connections carry
// a random application_name with prefix (returned with it), so that a test
// can find them in pg_stat_activity; params adds DSN parameters. The store
// is closed when the test ends.
func openNamedPostgres(t *testing.T, prefix string, params url.Values) (pgSchemaBackend, *stores.Store, string) {
	t.Helper()
	app := randomName(prefix)
	if params == nil {
		params = url.Values{}
	}
	params.Set("application_name", app)
	b, err := openPostgresSchema(t.Context(), t, params)
	if err != nil {
		t.Fatal(err)
	}
	st := stores.Wrap("ent", b)
	t.Cleanup(func() { st.Close() })
	return b, st, app
}
