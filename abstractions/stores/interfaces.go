package stores

import (
	"context"
	"time"
)

// JobStore holds jobs (J1–J10). Methods that change an in-flight job take a
// Ref and fail with ErrConflict, leaving the job unchanged, when the job is no
// longer at that attempt or no longer in flight (J5).
type JobStore interface {
	// Enqueue stores one job (J1) as given: the portable layer has filled
	// ID, Status (pending) and CreatedAt when empty. Any status is accepted,
	// which is how copy moves live state between backends. A duplicate ID,
	// a UniqueKey held by a non-terminal job, or a (ScheduleID, ScheduleTick)
	// pair held by a stored job is ErrAlreadyExists.
	Enqueue(ctx context.Context, job *Job) error
	// EnqueueMany stores every job or none (J1).
	EnqueueMany(ctx context.Context, jobs []*Job) error
	// Get returns a job by id, or ErrNotFound (J2).
	Get(ctx context.Context, id string) (*Job, error)
	// Pending returns due pending jobs, priority descending then created
	// ascending (J3).
	Pending(ctx context.Context, now time.Time, limit int) ([]*Job, error)
	// DueScheduled returns pending jobs with a ScheduledAt at or before now,
	// oldest ScheduledAt first (J3).
	DueScheduled(ctx context.Context, now time.Time, limit int) ([]*Job, error)
	// Dispatch atomically moves up to Limit due pending jobs of the given
	// queues (all when empty), in Pending order, to dispatched: DispatchedAt =
	// Now, Attempt+1, WorkerID = p.WorkerID when set; with p.Start to
	// running instead, StartedAt = Now as well. It returns them as stored.
	// No two concurrent callers receive the same job, none is lost (J4). A
	// driver that leaves Start's jobs dispatched still keeps the contract:
	// the portable layer then marks them running with MarkRunningMany, at
	// the cost of a second write.
	Dispatch(ctx context.Context, p DispatchParams) ([]*Job, error)
	// MarkRunning moves a dispatched job to running: StartedAt = now,
	// WorkerID = workerID when set (J5).
	MarkRunning(ctx context.Context, ref Ref, workerID string, now time.Time) (*Job, error)
	// MarkRunningMany moves a batch of dispatched jobs to running in one
	// call, as MarkRunning does for one (J5): StartedAt = now, WorkerID =
	// workerID when set. The result has one entry per ref: nil, or
	// ErrConflict/ErrNotFound for that ref, whose job is unchanged. A ref
	// given twice is one transition: its first entry decides, the others are
	// ErrConflict. The error reports a failure of the call.
	MarkRunningMany(ctx context.Context, refs []Ref, workerID string, now time.Time) ([]error, error)
	// Complete moves an in-flight job to completed, CompletedAt = now (J5).
	// A missing job is ErrNotFound; any other failed condition ErrConflict.
	Complete(ctx context.Context, ref Ref, now time.Time) error
	// CompleteMany completes a batch in one call, the hot path (J5). The
	// result has one entry per ref: nil, or ErrConflict/ErrNotFound for that
	// ref, whose job is unchanged. The error reports a failure of the call.
	CompleteMany(ctx context.Context, refs []Ref, now time.Time) ([]error, error)
	// Fail moves an in-flight job to failed: LastError = errMsg,
	// CompletedAt = now (J5).
	Fail(ctx context.Context, ref Ref, errMsg string, now time.Time) error
	// TimeOut moves an in-flight job to timed_out, CompletedAt = now (J5).
	TimeOut(ctx context.Context, ref Ref, now time.Time) error
	// Retry sends an in-flight job with retries left (RetryCount <
	// MaxRetries) back to pending: RetryCount+1, ScheduledAt = now +
	// RetryPolicy.Backoff(RetryCount+1), LastError = errMsg, WorkerID cleared,
	// Attempt kept. It returns the job and true. With no retry left it
	// returns the unchanged job and false (J7).
	Retry(ctx context.Context, ref Ref, errMsg string, now time.Time) (*Job, bool, error)
	// Cancel moves a non-terminal job to cancelled; ErrConflict when the job
	// is already terminal.
	Cancel(ctx context.Context, id string, now time.Time) error
	// MoveToDeadLetter atomically removes the job at ref (any status, same
	// Attempt) from the live set and stores a dead letter: a new ID, Job = the
	// job as stored, LastError = errMsg (the job's LastError when empty),
	// TotalAttempts = Attempt, FailedAt = now. History and logs stay (J7).
	MoveToDeadLetter(ctx context.Context, ref Ref, errMsg string, now time.Time) (*DeadLetter, error)

	// ClaimForFollower sets the follower of a job that has none; of N racing
	// nodes exactly one succeeds, the others get ErrConflict (J6). Claiming a
	// job the node already owns succeeds.
	ClaimForFollower(ctx context.Context, jobID, nodeID string) error
	// ByFollower returns the jobs (any status) a follower owns, in
	// (CreatedAt, ID) order.
	ByFollower(ctx context.Context, nodeID string, limit int) ([]*Job, error)
	// CountByFollower counts the jobs a follower owns.
	CountByFollower(ctx context.Context, nodeID string) (int, error)
	// ReleaseFollower clears the follower of every job a (dead) node owns
	// and returns how many it released.
	ReleaseFollower(ctx context.Context, nodeID string) (int, error)

	// Recover handles expired in-flight jobs in one call, oldest first, at
	// most Limit, each write conditional on the status and Attempt it read so
	// it never overrides a transition that won the race (J8):
	//   - dispatched with DispatchedAt <= Now-DispatchLease (lease > 0), or
	//     dispatched by a dead worker: back to pending, WorkerID cleared, no
	//     retry spent;
	//   - running with Timeout > 0 and StartedAt+Timeout <= Now, or running
	//     on a dead worker: as Retry when retries remain (LastError "timed
	//     out" or "worker lost"), else timed_out with CompletedAt = Now.
	Recover(ctx context.Context, p RecoverParams) (RecoverResult, error)

	// Uncleaned returns terminal jobs whose channels are not yet cleaned,
	// oldest CompletedAt first (J9).
	Uncleaned(ctx context.Context, limit int) ([]*Job, error)
	// MarkCleaned sets ChannelsCleaned on the given jobs; missing ids are
	// ignored (J9).
	MarkCleaned(ctx context.Context, ids []string) error
	// Purge deletes up to limit terminal jobs completed before the cut-off,
	// with their history and logs, and returns how many it deleted (J9).
	Purge(ctx context.Context, before time.Time, limit int) (int, error)

	// Query filters and pages jobs in (CreatedAt, ID) order; paging never
	// skips or repeats a row while rows are added (J10). Filters combine with
	// AND, the values of one list with OR. Next is Cursor{CreatedAt, ID} of
	// the last row when more rows follow, else empty.
	Query(ctx context.Context, q JobQuery) (JobPage, error)
}

