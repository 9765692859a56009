package conformance

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/orchestrix/persistence/abstractions/stores"
)

// errorTests covers E1–E4.
func errorTests() []testCase {
	return []testCase{
		{"E1_SentinelErrorsAreDistinct", testSentinels},
		{"E2_CancelledContextIsHonoured", testCancelledContext},
		{"E3_HostileStringsRoundTrip", testHostileRoundTrip},
		{"E3_HostileNamesMatchOnlyThemselves", testHostileMatching},
		{"E3_InvalidTextRejected", testInvalidText},
		{"E4_ConcurrentMixedUse", testConcurrentMixedUse},
		{"E4_ClosedStoreReturnsErrClosed", testClosedStore},
	}
}

var sentinels = []struct {
	name string
	err  error
}{
	{"ErrNotFound", stores.ErrNotFound},
	{"ErrAlreadyExists", stores.ErrAlreadyExists},
	{"ErrConflict", stores.ErrConflict},
	{"ErrInvalidArgument", stores.ErrInvalidArgument},
	{"ErrClosed", stores.ErrClosed},
	{"ErrNotSupported", stores.ErrNotSupported},
}

// checkSentinel reports unless err matches exactly one sentinel, want.
func checkSentinel(t T, what string, err, want error) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: no error, want %v", what, want)
		return
	}
	for _, s := range sentinels {
		if errors.Is(err, s.err) != (s.err == want) {
			t.Errorf("%s: error %q: errors.Is(err, %s) = %v", what, err, s.name, errors.Is(err, s.err))
		}
	}
}

func testSentinels(t T, st *stores.Store) {
	ctx := t.Context()
	j := newJob(1)
	enqueue(t, st, j)
	_, err := st.Jobs().Get(ctx, stores.NewID())
	checkSentinel(t, "Get of a missing job", err, stores.ErrNotFound)
	checkSentinel(t, "Enqueue of a duplicate", st.Jobs().Enqueue(ctx, j.Clone()), stores.ErrAlreadyExists)
	d := dispatch(t, st, at(time.Hour), 1, "")
	must(t, st.Jobs().Complete(ctx, d[0].Ref(), at(time.Hour)), "Complete")
	checkSentinel(t, "Complete of a completed job", st.Jobs().Complete(ctx, d[0].Ref(), at(time.Hour)), stores.ErrConflict)
	bad := newJob(2)
	bad.Queue = ""
	checkSentinel(t, "Enqueue without a queue", st.Jobs().Enqueue(ctx, bad), stores.ErrInvalidArgument)
	_, err = st.Workers().Get(ctx, "nobody")
	checkSentinel(t, "worker Get of a missing worker", err, stores.ErrNotFound)
	_, err = st.Nodes().AcquireLeadership(ctx, "n1", at(0), time.Minute)
	must(t, err, "AcquireLeadership")
	_, err = st.Nodes().AcquireLeadership(ctx, "n2", at(0), time.Minute)
	checkSentinel(t, "AcquireLeadership of a held lease", err, stores.ErrConflict)
	_, err = st.Cron().Register(ctx, &stores.CronSchedule{ScheduleFields: scheduleFields("x"), Expression: "bad"})
	checkSentinel(t, "Register of a bad cron", err, stores.ErrInvalidArgument)
	must(t, st.Close(), "Close")
	_, err = st.Jobs().Get(ctx, j.ID)
	checkSentinel(t, "Get on a closed store", err, stores.ErrClosed)
}

