package stores

import (
	"context"
	"time"

	"github.com/orchestrix/persistence/abstractions/schedule"
)

// scheduleStore validates every ScheduleStore call once for all drivers.
type scheduleStore[S Schedule] struct {
	s    *Store
	d    ScheduleStore[S]
	kind ScheduleType
}

// SpecOf returns the tick computation of a cron or interval schedule (S5),
// or an ErrInvalidArgument naming the bad field (S4).
func SpecOf[S Schedule](s S) (schedule.Spec, error) {
	switch v := any(s).(type) {
	case *CronSchedule:
		if v.Expression == "" {
			return nil, InvalidField("Expression", "must not be empty")
		}
		loc, err := loadZone(v.TimeZone)
		if err != nil {
			return nil, err
		}
		spec, err := schedule.Cron(v.Expression, loc)
		if err != nil {
			return nil, InvalidField("Expression", "%v", err)
		}
		return spec, nil
	case *IntervalSchedule:
		spec, err := schedule.Interval(v.Interval)
		if err != nil {
			return nil, InvalidField("Interval", "must be at least 1ms, got %s", v.Interval)
		}
		return spec, nil
	}
	return nil, InvalidField("schedule", "unknown schedule type %T", s)
}

func loadZone(name string) (*time.Location, error) {
	if name == "" || name == "UTC" {
		return time.UTC, nil
	}
	if name == "Local" {
		return nil, InvalidField("TimeZone", `"Local" depends on the machine; name an IANA zone such as "Europe/Berlin"`)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, InvalidField("TimeZone", "unknown IANA time zone %q", truncateForError(name))
	}
	return loc, nil
}

// NewFiring plans the firing of a due schedule at now under its misfire
// policy (S5) and returns the Firing to pass to Fire: one job per tick to
// fire, and the next run. A caller that gets ErrConflict from Fire lost the
// race to another coordinator (S3).
func NewFiring[S Schedule](s S, now time.Time) (Firing, error) {
	spec, err := SpecOf(s)
	if err != nil {
		return Firing{}, err
	}
	f := s.Fields()
	now = NormalizeTime(now)
	plan := schedule.PlanFiring(spec, f.NextRun, now, schedule.Policy(f.Misfire), f.MisfireLimit)
	typ := ScheduleTypeCron
	if _, ok := any(s).(*IntervalSchedule); ok {
		typ = ScheduleTypeInterval
	}
	firing := Firing{ScheduleID: f.ID, SeenNextRun: f.NextRun, NextRun: NormalizeTime(plan.Next), FiredAt: now}
	for _, tick := range plan.Ticks {
		firing.Jobs = append(firing.Jobs, &Job{
			Type: f.JobType, Queue: f.Queue, Args: cloneBytes(f.Args), CreatedAt: now,
			ScheduleID: f.ID, ScheduleType: typ, ScheduleTick: NormalizeTime(tick),
		})
	}
	return firing, nil
}

func (st *scheduleStore[S]) Register(ctx context.Context, s S) (S, error) {
	var zero S
	if err := st.s.check(ctx); err != nil {
		return zero, err
	}
	if any(s) == any(zero) {
		return zero, InvalidField("schedule", "must not be nil")
	}
	f := s.Fields()
	var c checker
	now := st.s.now()
	c.newID("ID", &f.ID)
	c.name("Name", f.Name)
	c.name("JobType", f.JobType)
	c.name("Queue", f.Queue)
	c.json("Args", f.Args)
	if f.Misfire == "" {
		f.Misfire = MisfireFireOnce
	} else if !f.Misfire.Valid() {
		c.fail("Misfire", "unknown misfire policy %q", truncateForError(string(f.Misfire)))
	}
	c.nonNegative("MisfireLimit", f.MisfireLimit)
	if f.CreatedAt.IsZero() {
		f.CreatedAt = now
	}
	c.time("CreatedAt", &f.CreatedAt)
	c.time("LastRun", &f.LastRun)
	c.time("NextRun", &f.NextRun)
	switch v := any(s).(type) {
	case *CronSchedule:
		if v.TimeZone == "" {
			v.TimeZone = "UTC"
		}
		c.text("Expression", v.Expression, MaxNameLen)
		c.text("TimeZone", v.TimeZone, MaxNameLen)
	case *IntervalSchedule:
		c.positive("Interval", &v.Interval)
	}
	if c.err != nil {
		return zero, c.err
	}
	spec, err := SpecOf(s)
	if err != nil {
		return zero, err
	}
	if f.NextRun.IsZero() {
		f.NextRun = NormalizeTime(spec.Next(now))
		if f.NextRun.IsZero() {
			return zero, InvalidField("Expression", "never fires within the next eight years")
		}
	}
	return st.d.Register(ctx, s)
}

