package stores

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// Store is the portable handle Open returns. It gives access to every store
// of one backend, validates and normalises arguments before the driver sees
// them, and closes them all. It is safe for concurrent use (E4).
type Store struct {
	driver  string
	backend Backend
	closed  atomic.Bool
	once    sync.Once
	err     error
	clock   func() time.Time

	jobs        jobStore
	history     historyStore
	cron        scheduleStore[*CronSchedule]
	intervals   scheduleStore[*IntervalSchedule]
	workers     workerStore
	nodes       nodeStore
	logs        logStore
	deadLetters deadLetterStore
}

func newStore(driver string, b Backend) *Store {
	s := &Store{driver: driver, backend: b, clock: time.Now}
	s.jobs = jobStore{s, b.Jobs()}
	s.history = historyStore{s, b.History()}
	s.cron = scheduleStore[*CronSchedule]{s, b.Cron(), ScheduleTypeCron}
	s.intervals = scheduleStore[*IntervalSchedule]{s, b.Intervals(), ScheduleTypeInterval}
	s.workers = workerStore{s, b.Workers()}
	s.nodes = nodeStore{s, b.Nodes()}
	s.logs = logStore{s, b.Logs()}
	s.deadLetters = deadLetterStore{s, b.DeadLetters()}
	return s
}

// Wrap returns a portable Store over a backend that was opened directly,
// without the registry (for example by a test).
func Wrap(driverName string, b Backend) *Store { return newStore(driverName, b) }

// DriverName returns the name the store was opened with.
func (s *Store) DriverName() string { return s.driver }

// Backend returns the driver's backend, for optional interfaces such as
// Migrator. Calls on it bypass validation.
func (s *Store) Backend() Backend { return s.backend }

// Jobs returns the job store (J1–J10).
func (s *Store) Jobs() JobStore { return &s.jobs }

// History returns the job history store (L1).
func (s *Store) History() HistoryStore { return &s.history }

// Cron returns the cron schedule store (S1–S4).
func (s *Store) Cron() ScheduleStore[*CronSchedule] { return &s.cron }

// Intervals returns the interval schedule store (S1–S4).
func (s *Store) Intervals() ScheduleStore[*IntervalSchedule] { return &s.intervals }

// Workers returns the worker store (W1, W2).
func (s *Store) Workers() WorkerStore { return &s.workers }

// Nodes returns the coordinator node store with the leadership lease (W1–W3).
func (s *Store) Nodes() NodeStore { return &s.nodes }

// Logs returns the job log store (L1).
func (s *Store) Logs() LogStore { return &s.logs }

// DeadLetters returns the dead letter store (D1).
func (s *Store) DeadLetters() DeadLetterStore { return &s.deadLetters }

// Ping checks that the backend is reachable; backends without the Pinger
// ability are always reachable.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	if p, ok := s.backend.(Pinger); ok {
		return p.Ping(ctx)
	}
	return nil
}

// Close closes the backend. It is idempotent: later calls return the first
// call's result, and every other call on the store returns ErrClosed.
func (s *Store) Close() error {
	s.once.Do(func() {
		s.closed.Store(true)
		s.err = s.backend.Close()
	})
	return s.err
}

// check is the gate of every call: closed store, then a done context (E2).
func (s *Store) check(ctx context.Context) error {
	if s.closed.Load() {
		return ErrClosed
	}
	if ctx == nil {
		return InvalidField("ctx", "must not be nil")
	}
	return ctx.Err()
}

func (s *Store) now() time.Time { return NormalizeTime(s.clock()) }
