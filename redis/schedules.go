package redis

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/orchestrix/persistence/abstractions/stores"
	goredis "github.com/redis/go-redis/v9"
)

// scheduleStore implements stores.ScheduleStore for cron or interval
// schedules (S1–S3). keys is the job family followed by the kind's four
// schedule keys: Fire enqueues jobs and advances the schedule in one script.
type scheduleStore[S stores.Schedule] struct {
	b    *Backend
	keys []string
}

var (
	_ stores.ScheduleStore[*stores.CronSchedule]     = (*scheduleStore[*stores.CronSchedule])(nil)
	_ stores.ScheduleStore[*stores.IntervalSchedule] = (*scheduleStore[*stores.IntervalSchedule])(nil)
)

func (s *scheduleStore[S]) Register(ctx context.Context, sc S) (S, error) {
	var zero S
	v, err := s.b.run(ctx, scriptScheduleRegister, s.keys, marshal(encodeSchedule(sc)))
	if err != nil {
		return zero, err
	}
	return decodeSchedule[S](v)
}

func (s *scheduleStore[S]) Get(ctx context.Context, id string) (S, error) {
	var zero S
	raw, err := s.b.c.HGet(ctx, s.keys[kSch], id).Result()
	if errors.Is(err, goredis.Nil) {
		return zero, fmt.Errorf("%w: schedule %s", stores.ErrNotFound, id)
	}
	if err != nil {
		return zero, s.b.wrap(err, "get schedule")
	}
	return decodeSchedule[S](raw)
}

// list runs schedule_list.lua.
func (s *scheduleStore[S]) list(ctx context.Context, min, max string, count int) ([]S, error) {
	v, err := s.b.run(ctx, scriptScheduleList, []string{s.keys[kSch], s.keys[kSchNames], s.keys[kSchList]}, min, max, count)
	if err != nil {
		return nil, err
	}
	raws, err := replyList(v)
	if err != nil {
		return nil, err
	}
	out := make([]S, 0, len(raws))
	for _, raw := range raws {
		sc, err := decodeSchedule[S](raw)
		if err != nil {
			return nil, err
		}
		out = append(out, sc)
	}
	return out, nil
}

func (s *scheduleStore[S]) GetByName(ctx context.Context, name string) (S, error) {
	var zero S
	list, err := s.list(ctx, "["+name, "["+name, 1)
	if err != nil {
		return zero, err
	}
	if len(list) == 0 {
		return zero, fmt.Errorf("%w: schedule named %q", stores.ErrNotFound, name)
	}
	return list[0], nil
}

func (s *scheduleStore[S]) List(ctx context.Context, l stores.ScheduleList) ([]S, error) {
	min := "-"
	if l.Cursor != "" {
		min = "(" + l.Cursor
	}
	return s.list(ctx, min, "+", l.Limit)
}

func (s *scheduleStore[S]) update(ctx context.Context, id, op string, args ...any) error {
	_, err := s.b.run(ctx, scriptScheduleUpdate, s.keys, append([]any{id, op}, args...)...)
	return err
}

func (s *scheduleStore[S]) SetEnabled(ctx context.Context, id string, enabled bool) error {
	op := "disable"
	if enabled {
		op = "enable"
	}
	return s.update(ctx, id, op)
}

func (s *scheduleStore[S]) Remove(ctx context.Context, id string) error {
	return s.update(ctx, id, "remove")
}

func (s *scheduleStore[S]) Due(ctx context.Context, now time.Time, limit int) ([]S, error) {
	v, err := s.b.rangeGet(ctx, s.keys[kSchDue], s.keys[kSch], "-", "("+next(now), limit, false)
	if err != nil {
		return nil, err
	}
	out := make([]S, 0, len(v))
	for _, raw := range v {
		sc, err := decodeSchedule[S](raw)
		if err != nil {
			return nil, err
		}
		out = append(out, sc)
	}
	return out, nil
}

func (s *scheduleStore[S]) Advance(ctx context.Context, id string, seen, nextRun, lastRun time.Time) error {
	return s.update(ctx, id, "advance", tT(seen), tT(nextRun), optT(lastRun))
}

func (s *scheduleStore[S]) Fire(ctx context.Context, f stores.Firing) error {
	args := []any{f.ScheduleID, tT(f.SeenNextRun), tT(f.NextRun), tT(f.FiredAt)}
	for _, j := range f.Jobs {
		args = append(args, encodeJob(j))
	}
	_, err := s.b.run(ctx, scriptScheduleFire, s.keys, args...)
	return err
}
