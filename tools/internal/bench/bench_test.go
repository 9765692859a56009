package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/orchestrix/persistence/inmemory"
	_ "github.com/orchestrix/persistence/redis"
	"github.com/orchestrix/persistence/tools/internal/cli"
	"github.com/orchestrix/persistence/tools/internal/faultydriver"
)

func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Run(context.Background(), cli.Env{Stdout: &out, Stderr: &errb}, args)
	return code, out.String(), errb.String()
}

func TestBurndownInmemoryJSON(t *testing.T) {
	code, out, stderr := run(t, "--driver", "inmemory", "--jobs", "500", "--batch", "50", "--workers", "3", "--json")
	if code != cli.ExitOK {
		t.Fatalf("exit %d, stderr %s, stdout %s", code, stderr, out)
	}
	var r Result
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("stdout is not one JSON object: %v\n%s", err, out)
	}
	if !r.OK || r.Driver != "inmemory" || r.Scenario != "burndown" || r.Jobs != 500 {
		t.Fatalf("unexpected result: %+v", r)
	}
	if r.InsertJobsPerSec <= 0 || r.WorkJobsPerSec <= 0 || r.Seconds <= 0 {
		t.Fatalf("rates not measured: %+v", r)
	}
	for _, op := range []string{opEnqueueBatch, opDispatch, opCompleteRecorded} {
		if r.Ops[op].Count == 0 {
			t.Errorf("no latency for %s: %+v", op, r.Ops)
		}
	}
	// Dispatch starts the jobs: no MarkRunningMany; one CompleteRecorded
	// (the log lines, the history rows and the completion) per dispatched
	// batch of at most 50 jobs, and none of the three calls it replaces.
	if r.MarkRunning {
		t.Errorf("a burn-down without --mark-running reports MarkRunning")
	}
	for _, op := range []string{opMarkRunning, opCompleteBatch, opLogAppend, opHistoryAppend} {
		if _, ok := r.Ops[op]; ok {
			t.Errorf("a full burn-down without --mark-running called %s: %+v", op, r.Ops)
		}
	}
	if n := r.Ops[opCompleteRecorded].Count; n < 10 || n > 500 || r.Ops[opEnqueueBatch].Count != 10 {
		t.Errorf("operation counts: %+v", r.Ops)
	}
	inv := r.Invariants["terminal_once"]
	if !inv.OK || inv.Counts["completed"] != 500 || inv.Counts["missing"] != 0 {
		t.Errorf("terminal_once: %+v", inv)
	}
	if d := r.Invariants["dispatch_once"]; !d.OK || d.Counts["dispatches"] != 500 {
		t.Errorf("dispatch_once: %+v", d)
	}
}

// --insert-batch sizes the insert phase's EnqueueMany calls alone, and
// --caller-ids numbers the jobs in the bench: the invariants hold either way.
func TestBurndownInsertBatchAndCallerIDs(t *testing.T) {
	code, out, stderr := run(t, "--driver", "inmemory", "--jobs", "500", "--batch", "50", "--insert-batch", "70", "--caller-ids", "--json")
	if code != cli.ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var r Result
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if !r.OK || !r.CallerIDs || r.Batch != 50 || r.InsertBatch != 70 {
		t.Fatalf("unexpected result: %+v", r)
	}
	if n := r.Ops[opEnqueueBatch].Count; n != 8 {
		t.Errorf("%d EnqueueMany calls, want 8 (500 jobs, 70 a batch)", n)
	}
	if n := r.Ops[opCompleteRecorded].Count; n < 10 {
		t.Errorf("%d CompleteRecorded calls: the work phase's batches are --batch's 50", n)
	}
	for _, c := range []struct {
		flag string
		args []string
	}{
		{"--insert-batch", []string{"--insert-batch", "0"}},
		{"--insert-batch", []string{"--insert-batch", "10001"}},
		{"--insert-batch", []string{"--scenario", "cluster", "--insert-batch", "10"}},
		{"--caller-ids", []string{"--scenario", "cluster", "--caller-ids"}},
	} {
		if code, _, stderr := run(t, c.args...); code != cli.ExitUsage || !strings.Contains(stderr, c.flag) {
			t.Errorf("%v: exit %d, %s", c.args, code, stderr)
		}
	}
}

func TestBurndownLeanSkipsLogAndHistory(t *testing.T) {
	code, out, stderr := run(t, "--driver", "inmemory", "--jobs", "200", "--lean", "--json")
	if code != cli.ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var r Result
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if _, ok := r.Ops[opLogAppend]; ok {
		t.Errorf("lean run appended logs: %+v", r.Ops)
	}
	if _, ok := r.Ops[opHistoryAppend]; ok {
		t.Errorf("lean run appended history: %+v", r.Ops)
	}
	if _, ok := r.Ops[opCompleteRecorded]; ok {
		t.Errorf("lean run stored records with its completions: %+v", r.Ops)
	}
	if n := r.Ops[opDispatch].Count; n == 0 || n != r.Ops[opCompleteBatch].Count+r.Workers {
		t.Errorf("lean runs one Dispatch per completed batch, and one that finds nothing per worker: %+v", r.Ops)
	}
}

