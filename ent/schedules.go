package ent

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/orchestrix/persistence/abstractions/stores"
)

// scheduleKind is what differs between cron and interval schedules.
type scheduleKind[S stores.Schedule] struct {
	name string
	sql  scheduleSQL
	// extraArgs returns the kind's own column values.
	extraArgs func(S) []any
	// scan reads one row of the kind's columns.
	scan func(rowScanner) (S, error)
	// sameSpec reports whether two schedules tick alike.
	sameSpec func(a, b S) bool
}

var cronKind = scheduleKind[*stores.CronSchedule]{
	name:      "cron schedule",
	sql:       cronSQL,
	extraArgs: func(s *stores.CronSchedule) []any { return []any{s.Expression, s.TimeZone} },
	scan: func(sc rowScanner) (*stores.CronSchedule, error) {
		var s stores.CronSchedule
		err := scanScheduleFields(sc, &s.ScheduleFields, &s.Expression, &s.TimeZone)
		return &s, err
	},
	sameSpec: func(a, b *stores.CronSchedule) bool {
		return a.Expression == b.Expression && a.TimeZone == b.TimeZone
	},
}

var intervalKind = scheduleKind[*stores.IntervalSchedule]{
	name:      "interval schedule",
	sql:       intervalSQL,
	extraArgs: func(s *stores.IntervalSchedule) []any { return []any{ms(s.Interval)} },
	scan: func(sc rowScanner) (*stores.IntervalSchedule, error) {
		var (
			s        stores.IntervalSchedule
			interval int64
		)
		err := scanScheduleFields(sc, &s.ScheduleFields, &interval)
		s.Interval = fromMS(interval)
		return &s, err
	},
	sameSpec: func(a, b *stores.IntervalSchedule) bool { return a.Interval == b.Interval },
}

// scanScheduleFields reads the shared columns and then the kind's extra ones.
func scanScheduleFields(sc rowScanner, f *stores.ScheduleFields, extra ...any) error {
	var (
		args                []byte
		next, last, created nullTime
		misfire             string
	)
	dest := append([]any{&f.ID, &f.Name, &f.JobType, &f.Queue, &args, &next, &last, &f.Enabled, &created, &misfire, &f.MisfireLimit}, extra...)
	if err := sc.Scan(dest...); err != nil {
		return err
	}
	f.Args, f.NextRun, f.LastRun, f.CreatedAt = copyBytes(args), next.Time, last.Time, created.Time
	f.Misfire = stores.MisfirePolicy(misfire)
	return nil
}

// scheduleStore implements stores.ScheduleStore for one kind (S1–S3).
type scheduleStore[S stores.Schedule] struct {
	b    *backend
	kind scheduleKind[S]
}

func (s *scheduleStore[S]) notFound(id string) error {
	return fmt.Errorf("%s %s: %w", s.kind.name, id, stores.ErrNotFound)
}

// Register creates the schedule or updates the one with its name, in one
// transaction (S1). A concurrent first registration of the same name makes
// the loser retry as an update.
func (s *scheduleStore[S]) Register(ctx context.Context, sch S) (S, error) {
	var out S
	err := retryUniqueRace(func() error {
		return s.b.inTx(ctx, func(tx *sql.Tx) error {
			in := sch.Fields()
			byName := s.kind.sql.selectByName
			if s.b.cfg.Dialect == DialectPostgres {
				byName += " FOR UPDATE"
			}
			old, err := s.kind.scan(tx.QueryRowContext(ctx, byName, in.Name))
			if errors.Is(err, sql.ErrNoRows) {
				args := append([]any{in.ID, in.Name, in.JobType, in.Queue, bytesArg(in.Args), timeArg(in.NextRun),
					timeArg(in.LastRun), in.Enabled, in.CreatedAt.UTC(), string(in.Misfire), in.MisfireLimit},
					s.kind.extraArgs(sch)...)
				out, err = s.kind.scan(tx.QueryRowContext(ctx, s.kind.sql.insert, args...))
				return err
			}
			if err != nil {
				return err
			}
			next, last := in.NextRun, in.LastRun
			if s.kind.sameSpec(old, sch) {
				// Re-registering at boot never skips a tick.
				next, last = old.Fields().NextRun, old.Fields().LastRun
			}
			args := append([]any{old.Fields().ID, in.JobType, in.Queue, bytesArg(in.Args), timeArg(next), timeArg(last),
				in.Enabled, string(in.Misfire), in.MisfireLimit}, s.kind.extraArgs(sch)...)
			out, err = s.kind.scan(tx.QueryRowContext(ctx, s.kind.sql.update, args...))
			return err
		})
	})
	return out, err
}