func testCancelledContext(t T, st *stores.Store) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	past, cancel2 := context.WithDeadline(t.Context(), time.Now().Add(-time.Second))
	defer cancel2()
	live := newJob(1)
	enqueue(t, st, live)
	d := dispatch(t, st, at(time.Hour), 1, "")[0]
	before := getJob(t, st, live.ID)

	fresh := newJob(2)
	calls := []struct {
		name string
		call func(ctx context.Context) error
	}{
		{"Enqueue", func(ctx context.Context) error { return st.Jobs().Enqueue(ctx, fresh) }},
		{"Get", func(ctx context.Context) error { _, err := st.Jobs().Get(ctx, live.ID); return err }},
		{"Dispatch", func(ctx context.Context) error {
			_, err := st.Jobs().Dispatch(ctx, stores.DispatchParams{Limit: 1, Now: at(time.Hour)})
			return err
		}},
		{"Complete", func(ctx context.Context) error { return st.Jobs().Complete(ctx, d.Ref(), at(time.Hour)) }},
		{"CompleteMany", func(ctx context.Context) error {
			_, err := st.Jobs().CompleteMany(ctx, []stores.Ref{d.Ref()}, at(time.Hour))
			return err
		}},
		{"Query", func(ctx context.Context) error { _, err := st.Jobs().Query(ctx, stores.JobQuery{Limit: 1}); return err }},
		{"Recover", func(ctx context.Context) error {
			_, err := st.Jobs().Recover(ctx, stores.RecoverParams{Now: at(time.Hour), DispatchLease: time.Second, Limit: 1})
			return err
		}},
		{"worker Heartbeat", func(ctx context.Context) error {
			_, err := st.Workers().Heartbeat(ctx, newWorker("w", 1, "q"), at(0))
			return err
		}},
		{"AcquireLeadership", func(ctx context.Context) error {
			_, err := st.Nodes().AcquireLeadership(ctx, "n", at(0), time.Minute)
			return err
		}},
		{"cron Register", func(ctx context.Context) error {
			_, err := st.Cron().Register(ctx, cronKind().make("ctx"))
			return err
		}},
		{"Logs Append", func(ctx context.Context) error {
			return st.Logs().Append(ctx, []*stores.LogEntry{{JobID: live.ID, Timestamp: at(0), Message: "m"}})
		}},
		{"DeadLetters List", func(ctx context.Context) error { _, err := st.DeadLetters().List(ctx, "", 1); return err }},
	}
	for _, c := range calls {
		if err := c.call(ctx); !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a cancelled context: %v, want an error wrapping context.Canceled", c.name, err)
		}
		if err := c.call(past); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s past its deadline: %v, want an error wrapping context.DeadlineExceeded", c.name, err)
		}
	}
	// Nothing was written.
	wantGone(t, st, fresh.ID, "enqueued with a cancelled context")
	checkJob(t, "job after cancelled calls", before, getJob(t, st, live.ID))
	_, err := st.Workers().Get(t.Context(), "w")
	wantErr(t, err, stores.ErrNotFound, "worker registered with a cancelled context")
	_, err = st.Nodes().CurrentLeader(t.Context(), at(0))
	wantErr(t, err, stores.ErrNotFound, "lease acquired with a cancelled context")
	if got := listLogs(t, st, live.ID, 10); len(got) != 0 {
		t.Errorf("%d log lines appended with a cancelled context", len(got))
	}
}

// hostile are names and text that break out of naive SQL, LIKE patterns,
// Redis globs, key separators or JSON.
var hostile = []string{
	`it's "quoted"`,
	`'; DROP TABLE jobs; --`,
	`%`,
	`_`,
	`*`,
	`a*`,
	`?`,
	`[a-z]`,
	`{x}`,
	`{braces}:with:colons`,
	`with spaces  and	tab`,
	"line\nbreak",
	`back\slash\\`,
	`$1 :name @p`,
	`ünïcødé ✓ 日本語 🚀`,
	strings.Repeat("n", stores.MaxNameLen),
	strings.Repeat("é", stores.MaxNameLen/2) + "x", // 255 bytes of multi-byte text
}

