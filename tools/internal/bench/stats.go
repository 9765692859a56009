package bench

import (
	"sort"
	"sync"
	"time"
)

// Operation names, the keys of Result.Ops.
const (
	opEnqueueBatch  = "enqueue_batch"
	opDispatch      = "dispatch"
	opMarkRunning   = "mark_running_batch"
	opCompleteBatch = "complete_batch"
	opLogAppend     = "log_append"
	opHistoryAppend = "history_batch"
	opRetry         = "retry"
	opDeadLetter    = "dead_letter"
	opClaim         = "claim_follower"
	opFire          = "fire_schedule"
	opRecover       = "recover"
	opHeartbeat     = "heartbeat"
	opLease         = "lease"
)

// opOrder is the order operations are printed in.
var opOrder = []string{opEnqueueBatch, opDispatch, opMarkRunning, opCompleteBatch,
	opLogAppend, opHistoryAppend, opRetry, opDeadLetter, opClaim, opFire, opRecover,
	opHeartbeat, opLease}

// latencies collects per-operation durations. Each goroutine records into
// its own latencies and they are merged at the end, so the hot path takes no
// shared lock.
type latencies map[string][]time.Duration

func (l latencies) add(op string, d time.Duration) { l[op] = append(l[op], d) }

// time runs f and records its duration under op.
func (l latencies) time(op string, f func() error) error {
	start := time.Now()
	err := f()
	l.add(op, time.Since(start))
	return err
}

// collector merges the latencies of many goroutines.
type collector struct {
	mu  sync.Mutex
	all latencies
}

func (c *collector) merge(l latencies) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.all == nil {
		c.all = latencies{}
	}
	for op, ds := range l {
		c.all[op] = append(c.all[op], ds...)
	}
}

// summary returns p50/p99 per operation.
func (c *collector) summary() map[string]OpStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]OpStats{}
	for op, ds := range c.all {
		if len(ds) == 0 {
			continue
		}
		sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
		out[op] = OpStats{P50Ms: ms(percentile(ds, 0.50)), P99Ms: ms(percentile(ds, 0.99)), Count: len(ds)}
	}
	return out
}

// percentile returns the nearest-rank percentile of sorted durations.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(p*float64(len(sorted))+0.999999999) - 1
	if rank < 0 {
		rank = 0
	}
	if rank >= len(sorted) {
		rank = len(sorted) - 1
	}
	return sorted[rank]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
