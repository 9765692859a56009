package redis

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/orchestrix/persistence/abstractions/stores"
	goredis "github.com/redis/go-redis/v9"
)

func ids(jobs []*stores.Job) []string {
	out := make([]string, len(jobs))
	for i, j := range jobs {
		out[i] = j.ID
	}
	return out
}

// TestJ4_DispatchExactOrderAcrossQueues: extreme priorities, equal created
// times and ids as the last tie-break; Dispatch over a subset of queues
// returns exactly the Pending order restricted to them.
func TestJ4_DispatchExactOrderAcrossQueues(t *testing.T) {
	s, _ := openStore(t)
	ctx := ctxT(t)
	prios := []int{math.MinInt64, -1, 0, 1, 7, math.MaxInt64, 1 << 53, 1<<53 + 1}
	queues := []string{"a", "a0", "b{x}", "c:d"}
	var all []*stores.Job
	for i := 0; i < 64; i++ {
		j := &stores.Job{ID: fmt.Sprintf("00000000-0000-7000-8000-%012d", 64-i), Type: "t",
			Queue: queues[i%len(queues)], Priority: prios[i%len(prios)], CreatedAt: t0.Add(time.Duration(i%3) * time.Microsecond)}
		all = append(all, j)
	}
	must(t, s.Jobs().EnqueueMany(ctx, all))
	want := append([]*stores.Job(nil), all...)
	sort.Slice(want, func(a, b int) bool {
		x, y := want[a], want[b]
		if x.Priority != y.Priority {
			return x.Priority > y.Priority
		}
		if !x.CreatedAt.Equal(y.CreatedAt) {
			return x.CreatedAt.Before(y.CreatedAt)
		}
		return x.ID < y.ID
	})
	p, err := s.Jobs().Pending(ctx, t0.Add(time.Second), 100)
	must(t, err)
	if fmt.Sprint(ids(p)) != fmt.Sprint(ids(want)) {
		t.Fatalf("Pending order\n got %v\nwant %v", ids(p), ids(want))
	}
	var sub []string
	for _, j := range want {
		if j.Queue == "a" || j.Queue == "c:d" {
			sub = append(sub, j.ID)
		}
	}
	var got []string
	for len(got) < len(sub) {
		d, err := s.Jobs().Dispatch(ctx, stores.DispatchParams{Queues: []string{"c:d", "a", "a"}, Limit: 5, Now: t0.Add(time.Second)})
		must(t, err)
		if len(d) == 0 {
			break
		}
		got = append(got, ids(d)...)
	}
	if fmt.Sprint(got) != fmt.Sprint(sub) {
		t.Fatalf("Dispatch order over queues a, c:d\n got %v\nwant %v", got, sub)
	}
	for _, id := range got {
		j, err := s.Jobs().Get(ctx, id)
		must(t, err)
		if j.Queue != "a" && j.Queue != "c:d" {
			t.Fatalf("job of queue %q dispatched", j.Queue)
		}
	}
}

