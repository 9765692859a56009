package stores

import (
	"encoding/json"
	"math"
	"time"
)

// JobStatus is the one status enum of a job, used by every store.
type JobStatus string

// Job statuses. A pending job whose ScheduledAt is in the future is
// "scheduled"; it becomes due when that time passes.
const (
	StatusPending    JobStatus = "pending"
	StatusDispatched JobStatus = "dispatched"
	StatusRunning    JobStatus = "running"
	StatusCompleted  JobStatus = "completed"
	StatusFailed     JobStatus = "failed"
	StatusTimedOut   JobStatus = "timed_out"
	StatusCancelled  JobStatus = "cancelled"
)

// JobStatuses lists every status, in lifecycle order.
var JobStatuses = []JobStatus{StatusPending, StatusDispatched, StatusRunning,
	StatusCompleted, StatusFailed, StatusTimedOut, StatusCancelled}

// Valid reports whether s is one of the defined statuses.
func (s JobStatus) Valid() bool {
	for _, v := range JobStatuses {
		if s == v {
			return true
		}
	}
	return false
}

// Terminal reports whether a job in status s will never run again:
// completed, failed, timed_out or cancelled.
func (s JobStatus) Terminal() bool {
	switch s {
	case StatusCompleted, StatusFailed, StatusTimedOut, StatusCancelled:
		return true
	}
	return false
}

// InFlight reports whether s is dispatched or running: the statuses whose
// transitions are conditional on the attempt token (J5).
func (s JobStatus) InFlight() bool { return s == StatusDispatched || s == StatusRunning }

// ScheduleType says which kind of schedule made a job.
type ScheduleType string

// Schedule types; the empty value means no schedule made the job.
const (
	ScheduleTypeNone     ScheduleType = ""
	ScheduleTypeCron     ScheduleType = "cron"
	ScheduleTypeInterval ScheduleType = "interval"
)

// RetryPolicy is an exponential backoff: the n-th retry (1-based) waits
// InitialDelay × Multiplier^(n-1), capped at MaxDelay when MaxDelay > 0 and
// always at MaxBackoff.
type RetryPolicy struct {
	InitialDelay time.Duration
	Multiplier   float64 // 0 means 1 (constant delay)
	MaxDelay     time.Duration
}

// MaxBackoff caps every retry delay, so a scheduled time never overflows.
const MaxBackoff = 365 * 24 * time.Hour

// Backoff returns the delay before retry number n (1-based).
func (p RetryPolicy) Backoff(n int) time.Duration {
	if n < 1 {
		n = 1
	}
	m := p.Multiplier
	if m == 0 {
		m = 1
	}
	d := float64(p.InitialDelay) * math.Pow(m, float64(n-1))
	if p.MaxDelay > 0 && d > float64(p.MaxDelay) {
		return p.MaxDelay
	}
	if d > float64(MaxBackoff) {
		return MaxBackoff
	}
	return time.Duration(d).Truncate(time.Millisecond)
}

// Job is one unit of work. Zero times mean "not set".
type Job struct {
	ID            string // UUID; the store generates a UUIDv7 when empty
	Type          string
	Queue         string
	Args          json.RawMessage // valid JSON; empty means none
	Status        JobStatus
	Priority      int // higher runs first
	CorrelationID string
	UniqueKey     string // optional; unique among non-terminal jobs (J1)

	CreatedAt    time.Time
	ScheduledAt  time.Time // zero: due at once
	DispatchedAt time.Time
	StartedAt    time.Time
	CompletedAt  time.Time // set when the job reaches a terminal status

	Timeout     time.Duration // 0: no timeout
	RetryCount  int
	MaxRetries  int
	RetryPolicy RetryPolicy
	LastError   string

	WorkerID        string
	FollowerNodeID  string
	ChannelsCleaned bool

	ScheduleID   string       // set when a schedule made the job
	ScheduleType ScheduleType // cron or interval, with ScheduleID
	ScheduleTick time.Time    // the schedule tick that made the job

	// Attempt is the fencing token of the job's current attempt: 0 before the
	// first dispatch, incremented by every dispatch. Transitions after
	// dispatch must present it (J5).
	Attempt int64
}

// Ref names one attempt of a job: the condition of every transition after
// dispatch (J5).
type Ref struct {
	ID      string
	Attempt int64
}

// Ref returns the reference to j's current attempt.
func (j *Job) Ref() Ref { return Ref{ID: j.ID, Attempt: j.Attempt} }

// CompletedBatch is what a worker reports for a batch of attempts that
// succeeded: the refs to complete at Now (J5) and the log lines and history
// rows the attempts wrote (L1). Logs and History may be empty.
type CompletedBatch struct {
	Refs    []Ref
	Logs    []*LogEntry
	History []*JobHistory
	Now     time.Time
}

// Due reports whether the pending job j may be dispatched at now.
func (j *Job) Due(now time.Time) bool {
	return j.Status == StatusPending && (j.ScheduledAt.IsZero() || !j.ScheduledAt.After(now))
}

// Clone returns a deep copy of j.
func (j *Job) Clone() *Job {
	c := *j
	c.Args = cloneBytes(j.Args)
	return &c
}

func cloneBytes(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte{}, b...)
}

// DispatchParams selects the jobs Dispatch moves (J4).
type DispatchParams struct {
	Queues   []string  // empty: every queue
	Limit    int       // 1..MaxLimit
	Now      time.Time // due at or before Now; becomes DispatchedAt
	WorkerID string    // optional: recorded on every dispatched job; required with Start
	// Start moves the jobs straight to running, StartedAt = Now, as
	// Dispatch and MarkRunning in one step: for a worker that takes its own
	// work and starts it at once (River's and asynq's model), one write per
	// job fewer. The jobs are then running on WorkerID, so Recover treats
	// them as running (J8): their Timeout counts from Now, and no
	// DispatchLease applies.
	Start bool
}

// RecoverParams selects the in-flight jobs Recover returns to the queue (J8).
type RecoverParams struct {
	Now time.Time
	// DispatchLease: a dispatched (not yet running) job whose DispatchedAt is
	// at or before Now-DispatchLease goes back to pending. 0 disables it.
	DispatchLease time.Duration
	// DeadWorkers: in-flight jobs of these workers are recovered whatever
	// their timeout.
	DeadWorkers []string
	// Limit bounds how many jobs one call recovers (1..MaxLimit).
	Limit int
}

// RecoverResult says what Recover did, by job id.
type RecoverResult struct {
	Requeued []string // back to pending (a running job also spends a retry)
	TimedOut []string // running past Timeout with no retry left: timed_out
}

// JobQuery filters and pages jobs (J10). Rows come in (CreatedAt, ID) order.
type JobQuery struct {
	Statuses      []JobStatus
	Queues        []string
	Types         []string
	CreatedAfter  time.Time // inclusive; zero: unbounded
	CreatedBefore time.Time // exclusive; zero: unbounded
	Cursor        string    // from JobPage.Next; empty: first page
	Limit         int       // 1..MaxLimit
}

// JobPage is one page of a JobQuery. Next is empty on the last page.
type JobPage struct {
	Jobs []*Job
	Next string
}