func testHostileRoundTrip(t T, st *stores.Store) {
	ctx := t.Context()
	for i, s := range hostile {
		args, _ := json.Marshal(map[string]string{s: s})
		j := newJob(i)
		j.Type, j.Queue, j.CorrelationID, j.UniqueKey, j.Args, j.LastError = s, s, s, s, args, s
		enqueue(t, st, j)
		checkJob(t, fmt.Sprintf("job named %q", s), j, getJob(t, st, j.ID))
		d := dispatch(t, st, at(time.Hour), 10, s, s)
		if len(d) != 1 || d[0].ID != j.ID || d[0].WorkerID != s {
			t.Errorf("Dispatch of queue %q for worker %q returned %v", s, s, ids(d))
		}
		must(t, st.Jobs().ClaimForFollower(ctx, j.ID, s), "ClaimForFollower by %q", s)
		owned, err := st.Jobs().ByFollower(ctx, s, 10)
		must(t, err, "ByFollower(%q)", s)
		checkIDs(t, fmt.Sprintf("ByFollower(%q)", s), []string{j.ID}, ids(owned))

		w := newWorker(s, 2, s)
		w.HostName, w.Metadata = s, args
		beatWorker(t, st, w, at(0))
		gw := getWorker(t, st, s)
		if gw.ID != s || gw.HostName != s || len(gw.Queues) != 1 || gw.Queues[0] != s || string(gw.Metadata) != string(args) {
			t.Errorf("worker %q came back as %+v", s, gw)
		}
		n := newNode(s)
		n.HostName, n.Metadata = s, args
		beatNode(t, st, n, at(0))
		if gn := getNode(t, st, s); gn.ID != s || gn.HostName != s || string(gn.Metadata) != string(args) {
			t.Errorf("node %q came back as %+v", s, gn)
		}

		sched := cronKind().make(s)
		sched.JobType, sched.Queue, sched.Args = s, s, args
		reg, err := st.Cron().Register(ctx, sched)
		must(t, err, "Register schedule %q", s)
		byName, err := st.Cron().GetByName(ctx, s)
		must(t, err, "GetByName(%q)", s)
		checkEqual(t, fmt.Sprintf("schedule named %q", s), reg, byName)

		e := &stores.LogEntry{JobID: j.ID, Timestamp: at(0), Level: s, Message: s, Exception: s}
		must(t, st.Logs().Append(ctx, []*stores.LogEntry{e}), "Logs Append")
		if got := listLogs(t, st, j.ID, 10); len(got) != 1 || !checkEqual(t, fmt.Sprintf("log line %q", s), e, got[0]) {
			t.Errorf("log of job %s: %d lines, want 1", j.ID, len(got))
		}
	}
	// Everything is still there, under its own name.
	ws, err := st.Workers().List(ctx)
	must(t, err, "Workers List")
	ns, err := st.Nodes().List(ctx)
	must(t, err, "Nodes List")
	scheds, err := st.Cron().List(ctx, stores.ScheduleList{Limit: 100})
	must(t, err, "Cron List")
	if len(ws) != len(hostile) || len(ns) != len(hostile) || len(scheds) != len(hostile) {
		t.Errorf("%d workers, %d nodes, %d schedules; want %d of each", len(ws), len(ns), len(scheds), len(hostile))
	}
}

func testHostileMatching(t T, st *stores.Store) {
	ctx := t.Context()
	// Plain names a pattern could match, then every hostile name once.
	plain := []string{"a", "ab", "abc", "x", "b", "a-z", "n", "jobs"}
	names := append(append([]string{}, plain...), hostile...)
	jobs := map[string]*stores.Job{}
	workers := map[string]string{}
	for i, q := range names {
		j := newJob(i)
		j.Queue, j.Type = q, q
		jobs[q] = j
		enqueue(t, st, j)
		workers[q] = fmt.Sprintf("w%02d", i)
		beatWorker(t, st, newWorker(workers[q], 1, q), at(0))
	}
	for _, q := range names {
		typed, err := st.Jobs().Query(ctx, stores.JobQuery{Types: []string{q}, Limit: 100})
		must(t, err, "Query type %q", q)
		checkIDs(t, fmt.Sprintf("Query of type %q", q), []string{jobs[q].ID}, ids(typed.Jobs))
		avail, err := st.Workers().Available(ctx, q, 100)
		must(t, err, "Available(%q)", q)
		if len(avail) != 1 || avail[0].ID != workers[q] {
			var got []string
			for _, w := range avail {
				got = append(got, w.ID)
			}
			t.Errorf("Available(%q) returned %q, want only %s", q, got, workers[q])
		}
	}
	for _, q := range names {
		d := dispatch(t, st, at(time.Hour), 100, "", q)
		checkIDs(t, fmt.Sprintf("Dispatch of queue %q", q), []string{jobs[q].ID}, ids(d))
	}
}