// TestJ3_ScheduledPromotionRespectsEachCallersNow: a caller with a later
// clock promotes scheduled jobs; callers with an earlier now still do not
// see them as due.
func TestJ3_ScheduledPromotionRespectsEachCallersNow(t *testing.T) {
	s, _ := openStore(t)
	ctx := ctxT(t)
	later := &stores.Job{Type: "t", Queue: "q", CreatedAt: t0, ScheduledAt: t0.Add(10 * time.Second), Priority: 9}
	now := &stores.Job{Type: "t", Queue: "q", CreatedAt: t0}
	must(t, s.Jobs().EnqueueMany(ctx, []*stores.Job{later, now}))
	// A skewed caller (20s ahead) promotes the scheduled job via another queue.
	if d, err := s.Jobs().Dispatch(ctx, stores.DispatchParams{Queues: []string{"other"}, Limit: 10, Now: t0.Add(20 * time.Second)}); err != nil || len(d) != 0 {
		t.Fatalf("dispatch other: %v %v", d, err)
	}
	for _, check := range []struct {
		at   time.Time
		want []string
	}{
		{t0, []string{now.ID}},
		{t0.Add(10*time.Second - time.Microsecond), []string{now.ID}},
		{t0.Add(10 * time.Second), []string{later.ID, now.ID}},
	} {
		p, err := s.Jobs().Pending(ctx, check.at, 10)
		must(t, err)
		if fmt.Sprint(ids(p)) != fmt.Sprint(check.want) {
			t.Errorf("Pending(%v) = %v, want %v", check.at, ids(p), check.want)
		}
	}
	d, err := s.Jobs().Dispatch(ctx, stores.DispatchParams{Limit: 10, Now: t0})
	must(t, err)
	if fmt.Sprint(ids(d)) != fmt.Sprint([]string{now.ID}) {
		t.Fatalf("Dispatch at t0 = %v, want only the unscheduled job", ids(d))
	}
	// Enqueued after the watermark moved: scheduled before it, still only
	// due at its own time.
	mid := &stores.Job{Type: "t", Queue: "q", CreatedAt: t0, ScheduledAt: t0.Add(15 * time.Second)}
	must(t, s.Jobs().Enqueue(ctx, mid))
	d, err = s.Jobs().Dispatch(ctx, stores.DispatchParams{Limit: 10, Now: t0.Add(12 * time.Second)})
	must(t, err)
	if fmt.Sprint(ids(d)) != fmt.Sprint([]string{later.ID}) {
		t.Fatalf("Dispatch at t0+12s = %v, want %v", ids(d), later.ID)
	}
	d, err = s.Jobs().Dispatch(ctx, stores.DispatchParams{Limit: 10, Now: t0.Add(15 * time.Second)})
	must(t, err)
	if fmt.Sprint(ids(d)) != fmt.Sprint([]string{mid.ID}) {
		t.Fatalf("Dispatch at t0+15s = %v, want %v", ids(d), mid.ID)
	}
}

// TestE3_HostileNamesStayInTheirValues: queue, worker, node and unique-key
// text that looks like key syntax or like another name's encoding never
// reaches a key name and never matches another name.
func TestE3_HostileNamesStayInTheirValues(t *testing.T) {
	s, b := openStore(t)
	ctx := ctxT(t)
	names := []string{"q", "q1", "003q", "3q", "{" + b.Prefix() + "}:jobs", "a}:b{c", "*", "x\xff"[:1], "é{}", strings.Repeat("z", 255)}
	for i, n := range names {
		j := &stores.Job{Type: n, Queue: n, UniqueKey: n, CorrelationID: n, CreatedAt: t0.Add(time.Duration(i) * time.Microsecond)}
		must(t, s.Jobs().Enqueue(ctx, j))
		d, err := s.Jobs().Dispatch(ctx, stores.DispatchParams{Queues: []string{n}, Limit: 10, Now: t0.Add(time.Second), WorkerID: n})
		must(t, err)
		if len(d) != 1 || d[0].ID != j.ID {
			t.Fatalf("queue %q: dispatched %v, want only %s", n, ids(d), j.ID)
		}
		must(t, s.Jobs().ClaimForFollower(ctx, j.ID, n))
	}
	for _, n := range names {
		c, err := s.Jobs().CountByFollower(ctx, n)
		must(t, err)
		if c != 1 {
			t.Errorf("CountByFollower(%q) = %d, want 1", n, c)
		}
		r, err := s.Jobs().Recover(ctx, stores.RecoverParams{Now: t0.Add(time.Second), DeadWorkers: []string{n}, Limit: 100})
		must(t, err)
		if len(r.Requeued) != 1 {
			t.Errorf("Recover(dead worker %q) requeued %v, want one job", n, r.Requeued)
		}
	}
	// Every key of the store is one of the fixed names of keys.go.
	known := map[string]bool{}
	for _, k := range b.k.all() {
		known[k] = true
	}
	it := b.c.Scan(ctx, 0, "*"+b.Prefix()+"*", 1000).Iterator()
	n := 0
	for it.Next(ctx) {
		n++
		if !known[it.Val()] {
			t.Errorf("unexpected key %q", it.Val())
		}
	}
	must(t, it.Err())
	if n == 0 {
		t.Fatal("scan found no keys")
	}
}

