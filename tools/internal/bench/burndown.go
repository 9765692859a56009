package bench

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/orchestrix/persistence/abstractions/stores"
	"github.com/orchestrix/persistence/tools/internal/cli"
)

// runBurndown inserts cfg.Jobs jobs, then lets cfg.Workers workers run them
// all to completion, and checks terminal_once and dispatch_once.
func runBurndown(ctx context.Context, env cli.Env, cfg Config, s *stores.Store) (*Result, error) {
	id := runID()
	queue := "bench-" + id
	r := &Result{Scenario: "burndown", Jobs: cfg.Jobs, Backlog: cfg.Backlog}
	if cfg.Backlog > 0 {
		if err := enqueueBacklog(ctx, s, cfg, queue+"-backlog"); err != nil {
			return nil, err
		}
	}
	var lat collector
	stopMemory := sampleMemory(memoryEvery)
	defer stopMemory() // on an early return

	// Build every job up front so the insert phase times only the store.
	ids := newJobIDs(id, cfg.Jobs)
	jobs := make([]*stores.Job, cfg.Jobs)
	now := time.Now()
	for i := range jobs {
		jobs[i] = &stores.Job{Type: "bench.burndown", Queue: queue,
			Args: []byte(`{"n":` + strconv.Itoa(i) + `}`), CreatedAt: now}
		if cfg.CallerIDs {
			jobs[i].ID = ids.id(i)
		}
	}

	// Insert phase: batches of cfg.InsertBatch, cfg.Workers inserters at once.
	batches := make(chan []*stores.Job, cfg.Workers)
	bar := newProgress(env.Stderr, cfg.Progress, cfg.Jobs, "enqueue")
	startPhase()
	start := time.Now()
	g, gctx := newGroup(ctx)
	for w := 0; w < cfg.Workers; w++ {
		g.go_(func() error {
			labelPhase(gctx, "insert")
			l := latencies{}
			defer lat.merge(l)
			for b := range batches {
				if err := l.time(opEnqueueBatch, func() error { return s.Jobs().EnqueueMany(gctx, b) }); err != nil {
					return fmt.Errorf("enqueue a batch of %d jobs: %w", len(b), err)
				}
				bar.add(len(b))
			}
			return nil
		})
	}
feed:
	for i := 0; i < len(jobs); i += cfg.InsertBatch {
		select {
		case batches <- jobs[i:min(i+cfg.InsertBatch, len(jobs))]:
		case <-gctx.Done():
			break feed
		}
	}
	close(batches)
	err := g.wait()
	insert := time.Since(start)
	bar.finish()
	if err != nil {
		return nil, err
	}

	// The IDs the store generated, numbered (untimed).
	if !cfg.CallerIDs {
		ids = assignedJobIDs(jobs)
	}
	expected := newJobSet(ids)
	for _, j := range jobs {
		expected.add(j.ID)
	}

	// Work phase: each worker dispatches a batch and runs it to completion.
	rec := newReceipts(ids)
	conflicts := &conflictLog{}
	var done atomic.Int64
	bar = newProgress(env.Stderr, cfg.Progress, cfg.Jobs, "work   ")
	startPhase()
	start = time.Now()
	g, gctx = newGroup(ctx)
	for w := 0; w < cfg.Workers; w++ {
		worker := fmt.Sprintf("bench-%s-worker-%d", id, w+1)
		g.go_(func() error {
			labelPhase(gctx, "work")
			l := latencies{}
			defer lat.merge(l)
			var bufs recordBufs
			for {
				n, more, err := burndownBatch(gctx, s, cfg, queue, worker, l, rec, conflicts, &bufs)
				if err != nil || !more {
					return err
				}
				done.Add(int64(n))
				bar.add(n)
			}
		})
	}
	err = g.wait()
	work := time.Since(start)
	bar.finish()
	if err != nil {
		return nil, err
	}

	r.InsertSeconds, r.WorkSeconds = insert.Seconds(), work.Seconds()
	r.Seconds = r.InsertSeconds + r.WorkSeconds
	r.InsertJobsPerSec = float64(cfg.Jobs) / insert.Seconds()
	r.WorkJobsPerSec = float64(done.Load()) / work.Seconds()
	r.Ops = lat.summary()
	r.Memory = stopMemory()
	if cfg.HeapProfile != nil {
		cfg.HeapProfile()
	}

	terminal := newTerminalCheck(expected, true)
	if err := scanQueueJobs(ctx, s, direct, queue, terminal.job); err != nil {
		return nil, err
	}
	if err := scanQueueDeadLetters(ctx, s, direct, queue, terminal.deadLetter); err != nil {
		return nil, err
	}
	r.Invariants = map[string]Invariant{
		"terminal_once":     terminal.result(),
		"dispatch_once":     rec.invariant(),
		"transitions_clean": conflicts.invariant(),
	}
	return r, nil
}

