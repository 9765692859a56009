package inmemory

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/orchestrix/persistence/abstractions/stores"
)

// BenchmarkDispatch dispatches 10 jobs from a store holding N due pending
// jobs (and as many scheduled far in the future). The cost per op must not
// grow with N beyond the log factor of the index: run with -bench Dispatch
// and compare the ns/op of the sizes.
func BenchmarkDispatch(b *testing.B) {
	for _, n := range []int{1_000, 10_000, 100_000} {
		b.Run(fmt.Sprintf("pending=%d", n), func(b *testing.B) {
			ctx := context.Background()
			be := New()
			jobs := be.Jobs()
			batch := make([]*stores.Job, 0, 1000)
			flush := func() {
				if err := jobs.EnqueueMany(ctx, batch); err != nil {
					b.Fatal(err)
				}
				batch = batch[:0]
			}
			for i := range 2 * n {
				j := &stores.Job{ID: stores.NewID(), Type: "t", Queue: fmt.Sprintf("q%d", i%4), Status: stores.StatusPending,
					Priority: i % 7, CreatedAt: t0.Add(time.Duration(i) * time.Microsecond)}
				if i%2 == 1 {
					j.ScheduledAt = t0.Add(24 * time.Hour)
				}
				batch = append(batch, j)
				if len(batch) == cap(batch) {
					flush()
				}
			}
			flush()
			p := stores.DispatchParams{Limit: 10, Now: t0.Add(time.Hour)}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				got, err := jobs.Dispatch(ctx, p)
				if err != nil || len(got) != 10 {
					b.Fatalf("dispatched %d: %v", len(got), err)
				}
				// Put them back (outside the measured cost's growth: O(10 log N)).
				be.db.mu.Lock()
				for _, j := range got {
					sj := be.db.jobs.byID[j.ID]
					be.db.jobs.update(sj, func(j *stores.Job) { j.Status = stores.StatusPending })
				}
				be.db.mu.Unlock()
			}
		})
	}
}

// BenchmarkBurndownCycle is one batch of the work phase of `orchestrix-store
// bench --driver inmemory` per op, through the portable Store: Dispatch
// with Start and CompleteMany (lean); Dispatch, MarkRunningMany and
// CompleteMany (lean-mark-running, the bench's --mark-running); lean plus
// one Logs().Append of a line per job and one History().AppendMany of a
// row per job with their IDs left empty (full), as the bench's client
// builds them. The batch's EnqueueMany is outside the timer; the store
// keeps every finished job, log line and history row, as the bench's does,
// so the live heap grows with b.N. ns/job is the number the bench's work
// jobs/s is made of.
func BenchmarkBurndownCycle(b *testing.B) {
	for _, name := range []string{"lean", "lean-mark-running", "full"} {
		full, markRunning := name == "full", name == "lean-mark-running"
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			s, err := stores.Open(DriverName, "")
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			const n = 1000
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				batch := make([]*stores.Job, n)
				for i := range batch {
					batch[i] = &stores.Job{Type: "bench", Queue: "q", Args: []byte(`{"n":1}`)}
				}
				if err := s.Jobs().EnqueueMany(ctx, batch); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				started := time.Now()
				got, err := s.Jobs().Dispatch(ctx, stores.DispatchParams{Queues: []string{"q"}, Limit: n, WorkerID: "w", Now: started, Start: !markRunning})
				if err != nil || len(got) != n {
					b.Fatalf("dispatched %d: %v", len(got), err)
				}
				refs := make([]stores.Ref, n)
				for i, j := range got {
					refs[i] = j.Ref()
				}
				if markRunning {
					running, err := s.Jobs().MarkRunningMany(ctx, refs, "w", time.Now())
					if err != nil || errors.Join(running...) != nil {
						b.Fatal(err, errors.Join(running...))
					}
				}
				if full {
					finished := time.Now()
					entries := make([]*stores.LogEntry, len(got))
					rows := make([]*stores.JobHistory, len(got))
					entryArr := make([]stores.LogEntry, len(got))
					rowArr := make([]stores.JobHistory, len(got))
					for i, j := range got {
						entryArr[i] = stores.LogEntry{JobID: j.ID, Timestamp: finished, Level: "info", Message: "bench job ran on w"}
						rowArr[i] = stores.JobHistory{JobID: j.ID, Attempt: int(j.Attempt), WorkerID: "w", StartedAt: started,
							CompletedAt: finished, Status: stores.StatusCompleted, Duration: finished.Sub(started)}
						entries[i], rows[i] = &entryArr[i], &rowArr[i]
					}
					if err := s.Logs().Append(ctx, entries); err != nil {
						b.Fatal(err)
					}
					if err := s.History().AppendMany(ctx, rows); err != nil {
						b.Fatal(err)
					}
				}
				done, err := s.Jobs().CompleteMany(ctx, refs, time.Now())
				if err != nil || errors.Join(done...) != nil {
					b.Fatal(err, errors.Join(done...))
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/job")
		})
	}
}