// HistoryStore holds one row per job attempt (L1).
type HistoryStore interface {
	// Append stores one attempt; a duplicate id is ErrAlreadyExists.
	Append(ctx context.Context, h *JobHistory) error
	// AppendMany stores every attempt or none: a duplicate id, stored or
	// within rows, is ErrAlreadyExists and nothing is stored.
	AppendMany(ctx context.Context, rows []*JobHistory) error
	// ListByJob returns a job's attempts in attempt order (ties: StartedAt,
	// ID); an unknown job has none.
	ListByJob(ctx context.Context, jobID string) ([]*JobHistory, error)
	// Purge deletes up to limit rows with a CompletedAt before the cut-off.
	Purge(ctx context.Context, before time.Time, limit int) (int, error)
}

// LogStore holds job log lines (L1).
type LogStore interface {
	// Append stores the entries, all or none, in the order given; a
	// duplicate ID is ErrAlreadyExists.
	Append(ctx context.Context, entries []*LogEntry) error
	// List returns a job's entries in written order, one page at a time; the
	// cursor is the driver's own, Next is empty on the last page.
	List(ctx context.Context, jobID, cursor string, limit int) (LogPage, error)
	// Purge deletes up to limit entries with a Timestamp before the cut-off.
	Purge(ctx context.Context, before time.Time, limit int) (int, error)
}

// DeadLetterStore holds jobs that exhausted their retries (D1).
type DeadLetterStore interface {
	// Add stores a dead letter; a duplicate id is ErrAlreadyExists.
	Add(ctx context.Context, d *DeadLetter) error
	// Get returns a dead letter by id, or ErrNotFound.
	Get(ctx context.Context, id string) (*DeadLetter, error)
	// List pages dead letters newest FailedAt first (ties: ID descending);
	// the cursor is Cursor{FailedAt, ID} of the last row, empty at the end.
	List(ctx context.Context, cursor string, limit int) (DeadLetterPage, error)
	// Remove deletes a dead letter, or returns ErrNotFound.
	Remove(ctx context.Context, id string) error
	// Requeue atomically removes a dead letter and enqueues its job again
	// under the original job ID: status pending, RetryCount 0, LastError,
	// WorkerID, FollowerNodeID, ScheduledAt, DispatchedAt, StartedAt,
	// CompletedAt and ChannelsCleaned cleared, Attempt kept (fencing tokens
	// are never reused). A live job holding that ID or its UniqueKey is
	// ErrAlreadyExists and the dead letter stays.
	Requeue(ctx context.Context, id string, now time.Time) (*Job, error)
}