func testInvalidText(t T, st *stores.Store) {
	ctx := t.Context()
	for _, bad := range []string{"bad\xff\xfeutf8", "nul\x00byte"} {
		j := newJob(1)
		j.Queue = bad
		err := st.Jobs().Enqueue(ctx, j)
		if wantErr(t, err, stores.ErrInvalidArgument, "Enqueue with queue %q", bad) && !strings.Contains(err.Error(), "Queue") {
			t.Errorf("error %q does not name the field Queue", err)
		}
		wantGone(t, st, j.ID, "rejected job")
		_, err = st.Workers().Heartbeat(ctx, newWorker(bad, 1, "q"), at(0))
		wantErr(t, err, stores.ErrInvalidArgument, "worker Heartbeat with ID %q", bad)
		_, err = st.Nodes().Heartbeat(ctx, newNode(bad), at(0))
		wantErr(t, err, stores.ErrInvalidArgument, "node Heartbeat with ID %q", bad)
		_, err = st.Cron().Register(ctx, cronKind().make(bad))
		wantErr(t, err, stores.ErrInvalidArgument, "Register schedule named %q", bad)
		err = st.Logs().Append(ctx, []*stores.LogEntry{{JobID: stores.NewID(), Timestamp: at(0), Message: bad}})
		wantErr(t, err, stores.ErrInvalidArgument, "Logs Append with message %q", bad)
		_, err = st.Jobs().Dispatch(ctx, stores.DispatchParams{Queues: []string{bad}, Limit: 1, Now: at(0)})
		wantErr(t, err, stores.ErrInvalidArgument, "Dispatch of queue %q", bad)
	}
	j := newJob(2)
	j.Args = json.RawMessage(`{"unterminated":`)
	wantErr(t, st.Jobs().Enqueue(ctx, j), stores.ErrInvalidArgument, "Enqueue with invalid JSON args")
	long := newJob(3)
	long.Queue = strings.Repeat("q", stores.MaxNameLen+1)
	wantErr(t, st.Jobs().Enqueue(ctx, long), stores.ErrInvalidArgument, "Enqueue with a 256-byte queue")
	ws, err := st.Workers().List(ctx)
	must(t, err, "Workers List")
	if len(ws) != 0 {
		t.Errorf("%d workers stored by rejected heartbeats", len(ws))
	}
}

