package conformance_test

import (
	"context"
	"strings"
	"testing"

	"github.com/orchestrix/persistence/abstractions/stores"
	"github.com/orchestrix/persistence/conformance"
	"github.com/orchestrix/persistence/conformance/internal/faulty"
	"github.com/orchestrix/persistence/inmemory"
)

// caught lists, per planted bug, the tests that must fail on it.
var caught = map[faulty.Variant][]string{
	faulty.DoubleDispatch:   {"Jobs/J4_ConcurrentDispatchNeverDuplicates"},
	faulty.RenewIgnoresTerm: {"Nodes/W3_ExpiredHolderCannotRenew", "Nodes/W3_OldTermCannotRenewOrResign"},
	faulty.StaleComplete:    {"Jobs/J5_StaleAttemptIsConflictAndUnchanged", "Jobs/J5_ConcurrentTransitionsOneWinner"},
	faulty.FreshOneByOne:    {"Jobs/J1_GeneratedIDs"},
	faulty.KeepsLogEntries:  {"Logs/L1_RecordsAreCopies"},
	faulty.RecordedInSteps:  {"Logs/L1_CompleteRecordedIsAllOrNothing"},
}

// runStandalone runs the suite with RunSuite and returns each test's status.
func runStandalone(t *testing.T, h conformance.Harness, f conformance.Features) map[string]conformance.Result {
	t.Helper()
	results := map[string]conformance.Result{}
	conformance.RunSuite(t.Context(), h, f, func(r conformance.Result) { results[r.Name] = r })
	if len(results) < 50 {
		t.Fatalf("RunSuite reported %d tests, want the whole suite", len(results))
	}
	return results
}

// TestSuiteCatchesPlantedBugs proves the suite can fail: each planted bug
// fails the tests of the guarantee it breaks.
func TestSuiteCatchesPlantedBugs(t *testing.T) {
	for _, v := range faulty.Variants {
		t.Run(string(v), func(t *testing.T) {
			h := conformance.HarnessFunc(func(ctx context.Context) (*stores.Store, error) {
				return stores.Wrap("faulty-"+string(v), faulty.Wrap(inmemory.New(), v)), nil
			})
			results := runStandalone(t, h, conformance.Features{})
			for _, name := range caught[v] {
				r, ok := results[name]
				switch {
				case !ok:
					t.Errorf("%s did not run", name)
				case r.Status != "fail":
					t.Errorf("%s: %s on the %s bug, want fail", name, r.Status, v)
				default:
					t.Logf("%s caught %s: %s", name, v, firstLine(r.Message))
				}
			}
		})
	}
}

// TestSuitePassesOnDriverWithoutStart: a driver that predates
// DispatchParams.Start still keeps J4 and J8 for it, because the portable
// layer marks the jobs running that such a driver leaves dispatched.
func TestSuitePassesOnDriverWithoutStart(t *testing.T) {
	h := conformance.HarnessFunc(func(ctx context.Context) (*stores.Store, error) {
		return stores.Wrap("without-start", faulty.WithoutStart(inmemory.New())), nil
	})
	results := runStandalone(t, h, conformance.Features{})
	for _, name := range []string{"Jobs/J4_DispatchStartRunsTheJobs", "Jobs/J8_RecoverStartedOnDispatch", "Jobs/J4_ConcurrentDispatchNeverDuplicates"} {
		if r, ok := results[name]; !ok || r.Status != "pass" {
			t.Errorf("%s on a driver without Start: %+v, want pass", name, r)
		}
	}
	for name, r := range results {
		if r.Status != "pass" {
			t.Errorf("%s: %s: %s", name, r.Status, r.Message)
		}
	}
}

// TestSuiteStandalonePassesInMemory runs the suite outside go test against
// the correct driver: every test passes, including the ones above.
func TestSuiteStandalonePassesInMemory(t *testing.T) {
	results := runStandalone(t, inmemoryHarness, conformance.Features{})
	for name, r := range results {
		if r.Status != "pass" {
			t.Errorf("%s: %s: %s", name, r.Status, r.Message)
		}
		if i := strings.LastIndex(name, "/"); i < 0 || !strings.Contains(name[i+1:], "_") {
			t.Errorf("test %q does not carry a guarantee id", name)
		}
	}
	for _, names := range caught {
		for _, name := range names {
			if _, ok := results[name]; !ok {
				t.Errorf("%s did not run", name)
			}
		}
	}
}

// TestFeaturesSkipUnsupported checks that an id or a test name declared
// unsupported skips with the reason, and nothing else does.
func TestFeaturesSkipUnsupported(t *testing.T) {
	f := conformance.Features{Unsupported: map[string]string{
		"L1":                                   "no log store",
		"J4_ConcurrentDispatchNeverDuplicates": "single dispatcher",
	}}
	results := runStandalone(t, inmemoryHarness, f)
	for name, r := range results {
		leaf := name[strings.LastIndex(name, "/")+1:]
		want := "pass"
		if strings.HasPrefix(leaf, "L1_") || leaf == "J4_ConcurrentDispatchNeverDuplicates" {
			want = "skip"
			if !strings.Contains(r.Message, "no log store") && !strings.Contains(r.Message, "single dispatcher") {
				t.Errorf("%s skipped without the reason: %q", name, r.Message)
			}
		}
		if r.Status != want {
			t.Errorf("%s: %s, want %s", name, r.Status, want)
		}
	}
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}