func TestBurndownMarkRunning(t *testing.T) {
	code, out, stderr := run(t, "--driver", "inmemory", "--jobs", "200", "--batch", "20", "--workers", "1", "--lean", "--mark-running", "--json")
	if code != cli.ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var r Result
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if !r.OK || !r.MarkRunning {
		t.Fatalf("unexpected result: %+v", r)
	}
	if n := r.Ops[opMarkRunning].Count; n != 10 || r.Ops[opCompleteBatch].Count != 10 {
		t.Errorf("--mark-running: one MarkRunningMany per batch of 20 jobs, want 10: %+v", r.Ops)
	}
	if code, _, stderr := run(t, "--scenario", "cluster", "--mark-running"); code != cli.ExitUsage || !strings.Contains(stderr, "--mark-running") {
		t.Errorf("--mark-running with the cluster scenario: exit %d, %s", code, stderr)
	}
}

func TestSeveralStoresJSONHasRuns(t *testing.T) {
	code, out, stderr := run(t, "--driver", "inmemory", "--dsn", "", "--dsn", "memory://", "--jobs", "100", "--json")
	if code != cli.ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var v struct {
		Runs []Result `json:"runs"`
		OK   bool     `json:"ok"`
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil || len(v.Runs) != 2 || !v.OK {
		t.Fatalf("want {runs:[2], ok:true}, got %v: %s", err, out)
	}
}

// TestUnreachableStoreNamedWithoutPassword (§2): a store bench cannot open
// is named on stderr and in the JSON result without its password, in every
// form a DSN gives one (a Redis Sentinel DSN's lone user info is the
// password).
func TestUnreachableStoreNamedWithoutPassword(t *testing.T) {
	for _, dsn := range []string{"redis+sentinel://hunter2@127.0.0.1:1/m", "redis://:hunter2@127.0.0.1:1/0",
		"redis://127.0.0.1:1?sentinel_password=x@hunter2"} {
		code, out, stderr := run(t, "--driver", "redis", "--dsn", dsn, "--jobs", "10", "--json")
		if code != cli.ExitFailure || !strings.Contains(out, `"error"`) || !strings.Contains(stderr, "bench: redis ") {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want the store's failure", dsn, code, out, stderr)
		}
		if strings.Contains(out+stderr, "hunter2") {
			t.Errorf("%s: the password is printed:\n%s%s", dsn, out, stderr)
		}
	}
}

func TestTableSideBySide(t *testing.T) {
	code, out, stderr := run(t, "--driver", "inmemory", "--driver", "inmemory", "--jobs", "100")
	if code != cli.ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	first := strings.SplitN(out, "\n", 2)[0]
	if strings.Count(first, "inmemory") != 2 {
		t.Errorf("header should name both runs: %q\n%s", first, out)
	}
	for _, want := range []string{"insert jobs/s", "live heap MiB start / peak / end", "dispatch", "terminal_once", "ok (completed=100"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

// TestJ4_DoubleDispatchIsCaught: a driver that hands one attempt to two
// workers must fail the run with dispatch_once violated and exit 1.
func TestJ4_DoubleDispatchIsCaught(t *testing.T) {
	faultydriver.Register("faulty-double-dispatch", faultydriver.DoubleDispatch)
	code, out, _ := run(t, "--driver", "faulty-double-dispatch", "--dsn", "faulty://", "--jobs", "300", "--batch", "20", "--json")
	if code != cli.ExitFailure {
		t.Fatalf("exit %d, want %d: %s", code, cli.ExitFailure, out)
	}
	var r Result
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if r.OK || r.Invariants["dispatch_once"].OK || r.Invariants["dispatch_once"].Counts["duplicates"] == 0 {
		t.Fatalf("dispatch_once should be violated: %+v", r.Invariants)
	}
}

// TestJ1_LostEnqueueIsCaught: a driver that drops jobs must fail
// terminal_once with missing jobs.
func TestJ1_LostEnqueueIsCaught(t *testing.T) {
	faultydriver.Register("faulty-lost-enqueue", faultydriver.LostEnqueue)
	code, out, _ := run(t, "--driver", "faulty-lost-enqueue", "--dsn", "faulty://", "--jobs", "100", "--batch", "10", "--json")
	if code != cli.ExitFailure {
		t.Fatalf("exit %d, want 1: %s", code, out)
	}
	var r Result
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if inv := r.Invariants["terminal_once"]; inv.OK || inv.Counts["missing"] != 10 {
		t.Fatalf("terminal_once should report 10 missing jobs: %+v", inv)
	}
}

func TestClusterInmemory(t *testing.T) {
	if testing.Short() {
		t.Skip("the cluster scenario runs for seconds")
	}
	start := time.Now()
	code, out, stderr := run(t, "--driver", "inmemory", "--scenario", "cluster", "--duration", "4s", "--jobs", "400", "--json")
	if code != cli.ExitOK {
		t.Fatalf("exit %d, stderr %s\n%s", code, stderr, out)
	}
	var r Result
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"terminal_once", "dispatch_once", "schedule_ticks", "fencing_monotonic", "leases_disjoint", "claim_exclusive", "crash_recovered"} {
		inv, ok := r.Invariants[name]
		if !ok || !inv.OK {
			t.Errorf("%s: %+v", name, inv)
		}
	}
	cr := r.Invariants["crash_recovered"].Counts
	if cr["worker_found_dead"] != 1 || cr["node_found_dead"] != 1 {
		t.Errorf("crashes not detected: %v", cr)
	}
	if r.Invariants["fencing_monotonic"].Counts["terms"] < 2 {
		t.Errorf("the leader crash should lead to a second term: %+v", r.Invariants["fencing_monotonic"])
	}
	if r.Invariants["terminal_once"].Counts["dead_letters"] == 0 {
		t.Errorf("poison jobs should end as dead letters: %+v", r.Invariants["terminal_once"])
	}
	if m := r.Memory; m == nil || len(m.LiveHeapMiB) < 2 || m.PeakMiB < m.StartMiB || m.PeakMiB < m.EndMiB {
		t.Errorf("memory samples of the run: %+v", m)
	}
	if time.Since(start) > 30*time.Second {
		t.Errorf("cluster run took %s", time.Since(start))
	}
}

// TestMemProfile: --memprofile writes a heap profile (gzipped protobuf).
func TestMemProfile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mem.pprof")
	if code, out, stderr := run(t, "--driver", "inmemory", "--jobs", "100", "--memprofile", path); code != cli.ExitOK {
		t.Fatalf("exit %d: %s %s", code, stderr, out)
	}
	b, err := os.ReadFile(path)
	if err != nil || len(b) < 100 || b[0] != 0x1f || b[1] != 0x8b {
		t.Fatalf("not a heap profile: %d bytes, %v", len(b), err)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"--nope"},
		{"--scenario", "sprint"},
		{"--jobs", "0"},
		{"--driver", "inmemory", "--driver", "inmemory", "--dsn", "a", "--dsn", "b", "--dsn", "c"},
		{"--driver", "nosuchdriver"},
		{"extra"},
	} {
		code, out, stderr := run(t, args...)
		if code != cli.ExitUsage {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
		if out != "" || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%v: want one line on stderr, got stdout %q stderr %q", args, out, stderr)
		}
	}
}