// TestKeysShareOneTagPerFamily: on Cluster the job family (with schedules,
// history, logs, dead letters) is one slot, workers and nodes their own.
func TestKeysShareOneTagPerFamily(t *testing.T) {
	k := newKeys("p.x-1")
	slot := func(key string) string {
		open, close := strings.IndexByte(key, '{'), strings.IndexByte(key, '}')
		if open != 0 || close < 0 {
			t.Fatalf("key %q has no leading hash tag", key)
		}
		return key[1:close]
	}
	for _, key := range slices.Concat(k.cron, k.interval, k.plain) {
		if slot(key) != "p.x-1" {
			t.Errorf("key %q outside the job tag", key)
		}
	}
	if slot(k.workers) != "p.x-1:w" || slot(k.nodes) != "p.x-1:n" || slot(k.lease) != "p.x-1:n" {
		t.Errorf("member keys %q %q %q", k.workers, k.nodes, k.lease)
	}
	if len(k.job) != len(jobKeyNames) || k.cron[kSchDue] != "{p.x-1}:cron:due" || k.interval[kSch] != "{p.x-1}:ival" {
		t.Errorf("key order: %v %v", k.cron, k.interval)
	}
}

// TestJ8_TimeArithmeticIsExactPastFloatRange: deadlines in year 9000
// (beyond 2^53 µs, where Lua numbers lose precision) compare to the
// microsecond.
func TestJ8_TimeArithmeticIsExactPastFloatRange(t *testing.T) {
	s, _ := openStore(t)
	ctx := ctxT(t)
	far := time.Date(9000, 1, 1, 0, 0, 0, 1, time.UTC).Add(time.Microsecond * 3)
	j := &stores.Job{Type: "t", Queue: "q", CreatedAt: far, Timeout: time.Millisecond}
	must(t, s.Jobs().Enqueue(ctx, j))
	d, err := s.Jobs().Dispatch(ctx, stores.DispatchParams{Limit: 1, Now: far})
	must(t, err)
	started := far.Add(time.Microsecond)
	r, err := s.Jobs().MarkRunning(ctx, d[0].Ref(), "w", started)
	must(t, err)
	if !r.StartedAt.Equal(stores.NormalizeTime(started)) {
		t.Fatalf("StartedAt %v, want %v", r.StartedAt, started)
	}
	res, err := s.Jobs().Recover(ctx, stores.RecoverParams{Now: started.Add(time.Millisecond - time.Microsecond), Limit: 10})
	must(t, err)
	if len(res.Requeued)+len(res.TimedOut) != 0 {
		t.Fatalf("recovered 1µs before the deadline: %+v", res)
	}
	res, err = s.Jobs().Recover(ctx, stores.RecoverParams{Now: started.Add(time.Millisecond), Limit: 10})
	must(t, err)
	if len(res.TimedOut) != 1 {
		t.Fatalf("not timed out at the deadline: %+v", res)
	}
}

// TestJ5_DispatchCountsAttempts: dispatch adds one to the attempt stored in
// the job record as 19 digits, carrying past every 9 (dispatch.lua changes
// only the last digit when it can).
func TestJ5_DispatchCountsAttempts(t *testing.T) {
	s, _ := openStore(t)
	ctx := ctxT(t)
	for _, n := range []int64{0, 1, 8, 9, 19, 99, 1<<53 - 1} {
		j := &stores.Job{Type: "t", Queue: "attempts", CreatedAt: t0, Attempt: n}
		must(t, s.Jobs().Enqueue(ctx, j))
		d, err := s.Jobs().Dispatch(ctx, stores.DispatchParams{Queues: []string{"attempts"}, Limit: 1, Now: t0})
		must(t, err)
		if len(d) != 1 || d[0].Attempt != n+1 {
			t.Fatalf("attempt %d dispatched as %+v", n, d)
		}
		g, err := s.Jobs().Get(ctx, j.ID)
		must(t, err)
		if g.Attempt != n+1 {
			t.Fatalf("attempt %d stored as %d after dispatch", n, g.Attempt)
		}
		if n > 0 {
			if _, err := s.Jobs().MarkRunning(ctx, stores.Ref{ID: j.ID, Attempt: n}, "w", t0); !errors.Is(err, stores.ErrConflict) {
				t.Fatalf("the old attempt %d still marks running: %v", n, err)
			}
		}
		must(t, s.Jobs().Complete(ctx, g.Ref(), t0))
	}
}

