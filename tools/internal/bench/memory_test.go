package bench

import (
	"runtime"
	"testing"
	"time"
)

// TestSampleMemory: a sampler has a first sample at its start and a last
// at its stop; a 64 MiB ballast live at the start and gone at the stop
// shows as start and peak but not end; stopping twice returns the same.
func TestSampleMemory(t *testing.T) {
	ballast := make([]byte, 64<<20)
	for i := range ballast {
		ballast[i] = 1
	}
	stop := sampleMemory(time.Hour)
	runtime.KeepAlive(ballast)
	ballast = nil
	m := stop()
	if len(m.LiveHeapMiB) != 2 {
		t.Fatalf("want the first and last samples, got %+v", m)
	}
	if m.StartMiB != m.LiveHeapMiB[0] || m.EndMiB != m.LiveHeapMiB[1] || m.PeakMiB != m.StartMiB {
		t.Errorf("start, end and peak are not the samples: %+v", m)
	}
	if m.StartMiB < 64 || m.EndMiB >= m.StartMiB-32 || m.EndMiB <= 0 {
		t.Errorf("the ballast should be in the start sample and not the end one: %+v", m)
	}
	if stop() != m {
		t.Errorf("a second stop returned another result")
	}
}
