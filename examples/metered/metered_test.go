package metered_test

import (
	"context"
	"testing"
	"time"

	"github.com/orchestrix/persistence/abstractions/stores"
	"github.com/orchestrix/persistence/conformance"
	"github.com/orchestrix/persistence/examples/metered"
	_ "github.com/orchestrix/persistence/inmemory"
)

// TestConformance is the whole of what a driver author writes to run the
// shared suite: a harness that opens a fresh, isolated store.
func TestConformance(t *testing.T) {
	conformance.Run(t, conformance.HarnessFunc(func(ctx context.Context) (*stores.Store, error) {
		return stores.OpenContext(ctx, "metered", "inmemory:")
	}), conformance.Features{})
}

func TestCountsHotCalls(t *testing.T) {
	ctx := context.Background()
	s, err := stores.Open("metered", "inmemory:")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < 3; i++ {
		if err := s.Jobs().Enqueue(ctx, &stores.Job{Type: "t", Queue: "q"}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Jobs().Dispatch(ctx, stores.DispatchParams{Limit: 10, Now: now})
	if err != nil || len(got) != 3 {
		t.Fatalf("dispatch = %d jobs, %v", len(got), err)
	}
	c := &s.Backend().(*metered.Backend).Counts
	if c.Dispatches.Load() != 1 || c.Dispatched.Load() != 3 {
		t.Fatalf("counts = %d calls, %d jobs; want 1, 3", c.Dispatches.Load(), c.Dispatched.Load())
	}
}

func TestBadDSN(t *testing.T) {
	if _, err := stores.Open("metered", "no-colon"); err == nil {
		t.Fatal("Open accepted a DSN without an inner driver")
	}
}
