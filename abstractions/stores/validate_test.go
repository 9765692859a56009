package stores

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// recordingBackend records what reached the driver: validation must stop
// bad input before it.
type recordingBackend struct {
	nopBackend
	jobs *recordingJobs
}

type recordingJobs struct {
	JobStore
	enqueued []*Job
}

func (r *recordingJobs) Enqueue(_ context.Context, j *Job) error {
	r.enqueued = append(r.enqueued, j)
	return nil
}

func (r *recordingJobs) Dispatch(context.Context, DispatchParams) ([]*Job, error) { return nil, nil }

func (b recordingBackend) Jobs() JobStore { return b.jobs }

func newRecording() (*Store, *recordingJobs) {
	rj := &recordingJobs{}
	return Wrap("recording", recordingBackend{jobs: rj}), rj
}

func validJob() *Job {
	return &Job{Type: "email", Queue: "default", Args: []byte(`{"to":"a@b"}`)}
}

func TestEnqueueFillsDefaultsAndNormalises(t *testing.T) {
	s, rj := newRecording()
	j := validJob()
	j.ScheduledAt = time.Date(2030, 1, 2, 3, 4, 5, 123456789, time.FixedZone("X", 3600))
	j.Timeout = 1500*time.Millisecond + 999*time.Microsecond
	if err := s.Jobs().Enqueue(context.Background(), j); err != nil {
		t.Fatal(err)
	}
	if len(rj.enqueued) != 1 {
		t.Fatal("driver not called")
	}
	got := rj.enqueued[0]
	if got.ID == "" || got.Status != StatusPending || got.CreatedAt.IsZero() {
		t.Fatalf("defaults not filled: %+v", got)
	}
	if got.ScheduledAt.Location() != time.UTC || got.ScheduledAt.Nanosecond() != 123456000 {
		t.Fatalf("ScheduledAt not UTC µs: %v", got.ScheduledAt)
	}
	if got.Timeout != 1500*time.Millisecond {
		t.Fatalf("Timeout not truncated to ms: %v", got.Timeout)
	}
}

func TestValidationNamesTheFieldAndNeverReachesTheDriver(t *testing.T) {
	cases := []struct {
		field string
		mod   func(*Job)
	}{
		{"job.ID", func(j *Job) { j.ID = "not-a-uuid" }},
		{"job.Type", func(j *Job) { j.Type = "" }},
		{"job.Queue", func(j *Job) { j.Queue = strings.Repeat("q", MaxNameLen+1) }},
		{"job.Queue", func(j *Job) { j.Queue = "a\x00b" }},
		{"job.Queue", func(j *Job) { j.Queue = "\xff" }},
		{"job.Args", func(j *Job) { j.Args = []byte(`{"a":`) }},
		{"job.Status", func(j *Job) { j.Status = "exploded" }},
		{"job.Timeout", func(j *Job) { j.Timeout = -time.Second }},
		{"job.MaxRetries", func(j *Job) { j.MaxRetries = -1 }},
		{"job.RetryPolicy.Multiplier", func(j *Job) { j.RetryPolicy.Multiplier = -2 }},
		{"job.ScheduledAt", func(j *Job) { j.ScheduledAt = time.Date(1969, 1, 1, 0, 0, 0, 0, time.UTC) }},
		{"job.ScheduleType", func(j *Job) { j.ScheduleType = ScheduleTypeCron }},
	}
	for _, c := range cases {
		s, rj := newRecording()
		j := validJob()
		c.mod(j)
		err := s.Jobs().Enqueue(context.Background(), j)
		if !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("%s: err = %v, want ErrInvalidArgument", c.field, err)
			continue
		}
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != c.field || !strings.Contains(err.Error(), c.field) {
			t.Errorf("error %q does not name %s", err, c.field)
		}
		if len(rj.enqueued) != 0 {
			t.Errorf("%s: invalid job reached the driver", c.field)
		}
	}
}

func TestLimitsAreChecked(t *testing.T) {
	s, _ := newRecording()
	ctx := context.Background()
	now := time.Now()
	for _, n := range []int{0, -1, MaxLimit + 1, 1 << 31} {
		_, err := s.Jobs().Dispatch(ctx, DispatchParams{Limit: n, Now: now})
		if !errors.Is(err, ErrInvalidArgument) || !strings.Contains(err.Error(), "Limit") {
			t.Errorf("Dispatch limit %d: %v", n, err)
		}
	}
	if _, err := s.Jobs().Dispatch(ctx, DispatchParams{Limit: 1}); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("Dispatch without Now: %v", err)
	}
}

func TestCancelledContextIsHonoured(t *testing.T) {
	s, rj := newRecording()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Jobs().Enqueue(ctx, validJob()); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if len(rj.enqueued) != 0 {
		t.Fatal("driver called with a cancelled context")
	}
}

func TestScheduleValidation(t *testing.T) {
	cases := []struct {
		field string
		s     *CronSchedule
	}{
		{"Expression", &CronSchedule{Expression: "61 * * * *"}},
		{"Expression", &CronSchedule{Expression: ""}},
		{"TimeZone", &CronSchedule{Expression: "* * * * *", TimeZone: "Mars/Olympus"}},
		{"TimeZone", &CronSchedule{Expression: "* * * * *", TimeZone: "Local"}},
	}
	for _, c := range cases {
		c.s.Name, c.s.JobType, c.s.Queue = "n", "t", "q"
		if _, err := SpecOf(c.s); !errors.Is(err, ErrInvalidArgument) || !strings.Contains(err.Error(), c.field) {
			t.Errorf("%+v: err = %v, want ErrInvalidArgument naming %s", c.s, err, c.field)
		}
	}
	for _, d := range []time.Duration{0, -time.Second, time.Microsecond} {
		if _, err := SpecOf(&IntervalSchedule{Interval: d}); !errors.Is(err, ErrInvalidArgument) || !strings.Contains(err.Error(), "Interval") {
			t.Errorf("interval %v: err = %v", d, err)
		}
	}
}

