// Package conformance is the test suite every Orchestrix store driver must
// pass: each guarantee of the contract (DESIGN.md §4: J1–J10, S1–S5, W1–W3,
// L1, D1, E1–E4) runs as a named subtest, for example
// "J4_ConcurrentDispatchNeverDuplicates", against a Harness the driver author
// supplies from a _test.go file:
//
//	func TestConformance(t *testing.T) {
//		conformance.Run(t, myHarness{}, conformance.Features{})
//	}
//
// Guarantees a driver cannot meet are declared in Features and skip with the
// reason. The same suite runs outside go test (RunSuite), which is how
// `orchestrix-store conformance` certifies a server.
package conformance

import (
	"context"
	"testing"

	"github.com/orchestrix/persistence/abstractions/stores"
)

// Harness opens stores for the suite.
type Harness interface {
	// Open returns a new, empty store isolated from every other store it
	// returned (its own database, schema, file, key prefix…). The suite
	// closes it when the test ends.
	Open(ctx context.Context) (*stores.Store, error)
}

// HarnessFunc adapts a function to Harness.
type HarnessFunc func(ctx context.Context) (*stores.Store, error)

// Open calls f.
func (f HarnessFunc) Open(ctx context.Context) (*stores.Store, error) { return f(ctx) }

// Features declares what a driver lacks, up front.
type Features struct {
	// Unsupported maps a guarantee id ("L1") or a full test name
	// ("J4_ConcurrentDispatchNeverDuplicates") to the reason it does not
	// apply. Those tests skip with the reason; every other test runs.
	Unsupported map[string]string
}

// Run runs the whole suite as subtests of t.
func Run(t *testing.T, h Harness, f Features) {
	t.Helper()
	runAll(wrapT(t), h, f)
}
