package inmemory

import (
	"context"
	"testing"
	"time"

	"github.com/orchestrix/persistence/abstractions/stores"
)

// L1: logs come back in written order, page by page, whatever their
// timestamps; purge goes by timestamp.
func TestL1_LogsWrittenOrderPagingAndPurge(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t)
	job := stores.NewID()
	var written []string
	for i := range 10 {
		e := &stores.LogEntry{JobID: job, Timestamp: at(time.Duration(10-i) * time.Second), Message: "m"}
		must(t, s.Logs().Append(ctx, []*stores.LogEntry{e}))
		written = append(written, e.ID)
	}
	other := &stores.LogEntry{JobID: stores.NewID(), Timestamp: at(0)}
	must(t, s.Logs().Append(ctx, []*stores.LogEntry{other}))
	dup := &stores.LogEntry{ID: written[0], JobID: job}
	fresh := &stores.LogEntry{JobID: job}
	wantErr(t, s.Logs().Append(ctx, []*stores.LogEntry{fresh, dup}), stores.ErrAlreadyExists)

	var got []string
	cursor := ""
	for {
		p, err := s.Logs().List(ctx, job, cursor, 3)
		must(t, err)
		for _, e := range p.Entries {
			got = append(got, e.ID)
		}
		if p.Next == "" {
			break
		}
		cursor = p.Next
	}
	if len(got) != len(written) {
		t.Fatalf("listed %d entries, want %d (the failed batch must add none)", len(got), len(written))
	}
	for i := range got {
		if got[i] != written[i] {
			t.Fatalf("entry %d = %s, want %s", i, got[i], written[i])
		}
	}
	_, err := s.Logs().List(ctx, job, "not-a-cursor", 3)
	wantErr(t, err, stores.ErrInvalidArgument)

	n, err := s.Logs().Purge(ctx, at(5*time.Second), 100)
	must(t, err)
	if n != 5 { // timestamps 1s..4s of job, and 0s of other
		t.Fatalf("Purge = %d, want 5", n)
	}
	p, _ := s.Logs().List(ctx, job, "", 100)
	if len(p.Entries) != 6 || p.Entries[0].ID != written[0] {
		t.Fatalf("after purge %d entries remain", len(p.Entries))
	}
}

func TestL1_HistoryOrderAndPurge(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t)
	job := stores.NewID()
	for _, a := range []int{3, 1, 2} {
		must(t, s.History().Append(ctx, &stores.JobHistory{JobID: job, Attempt: a, StartedAt: at(time.Duration(a) * time.Minute),
			CompletedAt: at(time.Duration(a)*time.Minute + time.Second), Status: stores.StatusFailed}))
	}
	running := &stores.JobHistory{JobID: job, Attempt: 4, StartedAt: at(4 * time.Minute)}
	must(t, s.History().Append(ctx, running))
	wantErr(t, s.History().Append(ctx, &stores.JobHistory{ID: running.ID, JobID: job, Attempt: 5}), stores.ErrAlreadyExists)
	rows, err := s.History().ListByJob(ctx, job)
	must(t, err)
	for i, h := range rows {
		if h.Attempt != i+1 {
			t.Fatalf("row %d has attempt %d", i, h.Attempt)
		}
	}
	n, err := s.History().Purge(ctx, at(time.Hour), 2)
	must(t, err)
	if n != 2 {
		t.Fatalf("Purge(limit 2) = %d", n)
	}
	n, _ = s.History().Purge(ctx, at(time.Hour), 100)
	if n != 1 {
		t.Fatalf("second Purge = %d, want 1 (the running attempt stays)", n)
	}
	rows, _ = s.History().ListByJob(ctx, job)
	if len(rows) != 1 || rows[0].ID != running.ID {
		t.Fatalf("remaining history = %+v", rows)
	}
}

// D1: newest FailedAt first (ties: ID descending), keyset paging.
func TestD1_DeadLetterListPaging(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t)
	var want []*stores.DeadLetter
	for i := range 7 {
		d := &stores.DeadLetter{Job: stores.Job{ID: stores.NewID(), Type: "t", Queue: "q"}, FailedAt: at(time.Duration(i/2) * time.Second)}
		must(t, s.DeadLetters().Add(ctx, d))
		want = append(want, d)
	}
	wantErr(t, s.DeadLetters().Add(ctx, want[0]), stores.ErrAlreadyExists)
	sortNewest := func(ds []*stores.DeadLetter) {
		for i := range ds {
			for j := i + 1; j < len(ds); j++ {
				if newestLess(ds[j], ds[i]) {
					ds[i], ds[j] = ds[j], ds[i]
				}
			}
		}
	}
	sortNewest(want)
	var got []string
	cursor := ""
	for {
		p, err := s.DeadLetters().List(ctx, cursor, 2)
		must(t, err)
		for _, d := range p.DeadLetters {
			got = append(got, d.ID)
		}
		if p.Next == "" {
			break
		}
		cursor = p.Next
	}
	if len(got) != len(want) {
		t.Fatalf("listed %d, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i].ID {
			t.Fatalf("row %d = %s, want %s", i, got[i], want[i].ID)
		}
	}
	must(t, s.DeadLetters().Remove(ctx, want[0].ID))
	wantErr(t, s.DeadLetters().Remove(ctx, want[0].ID), stores.ErrNotFound)
}

