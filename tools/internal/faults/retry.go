package faults

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/orchestrix/persistence/abstractions/stores"
)

// MaxOutage is how long a Retrying store keeps retrying one call while its
// server is unreachable before it gives the error to its caller.
const MaxOutage = 60 * time.Second

// Transient reports whether err may go away by itself (a connection refused,
// reset or closed while the server restarts): any error that is not one of
// the contract's sentinels and not the caller's own cancellation.
func Transient(ctx context.Context, err error) bool {
	if err == nil || ctx.Err() != nil {
		return false
	}
	for _, s := range []error{stores.ErrNotFound, stores.ErrAlreadyExists, stores.ErrConflict,
		stores.ErrInvalidArgument, stores.ErrClosed, stores.ErrNotSupported, context.Canceled, context.DeadlineExceeded} {
		if errors.Is(err, s) {
			return false
		}
	}
	return true
}

// Stats counts what a Retrying store did.
type Stats struct {
	Retries    atomic.Int64 // calls repeated after a transient error
	Reconciled atomic.Int64 // ambiguous writes found applied by reading back
}

var (
	registerOnce sync.Once
	// RetryStats counts over every store opened through a retry driver.
	RetryStats Stats
)

// RegisterRetrying registers, once, the drivers "retry+ent" and
// "retry+redis": the ent and redis drivers behind Retrying. They let a
// program that treats every error as fatal (orchestrix-store bench) ride
// out a server restart.
func RegisterRetrying() {
	registerOnce.Do(func() {
		for _, inner := range []string{"ent", "redis", "inmemory"} {
			stores.Register("retry+"+inner, retryDriver{inner})
		}
	})
}

type retryDriver struct{ inner string }

func (d retryDriver) Open(ctx context.Context, dsn string) (stores.Backend, error) {
	var s *stores.Store
	err := retry(ctx, func() (err error) { s, err = stores.Open(d.inner, dsn); return err })
	if err != nil {
		return nil, err
	}
	return Retrying(s), nil
}

// Retrying returns a Backend over s that does what a coordinator or worker
// does when its store's server restarts: it repeats a call that failed with
// a transient error, with backoff, for up to MaxOutage. A write whose reply
// was lost may have been applied; when the repeat then fails with the
// sentinel the applied write causes (ErrAlreadyExists after an enqueue,
// ErrConflict after a transition or a firing, ErrNotFound after a move to
// the dead letters), it reads the record back and reports success when the
// record shows this very write (same ids, same attempt, same instant). A
// dispatch whose reply was lost is found again by its worker id and
// dispatch instant. AdjustLoad and AdjustJobCount are repeated as they are:
// a lost reply there may count twice.
func Retrying(s *stores.Store) stores.Backend { return &retrying{s: s} }

// maxBackoff caps the wait between two tries: short, so that a client is
// back within moments of its server.
const maxBackoff = 100 * time.Millisecond

// retry runs f until it succeeds, fails for good, or MaxOutage passes.
func retry(ctx context.Context, f func() error) error {
	deadline := time.Now().Add(MaxOutage)
	wait := 10 * time.Millisecond
	for {
		err := f()
		if !Transient(ctx, err) || time.Now().After(deadline) {
			return err
		}
		RetryStats.Retries.Add(1)
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
		wait = min(wait*2, maxBackoff)
	}
}

// retryAmbiguous is retry for a write: after a transient failure, a later
// error for which applied reports true means the lost attempt went through.
func retryAmbiguous(ctx context.Context, f func() error, applied func(error) bool) error {
	failed := false
	deadline := time.Now().Add(MaxOutage)
	wait := 10 * time.Millisecond
	for {
		err := f()
		if err != nil && failed && !Transient(ctx, err) && applied(err) {
			RetryStats.Reconciled.Add(1)
			return nil
		}
		if !Transient(ctx, err) || time.Now().After(deadline) {
			return err
		}
		failed = true
		RetryStats.Retries.Add(1)
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
		wait = min(wait*2, maxBackoff)
	}
}