// Get returns a schedule by id.
func (s *scheduleStore[S]) Get(ctx context.Context, id string) (S, error) {
	out, err := s.kind.scan(s.b.rdb.QueryRowContext(ctx, s.kind.sql.selectByID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return out, s.notFound(id)
	}
	return out, s.b.wrap(ctx, err)
}

// GetByName returns a schedule by name.
func (s *scheduleStore[S]) GetByName(ctx context.Context, name string) (S, error) {
	out, err := s.kind.scan(s.b.rdb.QueryRowContext(ctx, s.kind.sql.selectByName, name))
	if errors.Is(err, sql.ErrNoRows) {
		return out, fmt.Errorf("%s named %q: %w", s.kind.name, name, stores.ErrNotFound)
	}
	return out, s.b.wrap(ctx, err)
}

func (s *scheduleStore[S]) query(ctx context.Context, query string, args ...any) ([]S, error) {
	rows, err := s.b.rdb.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, s.b.wrap(ctx, err)
	}
	defer rows.Close()
	var out []S
	for rows.Next() {
		v, err := s.kind.scan(rows)
		if err != nil {
			return nil, s.b.wrap(ctx, err)
		}
		out = append(out, v)
	}
	return out, s.b.wrap(ctx, rows.Err())
}

// List pages schedules in name order.
func (s *scheduleStore[S]) List(ctx context.Context, l stores.ScheduleList) ([]S, error) {
	return s.query(ctx, s.kind.sql.selectPage, l.Cursor, l.Limit)
}

// SetEnabled enables or disables a schedule.
func (s *scheduleStore[S]) SetEnabled(ctx context.Context, id string, enabled bool) error {
	n, err := s.b.execCount(ctx, s.b.db, s.kind.sql.setEnabled, id, enabled)
	if err == nil && n == 0 {
		err = s.notFound(id)
	}
	return err
}

// Remove deletes a schedule.
func (s *scheduleStore[S]) Remove(ctx context.Context, id string) error {
	n, err := s.b.execCount(ctx, s.b.db, s.kind.sql.remove, id)
	if err == nil && n == 0 {
		err = s.notFound(id)
	}
	return err
}

// Due returns enabled schedules whose next run has come (S2).
func (s *scheduleStore[S]) Due(ctx context.Context, now time.Time, limit int) ([]S, error) {
	return s.query(ctx, s.kind.sql.selectDue, now, limit)
}

// advance is S3's compare-and-set; on failure it tells a missing schedule
// from a stale next run.
func (s *scheduleStore[S]) advance(ctx context.Context, ex execer, id string, seen, next, lastRun time.Time) error {
	n, err := s.b.execCount(ctx, ex, s.kind.sql.advance, id, seen, next, timeArg(lastRun))
	if err != nil || n == 1 {
		return err
	}
	var c int
	if err := ex.QueryRowContext(ctx, s.kind.sql.countID, id).Scan(&c); err != nil {
		return s.b.wrap(ctx, err)
	}
	if c == 0 {
		return s.notFound(id)
	}
	return fmt.Errorf("%s %s: next run is no longer %s: %w", s.kind.name, id, seen.Format(time.RFC3339Nano), stores.ErrConflict)
}

// Advance moves the next run if it still equals seen (S3).
func (s *scheduleStore[S]) Advance(ctx context.Context, id string, seen, next, lastRun time.Time) error {
	return s.advance(ctx, s.b.db, id, seen, next, lastRun)
}

// Fire advances the schedule and enqueues the firing's jobs in one
// transaction (S3). The advance goes first: on PostgreSQL it locks the
// schedule row, so of N coordinators firing one tick the others wait and
// then find the next run moved.
func (s *scheduleStore[S]) Fire(ctx context.Context, f stores.Firing) error {
	return s.b.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.advance(ctx, tx, f.ScheduleID, f.SeenNextRun, f.NextRun, f.FiredAt); err != nil {
			return err
		}
		return s.b.insertJobs(ctx, tx, f.Jobs)
	})
}