func TestHelp(t *testing.T) {
	code, out, _ := run(t, "--help")
	if code != cli.ExitOK || !strings.Contains(out, "Examples:") || !strings.Contains(out, "-duration") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}

func TestPercentile(t *testing.T) {
	var h histogram
	for i := 1; i <= 100; i++ {
		h.add(time.Duration(i) * time.Millisecond)
	}
	// Buckets are at most 1/64 of their value wide, reported by midpoint.
	near := func(got, want time.Duration) bool { return got >= want-want/128 && got <= want+want/128 }
	if p := h.percentile(0.5); !near(p, 50*time.Millisecond) {
		t.Errorf("p50 = %s", p)
	}
	if p := h.percentile(0.99); !near(p, 99*time.Millisecond) || near(p, 100*time.Millisecond) {
		t.Errorf("p99 = %s", p)
	}
	if p := h.percentile(1); !near(p, 100*time.Millisecond) {
		t.Errorf("p100 = %s", p)
	}
	var one histogram
	one.add(time.Millisecond)
	if p := one.percentile(0.99); !near(p, time.Millisecond) {
		t.Errorf("p99 of one = %s", p)
	}
	// Below 128µs every microsecond has its own bucket.
	var small histogram
	for _, us := range []int{3, 5, 127} {
		small.add(time.Duration(us) * time.Microsecond)
	}
	if p := small.percentile(0.5); p != 5*time.Microsecond {
		t.Errorf("p50 of 3, 5, 127µs = %s", p)
	}
	if p := small.percentile(1); p != 127*time.Microsecond {
		t.Errorf("max of 3, 5, 127µs = %s", p)
	}
}

// TestHistogramBuckets: every duration falls in a bucket whose midpoint is
// within 1/128 of it, buckets are in order, and merging adds counts.
func TestHistogramBuckets(t *testing.T) {
	prev := -1
	for d := time.Microsecond; d < 100*time.Hour; d = d*9/8 + time.Microsecond {
		i := histBucket(d)
		if i < prev {
			t.Fatalf("%s is in bucket %d, before the bucket %d of a shorter duration", d, i, prev)
		}
		prev = i
		us := d.Truncate(time.Microsecond)
		if v := histValue(i); v < us-us/128 || v > us+us/128 {
			t.Fatalf("%s is in bucket %d reported as %s", d, i, v)
		}
	}
	var a, b histogram
	a.add(time.Millisecond)
	b.add(time.Second)
	b.add(time.Second)
	a.merge(&b)
	if a.n != 3 || a.percentile(0.34) < time.Second-time.Second/128 {
		t.Errorf("merged: n=%d p34=%s", a.n, a.percentile(0.34))
	}
}