type retrying struct{ s *stores.Store }

func (r *retrying) Jobs() stores.JobStore {
	return &retryJobs{JobStore: r.s.Jobs(), dl: r.s.DeadLetters()}
}
func (r *retrying) History() stores.HistoryStore { return &retryHistory{HistoryStore: r.s.History()} }
func (r *retrying) Logs() stores.LogStore        { return &retryLogs{LogStore: r.s.Logs()} }
func (r *retrying) Workers() stores.WorkerStore  { return &retryWorkers{WorkerStore: r.s.Workers()} }
func (r *retrying) Nodes() stores.NodeStore      { return &retryNodes{NodeStore: r.s.Nodes()} }
func (r *retrying) DeadLetters() stores.DeadLetterStore {
	return &retryDeadLetters{DeadLetterStore: r.s.DeadLetters()}
}
func (r *retrying) Cron() stores.ScheduleStore[*stores.CronSchedule] {
	return &retrySchedules[*stores.CronSchedule]{ScheduleStore: r.s.Cron()}
}
func (r *retrying) Intervals() stores.ScheduleStore[*stores.IntervalSchedule] {
	return &retrySchedules[*stores.IntervalSchedule]{ScheduleStore: r.s.Intervals()}
}
func (r *retrying) Close() error { return r.s.Close() }

// Ping lets `bench` and friends check reachability through the wrapper.
func (r *retrying) Ping(ctx context.Context) error { return r.s.Ping(ctx) }

// MigrationStatus and Migrate pass the inner store's Migrator through.
func (r *retrying) MigrationStatus(ctx context.Context) ([]stores.Migration, error) {
	m, ok := r.s.Backend().(stores.Migrator)
	if !ok {
		return nil, stores.ErrNotSupported
	}
	return m.MigrationStatus(ctx)
}

func (r *retrying) Migrate(ctx context.Context) ([]stores.Migration, error) {
	m, ok := r.s.Backend().(stores.Migrator)
	if !ok {
		return nil, stores.ErrNotSupported
	}
	var out []stores.Migration
	err := retry(ctx, func() (err error) { out, err = m.Migrate(ctx); return err })
	return out, err
}

type retryJobs struct {
	stores.JobStore
	dl stores.DeadLetterStore // where MoveToDeadLetter looks for a lost reply's dead letter
}

// allStored reports whether every job is stored (live) under its id.
func (r *retryJobs) allStored(ctx context.Context, jobs []*stores.Job) bool {
	for _, j := range jobs {
		var err error
		if retry(ctx, func() error { _, err = r.JobStore.Get(ctx, j.ID); return err }) != nil {
			return false
		}
	}
	return true
}

func (r *retryJobs) Enqueue(ctx context.Context, j *stores.Job) error {
	return retryAmbiguous(ctx, func() error { return r.JobStore.Enqueue(ctx, j) }, func(err error) bool {
		return errors.Is(err, stores.ErrAlreadyExists) && r.allStored(ctx, []*stores.Job{j})
	})
}

func (r *retryJobs) EnqueueMany(ctx context.Context, jobs []*stores.Job) error {
	return retryAmbiguous(ctx, func() error { return r.JobStore.EnqueueMany(ctx, jobs) }, func(err error) bool {
		return errors.Is(err, stores.ErrAlreadyExists) && r.allStored(ctx, jobs)
	})
}

func (r *retryJobs) Get(ctx context.Context, id string) (j *stores.Job, err error) {
	err = retry(ctx, func() error { j, err = r.JobStore.Get(ctx, id); return err })
	return j, err
}

func (r *retryJobs) Query(ctx context.Context, q stores.JobQuery) (p stores.JobPage, err error) {
	err = retry(ctx, func() error { p, err = r.JobStore.Query(ctx, q); return err })
	return p, err
}