// burndownBatch runs one worker loop: Dispatch with Start (or, with
// --mark-running, Dispatch and then MarkRunningMany), then CompleteMany
// (lean) or CompleteRecorded with a log line and a history row per job
// (full), the one call a worker makes when its batch succeeded. It returns
// how many jobs it completed, and more = false when no due job was left.
// Burndown fails no job, so a conflict is a store bug: it is logged for the
// transitions_clean invariant and the job skipped.
func burndownBatch(ctx context.Context, s *stores.Store, cfg Config, queue, worker string, l latencies, rec *receipts, conflicts *conflictLog, bufs *recordBufs) (completed int, more bool, err error) {
	var got []*stores.Job
	started := time.Now()
	err = l.time(opDispatch, func() (err error) {
		got, err = s.Jobs().Dispatch(ctx, stores.DispatchParams{Queues: []string{queue}, Limit: cfg.Batch, Now: started,
			WorkerID: worker, Start: !cfg.MarkRunning})
		return err
	})
	if err != nil {
		return 0, false, fmt.Errorf("dispatch: %w", err)
	}
	if len(got) == 0 {
		return 0, false, nil
	}
	rec.record(got)
	refs := make([]stores.Ref, len(got))
	for i, j := range got {
		refs[i] = j.Ref()
	}
	var results []error
	if cfg.MarkRunning {
		started = time.Now()
		if err := l.time(opMarkRunning, func() (err error) {
			results, err = s.Jobs().MarkRunningMany(ctx, refs, worker, started)
			return err
		}); err != nil {
			return 0, false, fmt.Errorf("mark a batch of %d jobs running: %w", len(refs), err)
		}
		running := got[:0:0]
		for i, e := range results {
			switch {
			case e == nil:
				running = append(running, got[i])
			case errors.Is(e, stores.ErrConflict) || errors.Is(e, stores.ErrNotFound):
				conflicts.note("mark job %s attempt %d running: %v", refs[i].ID, refs[i].Attempt, e)
			default:
				return 0, false, fmt.Errorf("mark job %s running: %w", refs[i].ID, e)
			}
		}
		got = running
		if len(got) == 0 {
			return 0, true, nil
		}
	}
	refs = refs[:0]
	for _, j := range got {
		refs = append(refs, j.Ref())
	}
	if cfg.Lean {
		if err := l.time(opCompleteBatch, func() (err error) {
			results, err = s.Jobs().CompleteMany(ctx, refs, time.Now())
			return err
		}); err != nil {
			return 0, false, fmt.Errorf("complete a batch of %d jobs: %w", len(refs), err)
		}
	} else {
		finished := time.Now()
		msg := "bench job ran on " + worker
		entries, rows := bufs.reset(len(got))
		for i, j := range got {
			*entries[i] = stores.LogEntry{JobID: j.ID, Timestamp: finished, Level: "info", Message: msg}
			*rows[i] = stores.JobHistory{JobID: j.ID, Attempt: int(j.Attempt), WorkerID: worker, StartedAt: started,
				CompletedAt: finished, Status: stores.StatusCompleted, Duration: finished.Sub(started)}
		}
		batch := stores.CompletedBatch{Refs: refs, Logs: entries, History: rows, Now: finished}
		if err := l.time(opCompleteRecorded, func() (err error) {
			results, err = s.CompleteRecorded(ctx, batch)
			return err
		}); err != nil {
			return 0, false, fmt.Errorf("complete a batch of %d jobs with its log lines and history rows: %w", len(refs), err)
		}
	}
	done := 0
	for i, e := range results {
		if e != nil {
			conflicts.note("complete job %s attempt %d: %v", refs[i].ID, refs[i].Attempt, e)
			continue
		}
		done++
	}
	return done, true, nil
}

// conflictLog counts conditional writes refused during a burndown, where
// none should be: each worker owns the attempts it was dispatched (J5).
type conflictLog struct {
	mu    sync.Mutex
	n     int
	first string
}

func (c *conflictLog) note(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n++
	if c.first == "" {
		c.first = fmt.Sprintf(format, args...)
	}
}

func (c *conflictLog) invariant() Invariant {
	c.mu.Lock()
	defer c.mu.Unlock()
	return Invariant{OK: c.n == 0, Counts: map[string]int{"conflicts": c.n}, Message: c.first}
}

// recordBufs are one worker's log entries and history rows, reused from
// batch to batch (a store keeps copies, never the caller's structs:
// Backend's contract, conformance L1_RecordsAreCopies), so the
// client allocates nothing per job for them and its garbage stays out of
// the store's numbers: fresh arrays per batch were about 280 bytes a job,
// enough to bring a GC cycle into an inmemory full run's work phase.
type recordBufs struct {
	entries []*stores.LogEntry
	rows    []*stores.JobHistory
}

// reset returns n entries and n rows, each to be overwritten whole.
func (b *recordBufs) reset(n int) ([]*stores.LogEntry, []*stores.JobHistory) {
	for len(b.entries) < n {
		b.entries = append(b.entries, new(stores.LogEntry))
		b.rows = append(b.rows, new(stores.JobHistory))
	}
	return b.entries[:n], b.rows[:n]
}
