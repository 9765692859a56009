package redis

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/orchestrix/persistence/abstractions/stores"
	goredis "github.com/redis/go-redis/v9"
)

// snapshot returns the type and content of every key the store may hold.
func snapshot(t *testing.T, ctx context.Context, b *Backend) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, key := range b.k.all() {
		typ, err := b.c.Type(ctx, key).Result()
		must(t, err)
		var content []string
		switch typ {
		case "none":
			continue
		case "hash":
			h, err := b.c.HGetAll(ctx, key).Result()
			must(t, err)
			for f, v := range h {
				content = append(content, f+"="+v)
			}
		case "zset":
			zs, err := b.c.ZRangeWithScores(ctx, key, 0, -1).Result()
			must(t, err)
			for _, z := range zs {
				content = append(content, fmt.Sprint(z.Score, " ", z.Member))
			}
		case "set":
			content, err = b.c.SMembers(ctx, key).Result()
			must(t, err)
		case "string":
			v, err := b.c.Get(ctx, key).Result()
			must(t, err)
			content = []string{v}
		default:
			t.Fatalf("key %s of type %s", key, typ)
		}
		sort.Strings(content)
		out[key] = typ + ": " + strings.Join(content, "\n")
	}
	return out
}

// TestJ1_RejectedPlainBatchChangesNothing: a batch of plain jobs with a
// taken id (stored pending, dispatched or completed; at any place of a
// batch longer than one HMGET chunk; with or without readyq and queues
// keys) or with one id twice is ErrAlreadyExists and leaves every key of
// the store as it was (enqueue_check.lua holds the keys the batch writes,
// hold_release.lua puts them back); the store works on afterwards. On a
// server that denies RENAME the same holds through enqueue.lua.
func TestJ1_RejectedPlainBatchChangesNothing(t *testing.T) {
	onHoldingServers(t, testRejectedPlainBatch)
}

// onHoldingServers runs test on a standalone server and on a Cluster, where
// canHold must answer 1 (the native transaction), and on a server that
// denies RENAME, where it must answer 2 (the script path).
func onHoldingServers(t *testing.T, test func(t *testing.T, b *Backend, hold int32)) {
	t.Run("standalone", func(t *testing.T) {
		requireServer(t, testAddr())
		test(t, openBackend(t, standaloneDSN()), 1)
	})
	t.Run("cluster", func(t *testing.T) {
		test(t, openBackend(t, clusterDSN(t)), 1)
	})
	t.Run("no RENAME", func(t *testing.T) {
		test(t, openBackend(t, noRenameServer(t)), 2)
	})
}

// noRenameServer starts a private redis-server that denies RENAME and
// returns its DSN.
func noRenameServer(t *testing.T) string {
	return "redis://" + privateServer(t, "--rename-command", "RENAME", "") + "/0"
}

// oneKeyUnrenamableServer starts a private redis-server whose user may use
// every key of an openBackend store but {P}:hold:histid, which it may only
// read (an ACL grants key patterns and denies the rest), and returns its
// DSN: canHold must find out that history appends cannot hold their keys.
func oneKeyUnrenamableServer(t *testing.T) string {
	addr := privateServer(t)
	c := goredis.NewClient(&goredis.Options{Addr: addr})
	defer c.Close()
	p := "~{orxtest-*"
	must(t, c.Do(ctxT(t), "ACL", "SETUSER", "orx", "on", ">pw", "+@all", p+"}:[^h]*", p+"}:hist*",
		p+"}:hold:[^h]*", p+"}:hold:hist[^i]*", p+":w}:*", p+":n}:*", "%R"+p+"}:hold:histid").Err())
	return "redis://orx:pw@" + addr + "/0"
}

