package ent

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"github.com/lib/pq"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/orchestrix/persistence/abstractions/stores"
	"github.com/orchestrix/persistence/ent/internal/entgen"
)

// DriverName is the name the driver registers under.
const DriverName = "ent"

func init() { stores.Register(DriverName, Driver{}) }

// Driver opens ent backends (stores.Driver).
type Driver struct{}

// Open opens a backend from a data source name (see ParseDSN), checks that
// the database answers and, unless the DSN says migrate=false, applies
// pending migrations.
func (Driver) Open(ctx context.Context, dsn string) (stores.Backend, error) {
	cfg, err := ParseDSN(dsn)
	if err != nil {
		return nil, err
	}
	return OpenConfig(ctx, cfg)
}

// OpenConfig opens a backend from a parsed Config.
func OpenConfig(ctx context.Context, cfg Config) (*Backend, error) {
	migrations, err := loadMigrations(cfg.Dialect)
	if err != nil {
		return nil, err
	}
	db, err := openPool(ctx, cfg, cfg.MaxOpenConns)
	if err != nil {
		return nil, err
	}
	rdb := db
	if cfg.Dialect == DialectSQLite && !cfg.Memory {
		// SQLite has one writer. Writes go through a pool of one
		// connection, so the goroutines of this process queue in Go for
		// the write lock instead of polling it in SQLite's busy handler
		// (which sleeps up to 100ms between tries); reads use their own
		// pool and run concurrently in WAL mode.
		// The writer checkpoints the log itself only when the
		// checkpointer falls far behind (checkpoint.go).
		wcfg := cfg
		wcfg.SQLDSN += "&_pragma=wal_autocheckpoint(" + strconv.Itoa(writerCheckpointPages) + ")"
		rdb = db
		if db, err = openPool(ctx, wcfg, 1); err != nil {
			rdb.Close()
			return nil, err
		}
	}
	b := newBackend(cfg, db, rdb, migrations)
	if rdb != db {
		b.ckpt = startCheckpointer(rdb)
	}
	if cfg.Migrate {
		if _, err := b.Migrate(ctx); err != nil {
			b.Close()
			return nil, err
		}
	}
	return b, nil
}

// pingPool opens the pool's first connection. On a SQLite file, the
// connection's PRAGMA journal_mode=WAL can fail with SQLITE_BUSY at once,
// without waiting in the busy handler, while other processes or pools open
// the same new file (SQLite's deadlock avoidance when two connections both
// read the header and want to write it): that is retried, with backoff, for
// as long as the busy timeout.
func pingPool(ctx context.Context, cfg Config, db *sql.DB) error {
	deadline := time.Now().Add(cfg.BusyTimeout)
	wait := 5 * time.Millisecond
	for {
		err := db.PingContext(ctx)
		if err == nil || cfg.Dialect != DialectSQLite || !sqliteBusy(err) || time.Now().Add(wait).After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
		wait = min(2*wait, 200*time.Millisecond)
	}
}

// openPool opens and pings a connection pool of at most maxOpen
// connections.
func openPool(ctx context.Context, cfg Config, maxOpen int) (*sql.DB, error) {
	db, err := sql.Open(cfg.SQLDriver, cfg.SQLDSN)
	if err != nil {
		return nil, fmt.Errorf("ent: open %s: %s", cfg.Dialect, stores.RedactDSN(err.Error()))
	}
	db.SetMaxOpenConns(maxOpen)
	if cfg.MaxIdleConns > 0 {
		db.SetMaxIdleConns(min(cfg.MaxIdleConns, maxOpen))
	} else {
		db.SetMaxIdleConns(maxOpen)
	}
	db.SetConnMaxLifetime(cfg.ConnMaxLifetime)
	db.SetConnMaxIdleTime(cfg.ConnMaxIdleTime)
	if err := pingPool(ctx, cfg, db); err != nil {
		db.Close()
		if ctx.Err() != nil {
			return nil, fmt.Errorf("ent: connect to %s: %w", cfg.Dialect, ctx.Err())
		}
		return nil, fmt.Errorf("ent: connect to %s: %s", cfg.Dialect, stores.RedactDSN(err.Error()))
	}
	return db, nil
}

