package inmemory

import (
	"context"
	"fmt"
	"time"

	"github.com/google/btree"

	"github.com/orchestrix/persistence/abstractions/stores"
)

// scheduleTable holds the schedules of one kind (S1–S3).
type scheduleTable[S stores.Schedule] struct {
	byID   map[string]S
	byName *btree.BTreeG[S] // name order: List, GetByName
	// due orders enabled schedules by (NextRun, ID): Due reads its prefix.
	due *btree.BTreeG[S]
}

func newScheduleTable[S stores.Schedule]() *scheduleTable[S] {
	return &scheduleTable[S]{
		byID:   map[string]S{},
		byName: newTree(func(a, b S) bool { return a.Fields().Name < b.Fields().Name }),
		due: newTree(func(a, b S) bool {
			fa, fb := a.Fields(), b.Fields()
			return timeIDLess(fa.NextRun, fb.NextRun, fa.ID, fb.ID)
		}),
	}
}

// cloneSchedule deep-copies a schedule of either kind.
func cloneSchedule[S stores.Schedule](s S) S {
	switch v := any(s).(type) {
	case *stores.CronSchedule:
		return any(v.Clone()).(S)
	case *stores.IntervalSchedule:
		return any(v.Clone()).(S)
	}
	panic(fmt.Sprintf("inmemory: unknown schedule type %T", s))
}

// sameSpec reports whether two schedules tick alike (S1: re-registering an
// unchanged spec keeps NextRun and LastRun).
func sameSpec[S stores.Schedule](a, b S) bool {
	switch va := any(a).(type) {
	case *stores.CronSchedule:
		vb := any(b).(*stores.CronSchedule)
		return va.Expression == vb.Expression && va.TimeZone == vb.TimeZone
	case *stores.IntervalSchedule:
		vb := any(b).(*stores.IntervalSchedule)
		return va.Interval == vb.Interval
	}
	return false
}

// nameProbe returns a schedule that compares equal to the one named name
// in byName.
func nameProbe[S stores.Schedule](name string) S {
	var probe S
	switch any(probe).(type) {
	case *stores.CronSchedule:
		probe = any(&stores.CronSchedule{ScheduleFields: stores.ScheduleFields{Name: name}}).(S)
	case *stores.IntervalSchedule:
		probe = any(&stores.IntervalSchedule{ScheduleFields: stores.ScheduleFields{Name: name}}).(S)
	}
	return probe
}

func (t *scheduleTable[S]) byNameGet(name string) (S, bool) {
	return t.byName.Get(nameProbe[S](name))
}

func (t *scheduleTable[S]) index(s S) {
	t.byID[s.Fields().ID] = s
	t.byName.ReplaceOrInsert(s)
	if s.Fields().Enabled {
		t.due.ReplaceOrInsert(s)
	}
}

func (t *scheduleTable[S]) unindex(s S) {
	delete(t.byID, s.Fields().ID)
	t.byName.Delete(s)
	t.due.Delete(s)
}

// scheduleStore implements stores.ScheduleStore for one kind of schedule.
type scheduleStore[S stores.Schedule] struct {
	db    *db
	table func(*db) *scheduleTable[S]
	kind  stores.ScheduleType
}

var (
	_ stores.ScheduleStore[*stores.CronSchedule]     = scheduleStore[*stores.CronSchedule]{}
	_ stores.ScheduleStore[*stores.IntervalSchedule] = scheduleStore[*stores.IntervalSchedule]{}
)

// beginRead read-locks the state and returns this kind's table.
func (st scheduleStore[S]) beginRead(ctx context.Context) (*scheduleTable[S], error) {
	if err := st.db.rlock(ctx); err != nil {
		return nil, err
	}
	return st.table(st.db), nil
}

// begin locks the state and returns this kind's table.
func (st scheduleStore[S]) begin(ctx context.Context) (*scheduleTable[S], error) {
	if err := st.db.lock(ctx); err != nil {
		return nil, err
	}
	return st.table(st.db), nil
}

func (st scheduleStore[S]) notFound(id string) error {
	return notFound(string(st.kind)+" schedule", id)
}

// Register implements stores.ScheduleStore (S1).
func (st scheduleStore[S]) Register(ctx context.Context, s S) (S, error) {
	var zero S
	t, err := st.begin(ctx)
	if err != nil {
		return zero, err
	}
	defer st.db.mu.Unlock()
	s = cloneSchedule(s)
	f := s.Fields()
	if old, ok := t.byNameGet(f.Name); ok {
		of := old.Fields()
		f.ID, f.CreatedAt = of.ID, of.CreatedAt
		if sameSpec(old, s) {
			f.NextRun, f.LastRun = of.NextRun, of.LastRun
		}
		t.unindex(old)
	} else if _, taken := t.byID[f.ID]; taken {
		return zero, fmt.Errorf("%s schedule %s: %w", st.kind, f.ID, stores.ErrAlreadyExists)
	}
	t.index(s)
	return cloneSchedule(s), nil
}

