package inmemory

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/orchestrix/persistence/abstractions/stores"
)

// TestL1_RecordsBesideJobs: log lines and history rows have a lock of their
// own (recMu), so appends run beside Dispatch and CompleteMany. Workers run
// the whole cycle (enqueue, dispatch, a line and a row per job, complete;
// half of them with CompleteRecorded, which takes recMu and then mu)
// while job Purge removes completed jobs with their records (both locks),
// record Purge and reads run too. Afterwards every table is consistent,
// every job left has exactly its line and row, and a last Purge leaves no
// record at all: none was lost or orphaned by the two locks (L1, J9).
// Under -race it also proves nothing touches the records under mu alone.
func TestL1_RecordsBesideJobs(t *testing.T) {
	ctx := context.Background()
	s, b := open(t)
	const workers, rounds, batch = 4, 40, 50
	var stop atomic.Bool
	var wg, side sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			worker := fmt.Sprintf("w%d", w)
			for range rounds {
				jobs := make([]*stores.Job, batch)
				for i := range jobs {
					jobs[i] = &stores.Job{Type: "t", Queue: "q"}
				}
				if err := s.Jobs().EnqueueMany(ctx, jobs); err != nil {
					t.Error(err)
					return
				}
				got, err := s.Jobs().Dispatch(ctx, stores.DispatchParams{Queues: []string{"q"}, Limit: batch,
					Now: time.Now(), WorkerID: worker, Start: true})
				if err != nil {
					t.Error(err)
					return
				}
				entries := make([]*stores.LogEntry, len(got))
				rows := make([]*stores.JobHistory, len(got))
				refs := make([]stores.Ref, len(got))
				for i, j := range got {
					entries[i] = &stores.LogEntry{JobID: j.ID, Timestamp: time.Now(), Level: "info", Message: "ran " + j.ID}
					rows[i] = &stores.JobHistory{JobID: j.ID, Attempt: int(j.Attempt), WorkerID: worker, StartedAt: time.Now(),
						CompletedAt: time.Now(), Status: stores.StatusCompleted}
					refs[i] = j.Ref()
				}
				if w%2 == 1 { // one call: records under recMu, then completions under both
					if _, err := s.CompleteRecorded(ctx, stores.CompletedBatch{Refs: refs, Logs: entries, History: rows, Now: time.Now()}); err != nil {
						t.Error(err)
						return
					}
					continue
				}
				if err := errors.Join(s.Logs().Append(ctx, entries), s.History().AppendMany(ctx, rows)); err != nil {
					t.Error(err)
					return
				}
				if _, err := s.Jobs().CompleteMany(ctx, refs, time.Now()); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	side.Go(func() {
		for !stop.Load() {
			_, err := s.Jobs().Purge(ctx, time.Now().Add(-time.Millisecond), 20)
			_, err2 := s.Logs().Purge(ctx, t0, 10) // before every line: removes none
			_, err3 := s.History().Purge(ctx, t0, 10)
			if err := errors.Join(err, err2, err3); err != nil {
				t.Error(err)
				return
			}
		}
	})
	side.Go(func() {
		for !stop.Load() {
			page, err := s.Jobs().Query(ctx, stores.JobQuery{Queues: []string{"q"}, Limit: 5})
			if err != nil {
				t.Error(err)
				return
			}
			for _, j := range page.Jobs {
				if _, err := s.Logs().List(ctx, j.ID, "", 10); err != nil {
					t.Error(err)
				}
				if _, err := s.History().ListByJob(ctx, j.ID); err != nil {
					t.Error(err)
				}
			}
		}
	})
	wg.Wait()
	stop.Store(true)
	side.Wait()
	if t.Failed() {
		return
	}

	b.db.recMu.Lock()
	b.db.mu.Lock()
	err := errors.Join(b.db.jobs.verify(), verifyLogs(b.db.logs), verifyHistory(b.db.history), b.db.logs.byJob.verify())
	left, lines, attempts := len(b.db.jobs.byID), b.db.logs.rows.live(), b.db.history.rows.live()
	b.db.mu.Unlock()
	b.db.recMu.Unlock()
	must(t, err)
	if lines != left || attempts != left {
		t.Fatalf("%d jobs left hold %d log lines and %d history rows, want one each", left, lines, attempts)
	}
	page, err := s.Jobs().Query(ctx, stores.JobQuery{Queues: []string{"q"}, Limit: 100})
	must(t, err)
	for _, j := range page.Jobs {
		l, err := s.Logs().List(ctx, j.ID, "", 10)
		must(t, err)
		h, err := s.History().ListByJob(ctx, j.ID)
		must(t, err)
		if len(l.Entries) != 1 || l.Entries[0].Message != "ran "+j.ID || len(h) != 1 || h[0].Attempt != int(j.Attempt) {
			t.Fatalf("job %s: %d log lines, %d history rows", j.ID, len(l.Entries), len(h))
		}
	}
	if _, err := s.Jobs().Purge(ctx, time.Now().Add(time.Hour), workers*rounds*batch); err != nil {
		t.Fatal(err)
	}
	b.db.recMu.Lock()
	lines, attempts, byJob := b.db.logs.rows.live(), b.db.history.rows.live(), b.db.logs.byJob.recs.live()
	b.db.recMu.Unlock()
	if lines != 0 || attempts != 0 || byJob != 0 {
		t.Fatalf("after purging every job: %d log lines, %d history rows, %d job entries left", lines, attempts, byJob)
	}
}

// TestE1_CloseBesideRecordAppends: Close takes both locks, so appends
// racing with it either land before it or fail with ErrClosed, never touch
// the dropped tables.
func TestE1_CloseBesideRecordAppends(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				err := s.Logs().Append(ctx, []*stores.LogEntry{{JobID: stores.NewID(), Timestamp: time.Now(), Message: "m"}})
				if err == nil {
					_, err = s.History().ListByJob(ctx, stores.NewID())
				}
				if errors.Is(err, stores.ErrClosed) {
					return
				}
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	time.Sleep(10 * time.Millisecond)
	must(t, s.Close())
	wg.Wait()
}
