package bench

import (
	"runtime"
	"runtime/metrics"
	"slices"
	"sync"
	"time"
)

// memoryEvery is how often a run samples its live heap.
const memoryEvery = time.Second

// Memory is the client's live heap (as of each GC) sampled through a run,
// so a long run shows whether the process's memory stays flat.
type Memory struct {
	EverySeconds float64   `json:"every_seconds"`
	LiveHeapMiB  []float64 `json:"live_heap_mib"` // one sample per interval, in order
	StartMiB     float64   `json:"start_mib"`     // median of the first quarter of the samples
	EndMiB       float64   `json:"end_mib"`       // median of the last quarter
	PeakMiB      float64   `json:"peak_mib"`
}

// sampleMemory samples the live heap now, every interval, and once more
// when the returned function is called; that function returns what was
// seen, the same on every call.
func sampleMemory(every time.Duration) (stop func() *Memory) {
	m := &Memory{EverySeconds: every.Seconds()}
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	read := func() {
		metrics.Read(s)
		m.LiveHeapMiB = append(m.LiveHeapMiB, float64(s[0].Value.Uint64())/(1<<20))
	}
	// The metric is the heap marked live by the last GC (0 before the
	// first): the first and last samples follow a GC of their own.
	runtime.GC()
	read()
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				read()
			}
		}
	}()
	var once sync.Once
	return func() *Memory {
		once.Do(func() {
			close(done)
			wg.Wait()
			runtime.GC()
			read()
			n := len(m.LiveHeapMiB)
			q := max(n/4, 1)
			m.StartMiB = median(m.LiveHeapMiB[:q])
			m.EndMiB = median(m.LiveHeapMiB[n-q:])
			m.PeakMiB = slices.Max(m.LiveHeapMiB)
		})
		return m
	}
}

// median returns the upper median of xs (not empty).
func median(xs []float64) float64 {
	s := slices.Sorted(slices.Values(xs))
	return s[len(s)/2]
}