// Backend is an open ent backend (stores.Backend). It also implements
// stores.Migrator and stores.Pinger.
type Backend struct {
	cfg Config
	// db runs writes and transactions; rdb runs reads that need no
	// transaction. They are one pool except on a SQLite file.
	db         *sql.DB
	rdb        *sql.DB
	client     *entgen.Client
	q          *queries
	migrations []migration
	// stmts holds the statements prepared on db (see prepared), by SQL.
	stmtsMu sync.Mutex
	stmts   map[string]*sql.Stmt
	// ckpt checkpoints a SQLite file's log off the writer's path; nil
	// otherwise.
	ckpt *checkpointer
	// copySlots holds a token for each COPY under way (PostgreSQL), at
	// most maxConcurrentCopies.
	copySlots chan struct{}

	jobs        jobStore
	history     historyStore
	cron        scheduleStore[*stores.CronSchedule]
	intervals   scheduleStore[*stores.IntervalSchedule]
	workers     workerStore
	nodes       nodeStore
	logs        logStore
	deadLetters deadLetterStore
}

// backend is the receiver name used inside the package.
type backend = Backend

var (
	_ stores.Backend  = (*Backend)(nil)
	_ stores.Migrator = (*Backend)(nil)
	_ stores.Pinger   = (*Backend)(nil)
)

func newBackend(cfg Config, db, rdb *sql.DB, migrations []migration) *Backend {
	d := dialect.SQLite
	q := &sqliteQueries
	if cfg.Dialect == DialectPostgres {
		d, q = dialect.Postgres, &postgresQueries
	}
	b := &Backend{cfg: cfg, db: db, rdb: rdb, q: q, migrations: migrations,
		client:    entgen.NewClient(entgen.Driver(entsql.OpenDB(d, db))),
		copySlots: make(chan struct{}, maxConcurrentCopies)}
	b.jobs = jobStore{b}
	b.history = historyStore{b}
	b.cron = scheduleStore[*stores.CronSchedule]{b, cronKind}
	b.intervals = scheduleStore[*stores.IntervalSchedule]{b, intervalKind}
	b.workers = workerStore{b}
	b.nodes = nodeStore{b}
	b.logs = logStore{b}
	b.deadLetters = deadLetterStore{b}
	return b
}

// Dialect returns DialectPostgres or DialectSQLite.
func (b *Backend) Dialect() string { return b.cfg.Dialect }

// DB returns the connection pool that runs writes, for tests and tools.
func (b *Backend) DB() *sql.DB { return b.db }

// Jobs returns the job store.
func (b *Backend) Jobs() stores.JobStore { return &b.jobs }

// History returns the history store.
func (b *Backend) History() stores.HistoryStore { return &b.history }

// Cron returns the cron schedule store.
func (b *Backend) Cron() stores.ScheduleStore[*stores.CronSchedule] { return &b.cron }

// Intervals returns the interval schedule store.
func (b *Backend) Intervals() stores.ScheduleStore[*stores.IntervalSchedule] { return &b.intervals }

// Workers returns the worker store.
func (b *Backend) Workers() stores.WorkerStore { return &b.workers }

// Nodes returns the node store.
func (b *Backend) Nodes() stores.NodeStore { return &b.nodes }

// Logs returns the log store.
func (b *Backend) Logs() stores.LogStore { return &b.logs }

// DeadLetters returns the dead letter store.
func (b *Backend) DeadLetters() stores.DeadLetterStore { return &b.deadLetters }

// Ping checks that the database answers (stores.Pinger).
func (b *Backend) Ping(ctx context.Context) error { return b.wrap(ctx, b.db.PingContext(ctx)) }

// Close closes the connection pool; an in-memory SQLite database is gone
// after it.
func (b *Backend) Close() error {
	b.ckpt.close()
	b.stmtsMu.Lock()
	for _, st := range b.stmts {
		_ = st.Close()
	}
	b.stmts = nil
	b.stmtsMu.Unlock()
	err := b.db.Close()
	if b.rdb != b.db {
		if rerr := b.rdb.Close(); err == nil {
			err = rerr
		}
	}
	return err
}