func (r *retryJobs) Pending(ctx context.Context, now time.Time, limit int) (js []*stores.Job, err error) {
	err = retry(ctx, func() error { js, err = r.JobStore.Pending(ctx, now, limit); return err })
	return js, err
}

// Dispatch finds a batch whose reply was lost by its worker id and
// dispatch instant before it asks for a new one: otherwise those jobs would
// stay dispatched to a live worker that never heard of them.
func (r *retryJobs) Dispatch(ctx context.Context, p stores.DispatchParams) (js []*stores.Job, err error) {
	lost := false
	err = retry(ctx, func() error {
		if lost && p.WorkerID != "" {
			found, ferr := r.dispatchedTo(ctx, p)
			if ferr != nil {
				return ferr
			}
			if len(found) > 0 {
				RetryStats.Reconciled.Add(1)
				js = found
				return nil
			}
		}
		js, err = r.JobStore.Dispatch(ctx, p)
		lost = lost || Transient(ctx, err)
		return err
	})
	return js, err
}

func (r *retryJobs) dispatchedTo(ctx context.Context, p stores.DispatchParams) ([]*stores.Job, error) {
	now := stores.NormalizeTime(p.Now)
	var out []*stores.Job
	status := stores.StatusDispatched
	if p.Start {
		status = stores.StatusRunning
	}
	q := stores.JobQuery{Statuses: []stores.JobStatus{status}, Queues: p.Queues, Limit: stores.MaxLimit}
	for {
		page, err := r.JobStore.Query(ctx, q)
		if err != nil {
			return nil, err
		}
		for _, j := range page.Jobs {
			if j.WorkerID == p.WorkerID && j.DispatchedAt.Equal(now) {
				out = append(out, j)
			}
		}
		if page.Next == "" {
			return out, nil
		}
		q.Cursor = page.Next
	}
}

// shows reports whether the job at ref now shows this write: the same
// attempt in status want, and at when that is set.
func (r *retryJobs) shows(ctx context.Context, ref stores.Ref, want stores.JobStatus, at func(*stores.Job) bool) (*stores.Job, bool) {
	var j *stores.Job
	var err error
	if retry(ctx, func() error { j, err = r.JobStore.Get(ctx, ref.ID); return err }) != nil {
		return nil, false
	}
	return j, j.Attempt == ref.Attempt && j.Status == want && (at == nil || at(j))
}

func (r *retryJobs) MarkRunning(ctx context.Context, ref stores.Ref, workerID string, now time.Time) (j *stores.Job, err error) {
	now = stores.NormalizeTime(now)
	err = retryAmbiguous(ctx, func() error { j, err = r.JobStore.MarkRunning(ctx, ref, workerID, now); return err }, func(err error) bool {
		if !errors.Is(err, stores.ErrConflict) {
			return false
		}
		got, ok := r.shows(ctx, ref, stores.StatusRunning, func(g *stores.Job) bool { return g.StartedAt.Equal(now) })
		j = got
		return ok
	})
	return j, err
}

func (r *retryJobs) terminal(ctx context.Context, ref stores.Ref, status stores.JobStatus, now time.Time, call func() error) error {
	now = stores.NormalizeTime(now)
	return retryAmbiguous(ctx, call, func(err error) bool {
		_, ok := r.shows(ctx, ref, status, func(g *stores.Job) bool { return g.CompletedAt.Equal(now) })
		return errors.Is(err, stores.ErrConflict) && ok
	})
}

func (r *retryJobs) Complete(ctx context.Context, ref stores.Ref, now time.Time) error {
	return r.terminal(ctx, ref, stores.StatusCompleted, now, func() error { return r.JobStore.Complete(ctx, ref, now) })
}

func (r *retryJobs) Fail(ctx context.Context, ref stores.Ref, msg string, now time.Time) error {
	return r.terminal(ctx, ref, stores.StatusFailed, now, func() error { return r.JobStore.Fail(ctx, ref, msg, now) })
}

