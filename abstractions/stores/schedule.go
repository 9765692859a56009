package stores

import (
	"encoding/json"
	"time"
)

// MisfirePolicy says what a schedule found late by more than one period does
// (S5).
type MisfirePolicy string

// Misfire policies.
const (
	// MisfireFireOnce fires once now, then continues from the next future tick.
	MisfireFireOnce MisfirePolicy = "fire_once"
	// MisfireSkip fires nothing for the missed ticks and waits for the next
	// future tick.
	MisfireSkip MisfirePolicy = "skip"
	// MisfireFireAll fires every missed tick, at most MisfireLimit of them.
	MisfireFireAll MisfirePolicy = "fire_all"
)

// Valid reports whether p is a defined policy. The empty policy means
// MisfireFireOnce.
func (p MisfirePolicy) Valid() bool {
	return p == "" || p == MisfireFireOnce || p == MisfireSkip || p == MisfireFireAll
}

// DefaultMisfireLimit bounds MisfireFireAll when MisfireLimit is 0.
const DefaultMisfireLimit = 100

// ScheduleFields are the fields cron and interval schedules share.
type ScheduleFields struct {
	ID           string // UUID; generated when empty
	Name         string // unique among schedules of one kind
	JobType      string
	Queue        string
	Args         json.RawMessage
	NextRun      time.Time // computed from the spec when zero
	LastRun      time.Time
	Enabled      bool
	CreatedAt    time.Time
	Misfire      MisfirePolicy
	MisfireLimit int // bound for MisfireFireAll; 0 means DefaultMisfireLimit
}

// CronSchedule fires a job at every tick of a cron expression, evaluated in
// TimeZone (an IANA name; empty means UTC).
type CronSchedule struct {
	ScheduleFields
	Expression string
	TimeZone   string
}

// IntervalSchedule fires a job every Interval.
type IntervalSchedule struct {
	ScheduleFields
	Interval time.Duration
}

// Fields returns the shared fields, so generic code can reach them.
func (s *CronSchedule) Fields() *ScheduleFields { return &s.ScheduleFields }

// Fields returns the shared fields, so generic code can reach them.
func (s *IntervalSchedule) Fields() *ScheduleFields { return &s.ScheduleFields }

// Clone returns a deep copy.
func (s *CronSchedule) Clone() *CronSchedule {
	c := *s
	c.Args = cloneBytes(s.Args)
	return &c
}

// Clone returns a deep copy.
func (s *IntervalSchedule) Clone() *IntervalSchedule {
	c := *s
	c.Args = cloneBytes(s.Args)
	return &c
}

// Schedule is the type set of schedules a ScheduleStore holds.
type Schedule interface {
	*CronSchedule | *IntervalSchedule
	Fields() *ScheduleFields
}

// Firing is one atomic fire of a schedule (S3): the jobs are enqueued and the
// schedule advanced from SeenNextRun to NextRun in one step, or nothing
// happens. Of N coordinators firing the same tick, exactly one succeeds; the
// others get ErrConflict.
type Firing struct {
	ScheduleID  string
	SeenNextRun time.Time // the NextRun the caller read
	NextRun     time.Time // the new NextRun
	FiredAt     time.Time // becomes LastRun
	Jobs        []*Job    // may be empty (MisfireSkip)
}

// ScheduleList pages schedules in name order.
type ScheduleList struct {
	Cursor string // the last name of the previous page; empty: first page
	Limit  int    // 1..MaxLimit
}