func TestBackoff(t *testing.T) {
	p := RetryPolicy{InitialDelay: time.Second, Multiplier: 2, MaxDelay: 10 * time.Second}
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 10 * time.Second, 10 * time.Second}
	for i, w := range want {
		if got := p.Backoff(i + 1); got != w {
			t.Errorf("Backoff(%d) = %v, want %v", i+1, got, w)
		}
	}
	if got := (RetryPolicy{InitialDelay: time.Second}).Backoff(5); got != time.Second {
		t.Errorf("constant backoff = %v", got)
	}
	if got := (RetryPolicy{InitialDelay: time.Hour, Multiplier: 1000}).Backoff(60); got != MaxBackoff {
		t.Errorf("overflowing backoff = %v, want MaxBackoff", got)
	}
}

// TestBatchErrorsNameTheElementAndField: a bad element of a batch is named
// with its index and field, and a field checked after a nested value is
// not named as part of it.
func TestBatchErrorsNameTheElementAndField(t *testing.T) {
	ctx := context.Background()
	s, _ := newRecording()
	good, bad := validJob(), validJob()
	bad.Queue = ""
	check := func(err error, field string) {
		t.Helper()
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != field {
			t.Errorf("err = %v, want a FieldError naming %s", err, field)
		}
	}
	check(s.Jobs().EnqueueMany(ctx, []*Job{good, validJob(), bad}), "jobs[2].Queue")
	_, err := s.Jobs().CompleteMany(ctx, []Ref{{ID: NewID(), Attempt: 1}, {ID: NewID()}}, time.Now())
	check(err, "refs[1].Attempt")
	check(s.Logs().Append(ctx, []*LogEntry{{JobID: NewID(), Level: "info"}, {JobID: "x"}}), "entries[1].JobID")
	check(s.History().AppendMany(ctx, []*JobHistory{{JobID: NewID(), Attempt: 0}}), "rows[0].Attempt")
	fired := validJob()
	fired.ScheduleID, fired.ScheduleType = NewID(), ScheduleTypeCron // not the fired schedule
	now := time.Now()
	err = s.Cron().Fire(ctx, Firing{ScheduleID: NewID(), SeenNextRun: now, NextRun: now.Add(time.Minute), Jobs: []*Job{fired}})
	check(err, "Jobs[0].ScheduleID")
}

// The canonical-form shortcut of checker.id must give what uuid.Parse and
// String give, and fail exactly where Parse fails.
func TestIDShortcutMatchesParse(t *testing.T) {
	for _, in := range []string{
		"0190d6f8-7a3b-7c4d-8e5f-6a7b8c9d0e1f", "0190D6F8-7A3B-7C4D-8E5F-6A7B8C9D0E1F",
		"{0190d6f8-7a3b-7c4d-8e5f-6a7b8c9d0e1f}", "urn:uuid:0190d6f8-7a3b-7c4d-8e5f-6a7b8c9d0e1f",
		"0190d6f87a3b7c4d8e5f6a7b8c9d0e1f", "0190d6f8-7a3b-7c4d-8e5f-6a7b8c9d0e1g",
		"0190d6f8x7a3b-7c4d-8e5f-6a7b8c9d0e1f", "ffffffff-ffff-ffff-ffff-ffffffffffff",
		"00000000-0000-0000-0000-000000000000", "0190d6f8-7a3b-7c4d-8e5f-6a7b8c9d0e1", "",
	} {
		var c checker
		got := in
		c.id("id", &got)
		u, err := uuid.Parse(in)
		switch {
		case in == "":
			if c.err == nil {
				t.Errorf("id(%q) passed", in)
			}
		case err != nil:
			if c.err == nil {
				t.Errorf("id(%q) passed, Parse fails: %v", in, err)
			}
		case c.err != nil || got != u.String():
			t.Errorf("id(%q) = %q, %v; want %q", in, got, c.err, u.String())
		}
	}
}

// canonicalUUID accepts exactly what uuid.Parse accepts and String gives
// back unchanged.
func TestCanonicalUUID(t *testing.T) {
	id := NewID()
	for i := range len(id) {
		for _, c := range []byte{'-', 'g', 'A', 'F', '0', 'f', '{', ' ', 0, 0xff} {
			b := []byte(id)
			b[i] = c
			s := string(b)
			u, err := uuid.Parse(s)
			want := err == nil && u.String() == s
			if got := canonicalUUID(s); got != want {
				t.Fatalf("canonicalUUID(%q) = %v, want %v", s, got, want)
			}
		}
	}
	for _, s := range []string{"", id[:35], id + "0", strings.ToUpper(id), "urn:uuid:" + id, "{" + id + "}"} {
		if canonicalUUID(s) {
			t.Fatalf("canonicalUUID(%q) = true", s)
		}
	}
	if !canonicalUUID(id) {
		t.Fatalf("canonicalUUID(%q) = false", id)
	}
}
