package redis

import (
	"errors"
	"testing"
	"time"

	"github.com/orchestrix/persistence/abstractions/stores"
)

func TestSmoke(t *testing.T) {
	s, _ := openStore(t)
	ctx := ctxT(t)
	j := &stores.Job{Type: "t", Queue: "q{1}:x", Args: []byte(`{"a":"</b>"}`), Priority: 5, MaxRetries: 1,
		RetryPolicy: stores.RetryPolicy{InitialDelay: time.Second, Multiplier: 1.5}, CreatedAt: t0, Timeout: time.Minute}
	must(t, s.Jobs().Enqueue(ctx, j))
	got, err := s.Jobs().Get(ctx, j.ID)
	must(t, err)
	if got.Queue != j.Queue || string(got.Args) != string(j.Args) || got.Priority != 5 || !got.CreatedAt.Equal(t0) || got.RetryPolicy != j.RetryPolicy {
		t.Fatalf("got %+v", got)
	}
	if err := s.Jobs().Enqueue(ctx, &stores.Job{ID: j.ID, Type: "t", Queue: "q"}); !errors.Is(err, stores.ErrAlreadyExists) {
		t.Fatalf("dup: %v", err)
	}
	d, err := s.Jobs().Dispatch(ctx, stores.DispatchParams{Limit: 10, Now: t0, WorkerID: "w1", Queues: []string{"q{1}:x"}})
	must(t, err)
	if len(d) != 1 || d[0].Attempt != 1 || d[0].Status != stores.StatusDispatched {
		t.Fatalf("dispatch %+v", d)
	}
	r, err := s.Jobs().MarkRunning(ctx, d[0].Ref(), "", t0.Add(time.Second))
	must(t, err)
	rj, ok, err := s.Jobs().Retry(ctx, r.Ref(), "boom", t0.Add(2*time.Second))
	must(t, err)
	if !ok || rj.RetryCount != 1 || !rj.ScheduledAt.Equal(t0.Add(3*time.Second)) || rj.WorkerID != "" {
		t.Fatalf("retry %+v", rj)
	}
	p, err := s.Jobs().Pending(ctx, t0.Add(2*time.Second), 10)
	must(t, err)
	if len(p) != 0 {
		t.Fatalf("pending early: %d", len(p))
	}
	p, err = s.Jobs().Pending(ctx, t0.Add(3*time.Second), 10)
	must(t, err)
	if len(p) != 1 {
		t.Fatalf("pending: %d", len(p))
	}
	d, err = s.Jobs().Dispatch(ctx, stores.DispatchParams{Limit: 10, Now: t0.Add(4 * time.Second)})
	must(t, err)
	if len(d) != 1 || d[0].Attempt != 2 {
		t.Fatalf("dispatch2 %+v", d)
	}
	must(t, s.Jobs().Complete(ctx, d[0].Ref(), t0.Add(5*time.Second)))
	if err := s.Jobs().Complete(ctx, d[0].Ref(), t0.Add(5*time.Second)); !errors.Is(err, stores.ErrConflict) {
		t.Fatalf("complete twice: %v", err)
	}
	page, err := s.Jobs().Query(ctx, stores.JobQuery{Limit: 10})
	must(t, err)
	if len(page.Jobs) != 1 || page.Jobs[0].Status != stores.StatusCompleted {
		t.Fatalf("query %+v", page)
	}
	must(t, s.Logs().Append(ctx, []*stores.LogEntry{{JobID: j.ID, Message: "one"}, {JobID: j.ID, Message: "two"}}))
	lp, err := s.Logs().List(ctx, j.ID, "", 1)
	must(t, err)
	if len(lp.Entries) != 1 || lp.Next == "" || lp.Entries[0].Message != "one" {
		t.Fatalf("logs %+v", lp)
	}
	must(t, s.History().Append(ctx, &stores.JobHistory{JobID: j.ID, Attempt: 1, StartedAt: t0, CompletedAt: t0.Add(time.Second), Status: stores.StatusFailed}))
	n, err := s.Jobs().Purge(ctx, t0.Add(time.Hour), 10)
	must(t, err)
	if n != 1 {
		t.Fatalf("purge %d", n)
	}
	hs, err := s.History().ListByJob(ctx, j.ID)
	must(t, err)
	lp2, err := s.Logs().List(ctx, j.ID, "", 10)
	must(t, err)
	if len(hs) != 0 || len(lp2.Entries) != 0 {
		t.Fatalf("leftovers %d %d", len(hs), len(lp2.Entries))
	}
	// schedules and members
	cs, err := s.Cron().Register(ctx, &stores.CronSchedule{ScheduleFields: stores.ScheduleFields{Name: "n", JobType: "t", Queue: "q", Enabled: true}, Expression: "*/5 * * * *"})
	must(t, err)
	f, err := stores.NewFiring(cs, cs.NextRun.Add(time.Second))
	must(t, err)
	must(t, s.Cron().Fire(ctx, f))
	if err := s.Cron().Fire(ctx, f); !errors.Is(err, stores.ErrConflict) {
		t.Fatalf("fire twice: %v", err)
	}
	hb, err := s.Workers().Heartbeat(ctx, &stores.Worker{ID: "w1", Queues: []string{"a", "b"}, MaxConcurrency: 2}, t0)
	must(t, err)
	if !hb.Registered {
		t.Fatal("not registered")
	}
	av, err := s.Workers().Available(ctx, "b", 10)
	must(t, err)
	if len(av) != 1 {
		t.Fatalf("available %d", len(av))
	}
	l, err := s.Nodes().AcquireLeadership(ctx, "n1", t0, time.Minute)
	must(t, err)
	if l.Term != 1 {
		t.Fatalf("lease %+v", l)
	}
	if _, err := s.Nodes().AcquireLeadership(ctx, "n2", t0, time.Minute); !errors.Is(err, stores.ErrConflict) {
		t.Fatalf("acquire2: %v", err)
	}
}