func (r *retryJobs) TimeOut(ctx context.Context, ref stores.Ref, now time.Time) error {
	return r.terminal(ctx, ref, stores.StatusTimedOut, now, func() error { return r.JobStore.TimeOut(ctx, ref, now) })
}

// CompleteMany repeats a failed call; a ref that then conflicts because
// the lost call completed it counts as completed.
func (r *retryJobs) CompleteMany(ctx context.Context, refs []stores.Ref, now time.Time) (res []error, err error) {
	now = stores.NormalizeTime(now)
	lost := false
	err = retry(ctx, func() error {
		res, err = r.JobStore.CompleteMany(ctx, refs, now)
		if Transient(ctx, err) {
			lost = true
		}
		return err
	})
	if err == nil && lost {
		for i, e := range res {
			if errors.Is(e, stores.ErrConflict) {
				if _, ok := r.shows(ctx, refs[i], stores.StatusCompleted, func(g *stores.Job) bool { return g.CompletedAt.Equal(now) }); ok {
					RetryStats.Reconciled.Add(1)
					res[i] = nil
				}
			}
		}
	}
	return res, err
}

// MarkRunningMany repeats a failed call; a ref that then conflicts because
// the lost call marked it running counts as marked.
func (r *retryJobs) MarkRunningMany(ctx context.Context, refs []stores.Ref, workerID string, now time.Time) (res []error, err error) {
	now = stores.NormalizeTime(now)
	lost := false
	err = retry(ctx, func() error {
		res, err = r.JobStore.MarkRunningMany(ctx, refs, workerID, now)
		if Transient(ctx, err) {
			lost = true
		}
		return err
	})
	if err == nil && lost {
		for i, e := range res {
			if errors.Is(e, stores.ErrConflict) {
				if _, ok := r.shows(ctx, refs[i], stores.StatusRunning, func(g *stores.Job) bool { return g.StartedAt.Equal(now) }); ok {
					RetryStats.Reconciled.Add(1)
					res[i] = nil
				}
			}
		}
	}
	return res, err
}

func (r *retryJobs) Retry(ctx context.Context, ref stores.Ref, msg string, now time.Time) (j *stores.Job, retried bool, err error) {
	now = stores.NormalizeTime(now)
	err = retryAmbiguous(ctx, func() error { j, retried, err = r.JobStore.Retry(ctx, ref, msg, now); return err }, func(err error) bool {
		if !errors.Is(err, stores.ErrConflict) {
			return false
		}
		got, ok := r.shows(ctx, ref, stores.StatusPending, func(g *stores.Job) bool { return g.LastError == msg && g.WorkerID == "" })
		j, retried = got, ok
		return ok
	})
	return j, retried, err
}

func (r *retryJobs) MoveToDeadLetter(ctx context.Context, ref stores.Ref, msg string, now time.Time) (d *stores.DeadLetter, err error) {
	now = stores.NormalizeTime(now)
	err = retryAmbiguous(ctx, func() error { d, err = r.JobStore.MoveToDeadLetter(ctx, ref, msg, now); return err }, func(err error) bool {
		if !errors.Is(err, stores.ErrNotFound) && !errors.Is(err, stores.ErrConflict) {
			return false
		}
		d = r.findDeadLetter(ctx, ref, now)
		return d != nil
	})
	return d, err
}

func (r *retryJobs) findDeadLetter(ctx context.Context, ref stores.Ref, at time.Time) *stores.DeadLetter {
	dl := r.dl
	cursor := ""
	for range 10 { // newest first: a lost one is near the top
		var page stores.DeadLetterPage
		var err error
		if retry(ctx, func() error { page, err = dl.List(ctx, cursor, 100); return err }) != nil {
			return nil
		}
		for _, d := range page.DeadLetters {
			if d.Job.ID == ref.ID && d.Job.Attempt == ref.Attempt && d.FailedAt.Equal(at) {
				return d
			}
		}
		if page.Next == "" {
			return nil
		}
		cursor = page.Next
	}
	return nil
}

