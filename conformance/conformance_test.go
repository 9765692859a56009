package conformance_test

import (
	"context"
	"testing"

	"github.com/orchestrix/persistence/abstractions/stores"
	"github.com/orchestrix/persistence/conformance"
	"github.com/orchestrix/persistence/inmemory"
)

// inmemoryHarness opens a fresh in-memory store per test.
var inmemoryHarness = conformance.HarnessFunc(func(ctx context.Context) (*stores.Store, error) {
	return stores.OpenContext(ctx, inmemory.DriverName, "")
})

func TestConformanceInMemory(t *testing.T) {
	conformance.Run(t, inmemoryHarness, conformance.Features{})
}

func BenchmarkInMemory(b *testing.B) {
	conformance.RunBenchmarks(b, inmemoryHarness)
}