// Get implements stores.ScheduleStore.
func (st scheduleStore[S]) Get(ctx context.Context, id string) (S, error) {
	var zero S
	t, err := st.beginRead(ctx)
	if err != nil {
		return zero, err
	}
	defer st.db.mu.RUnlock()
	s, ok := t.byID[id]
	if !ok {
		return zero, st.notFound(id)
	}
	return cloneSchedule(s), nil
}

// GetByName implements stores.ScheduleStore.
func (st scheduleStore[S]) GetByName(ctx context.Context, name string) (S, error) {
	var zero S
	t, err := st.beginRead(ctx)
	if err != nil {
		return zero, err
	}
	defer st.db.mu.RUnlock()
	s, ok := t.byNameGet(name)
	if !ok {
		return zero, fmt.Errorf("%s schedule named %q: %w", st.kind, name, stores.ErrNotFound)
	}
	return cloneSchedule(s), nil
}

// List implements stores.ScheduleStore: names after the cursor, in order.
func (st scheduleStore[S]) List(ctx context.Context, l stores.ScheduleList) ([]S, error) {
	t, err := st.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer st.db.mu.RUnlock()
	out := []S{}
	// Name+"\x00" is the smallest name after the cursor.
	t.byName.AscendGreaterOrEqual(nameProbe[S](l.Cursor+"\x00"), func(s S) bool {
		out = append(out, cloneSchedule(s))
		return len(out) < l.Limit
	})
	return out, nil
}

// SetEnabled implements stores.ScheduleStore.
func (st scheduleStore[S]) SetEnabled(ctx context.Context, id string, enabled bool) error {
	t, err := st.begin(ctx)
	if err != nil {
		return err
	}
	defer st.db.mu.Unlock()
	s, ok := t.byID[id]
	if !ok {
		return st.notFound(id)
	}
	t.unindex(s)
	s.Fields().Enabled = enabled
	t.index(s)
	return nil
}

// Remove implements stores.ScheduleStore.
func (st scheduleStore[S]) Remove(ctx context.Context, id string) error {
	t, err := st.begin(ctx)
	if err != nil {
		return err
	}
	defer st.db.mu.Unlock()
	s, ok := t.byID[id]
	if !ok {
		return st.notFound(id)
	}
	t.unindex(s)
	return nil
}

// Due implements stores.ScheduleStore (S2).
func (st scheduleStore[S]) Due(ctx context.Context, now time.Time, limit int) ([]S, error) {
	t, err := st.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer st.db.mu.RUnlock()
	var out []S
	t.due.Ascend(func(s S) bool {
		if s.Fields().NextRun.After(now) {
			return false
		}
		out = append(out, cloneSchedule(s))
		return len(out) < limit
	})
	return out, nil
}

// current returns the schedule if its NextRun is still seen (S3).
func (st scheduleStore[S]) current(t *scheduleTable[S], id string, seen time.Time) (S, error) {
	s, ok := t.byID[id]
	if !ok {
		var zero S
		return zero, st.notFound(id)
	}
	if nr := s.Fields().NextRun; !nr.Equal(seen) {
		var zero S
		return zero, fmt.Errorf("%s schedule %s: next run is %s, not %s: %w", st.kind, id,
			nr.Format(time.RFC3339Nano), seen.Format(time.RFC3339Nano), stores.ErrConflict)
	}
	return s, nil
}

func (t *scheduleTable[S]) advance(s S, next, lastRun time.Time) {
	t.unindex(s)
	s.Fields().NextRun, s.Fields().LastRun = next, lastRun
	t.index(s)
}

// Advance implements stores.ScheduleStore (S3): compare-and-set on NextRun.
func (st scheduleStore[S]) Advance(ctx context.Context, id string, seen, next, lastRun time.Time) error {
	t, err := st.begin(ctx)
	if err != nil {
		return err
	}
	defer st.db.mu.Unlock()
	s, err := st.current(t, id, seen)
	if err != nil {
		return err
	}
	t.advance(s, next, lastRun)
	return nil
}

// Fire implements stores.ScheduleStore (S3): the jobs are enqueued and the
// schedule advanced under one lock, after every check passed, so a firing
// happens whole or not at all.
func (st scheduleStore[S]) Fire(ctx context.Context, f stores.Firing) error {
	if err := ctx.Err(); err != nil { // before any work (E2)
		return err
	}
	rows := stageRows(f.Jobs)
	t, err := st.begin(ctx)
	if err != nil {
		return err
	}
	defer st.db.mu.Unlock()
	s, err := st.current(t, f.ScheduleID, f.SeenNextRun)
	if err != nil {
		return err
	}
	if err := st.db.jobs.insertAll(rows); err != nil {
		return fmt.Errorf("fire %s schedule %s: %w", st.kind, f.ScheduleID, err)
	}
	t.advance(s, f.NextRun, f.FiredAt)
	return nil
}