func (st *scheduleStore[S]) Get(ctx context.Context, id string) (S, error) {
	var zero S
	if err := st.s.check(ctx); err != nil {
		return zero, err
	}
	var c checker
	c.id("id", &id)
	if c.err != nil {
		return zero, c.err
	}
	return st.d.Get(ctx, id)
}

func (st *scheduleStore[S]) GetByName(ctx context.Context, name string) (S, error) {
	var zero S
	if err := st.s.check(ctx); err != nil {
		return zero, err
	}
	var c checker
	c.name("name", name)
	if c.err != nil {
		return zero, c.err
	}
	return st.d.GetByName(ctx, name)
}

func (st *scheduleStore[S]) List(ctx context.Context, l ScheduleList) ([]S, error) {
	if err := st.s.check(ctx); err != nil {
		return nil, err
	}
	var c checker
	c.optName("Cursor", l.Cursor)
	c.limit("Limit", l.Limit)
	if c.err != nil {
		return nil, c.err
	}
	return st.d.List(ctx, l)
}

func (st *scheduleStore[S]) SetEnabled(ctx context.Context, id string, enabled bool) error {
	if err := st.s.check(ctx); err != nil {
		return err
	}
	var c checker
	c.id("id", &id)
	if c.err != nil {
		return c.err
	}
	return st.d.SetEnabled(ctx, id, enabled)
}

func (st *scheduleStore[S]) Remove(ctx context.Context, id string) error {
	if err := st.s.check(ctx); err != nil {
		return err
	}
	var c checker
	c.id("id", &id)
	if c.err != nil {
		return c.err
	}
	return st.d.Remove(ctx, id)
}

func (st *scheduleStore[S]) Due(ctx context.Context, now time.Time, limit int) ([]S, error) {
	if err := st.s.check(ctx); err != nil {
		return nil, err
	}
	var c checker
	c.now("now", &now)
	c.limit("limit", limit)
	if c.err != nil {
		return nil, c.err
	}
	return st.d.Due(ctx, now, limit)
}

func (st *scheduleStore[S]) Advance(ctx context.Context, id string, seen, next, lastRun time.Time) error {
	if err := st.s.check(ctx); err != nil {
		return err
	}
	var c checker
	c.id("id", &id)
	c.now("seen", &seen)
	c.now("next", &next)
	c.time("lastRun", &lastRun)
	if c.err == nil && !next.After(seen) {
		c.fail("next", "must be after seen (%s), got %s", seen.Format(time.RFC3339Nano), next.Format(time.RFC3339Nano))
	}
	if c.err != nil {
		return c.err
	}
	return st.d.Advance(ctx, id, seen, next, lastRun)
}

func (st *scheduleStore[S]) Fire(ctx context.Context, f Firing) error {
	if err := st.s.check(ctx); err != nil {
		return err
	}
	var c checker
	c.id("ScheduleID", &f.ScheduleID)
	c.now("SeenNextRun", &f.SeenNextRun)
	c.now("NextRun", &f.NextRun)
	if c.err == nil && !f.NextRun.After(f.SeenNextRun) {
		c.fail("NextRun", "must be after SeenNextRun (%s), got %s", f.SeenNextRun.Format(time.RFC3339Nano), f.NextRun.Format(time.RFC3339Nano))
	}
	now := st.s.now()
	if f.FiredAt.IsZero() {
		f.FiredAt = now
	}
	c.time("FiredAt", &f.FiredAt)
	if len(f.Jobs) > MaxBatch {
		c.fail("Jobs", "has %d entries, the limit is %d", len(f.Jobs), MaxBatch)
	}
	for i, j := range f.Jobs {
		if j == nil {
			c.fail(indexed("Jobs", i), "must not be nil")
			continue
		}
		if j.ScheduleID == "" && j.ScheduleType == ScheduleTypeNone {
			j.ScheduleID, j.ScheduleType = f.ScheduleID, st.kind
		}
		c.job(at("Jobs", i), j, now)
		if c.err == nil && (j.ScheduleID != f.ScheduleID || j.ScheduleType != st.kind) {
			c.fail(indexed("Jobs", i)+".ScheduleID", "must be the fired schedule %s of type %s", f.ScheduleID, st.kind)
		}
	}
	if c.err != nil {
		return c.err
	}
	return st.d.Fire(ctx, f)
}
