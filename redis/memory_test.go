package redis

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/orchestrix/persistence/abstractions/stores"
)

// keyBytes sums MEMORY USAGE (every element sampled) of the store's keys.
func keyBytes(ctx context.Context, t *testing.T, b *Backend) int64 {
	var sum int64
	for _, k := range b.k.all() {
		n, err := b.c.MemoryUsage(ctx, k, 0).Result()
		if err == nil {
			sum += n
		}
	}
	return sum
}

func typicalJob(i int) *stores.Job {
	return &stores.Job{Type: "email.send", Queue: "default",
		Args:       []byte(fmt.Sprintf(`{"to":"user%06d@example.com","template":"welcome","locale":"en-GB","attempt_hint":1}`, i)),
		Priority:   i % 3,
		MaxRetries: 3, RetryPolicy: stores.RetryPolicy{InitialDelay: time.Second, Multiplier: 2, MaxDelay: time.Minute},
		Timeout: 30 * time.Second, CorrelationID: fmt.Sprintf("req-%08d", i), CreatedAt: t0.Add(time.Duration(i) * time.Microsecond)}
}

// TestMemoryPerJob measures the bytes one typical job costs (README,
// "Memory"): 10k jobs pending, then completed with one history row and
// three log lines each.
func TestMemoryPerJob(t *testing.T) {
	s, b := openStore(t)
	ctx := ctxT(t)
	const n = 10000
	before := keyBytes(ctx, t, b)
	for i := 0; i < n; i += 1000 {
		var batch []*stores.Job
		for k := i; k < i+1000; k++ {
			batch = append(batch, typicalJob(k))
		}
		must(t, s.Jobs().EnqueueMany(ctx, batch))
	}
	pending := keyBytes(ctx, t, b) - before
	now := t0.Add(time.Hour)
	var done []*stores.Job
	for {
		d, err := s.Jobs().Dispatch(ctx, stores.DispatchParams{Limit: 1000, Now: now, WorkerID: "worker-01"})
		must(t, err)
		if len(d) == 0 {
			break
		}
		refs := make([]stores.Ref, len(d))
		for i, j := range d {
			refs[i] = j.Ref()
		}
		_, err = s.Jobs().CompleteMany(ctx, refs, now)
		must(t, err)
		done = append(done, d...)
	}
	completed := keyBytes(ctx, t, b) - before
	for i := 0; i < len(done); i += 300 {
		var lines []*stores.LogEntry
		for _, j := range done[i:min(i+300, len(done))] {
			must(t, s.History().Append(ctx, &stores.JobHistory{JobID: j.ID, Attempt: 1, WorkerID: "worker-01", StartedAt: now, CompletedAt: now, Status: stores.StatusCompleted, Duration: time.Second}))
			for k := 0; k < 3; k++ {
				lines = append(lines, &stores.LogEntry{JobID: j.ID, Timestamp: now, Level: "info", Message: "sent welcome mail via smtp relay 3"})
			}
		}
		must(t, s.Logs().Append(ctx, lines))
	}
	withRecords := keyBytes(ctx, t, b) - before
	t.Logf("bytes/job: pending %d, completed %d, completed with 1 history row and 3 log lines %d (history+logs %d per job)",
		pending/n, completed/n, withRecords/n, (withRecords-completed)/n)
	if pending/n > 2048 || withRecords/n > 4096 {
		t.Fatalf("memory per job above the documented bound: pending %d, with records %d", pending/n, withRecords/n)
	}
	// Purge returns it all.
	for {
		k, err := s.Jobs().Purge(ctx, now.Add(time.Second), 1000)
		must(t, err)
		if k == 0 {
			break
		}
	}
	if left := keyBytes(ctx, t, b) - before; left > 64*1024 {
		t.Fatalf("%d bytes left after purging every job", left)
	}
}