// privateServer starts a redis-server of this test on a free port, with
// args, and returns its address.
func privateServer(t *testing.T, args ...string) string {
	server, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("redis-server is not installed")
		}
		t.Skip("redis-server is not installed: install it to run this test")
	}
	port, err := freePort()
	must(t, err)
	dir := t.TempDir()
	cmd := exec.Command(server, append([]string{"--port", fmt.Sprint(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", dir, "--logfile", filepath.Join(dir, "redis.log")}, args...)...)
	must(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	must(t, waitPing(addr))
	return addr
}

// unchanged fails when a key of b differs from before (a snapshot).
func unchanged(t *testing.T, ctx context.Context, b *Backend, what string, before map[string]string) {
	t.Helper()
	after := snapshot(t, ctx, b)
	for key, v := range before {
		if after[key] != v {
			t.Fatalf("%s: key %s changed:\nbefore %q\nafter  %q", what, key, v, after[key])
		}
	}
	for key := range after {
		if _, ok := before[key]; !ok {
			t.Fatalf("%s: key %s appeared: %q", what, key, after[key])
		}
	}
}

// testRejectedPlainBatch runs the rejections on b, where canHold must answer
// hold (1: the plain transaction, 2: enqueue.lua).
func testRejectedPlainBatch(t *testing.T, b *Backend, hold int32) {
	s := stores.Wrap(DriverName, b)
	t.Cleanup(func() { s.Close() })
	ctx := ctxT(t)
	now := t0
	newJobs := func(n int, queue string) []*stores.Job {
		out := make([]*stores.Job, n)
		for i := range out {
			out[i] = &stores.Job{Type: "t", Queue: queue, Priority: i % 3, CreatedAt: now.Add(time.Duration(i) * time.Microsecond),
				Args: []byte(`{"i":1}`)}
		}
		return out
	}
	reject := func(what string, batch []*stores.Job) {
		t.Helper()
		before := snapshot(t, ctx, b)
		err := s.Jobs().EnqueueMany(ctx, batch)
		if !errors.Is(err, stores.ErrAlreadyExists) {
			t.Fatalf("%s: got %v, want ErrAlreadyExists", what, err)
		}
		unchanged(t, ctx, b, what, before)
		checkIndexes(t, ctx, b, what)
	}
	dupOf := func(id string) *stores.Job {
		return &stores.Job{ID: id, Type: "other", Queue: "other-queue", Priority: 7, CreatedAt: now.Add(time.Hour)}
	}

	// Nothing ready: readyq absent (queues too, once Dispatch has dropped
	// the drained queue).
	first := newJobs(1, "a")[0]
	must(t, s.Jobs().Enqueue(ctx, first))
	if js, err := s.Jobs().Dispatch(ctx, stores.DispatchParams{Now: now, Limit: 1}); err != nil || len(js) != 1 {
		t.Fatalf("dispatch: %v %v", js, err)
	}
	if _, err := s.Jobs().Dispatch(ctx, stores.DispatchParams{Now: now, Limit: 1}); err != nil {
		t.Fatal(err)
	}
	if n, _ := b.c.Exists(ctx, b.k.job[kReadyQ], b.k.job[kQueues]).Result(); n != 0 {
		t.Fatalf("%d of readyq and queues exist", n)
	}
	reject("a dispatched job's id, no readyq", append(newJobs(2, "fresh"), dupOf(first.ID)))

	pending := newJobs(3, "a")
	must(t, s.Jobs().EnqueueMany(ctx, pending))
	done := &stores.Job{Type: "t", Queue: "a", Status: stores.StatusCompleted, Attempt: 1, CreatedAt: now, CompletedAt: now}
	must(t, s.Jobs().Enqueue(ctx, done))
	reject("a pending job's id in the middle", slices.Concat(newJobs(2, "fresh"), []*stores.Job{dupOf(pending[1].ID)}, newJobs(2, "a")))
	reject("a pending job's id unchanged", []*stores.Job{pending[0]})
	big := newJobs(1500, "b")
	big[1200] = dupOf(done.ID)
	reject("a completed job's id past the first chunk", big)
	twice := newJobs(3, "a")
	twice[0].ID = stores.NewID()
	twice[2].ID = twice[0].ID
	reject("one id twice", twice)

	if b.hold.Load() != hold {
		t.Fatalf("canHold's answer %d, want %d", b.hold.Load(), hold)
	}

	// The store works on: the held keys came back whole.
	more := newJobs(1100, "a")
	must(t, s.Jobs().EnqueueMany(ctx, more))
	checkIndexes(t, ctx, b, "enqueue after the rejections")
	js, err := s.Jobs().Dispatch(ctx, stores.DispatchParams{Now: now, Limit: 2000, Queues: []string{"a"}})
	must(t, err)
	if len(js) != 1103 {
		t.Fatalf("dispatched %d jobs of queue a, want 1103", len(js))
	}
	for _, key := range b.k.plain[len(plainKeyNames):] {
		if n, _ := b.c.Exists(ctx, key).Result(); n != 0 {
			t.Fatalf("holding key %s left behind", key)
		}
	}
}

// TestL1_RejectedHistoryAppendChangesNothing: a history append with a
// stored id (at any place of a batch longer than one SMISMEMBER chunk; with
// the batch keys present or absent; completed rows or not) or with one id
// twice is ErrAlreadyExists and leaves every key of the store as it was
// (history_check.lua holds the keys the append writes, hold_release.lua
// puts them back); the store works on afterwards. On a server that denies
// RENAME the same holds through history_append_many.lua.
func TestL1_RejectedHistoryAppendChangesNothing(t *testing.T) {
	onHoldingServers(t, testRejectedHistoryAppend)
	// RENAME allowed but for one holding key: every batch takes the script.
	t.Run("one holding key denied", func(t *testing.T) {
		// Not openBackend: its clean-up may not delete the denied key, and
		// the private server goes when the test ends.
		cfg, err := ParseDSN(oneKeyUnrenamableServer(t))
		must(t, err)
		cfg.Prefix = randomPrefix()
		b, err := OpenConfig(ctxT(t), cfg)
		must(t, err)
		testRejectedHistoryAppend(t, b, 2)
	})
}

// testRejectedHistoryAppend runs the rejections on b, where canHold must
// answer hold (1: the native transaction, 2: history_append_many.lua).
func testRejectedHistoryAppend(t *testing.T, b *Backend, hold int32) {
	s := stores.Wrap(DriverName, b)
	t.Cleanup(func() { s.Close() })
	ctx := ctxT(t)
	job := stores.NewID()
	rows := func(n int, completed bool) []*stores.JobHistory {
		out := make([]*stores.JobHistory, n)
		for i := range out {
			out[i] = &stores.JobHistory{ID: stores.NewID(), JobID: job, Attempt: i + 1, WorkerID: "w", StartedAt: t0,
				Status: stores.StatusRunning}
			if completed {
				out[i].CompletedAt, out[i].Status = t0.Add(time.Duration(i)*time.Second), stores.StatusCompleted
			}
		}
		return out
	}
	reject := func(what string, batch []*stores.JobHistory) {
		t.Helper()
		before := snapshot(t, ctx, b)
		if err := s.History().AppendMany(ctx, batch); !errors.Is(err, stores.ErrAlreadyExists) {
			t.Fatalf("%s: got %v, want ErrAlreadyExists", what, err)
		}
		unchanged(t, ctx, b, what, before)
	}
	// Rows without CompletedAt file no batch: histbt and histbl absent.
	open := rows(2, false)
	must(t, s.History().AppendMany(ctx, open))
	if n, _ := b.c.Exists(ctx, b.k.job[kHistBT], b.k.job[kHistBL]).Result(); n != 0 {
		t.Fatalf("%d of histbt and histbl exist", n)
	}
	dup := func(h *stores.JobHistory) *stores.JobHistory {
		c := *h
		c.Attempt, c.Error = 99, "again"
		return &c
	}
	reject("a stored id, no batch keys", append(rows(2, true), dup(open[1])))
	done := rows(3, true)
	must(t, s.History().AppendMany(ctx, done))
	reject("a stored id in the middle", slices.Concat(rows(2, true), []*stores.JobHistory{dup(done[1])}, rows(2, false)))
	reject("a stored id alone, not completed", []*stores.JobHistory{dup(open[0])})
	big := rows(1500, true)
	big[1200] = dup(done[2])
	reject("a stored id past the first chunk", big)
	twice := rows(3, true)
	twice[2].ID = twice[0].ID
	reject("one id twice", twice)

	if b.hold.Load() != hold {
		t.Fatalf("canHold's answer %d, want %d", b.hold.Load(), hold)
	}

	// The store works on: the held keys came back whole.
	must(t, s.History().AppendMany(ctx, rows(1100, true)))
	got, err := s.History().ListByJob(ctx, job)
	must(t, err)
	if len(got) != 1105 {
		t.Fatalf("listed %d rows, want 1105", len(got))
	}
	n, err := s.History().Purge(ctx, t0.Add(time.Hour), 5000)
	must(t, err)
	if n != 1103 {
		t.Fatalf("purged %d completed rows, want 1103", n)
	}
	for _, key := range b.k.hist[len(histKeyNames):] {
		if n, _ := b.c.Exists(ctx, key).Result(); n != 0 {
			t.Fatalf("holding key %s left behind", key)
		}
	}
}

// scriptCalls returns how many EVAL and EVALSHA calls the server has run.
func scriptCalls(t *testing.T, ctx context.Context, b *Backend) int {
	t.Helper()
	info, err := b.c.Info(ctx, "commandstats").Result()
	must(t, err)
	n := 0
	for _, line := range strings.Split(info, "\r\n") {
		if cmd, rest, ok := strings.Cut(line, ":calls="); ok && (cmd == "cmdstat_eval" || cmd == "cmdstat_evalsha") {
			var calls int
			_, err := fmt.Sscanf(rest, "%d", &calls)
			must(t, err)
			n += calls
		}
	}
	return n
}

// TestJ1_FreshEnqueue: a plain batch whose every ID the portable layer
// generated is stored with native commands alone (no script runs, so no
// RENAME is needed either); enqueueing the same jobs again, their IDs now
// filled in, is ErrAlreadyExists with the store unchanged; a generated
// batch with a unique key is still checked (enqueue.lua). On a private
// server (its command counts are this test's own) and on one that denies
// RENAME.
func TestJ1_FreshEnqueue(t *testing.T) {
	for name, dsn := range map[string]func(*testing.T) string{
		"private":   func(t *testing.T) string { return "redis://" + privateServer(t) + "/0" },
		"no RENAME": noRenameServer,
	} {
		t.Run(name, func(t *testing.T) {
			b := openBackend(t, dsn(t))
			s := stores.Wrap(DriverName, b)
			t.Cleanup(func() { s.Close() })
			ctx := ctxT(t)
			jobs := make([]*stores.Job, 1500)
			for i := range jobs {
				jobs[i] = &stores.Job{Type: "t", Queue: "q", Priority: i % 3, CreatedAt: t0, Args: []byte(`{}`)}
			}
			before := scriptCalls(t, ctx, b)
			must(t, s.Jobs().EnqueueMany(ctx, jobs))
			must(t, s.Jobs().Enqueue(ctx, &stores.Job{Type: "t", Queue: "q", CreatedAt: t0}))
			if n := scriptCalls(t, ctx, b) - before; n != 0 {
				t.Fatalf("a generated plain batch ran %d scripts, want none", n)
			}
			checkIndexes(t, ctx, b, "fresh enqueue")
			if n, err := b.c.HLen(ctx, b.k.job[kJobs]).Result(); err != nil || n != 1501 {
				t.Fatalf("%d records (%v), want 1501", n, err)
			}

			snap := snapshot(t, ctx, b)
			if err := s.Jobs().EnqueueMany(ctx, jobs[700:900]); !errors.Is(err, stores.ErrAlreadyExists) {
				t.Fatalf("enqueue the stored jobs again: %v, want ErrAlreadyExists", err)
			}
			unchanged(t, ctx, b, "enqueue the stored jobs again", snap)

			unique := []*stores.Job{{Type: "t", Queue: "q", UniqueKey: "k"}, {Type: "t", Queue: "q", UniqueKey: "k"}}
			if err := s.Jobs().EnqueueMany(ctx, unique); !errors.Is(err, stores.ErrAlreadyExists) {
				t.Fatalf("a generated batch holding one unique key twice: %v, want ErrAlreadyExists", err)
			}
			unchanged(t, ctx, b, "a generated batch holding one unique key twice", snap)
			js, err := s.Jobs().Dispatch(ctx, stores.DispatchParams{Now: time.Now(), Limit: 2000, Queues: []string{"q"}})
			must(t, err)
			if len(js) != 1501 || js[0].Priority != 2 {
				t.Fatalf("dispatched %d jobs, the first of priority %d: want 1501, priority 2 first", len(js), js[0].Priority)
			}
		})
	}
}

// A generated ID that is already stored (they never are: EnqueueFresh) is
// reported, not passed over in silence.
func TestFreshEnqueueReportsACollision(t *testing.T) {
	s, b := openStore(t)
	ctx := ctxT(t)
	job := &stores.Job{Type: "t", Queue: "q", CreatedAt: t0}
	must(t, s.Jobs().Enqueue(ctx, job))
	again := *job
	err := b.Jobs().(stores.FreshEnqueuer).EnqueueFresh(ctx, []*stores.Job{&again, {ID: stores.NewID(), Type: "t", Queue: "q", CreatedAt: t0, Status: stores.StatusPending}})
	if err == nil || !strings.Contains(err.Error(), "already stored") {
		t.Fatalf("EnqueueFresh of a stored id: %v, want an error saying so", err)
	}
}