func (r *retryJobs) Cancel(ctx context.Context, id string, now time.Time) error {
	return retry(ctx, func() error { return r.JobStore.Cancel(ctx, id, now) })
}

// ClaimForFollower is idempotent for the winner (J6), so a plain repeat is
// safe.
func (r *retryJobs) ClaimForFollower(ctx context.Context, jobID, nodeID string) error {
	return retry(ctx, func() error { return r.JobStore.ClaimForFollower(ctx, jobID, nodeID) })
}

func (r *retryJobs) ByFollower(ctx context.Context, nodeID string, limit int) (js []*stores.Job, err error) {
	err = retry(ctx, func() error { js, err = r.JobStore.ByFollower(ctx, nodeID, limit); return err })
	return js, err
}

func (r *retryJobs) ReleaseFollower(ctx context.Context, nodeID string) (n int, err error) {
	err = retry(ctx, func() error { n, err = r.JobStore.ReleaseFollower(ctx, nodeID); return err })
	return n, err
}

func (r *retryJobs) Recover(ctx context.Context, p stores.RecoverParams) (res stores.RecoverResult, err error) {
	err = retry(ctx, func() error { res, err = r.JobStore.Recover(ctx, p); return err })
	return res, err
}

type retryHistory struct{ stores.HistoryStore }

func (r *retryHistory) Append(ctx context.Context, h *stores.JobHistory) error {
	return retryAmbiguous(ctx, func() error { return r.HistoryStore.Append(ctx, h) }, func(err error) bool {
		return errors.Is(err, stores.ErrAlreadyExists) // the id is the caller's: the lost call stored it
	})
}

func (r *retryHistory) AppendMany(ctx context.Context, rows []*stores.JobHistory) error {
	return retryAmbiguous(ctx, func() error { return r.HistoryStore.AppendMany(ctx, rows) }, func(err error) bool {
		return errors.Is(err, stores.ErrAlreadyExists) // all or none, ids fixed before the first try
	})
}

type retryLogs struct{ stores.LogStore }

func (r *retryLogs) Append(ctx context.Context, entries []*stores.LogEntry) error {
	return retryAmbiguous(ctx, func() error { return r.LogStore.Append(ctx, entries) }, func(err error) bool {
		return errors.Is(err, stores.ErrAlreadyExists) // all or none, ids fixed before the first try
	})
}

type retryWorkers struct{ stores.WorkerStore }

func (r *retryWorkers) Heartbeat(ctx context.Context, w *stores.Worker, now time.Time) (hb stores.Heartbeat, err error) {
	err = retry(ctx, func() error { hb, err = r.WorkerStore.Heartbeat(ctx, w, now); return err })
	return hb, err
}

func (r *retryWorkers) Dead(ctx context.Context, now time.Time, timeout time.Duration) (ws []*stores.Worker, err error) {
	err = retry(ctx, func() error { ws, err = r.WorkerStore.Dead(ctx, now, timeout); return err })
	return ws, err
}

func (r *retryWorkers) MarkOffline(ctx context.Context, id string) error {
	return retry(ctx, func() error { return r.WorkerStore.MarkOffline(ctx, id) })
}

func (r *retryWorkers) AdjustLoad(ctx context.Context, id string, delta int) (n int, err error) {
	err = retry(ctx, func() error { n, err = r.WorkerStore.AdjustLoad(ctx, id, delta); return err })
	return n, err
}

type retryNodes struct{ stores.NodeStore }

func (r *retryNodes) Heartbeat(ctx context.Context, n *stores.CoordinatorNode, now time.Time) (hb stores.Heartbeat, err error) {
	err = retry(ctx, func() error { hb, err = r.NodeStore.Heartbeat(ctx, n, now); return err })
	return hb, err
}

