package conformance

import (
	"fmt"
	"testing"
	"time"

	"github.com/orchestrix/persistence/abstractions/stores"
)

// benchBatch is the batch size of the batched hot paths.
const benchBatch = 100

// RunBenchmarks runs the hot-path benchmarks against stores the harness
// opens: EnqueueBatch, DispatchBatch and CompleteBatch move benchBatch (100)
// jobs per operation and report jobs/s; Heartbeat reports beats/s; LogAppend
// appends 100 lines per operation and reports lines/s. Call it from a
// driver's benchmark:
//
//	func BenchmarkStore(b *testing.B) { conformance.RunBenchmarks(b, myHarness{}) }
func RunBenchmarks(b *testing.B, h Harness) {
	b.Run("EnqueueBatch", func(b *testing.B) {
		st := benchStore(b, h)
		b.ResetTimer()
		for i := range b.N {
			if err := st.Jobs().EnqueueMany(b.Context(), benchJobs(i)); err != nil {
				b.Fatalf("EnqueueMany: %v", err)
			}
		}
		perSecond(b, benchBatch, "jobs/s")
	})
	b.Run("DispatchBatch", func(b *testing.B) {
		st := benchStore(b, h)
		b.ResetTimer()
		for i := range b.N {
			b.StopTimer()
			if err := st.Jobs().EnqueueMany(b.Context(), benchJobs(i)); err != nil {
				b.Fatalf("EnqueueMany: %v", err)
			}
			b.StartTimer()
			got := benchDispatch(b, st, i)
			if len(got) != benchBatch {
				b.Fatalf("Dispatch returned %d jobs, want %d", len(got), benchBatch)
			}
		}
		perSecond(b, benchBatch, "jobs/s")
	})
	b.Run("CompleteBatch", func(b *testing.B) {
		st := benchStore(b, h)
		b.ResetTimer()
		for i := range b.N {
			b.StopTimer()
			if err := st.Jobs().EnqueueMany(b.Context(), benchJobs(i)); err != nil {
				b.Fatalf("EnqueueMany: %v", err)
			}
			refs := make([]stores.Ref, 0, benchBatch)
			for _, j := range benchDispatch(b, st, i) {
				refs = append(refs, j.Ref())
			}
			b.StartTimer()
			res, err := st.Jobs().CompleteMany(b.Context(), refs, at(time.Hour))
			if err != nil {
				b.Fatalf("CompleteMany: %v", err)
			}
			for k, e := range res {
				if e != nil {
					b.Fatalf("CompleteMany of %s: %v", refs[k].ID, e)
				}
			}
		}
		perSecond(b, benchBatch, "jobs/s")
	})
	b.Run("Heartbeat", func(b *testing.B) {
		st := benchStore(b, h)
		workers := make([]*stores.Worker, 64)
		for k := range workers {
			workers[k] = &stores.Worker{ID: fmt.Sprintf("bench-%02d", k), Queues: []string{"bench"}, MaxConcurrency: 8}
		}
		b.ResetTimer()
		for i := range b.N {
			w := workers[i%len(workers)].Clone()
			if _, err := st.Workers().Heartbeat(b.Context(), w, at(time.Duration(i)*time.Millisecond)); err != nil {
				b.Fatalf("Heartbeat: %v", err)
			}
		}
		perSecond(b, 1, "beats/s")
	})
	b.Run("LogAppend", func(b *testing.B) {
		st := benchStore(b, h)
		job := stores.NewID()
		b.ResetTimer()
		for i := range b.N {
			lines := make([]*stores.LogEntry, benchBatch)
			for k := range lines {
				lines[k] = &stores.LogEntry{JobID: job, Timestamp: at(time.Duration(i) * time.Millisecond), Level: "info", Message: "benchmark log line"}
			}
			if err := st.Logs().Append(b.Context(), lines); err != nil {
				b.Fatalf("Logs Append: %v", err)
			}
		}
		perSecond(b, benchBatch, "lines/s")
	})
}

// benchStore opens a store for one benchmark and closes it after.
func benchStore(b *testing.B, h Harness) *stores.Store {
	b.Helper()
	st, err := h.Open(b.Context())
	if err != nil {
		b.Fatalf("Harness.Open: %v", err)
	}
	b.Cleanup(func() { _ = st.Close() })
	return st
}

// benchJobs returns the benchBatch jobs of iteration i, in queue "bench".
func benchJobs(i int) []*stores.Job {
	jobs := make([]*stores.Job, benchBatch)
	for k := range jobs {
		jobs[k] = &stores.Job{Type: "bench", Queue: "bench", Args: []byte(`{"n":1}`),
			CreatedAt: at(time.Duration(i*benchBatch+k) * time.Microsecond)}
	}
	return jobs
}

// benchDispatch dispatches one batch of iteration i.
func benchDispatch(b *testing.B, st *stores.Store, i int) []*stores.Job {
	got, err := st.Jobs().Dispatch(b.Context(), stores.DispatchParams{Queues: []string{"bench"}, Limit: benchBatch,
		Now: at(time.Hour + time.Duration(i)*time.Millisecond), WorkerID: "bench"})
	if err != nil {
		b.Fatalf("Dispatch: %v", err)
	}
	return got
}

// perSecond reports n units per operation as a rate.
func perSecond(b *testing.B, n int, unit string) {
	if s := b.Elapsed().Seconds(); s > 0 {
		b.ReportMetric(float64(n*b.N)/s, unit)
	}
}
