package stores

import "time"

// JobHistory is one attempt of a job (L1).
type JobHistory struct {
	ID          string // UUID; generated when empty
	JobID       string
	Attempt     int // 1-based
	WorkerID    string
	StartedAt   time.Time
	CompletedAt time.Time
	Status      JobStatus // the status this attempt ended in
	Error       string
	Duration    time.Duration
}

// LogEntry is one log line of a job (L1). Entries of a job are returned in
// the order they were written.
type LogEntry struct {
	ID        string // UUID; generated when empty
	JobID     string
	Timestamp time.Time
	Level     string // free text such as "info" or "error"
	Message   string
	Exception string
}

// LogPage is one page of a job's log. Next is empty on the last page.
type LogPage struct {
	Entries []*LogEntry
	Next    string
}

// DeadLetter is a job that exhausted its retries (J7, D1). Job holds every
// field of the original job as it was when it left the live set.
type DeadLetter struct {
	ID            string // UUID; generated when empty
	Job           Job
	LastError     string
	TotalAttempts int
	FailedAt      time.Time
}

// Clone returns a deep copy of d.
func (d *DeadLetter) Clone() *DeadLetter {
	c := *d
	c.Job = *d.Job.Clone()
	return &c
}

// DeadLetterPage is one page of dead letters, newest first.
type DeadLetterPage struct {
	DeadLetters []*DeadLetter
	Next        string
}
