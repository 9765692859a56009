package main

import (
	"context"
	"fmt"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hibiken/asynq"
	goredis "github.com/redis/go-redis/v9"
)

// asynqConcurrency is the server concurrency the comparison asks for.
const asynqConcurrency = 100

// asynqParams describes the asynq workload for the table.
func asynqParams(cfg *config) string {
	return fmt.Sprintf("Enqueue per task from %d goroutines, Concurrency %d, db %d", cfg.AsynqEnqueuers, asynqConcurrency, cfg.AsynqDB)
}

// runAsynq burns down cfg.Jobs no-op asynq tasks in a Redis DB of its own
// (asynq's keys are fixed names asynq:*, so a DB number is the only way to
// isolate it; the DB is flushed before and after). asynq has no batch
// enqueue, so the insert phase is Client.Enqueue per task, from
// cfg.AsynqEnqueuers goroutines at once as a user with many tasks would do.
// The work phase runs a server with Concurrency 100 and ends when the
// handler has seen every task AND the queue reports nothing pending or
// active, i.e. asynq has also acknowledged the last one.
func runAsynq(ctx context.Context, cfg *config) (phases, error) {
	var p phases
	rdb := goredis.NewClient(&goredis.Options{Addr: cfg.Redis, DB: cfg.AsynqDB})
	defer rdb.Close()
	flush := func() error {
		if err := rdb.FlushDB(context.WithoutCancel(ctx)).Err(); err != nil {
			return fmt.Errorf("--redis %s: flush asynq db %d: %w", cfg.Redis, cfg.AsynqDB, err)
		}
		return nil
	}
	if err := flush(); err != nil {
		return p, err
	}
	defer flush() //nolint:errcheck // best effort; the next run flushes first anyway
	// After the flush: a synchronous FLUSHDB purges the allocator.
	if err := prepareRedis(ctx, cfg); err != nil {
		return p, err
	}

	opt := asynq.RedisClientOpt{Addr: cfg.Redis, DB: cfg.AsynqDB}
	client := asynq.NewClient(opt)
	defer client.Close()

	tasks := make([]*asynq.Task, cfg.Jobs)
	for i := range tasks {
		tasks[i] = asynq.NewTask("peerbench", []byte(`{"num":`+strconv.Itoa(i)+`}`))
	}
	var next atomic.Int64
	var firstErr error
	var errOnce sync.Once
	runtime.GC() // each timed phase starts from a collected heap, as ours do
	start := time.Now()
	var wg sync.WaitGroup
	for range cfg.AsynqEnqueuers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(tasks) {
					return
				}
				if _, err := client.EnqueueContext(ctx, tasks[i]); err != nil {
					errOnce.Do(func() { firstErr = fmt.Errorf("asynq enqueue: %w", err) })
					next.Store(int64(len(tasks)))
					return
				}
			}
		})
	}
	wg.Wait()
	p.insert = time.Since(start)
	if firstErr != nil {
		return p, firstErr
	}

	var handled atomic.Int64
	allHandled := make(chan struct{})
	handler := asynq.HandlerFunc(func(context.Context, *asynq.Task) error {
		if handled.Add(1) == int64(cfg.Jobs) {
			close(allHandled)
		}
		return nil
	})
	srv := asynq.NewServer(opt, asynq.Config{Concurrency: asynqConcurrency, LogLevel: asynq.WarnLevel})
	insp := asynq.NewInspector(opt)
	defer insp.Close()

	runtime.GC()
	start = time.Now()
	if err := srv.Start(handler); err != nil {
		return p, fmt.Errorf("asynq server start: %w", err)
	}
	defer srv.Shutdown()
	select {
	case <-allHandled:
	case <-ctx.Done():
		return p, fmt.Errorf("asynq work phase: %d of %d tasks handled: %w", handled.Load(), cfg.Jobs, ctx.Err())
	}
	var info *asynq.QueueInfo
	for {
		var err error
		if info, err = insp.GetQueueInfo("default"); err != nil {
			return p, fmt.Errorf("asynq queue info: %w", err)
		}
		if info.Pending == 0 && info.Active == 0 {
			break
		}
		select {
		case <-ctx.Done():
			return p, fmt.Errorf("asynq work phase: %d pending, %d active: %w", info.Pending, info.Active, ctx.Err())
		case <-time.After(time.Millisecond):
		}
	}
	p.work = time.Since(start)
	if info.Retry != 0 || info.Archived != 0 || handled.Load() != int64(cfg.Jobs) {
		return p, fmt.Errorf("asynq: handled %d of %d, %d in retry, %d archived", handled.Load(), cfg.Jobs, info.Retry, info.Archived)
	}
	return p, nil
}
