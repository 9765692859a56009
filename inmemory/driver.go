// Package inmemory is the "inmemory" Orchestrix store driver: every store
// held in process memory, for tests, development and single-process use.
//
//	import (
//		"github.com/orchestrix/persistence/abstractions/stores"
//		_ "github.com/orchestrix/persistence/inmemory" // registers "inmemory"
//	)
//
//	s, err := stores.Open("inmemory", "")
//
// Each Open returns a new, empty store; nothing survives Close or the
// process. One read-write mutex guards the whole state, so every call is
// atomic with respect to every other (J4: "memory: one lock"), including the calls that
// span store families (Fire, MoveToDeadLetter, Requeue, Purge). The hot
// queries read ordered indexes instead of scanning: see the index fields of
// jobTable, scheduleTable, workerTable and nodeTable.
package inmemory

import (
	"context"
	"sync"

	"github.com/google/btree"

	"github.com/orchestrix/persistence/abstractions/stores"
)

// DriverName is the name the driver registers under.
const DriverName = "inmemory"

func init() { stores.Register(DriverName, Driver{}) }

// Driver opens in-memory backends. The zero value is ready to use.
type Driver struct{}

// Open returns a new, empty backend. The DSN must be "" or "memory://";
// the store has no options.
func (Driver) Open(ctx context.Context, dsn string) (stores.Backend, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	switch dsn {
	case "", "memory://", "memory:":
	default:
		return nil, stores.InvalidField("dsn", "%q is not an inmemory DSN: use \"\" or \"memory://\" (the store takes no options)", stores.RedactDSN(dsn))
	}
	return New(), nil
}

// New returns a new, empty backend, for callers that do not go through the
// registry: wrap it with stores.Wrap(DriverName, inmemory.New()).
func New() *Backend {
	db := &db{}
	db.jobs = newJobTable()
	db.reserve = newReserve()
	records := newJobRecords(db.reserve) // shared: a job's log lines and history rows
	db.history = newHistoryTable(records, db.reserve)
	db.logs = newLogTable(records, db.reserve)
	db.deadLetters = newDeadLetterTable()
	db.cron = newScheduleTable[*stores.CronSchedule]()
	db.intervals = newScheduleTable[*stores.IntervalSchedule]()
	db.workers = newWorkerTable()
	db.nodes = newNodeTable()
	return &Backend{db: db}
}

// db is the whole state of one backend, guarded by mu: calls that change
// anything (Pending too: it moves the dispatch watermark) hold it
// exclusively, calls that only read share it. The log and history tables
// are guarded by recMu instead: appending a job's log lines or attempts
// needs nothing of the other tables, so it does not wait behind Dispatch
// and CompleteMany, nor they behind it. Lock order: recMu, then mu (a job
// Purge removes the job's records; CompleteRecorded files records with its
// completions, so no reader sees one without the other, and files them
// before it takes mu, beside Dispatch; Close takes both).
type db struct {
	mu     sync.RWMutex
	recMu  sync.RWMutex
	closed bool // set with both locks held: read under either
	// reserve is the log and history tables' spare memory; set in New and
	// never changed, it is read without mu.
	reserve *reserve

	jobs        *jobTable
	history     *historyTable
	logs        *logTable
	deadLetters *deadLetterTable
	cron        *scheduleTable[*stores.CronSchedule]
	intervals   *scheduleTable[*stores.IntervalSchedule]
	workers     *workerTable
	nodes       *nodeTable
}

// lock is the gate of every call: a done context fails before waiting for
// the lock (E2), a closed backend after it. On success the caller holds mu
// and must unlock it.
func (d *db) lock(ctx context.Context) error { return d.gate(ctx, &d.mu, false) }

// rlock is lock for calls that only read: they share the lock with each
// other. The caller must RUnlock.
func (d *db) rlock(ctx context.Context) error { return d.gate(ctx, &d.mu, true) }

// lockRecords and rlockRecords are lock and rlock of the log and history
// tables, on recMu.
func (d *db) lockRecords(ctx context.Context) error  { return d.gate(ctx, &d.recMu, false) }
func (d *db) rlockRecords(ctx context.Context) error { return d.gate(ctx, &d.recMu, true) }

func (d *db) gate(ctx context.Context, mu *sync.RWMutex, read bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if read {
		mu.RLock()
	} else {
		mu.Lock()
	}
	if d.closed {
		if read {
			mu.RUnlock()
		} else {
			mu.Unlock()
		}
		return stores.ErrClosed
	}
	return nil
}

// Backend is one in-memory store. It implements stores.Backend; obtain one
// from stores.Open("inmemory", "") or New.
type Backend struct{ db *db }

var _ stores.Backend = (*Backend)(nil)

// Jobs returns the job store.
func (b *Backend) Jobs() stores.JobStore { return jobStore{b.db} }

// History returns the job history store.
func (b *Backend) History() stores.HistoryStore { return historyStore{b.db} }

// Cron returns the cron schedule store.
func (b *Backend) Cron() stores.ScheduleStore[*stores.CronSchedule] {
	return scheduleStore[*stores.CronSchedule]{b.db, func(d *db) *scheduleTable[*stores.CronSchedule] { return d.cron }, stores.ScheduleTypeCron}
}

// Intervals returns the interval schedule store.
func (b *Backend) Intervals() stores.ScheduleStore[*stores.IntervalSchedule] {
	return scheduleStore[*stores.IntervalSchedule]{b.db, func(d *db) *scheduleTable[*stores.IntervalSchedule] { return d.intervals }, stores.ScheduleTypeInterval}
}

// Workers returns the worker store.
func (b *Backend) Workers() stores.WorkerStore { return workerStore{b.db} }

// Nodes returns the coordinator node store.
func (b *Backend) Nodes() stores.NodeStore { return nodeStore{b.db} }

// Logs returns the job log store.
func (b *Backend) Logs() stores.LogStore { return logStore{b.db} }

// DeadLetters returns the dead letter store.
func (b *Backend) DeadLetters() stores.DeadLetterStore { return deadLetterStore{b.db} }

// Ping reports whether the backend is open.
func (b *Backend) Ping(ctx context.Context) error {
	if err := b.db.lock(ctx); err != nil {
		return err
	}
	b.db.mu.Unlock()
	return nil
}

// Close drops the state; every later call returns stores.ErrClosed.
func (b *Backend) Close() error {
	d := b.db
	d.recMu.Lock()
	defer d.recMu.Unlock()
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.closed {
		d.closed = true
		d.jobs, d.history, d.logs, d.deadLetters = nil, nil, nil, nil
		d.cron, d.intervals, d.workers, d.nodes = nil, nil, nil, nil
	}
	return nil
}

// btreeDegree suits pointer items: nodes of a few cache lines.
const btreeDegree = 16

func newTree[T any](less btree.LessFunc[T]) *btree.BTreeG[T] {
	return btree.NewG(btreeDegree, less)
}

// maxID sorts after every canonical UUID, so a pivot {t, maxID} lies after
// every row at instant t in a tree keyed by (time, UUID).
const maxID = "~"