// TestJ9_PurgeTakesHistoryAndLogsInBoundedSteps: a job with more log lines
// than one step deletes goes with all of them, and the orphan set empties.
func TestJ9_PurgeTakesHistoryAndLogsInBoundedSteps(t *testing.T) {
	s, b := openStore(t)
	ctx := ctxT(t)
	keep := &stores.Job{Type: "t", Queue: "q", CreatedAt: t0}
	gone := &stores.Job{Type: "t", Queue: "q", CreatedAt: t0, Status: stores.StatusCompleted, CompletedAt: t0}
	must(t, s.Jobs().EnqueueMany(ctx, []*stores.Job{keep, gone}))
	for _, id := range []string{keep.ID, gone.ID} {
		for a := 1; a <= 3; a++ {
			must(t, s.History().Append(ctx, &stores.JobHistory{JobID: id, Attempt: a, StartedAt: t0, CompletedAt: t0}))
		}
		for i := 0; i < 3; i++ {
			var batch []*stores.LogEntry
			for k := 0; k < 1000; k++ {
				batch = append(batch, &stores.LogEntry{JobID: id, Timestamp: t0, Message: "line"})
			}
			must(t, s.Logs().Append(ctx, batch))
		}
	}
	n, err := s.Jobs().Purge(ctx, t0.Add(time.Microsecond), 10)
	must(t, err)
	if n != 1 {
		t.Fatalf("purged %d jobs, want 1", n)
	}
	for _, c := range []struct {
		id   string
		hist int
		logs int
	}{{gone.ID, 0, 0}, {keep.ID, 3, 3000}} {
		h, err := s.History().ListByJob(ctx, c.id)
		must(t, err)
		lines := 0
		cur := ""
		for {
			p, err := s.Logs().List(ctx, c.id, cur, 1000)
			must(t, err)
			lines += len(p.Entries)
			if cur = p.Next; cur == "" {
				break
			}
		}
		if len(h) != c.hist || lines != c.logs {
			t.Errorf("job %s: %d history rows, %d log lines; want %d, %d", c.id, len(h), lines, c.hist, c.logs)
		}
	}
	k := b.k.job
	for _, c := range []struct {
		key  string
		want int64
	}{{k[kOrphans], 0}, {k[kLogID], 3000}, {k[kLogR], 3000}, {k[kLogBT], 3}, {k[kLogBL], 3},
		{k[kHistID], 3}, {k[kHistR], 3}, {k[kHistBT], 3}, {k[kHistBL], 3}} {
		var got int64
		switch b.c.Type(ctx, c.key).Val() {
		case "hash":
			got = b.c.HLen(ctx, c.key).Val()
		case "set":
			got = b.c.SCard(ctx, c.key).Val()
		case "zset":
			got = b.c.ZCard(ctx, c.key).Val()
		}
		if got != c.want {
			t.Errorf("%s holds %d entries, want %d", c.key, got, c.want)
		}
	}
}

// TestClockRule: the store keeps no clock of its own; every decision uses
// the now its caller passes (README, "Clocks"), whatever the server's time.
func TestClockRule(t *testing.T) {
	s, b := openStore(t)
	ctx := ctxT(t)
	server, err := b.ServerTime(ctx)
	must(t, err)
	if d := time.Since(server); d > time.Minute || d < -time.Minute {
		t.Fatalf("ServerTime %v is %v away from this machine's clock", server, d)
	}
	if server.Nanosecond()%1000 != 0 || server.Location() != time.UTC {
		t.Fatalf("ServerTime %v not normalised", server)
	}
	for _, base := range []time.Time{time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2500, 1, 1, 0, 0, 0, 0, time.UTC)} {
		node := "n-" + base.Format("2006")
		l, err := s.Nodes().AcquireLeadership(ctx, node, base, 10*time.Second)
		must(t, err)
		if _, err := s.Nodes().CurrentLeader(ctx, base.Add(10*time.Second-time.Microsecond)); err != nil {
			t.Fatalf("lease taken at %v not valid just before its expiry: %v", base, err)
		}
		if _, err := s.Nodes().CurrentLeader(ctx, base.Add(10*time.Second)); !errors.Is(err, stores.ErrNotFound) {
			t.Fatalf("lease taken at %v valid at its expiry: %v", base, err)
		}
		// A node whose clock runs 5s behind still sees the lease as held.
		if _, err := s.Nodes().AcquireLeadership(ctx, "other", base.Add(-5*time.Second), time.Second); !errors.Is(err, stores.ErrConflict) {
			t.Fatalf("acquire by a node 5s behind: %v, want ErrConflict", err)
		}
		must(t, s.Nodes().ResignLeadership(ctx, node, l.Term))
	}
}