func testConcurrentMixedUse(t T, st *stores.Store) {
	const goroutines, perG = 16, 20
	var fails failures
	var mu sync.Mutex
	completed := map[string]int{}
	race(goroutines, &fails, func(g int) {
		ctx := t.Context()
		me := fmt.Sprintf("worker-%02d", g)
		if _, err := st.Workers().Heartbeat(ctx, newWorker(me, 5, "shared", me), at(0)); err != nil {
			fails.add("%s: Heartbeat: %v", me, err)
			return
		}
		var mine []*stores.Job
		for i := range perG {
			j := newJob(g*perG + i)
			j.Queue = []string{"shared", me}[i%2]
			mine = append(mine, j)
		}
		if err := st.Jobs().EnqueueMany(ctx, mine[:perG/2]); err != nil {
			fails.add("%s: EnqueueMany: %v", me, err)
			return
		}
		for _, j := range mine[perG/2:] {
			if err := st.Jobs().Enqueue(ctx, j); err != nil {
				fails.add("%s: Enqueue: %v", me, err)
				return
			}
		}
		for round := 0; round < 1000; round++ {
			batch, err := st.Jobs().Dispatch(ctx, stores.DispatchParams{Queues: []string{"shared", me}, Limit: 3, Now: at(time.Hour), WorkerID: me})
			if err != nil {
				fails.add("%s: Dispatch: %v", me, err)
				return
			}
			if len(batch) == 0 {
				return
			}
			var refs []stores.Ref
			for _, j := range batch {
				run, err := st.Jobs().MarkRunning(ctx, j.Ref(), me, at(time.Hour))
				if err != nil {
					fails.add("%s: MarkRunning %s: %v", me, j.ID, err)
					continue
				}
				if err := st.Logs().Append(ctx, []*stores.LogEntry{{JobID: j.ID, Timestamp: at(time.Hour), Message: me}}); err != nil {
					fails.add("%s: Logs Append: %v", me, err)
				}
				refs = append(refs, run.Ref())
			}
			if len(refs) == 0 {
				continue
			}
			if _, err := st.Workers().AdjustLoad(ctx, me, 1); err != nil {
				fails.add("%s: AdjustLoad: %v", me, err)
			}
			res, err := st.Jobs().CompleteMany(ctx, refs, at(time.Hour))
			if err != nil {
				fails.add("%s: CompleteMany: %v", me, err)
				return
			}
			for i, e := range res {
				if e != nil {
					fails.add("%s: CompleteMany of %s: %v", me, refs[i].ID, e)
					continue
				}
				mu.Lock()
				completed[refs[i].ID]++
				mu.Unlock()
			}
			if _, err := st.Workers().AdjustLoad(ctx, me, -1); err != nil {
				fails.add("%s: AdjustLoad: %v", me, err)
			}
			if _, err := st.Jobs().Query(ctx, stores.JobQuery{Queues: []string{me}, Limit: 10}); err != nil {
				fails.add("%s: Query: %v", me, err)
			}
		}
		fails.add("%s: Dispatch never drained", me)
	})
	fails.report(t)
	all := queryAll(t, st, stores.JobQuery{Limit: 100})
	if len(all) != goroutines*perG {
		t.Errorf("%d jobs stored, want %d", len(all), goroutines*perG)
	}
	var bad failures
	for _, j := range all {
		if j.Status != stores.StatusCompleted || completed[j.ID] != 1 {
			bad.add("job %s: status %s, completed %d times; want completed once", j.ID, j.Status, completed[j.ID])
		}
		if logs := listLogs(t, st, j.ID, 10); len(logs) != 1 || logs[0].Message != j.WorkerID {
			bad.add("job %s: %d log lines, want 1 from its worker %s", j.ID, len(logs), j.WorkerID)
		}
	}
	bad.report(t)
	for g := range goroutines {
		if w := getWorker(t, st, fmt.Sprintf("worker-%02d", g)); w.CurrentLoad != 0 {
			t.Errorf("worker %s load %d after balanced adjustments, want 0", w.ID, w.CurrentLoad)
		}
	}
}

func testClosedStore(t T, st *stores.Store) {
	ctx := t.Context()
	j := newJob(1)
	enqueue(t, st, j)
	if err := st.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := st.Close(); err != nil {
		t.Errorf("second Close: %v, want nil (idempotent)", err)
	}
	checks := []struct {
		name string
		err  error
	}{
		{"Jobs Get", func() error { _, err := st.Jobs().Get(ctx, j.ID); return err }()},
		{"Jobs Enqueue", st.Jobs().Enqueue(ctx, newJob(2))},
		{"Jobs Dispatch", func() error {
			_, err := st.Jobs().Dispatch(ctx, stores.DispatchParams{Limit: 1, Now: at(0)})
			return err
		}()},
		{"Workers List", func() error { _, err := st.Workers().List(ctx); return err }()},
		{"Nodes CurrentLeader", func() error { _, err := st.Nodes().CurrentLeader(ctx, at(0)); return err }()},
		{"Cron Due", func() error { _, err := st.Cron().Due(ctx, at(0), 1); return err }()},
		{"Intervals Due", func() error { _, err := st.Intervals().Due(ctx, at(0), 1); return err }()},
		{"Logs List", func() error { _, err := st.Logs().List(ctx, j.ID, "", 1); return err }()},
		{"History ListByJob", func() error { _, err := st.History().ListByJob(ctx, j.ID); return err }()},
		{"DeadLetters List", func() error { _, err := st.DeadLetters().List(ctx, "", 1); return err }()},
		{"Ping", st.Ping(ctx)},
	}
	for _, c := range checks {
		wantErr(t, c.err, stores.ErrClosed, "%s after Close", c.name)
	}
}
