package bench

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/orchestrix/persistence/abstractions/stores"
)

// enqueueBacklog stores n pending jobs in a queue of their own before a
// burn-down (--backlog), untimed: the run's own jobs then share the store
// with n live jobs nobody works, which is how throughput is measured as the
// table grows. Jobs are built a batch at a time, so a backlog of millions
// costs the client no more memory than one batch per inserter.
func enqueueBacklog(ctx context.Context, s *stores.Store, cfg Config, queue string) error {
	ids := newJobIDs(runID(), cfg.Backlog)
	now := time.Now()
	starts := make(chan int, cfg.Workers)
	g, gctx := newGroup(ctx)
	for range cfg.Workers {
		g.go_(func() error {
			batch := make([]*stores.Job, 0, cfg.InsertBatch)
			for first := range starts {
				batch = batch[:0]
				for i := first; i < min(first+cfg.InsertBatch, cfg.Backlog); i++ {
					j := &stores.Job{Type: "bench.backlog", Queue: queue,
						Args: []byte(`{"n":` + strconv.Itoa(i) + `}`), CreatedAt: now}
					if cfg.CallerIDs {
						j.ID = ids.id(i)
					}
					batch = append(batch, j)
				}
				if err := s.Jobs().EnqueueMany(gctx, batch); err != nil {
					return fmt.Errorf("backlog: enqueue a batch of %d jobs: %w", len(batch), err)
				}
			}
			return nil
		})
	}
feed:
	for first := 0; first < cfg.Backlog; first += cfg.InsertBatch {
		select {
		case starts <- first:
		case <-gctx.Done():
			break feed
		}
	}
	close(starts)
	return g.wait()
}