func (r *retryNodes) SetRole(ctx context.Context, id string, role stores.NodeRole) error {
	return retry(ctx, func() error { return r.NodeStore.SetRole(ctx, id, role) })
}

func (r *retryNodes) MarkOffline(ctx context.Context, id string) error {
	return retry(ctx, func() error { return r.NodeStore.MarkOffline(ctx, id) })
}

func (r *retryNodes) Dead(ctx context.Context, now time.Time, timeout time.Duration) (ns []*stores.CoordinatorNode, err error) {
	err = retry(ctx, func() error { ns, err = r.NodeStore.Dead(ctx, now, timeout); return err })
	return ns, err
}

func (r *retryNodes) AdjustJobCount(ctx context.Context, id string, delta int) (n int, err error) {
	err = retry(ctx, func() error { n, err = r.NodeStore.AdjustJobCount(ctx, id, delta); return err })
	return n, err
}

// AcquireLeadership is idempotent for the holder (W3: acquiring again gives
// the same lease back), so a plain repeat is safe.
func (r *retryNodes) AcquireLeadership(ctx context.Context, id string, now time.Time, ttl time.Duration) (l stores.Lease, err error) {
	err = retry(ctx, func() error { l, err = r.NodeStore.AcquireLeadership(ctx, id, now, ttl); return err })
	return l, err
}

func (r *retryNodes) RenewLeadership(ctx context.Context, id string, term int64, now time.Time, ttl time.Duration) (l stores.Lease, err error) {
	err = retry(ctx, func() error { l, err = r.NodeStore.RenewLeadership(ctx, id, term, now, ttl); return err })
	return l, err
}

func (r *retryNodes) ResignLeadership(ctx context.Context, id string, term int64) error {
	return retry(ctx, func() error { return r.NodeStore.ResignLeadership(ctx, id, term) })
}

type retryDeadLetters struct{ stores.DeadLetterStore }

func (r *retryDeadLetters) List(ctx context.Context, cursor string, limit int) (p stores.DeadLetterPage, err error) {
	err = retry(ctx, func() error { p, err = r.DeadLetterStore.List(ctx, cursor, limit); return err })
	return p, err
}

type retrySchedules[S stores.Schedule] struct{ stores.ScheduleStore[S] }

func (r *retrySchedules[S]) Register(ctx context.Context, s S) (out S, err error) {
	err = retry(ctx, func() error { out, err = r.ScheduleStore.Register(ctx, s); return err })
	return out, err
}

func (r *retrySchedules[S]) Get(ctx context.Context, id string) (s S, err error) {
	err = retry(ctx, func() error { s, err = r.ScheduleStore.Get(ctx, id); return err })
	return s, err
}

func (r *retrySchedules[S]) SetEnabled(ctx context.Context, id string, enabled bool) error {
	return retry(ctx, func() error { return r.ScheduleStore.SetEnabled(ctx, id, enabled) })
}

// Fire: a repeat after a lost reply conflicts (NextRun moved on); the
// schedule then shows this firing's NextRun and LastRun and its first job
// is stored.
func (r *retrySchedules[S]) Fire(ctx context.Context, f stores.Firing) error {
	fired := stores.NormalizeTime(f.FiredAt)
	next := stores.NormalizeTime(f.NextRun)
	return retryAmbiguous(ctx, func() error { return r.ScheduleStore.Fire(ctx, f) }, func(err error) bool {
		if !errors.Is(err, stores.ErrConflict) {
			return false
		}
		var s S
		var gerr error
		if retry(ctx, func() error { s, gerr = r.ScheduleStore.Get(ctx, f.ScheduleID); return gerr }) != nil {
			return false
		}
		fs := s.Fields()
		return fs.NextRun.Equal(next) && fs.LastRun.Equal(fired)
	})
}