// TestE2_ContextCancelled: a cancelled context stops a call before Redis.
func TestE2_ContextCancelled(t *testing.T) {
	_, b := openStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := b.Jobs().Dispatch(ctx, stores.DispatchParams{Limit: 1, Now: t0}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Dispatch with a cancelled context: %v", err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Jobs().Get(context.Background(), "00000000-0000-7000-8000-000000000001"); !errors.Is(err, stores.ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}
}

var _ = goredis.Nil

// TestJ5_RefResultsMapFailuresToTheirRefs: the scripts name only the refs
// they did not move (lib.lua, failures); each becomes its ref's error, every
// other ref nil, and a reply naming a ref twice, one out of range or an
// unknown code is an error, never a silent success.
func TestJ5_RefResultsMapFailuresToTheirRefs(t *testing.T) {
	refs := []stores.Ref{{ID: "a", Attempt: 1}, {ID: "b", Attempt: 2}, {ID: "c", Attempt: 3}}
	errs, err := refResults([]any{int64(1), "NOTFOUND", int64(3), "CONFLICT"}, refs, "in flight")
	must(t, err)
	if !errors.Is(errs[0], stores.ErrNotFound) || errs[1] != nil || !errors.Is(errs[2], stores.ErrConflict) {
		t.Fatalf("errors %v", errs)
	}
	errs, err = refResults([]any{}, refs, "in flight")
	must(t, err)
	for i, e := range errs {
		if e != nil {
			t.Fatalf("ref %d: %v", i, e)
		}
	}
	for _, bad := range [][]any{{int64(0), "CONFLICT"}, {int64(4), "CONFLICT"}, {int64(2), "CONFLICT", int64(2), "NOTFOUND"},
		{int64(1), "OK"}, {int64(1)}, {"1", "CONFLICT"}} {
		if _, err := refResults(bad, refs, "in flight"); err == nil {
			t.Fatalf("reply %v accepted", bad)
		}
	}
}

// TestJ4_DispatchKeepsASkippedJobBetweenTakenOnes: in one queue, a job
// promoted by a later clock but not due at the caller's now sits between
// two due ones in Pending order; Dispatch takes the due ones and leaves it
// ready (dispatch.lua removes a run of taken members with one range, which
// must end at a skip), so it is dispatched at its own time.
func TestJ4_DispatchKeepsASkippedJobBetweenTakenOnes(t *testing.T) {
	s, b := openStore(t)
	ctx := ctxT(t)
	first := &stores.Job{Type: "t", Queue: "q", CreatedAt: t0, Priority: 9}
	later := &stores.Job{Type: "t", Queue: "q", CreatedAt: t0, ScheduledAt: t0.Add(10 * time.Second), Priority: 5}
	last := &stores.Job{Type: "t", Queue: "q", CreatedAt: t0, Priority: 1}
	must(t, s.Jobs().EnqueueMany(ctx, []*stores.Job{first, later, last}))
	// A caller 20s ahead promotes the scheduled job via another queue.
	if d, err := s.Jobs().Dispatch(ctx, stores.DispatchParams{Queues: []string{"other"}, Limit: 10, Now: t0.Add(20 * time.Second)}); err != nil || len(d) != 0 {
		t.Fatalf("dispatch other: %v %v", d, err)
	}
	d, err := s.Jobs().Dispatch(ctx, stores.DispatchParams{Queues: []string{"q"}, Limit: 10, Now: t0})
	must(t, err)
	if fmt.Sprint(ids(d)) != fmt.Sprint([]string{first.ID, last.ID}) {
		t.Fatalf("Dispatch at t0 = %v, want %v", ids(d), []string{first.ID, last.ID})
	}
	checkIndexes(t, ctx, b, "dispatch past a skipped job")
	d, err = s.Jobs().Dispatch(ctx, stores.DispatchParams{Queues: []string{"q"}, Limit: 10, Now: t0.Add(10 * time.Second)})
	must(t, err)
	if fmt.Sprint(ids(d)) != fmt.Sprint([]string{later.ID}) {
		t.Fatalf("Dispatch at t0+10s = %v, want %v", ids(d), later.ID)
	}
}