// ScheduleStore holds cron or interval schedules (S1–S3).
type ScheduleStore[S Schedule] interface {
	// Register creates a schedule, or updates the one with the same name,
	// and returns what is stored (S1). An update keeps ID and CreatedAt, and
	// keeps NextRun and LastRun when the spec (Expression and TimeZone, or
	// Interval) is unchanged, so re-registering at every boot never skips a
	// tick. A new schedule whose ID is taken is ErrAlreadyExists.
	Register(ctx context.Context, s S) (S, error)
	// Get returns a schedule by id, or ErrNotFound.
	Get(ctx context.Context, id string) (S, error)
	// GetByName returns a schedule by name, or ErrNotFound.
	GetByName(ctx context.Context, name string) (S, error)
	// List pages schedules in name order.
	List(ctx context.Context, l ScheduleList) ([]S, error)
	// SetEnabled enables or disables a schedule.
	SetEnabled(ctx context.Context, id string, enabled bool) error
	// Remove deletes a schedule, or returns ErrNotFound.
	Remove(ctx context.Context, id string) error
	// Due returns enabled schedules with NextRun at or before now, oldest
	// NextRun first (S2).
	Due(ctx context.Context, now time.Time, limit int) ([]S, error)
	// Advance sets NextRun and LastRun if NextRun still equals seen, else
	// returns ErrConflict and changes nothing (S3).
	Advance(ctx context.Context, id string, seen, next, lastRun time.Time) error
	// Fire enqueues the firing's jobs and advances the schedule (NextRun,
	// LastRun = FiredAt) in one atomic step (S3): ErrNotFound for a missing
	// schedule, ErrConflict when NextRun is no longer SeenNextRun, and a job
	// that cannot be enqueued fails the whole firing; in every error case
	// nothing changes.
	Fire(ctx context.Context, f Firing) error
}

// WorkerStore holds workers (W1, W2).
type WorkerStore interface {
	// Heartbeat registers the worker (active, RegisteredAt = the given one
	// or now) or updates its host, queues, max concurrency, load and
	// metadata, and sets LastHeartbeat to now. A draining worker stays
	// draining; an offline one becomes active again and learns it (W1).
	Heartbeat(ctx context.Context, w *Worker, now time.Time) (Heartbeat, error)
	// MarkDraining marks a worker draining; ErrNotFound when missing.
	MarkDraining(ctx context.Context, id string) error
	// MarkOffline marks a worker offline; ErrNotFound when missing.
	MarkOffline(ctx context.Context, id string) error
	// Remove deletes a worker; ErrNotFound when missing.
	Remove(ctx context.Context, id string) error
	// Get returns a worker, or ErrNotFound.
	Get(ctx context.Context, id string) (*Worker, error)
	// List returns every worker in ID order.
	List(ctx context.Context) ([]*Worker, error)
	// Available returns active workers of the queue below their max
	// concurrency, least loaded first, then by ID (W2).
	Available(ctx context.Context, queue string, limit int) ([]*Worker, error)
	// Dead returns workers not offline whose LastHeartbeat is before
	// now-timeout, oldest heartbeat first (W2).
	Dead(ctx context.Context, now time.Time, timeout time.Duration) ([]*Worker, error)
	// AdjustLoad adds delta to CurrentLoad atomically, never below zero, and
	// returns the new load; ErrNotFound when missing (W2).
	AdjustLoad(ctx context.Context, id string, delta int) (int, error)
}

