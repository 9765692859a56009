package bench

import (
	"math"
	"math/bits"
	"sync"
	"time"
)

// Operation names, the keys of Result.Ops.
const (
	opEnqueueBatch  = "enqueue_batch"
	opDispatch      = "dispatch"
	opMarkRunning   = "mark_running_batch"
	opCompleteBatch = "complete_batch"
	// opCompleteRecorded is Store.CompleteRecorded: a batch's completion
	// with its log lines and history rows.
	opCompleteRecorded = "complete_recorded_batch"
	opLogAppend        = "log_append"
	opHistoryAppend    = "history_batch"
	opRetry            = "retry"
	opDeadLetter       = "dead_letter"
	opClaim            = "claim_follower"
	opFire             = "fire_schedule"
	opRecover          = "recover"
	opHeartbeat        = "heartbeat"
	opLease            = "lease"
)

// opOrder is the order operations are printed in.
var opOrder = []string{opEnqueueBatch, opDispatch, opMarkRunning, opCompleteBatch, opCompleteRecorded,
	opLogAppend, opHistoryAppend, opRetry, opDeadLetter, opClaim, opFire, opRecover,
	opHeartbeat, opLease}

// latencies collects per-operation durations. Each goroutine records into
// its own latencies and they are merged at the end, so the hot path takes no
// shared lock. Each operation's durations are counted in a histogram of
// fixed size, so a run of any length keeps the same memory.
type latencies map[string]*histogram

func (l latencies) add(op string, d time.Duration) {
	h := l[op]
	if h == nil {
		h = &histogram{}
		l[op] = h
	}
	h.add(d)
}

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
	for op, h := range l {
		if c.all[op] == nil {
			c.all[op] = &histogram{}
		}
		c.all[op].merge(h)
	}
}

// summary returns p50/p99 per operation.
func (c *collector) summary() map[string]OpStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]OpStats{}
	for op, h := range c.all {
		if h.n == 0 {
			continue
		}
		out[op] = OpStats{P50Ms: ms(h.percentile(0.50)), P99Ms: ms(h.percentile(0.99)), Count: int(h.n)}
	}
	return out
}

// Histogram layout (HdrHistogram's): durations in whole microseconds,
// exact below 2*histSub, then histSub buckets per power of two, each at
// most 1/histSub of its value wide. A bucket reports its midpoint, so a
// percentile is within 1/(2*histSub), under 1%, of the true one.
const (
	histSubBits = 6
	histSub     = 1 << histSubBits
	histShifts  = 40 - histSubBits // up to 2^40µs, about 12 days; longer is clamped
	histBuckets = histSub * (histShifts + 2)
)

// histogram counts durations in log-linear buckets.
type histogram struct {
	counts [histBuckets]uint64
	n      uint64
}

func histBucket(d time.Duration) int {
	us := uint64(max(d.Microseconds(), 0))
	shift := bits.Len64(us) - histSubBits - 1 // us>>shift has histSubBits+1 bits
	if shift <= 0 {
		return int(us)
	}
	if shift > histShifts {
		return histBuckets - 1
	}
	return histSub*shift + int(us>>shift)
}

// histValue is the midpoint of bucket i.
func histValue(i int) time.Duration {
	if i < 2*histSub {
		return time.Duration(i) * time.Microsecond
	}
	shift := i/histSub - 1
	lo := uint64(i%histSub+histSub) << shift
	return time.Duration(lo+(uint64(1)<<shift-1)/2) * time.Microsecond
}

func (h *histogram) add(d time.Duration) {
	h.counts[histBucket(d)]++
	h.n++
}

func (h *histogram) merge(o *histogram) {
	for i, n := range o.counts {
		h.counts[i] += n
	}
	h.n += o.n
}

// percentile returns the nearest-rank percentile p (0 < p <= 1).
func (h *histogram) percentile(p float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := max(uint64(math.Ceil(p*float64(h.n)-1e-9)), 1) // 0.99*100 is not exactly 99 in floating point
	var seen uint64
	for i, n := range h.counts {
		seen += n
		if seen >= rank {
			return histValue(i)
		}
	}
	return histValue(histBuckets - 1)
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