// prepared returns query prepared on db, preparing it on first use; SQLite
// then skips parsing and planning it on every call. The statements are a
// fixed set of constants, so the map stays small. Never call it inside a
// transaction on db: preparing takes a connection of the pool, and on a
// SQLite file the transaction holds its only one. Use tx.StmtContext on
// the result in the transaction instead, which runs the statement already
// prepared on the connection.
func (b *Backend) prepared(ctx context.Context, query string) (*sql.Stmt, error) {
	b.stmtsMu.Lock()
	st := b.stmts[query]
	b.stmtsMu.Unlock()
	if st != nil {
		return st, nil
	}
	st, err := b.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	b.stmtsMu.Lock()
	defer b.stmtsMu.Unlock()
	if prev := b.stmts[query]; prev != nil { // a concurrent first use won
		_ = st.Close()
		return prev, nil
	}
	if b.stmts == nil {
		b.stmts = map[string]*sql.Stmt{}
	}
	b.stmts[query] = st
	return st, nil
}

// inTx runs f in a transaction and commits it when f returns nil. On SQLite
// every transaction begins IMMEDIATE (the DSN sets _txlock), so it holds the
// database's single write lock from its first statement.
func (b *Backend) inTx(ctx context.Context, f func(tx *sql.Tx) error) error {
	tx, err := b.db.BeginTx(ctx, nil)
	if err != nil {
		return b.wrap(ctx, err)
	}
	if err := f(tx); err != nil {
		_ = tx.Rollback()
		return b.wrap(ctx, err)
	}
	return b.commit(ctx, tx)
}

// commit commits tx and tells the checkpointer.
func (b *Backend) commit(ctx context.Context, tx *sql.Tx) error {
	if err := tx.Commit(); err != nil {
		return b.wrap(ctx, err)
	}
	b.ckpt.wrote()
	return nil
}

// wrap maps driver errors to the stores sentinels: unique violations to
// ErrAlreadyExists, errors caused by a done context to the context's error
// (E2). Errors already carrying a sentinel pass unchanged.
func (b *Backend) wrap(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	for _, s := range []error{stores.ErrNotFound, stores.ErrAlreadyExists, stores.ErrConflict,
		stores.ErrInvalidArgument, context.Canceled, context.DeadlineExceeded} {
		if errors.Is(err, s) {
			return err
		}
	}
	if ctx != nil && ctx.Err() != nil {
		return fmt.Errorf("%w (%v)", ctx.Err(), err)
	}
	if isUniqueViolation(err) {
		// PostgreSQL names the key and its value in the detail
		// ("Key (id)=(…) already exists."); the message names only the
		// constraint.
		var pe *pq.Error
		if errors.As(err, &pe) && pe.Detail != "" {
			return fmt.Errorf("%w: %v: %s", stores.ErrAlreadyExists, err, pe.Detail)
		}
		return fmt.Errorf("%w: %v", stores.ErrAlreadyExists, err)
	}
	return err
}

// deadlockRetries bounds how often a set-based statement that PostgreSQL
// aborted as a deadlock victim is run again.
const deadlockRetries = 3

// retryDeadlock runs f again when PostgreSQL aborted it to break a deadlock
// (40P01) or a serialization failure (40001). Only idempotent, conditional
// writes use it: batches that lock many rows in an order the planner picks
// (CompleteMany, MarkCleaned, Recover, ReleaseFollower) can deadlock with a
// concurrent batch over the same rows; the rerun sees the winner's result.
func retryDeadlock(f func() error) error {
	var err error
	for range deadlockRetries {
		if err = f(); !isDeadlock(err) {
			return err
		}
	}
	return err
}

func isDeadlock(err error) bool {
	var pe *pq.Error
	return errors.As(err, &pe) && (pe.Code == "40P01" || pe.Code == "40001")
}

// isUniqueViolation reports a unique or primary key violation: PostgreSQL
// SQLSTATE 23505, SQLite SQLITE_CONSTRAINT_UNIQUE or _PRIMARYKEY.
func isUniqueViolation(err error) bool {
	var pe *pq.Error
	if errors.As(err, &pe) {
		return pe.Code == "23505"
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

// sqliteBusy reports SQLITE_BUSY, extended codes included.
func sqliteBusy(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_BUSY
}