// NodeStore holds coordinator nodes and the leadership lease (W1–W3).
type NodeStore interface {
	// Heartbeat registers the node (follower, JobCount 0, active, JoinedAt =
	// the given one or now) or updates its host, process id and metadata,
	// never its Role or JobCount, and sets LastHeartbeat to now. Draining
	// and offline work as for workers (W1).
	Heartbeat(ctx context.Context, n *CoordinatorNode, now time.Time) (Heartbeat, error)
	// SetRole records a node's role.
	SetRole(ctx context.Context, id string, role NodeRole) error
	// MarkDraining marks a node draining.
	MarkDraining(ctx context.Context, id string) error
	// MarkOffline marks a node offline.
	MarkOffline(ctx context.Context, id string) error
	// Remove deletes a node.
	Remove(ctx context.Context, id string) error
	// Get returns a node, or ErrNotFound.
	Get(ctx context.Context, id string) (*CoordinatorNode, error)
	// List returns every node in ID order.
	List(ctx context.Context) ([]*CoordinatorNode, error)
	// Dead returns nodes not offline whose LastHeartbeat is before
	// now-timeout (W2).
	Dead(ctx context.Context, now time.Time, timeout time.Duration) ([]*CoordinatorNode, error)
	// ActiveFollowers returns active nodes (every node is a follower, the
	// leader too) ordered by JobCount ascending, then ID (W2).
	ActiveFollowers(ctx context.Context, limit int) ([]*CoordinatorNode, error)
	// AdjustJobCount adds delta to JobCount atomically, never below zero, and
	// returns the new count (W2).
	AdjustJobCount(ctx context.Context, id string, delta int) (int, error)

	// AcquireLeadership takes the lease when it is free or expired at now:
	// Term = the greatest term ever issued + 1, AcquiredAt = now, ExpiresAt =
	// now+ttl. A lease valid at now held by another node is ErrConflict; the
	// holder acquiring again gets its lease back unchanged (W3).
	AcquireLeadership(ctx context.Context, nodeID string, now time.Time, ttl time.Duration) (Lease, error)
	// RenewLeadership extends the lease to now+ttl if nodeID holds term and
	// the lease has not expired at now; otherwise ErrConflict (W3).
	RenewLeadership(ctx context.Context, nodeID string, term int64, now time.Time, ttl time.Duration) (Lease, error)
	// ResignLeadership frees the lease if nodeID holds term (even expired);
	// otherwise ErrConflict. The term counter is kept (W3).
	ResignLeadership(ctx context.Context, nodeID string, term int64) error
	// CurrentLeader returns the lease valid at now, or ErrNotFound.
	CurrentLeader(ctx context.Context, now time.Time) (Lease, error)
}

// Backend is what a driver's Open returns: one connection to a backend that
// hands out every store. The *Store returned by Open wraps it, validating
// and normalising input before any Backend method runs, so a driver may
// assume valid arguments: UTC microsecond times, millisecond durations,
// canonical lowercase UUIDs, limits in 1..MaxLimit. A driver must not keep
// or modify the caller's values, must return copies the caller may modify,
// must return every time in UTC exactly as stored (zero stays zero), must
// honour ctx (E2) and be safe for concurrent use by many goroutines and
// processes (E4). Missing records are ErrNotFound unless a method says
// otherwise.
type Backend interface {
	Jobs() JobStore
	History() HistoryStore
	Cron() ScheduleStore[*CronSchedule]
	Intervals() ScheduleStore[*IntervalSchedule]
	Workers() WorkerStore
	Nodes() NodeStore
	Logs() LogStore
	DeadLetters() DeadLetterStore
	// Close releases the backend's resources. It is called once.
	Close() error
}

// Driver opens backends from a data source name. A driver registers itself
// with Register from an init function.
type Driver interface {
	Open(ctx context.Context, dsn string) (Backend, error)
}

// FreshEnqueuer is an optional JobStore ability: store a batch whose IDs
// cannot be stored yet, without looking for them. The portable layer calls
// EnqueueFresh instead of EnqueueMany when it generated every job's ID in
// that call: UUIDv7s unique within the process by construction and, across
// processes, by 62 random bits (RFC 9562 §6.9), the assumption every
// store that keys rows by generated UUIDs makes. Everything else of
// EnqueueMany holds (J1): all jobs or none, unique keys and schedule ticks
// checked.
type FreshEnqueuer interface {
	EnqueueFresh(ctx context.Context, jobs []*Job) error
}

// RecordedCompleter is an optional JobStore ability: Store.CompleteRecorded
// in one transaction. The batch's refs complete as CompleteMany completes
// them (J5), and its log lines and history rows are stored as
// LogStore.Append and HistoryStore.AppendMany store them (L1), all in one
// atomic step: when the call returns an error nothing of it is stored, and
// a crash part way leaves neither a history row without its completion nor
// a completion without its rows. A stale or missing ref is reported in its
// result entry, as CompleteMany reports it, and does not stop the rest:
// the records of that attempt are stored, since it ran.
type RecordedCompleter interface {
	CompleteRecorded(ctx context.Context, b CompletedBatch) ([]error, error)
}

// Pinger is an optional Backend ability: check that the backend is reachable.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Migrator is an optional Backend ability: a schema that is versioned and
// migrated explicitly.
type Migrator interface {
	// MigrationStatus lists every known migration and whether it is applied.
	MigrationStatus(ctx context.Context) ([]Migration, error)
	// Migrate applies every pending migration and returns the ones applied.
	Migrate(ctx context.Context) ([]Migration, error)
}

// Migration is one versioned schema change.
type Migration struct {
	Version   string
	Name      string
	Applied   bool
	AppliedAt time.Time
}
