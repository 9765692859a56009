package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
)

// River's own `river bench` settings (cmd/river/riverbench in
// riverqueue/river): its authors tuned them for throughput, so they are the
// fairest configuration to compare against.
const (
	riverInsertBatch       = 5_000
	riverMaxWorkers        = 2_000
	riverFetchCooldown     = 2 * time.Millisecond
	riverFetchPollInterval = 20 * time.Millisecond
)

// riverParams describes the River workload for the table.
var riverParams = fmt.Sprintf("InsertMany x%d, MaxWorkers %d, FetchCooldown %s, FetchPollInterval %s",
	riverInsertBatch, riverMaxWorkers, riverFetchCooldown, riverFetchPollInterval)

type riverArgs struct {
	Num int `json:"num"`
}

func (riverArgs) Kind() string { return "peerbench" }

// riverWorker is the no-op worker of the burn-down.
type riverWorker struct {
	river.WorkerDefaults[riverArgs]
}

func (*riverWorker) Work(context.Context, *river.Job[riverArgs]) error { return nil }

// runRiver burns down cfg.Jobs no-op River jobs on a fresh database of its
// own: InsertMany in batches of 5,000 (timed), then a started client works
// them all; the work phase ends when the last job's completed event arrives,
// which is what `river bench` measures (the event is sent after the
// completer has persisted the job's completion).
func runRiver(ctx context.Context, cfg *config) (phases, error) {
	var p phases
	db, err := createDatabase(ctx, cfg.PG)
	if err != nil {
		return p, err
	}
	defer db.drop()

	pool, err := openRiverPool(ctx, db.dsn)
	if err != nil {
		return p, err
	}
	defer pool.Close()
	driver := riverpgxv5.New(pool)

	migrator, err := rivermigrate.New(driver, nil)
	if err != nil {
		return p, fmt.Errorf("river migrator: %w", err)
	}
	if _, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return p, fmt.Errorf("river migrate up: %w", err)
	}

	workers := river.NewWorkers()
	river.AddWorker(workers, &riverWorker{})
	client, err := river.NewClient(driver, &river.Config{
		FetchCooldown:     riverFetchCooldown,
		FetchPollInterval: riverFetchPollInterval,
		Logger:            slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		Queues:            map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: riverMaxWorkers}},
		Workers:           workers,
	})
	if err != nil {
		return p, fmt.Errorf("river client: %w", err)
	}
	// One event per job, so a channel of cfg.Jobs can never drop one (a
	// dropped event would leave the count short and the run hanging).
	events, cancelEvents := client.SubscribeConfig(&river.SubscribeConfig{
		ChanSize: max(cfg.Jobs, 1000),
		Kinds:    []river.EventKind{river.EventKindJobCompleted, river.EventKindJobFailed, river.EventKindJobCancelled},
	})
	defer cancelEvents()

	// Build the arguments up front so the insert phase times only River.
	params := make([]river.InsertManyParams, cfg.Jobs)
	for i := range params {
		params[i].Args = riverArgs{Num: i}
	}
	runtime.GC() // each timed phase starts from a collected heap, as ours do
	start := time.Now()
	for i := 0; i < len(params); i += riverInsertBatch {
		if _, err := client.InsertMany(ctx, params[i:min(i+riverInsertBatch, len(params))]); err != nil {
			return p, fmt.Errorf("river InsertMany: %w", err)
		}
	}
	p.insert = time.Since(start)

	// Like `river bench`, the clock starts once Start has returned; Start
	// only launches the client's goroutines, so whether the few
	// milliseconds it takes (37ms measured on a loaded 2-core machine) are
	// immaterial next to a work phase of seconds, and leaving them out can
	// only favour River.
	runtime.GC()
	if err := client.Start(ctx); err != nil {
		return p, fmt.Errorf("river start: %w", err)
	}
	start = time.Now()
	stopped := false
	defer func() {
		if !stopped {
			stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			defer cancel()
			_ = client.Stop(stopCtx)
		}
	}()
	var last time.Time
	for done := 0; done < cfg.Jobs; done++ {
		select {
		case <-ctx.Done():
			return p, fmt.Errorf("river work phase: %d of %d jobs completed: %w", done, cfg.Jobs, ctx.Err())
		case ev, ok := <-events:
			if !ok {
				return p, fmt.Errorf("river work phase: event channel closed after %d of %d jobs", done, cfg.Jobs)
			}
			if ev.Kind != river.EventKindJobCompleted {
				return p, fmt.Errorf("river work phase: job %d: unexpected event %s", ev.Job.ID, ev.Kind)
			}
			last = time.Now()
		}
	}
	p.work = last.Sub(start)
	stopped = true
	if err := client.Stop(ctx); err != nil {
		return p, fmt.Errorf("river stop: %w", err)
	}

	// Check what the table holds, not only what the events said.
	var completed int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE state = 'completed'`).Scan(&completed); err != nil {
		return p, fmt.Errorf("river count completed jobs: %w", err)
	}
	if completed != cfg.Jobs {
		return p, fmt.Errorf("river: %d jobs completed in river_job, want %d", completed, cfg.Jobs)
	}
	return p, nil
}

// openRiverPool opens the pool the way the river CLI does
// (cmd/river/riverbench's openPgxV5DBPool): pgxpool defaults, plus its
// statement and idle-in-transaction timeouts.
func openRiverPool(ctx context.Context, dsn string) (*pgxpool.Pool, error) {
	pc, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("--pg: %w", err)
	}
	setIfUnset := func(name, val string) {
		if pc.ConnConfig.RuntimeParams[name] == "" {
			pc.ConnConfig.RuntimeParams[name] = val
		}
	}
	setIfUnset("application_name", "peerbench river")
	setIfUnset("idle_in_transaction_session_timeout", strconv.Itoa(11_000))
	setIfUnset("statement_timeout", strconv.Itoa(10_000))
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("river pool: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, errors.New("river pool: " + redactErr(err, dsn))
	}
	return pool, nil
}