// After every row is gone, no index keeps an entry or an empty subtree:
// per-queue, per-worker and per-follower maps must not grow without bound.
func TestIndexesEmptyAfterEverythingIsGone(t *testing.T) {
	ctx := context.Background()
	s, b := open(t)
	for i := range 20 {
		j := newJob([]string{"a", "b", "c"}[i%3], 0, t0)
		j.FollowerNodeID = "n"
		j.UniqueKey = j.ID
		if i%2 == 0 {
			j.ScheduledAt = at(time.Second)
		}
		must(t, s.Jobs().Enqueue(ctx, j))
		must(t, s.Logs().Append(ctx, []*stores.LogEntry{{JobID: j.ID, Timestamp: t0}}))
		must(t, s.History().Append(ctx, &stores.JobHistory{JobID: j.ID, Attempt: 1, CompletedAt: t0}))
	}
	got, err := s.Jobs().Dispatch(ctx, stores.DispatchParams{Limit: 100, Now: at(time.Minute), WorkerID: "w"})
	must(t, err)
	for i, d := range got {
		if i%2 == 0 {
			_, err := s.Jobs().MarkRunning(ctx, d.Ref(), "", at(time.Minute))
			must(t, err)
		}
		must(t, s.Jobs().Fail(ctx, d.Ref(), "x", at(time.Minute)))
	}
	_, err = s.Workers().Heartbeat(ctx, &stores.Worker{ID: "w", Queues: []string{"a", "b"}, MaxConcurrency: 1}, t0)
	must(t, err)
	must(t, s.Workers().Remove(ctx, "w"))
	_, err = s.Nodes().Heartbeat(ctx, &stores.CoordinatorNode{ID: "n"}, t0)
	must(t, err)
	must(t, s.Nodes().Remove(ctx, "n"))
	n, err := s.Jobs().Purge(ctx, at(time.Hour), 1000)
	must(t, err)
	if n != 20 {
		t.Fatalf("Purge = %d, want 20", n)
	}
	d := b.db
	j := d.jobs
	sizes := map[string]int{
		"jobs.byID": len(j.byID), "jobs.byCreated": j.byCreated.Len(), "jobs.byStatus": len(j.byStatus),
		"jobs.uniqueKeys": len(j.uniqueKeys), "jobs.ticks": len(j.ticks), "jobs.ready": j.ready.Len(),
		"jobs.readyByQueue": len(j.readyByQueue), "jobs.scheduled": j.scheduled.Len(), "jobs.dispatched": j.dispatched.Len(),
		"jobs.runningDeadlines": j.runningDeadlines.Len(), "jobs.inFlightByWorker": len(j.inFlightByWorker),
		"jobs.byFollower": len(j.byFollower), "jobs.uncleaned": j.uncleaned.Len(), "jobs.finished": j.finished.Len(),
		"logs.rows": d.logs.rows.live(), "logs.ids": d.logs.ids.len(), "logs.byTime": d.logs.order.len(), "logs.text": d.logs.text.total,
		"logs.text.chunks": d.logs.text.held, "jobRecords": d.logs.byJob.recs.live(), "jobRecords.ids": d.logs.byJob.ids.len(),
		"history.rows": d.history.rows.live(), "history.ids": d.history.ids.len(), "history.finished": d.history.order.len(),
		"history.text": d.history.text.total, "history.text.chunks": d.history.text.held,
		"workers.byID": len(d.workers.byID), "workers.alive": d.workers.alive.Len(), "workers.available": len(d.workers.available),
		"nodes.byID": len(d.nodes.byID), "nodes.alive": d.nodes.alive.Len(), "nodes.active": d.nodes.active.Len(),
	}
	for name, n := range sizes {
		if n != 0 {
			t.Errorf("%s holds %d entries after everything was removed", name, n)
		}
	}
}

// L1: AppendMany stores every row or none.
func TestL1_HistoryAppendManyAllOrNothing(t *testing.T) {
	ctx := context.Background()
	s, b := open(t)
	job := stores.NewID()
	first := &stores.JobHistory{ID: stores.NewID(), JobID: job, Attempt: 1}
	must(t, s.History().Append(ctx, first))
	h := historyStore{b.db} // the concrete store: AppendMany is newer than some interface versions
	fresh := func(a int) *stores.JobHistory { return &stores.JobHistory{ID: stores.NewID(), JobID: job, Attempt: a} }
	wantErr(t, h.AppendMany(ctx, []*stores.JobHistory{fresh(2), {ID: first.ID, JobID: job, Attempt: 3}}), stores.ErrAlreadyExists)
	dup := fresh(2)
	wantErr(t, h.AppendMany(ctx, []*stores.JobHistory{dup, dup}), stores.ErrAlreadyExists)
	rows, _ := s.History().ListByJob(ctx, job)
	if len(rows) != 1 {
		t.Fatalf("failed batches stored rows: %d", len(rows))
	}
	must(t, h.AppendMany(ctx, []*stores.JobHistory{fresh(3), fresh(2)}))
	rows, _ = s.History().ListByJob(ctx, job)
	if len(rows) != 3 || rows[1].Attempt != 2 || rows[2].Attempt != 3 {
		t.Fatalf("history after AppendMany = %+v", rows)
	}
}
