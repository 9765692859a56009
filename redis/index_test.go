package redis

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/orchestrix/persistence/abstractions/stores"
	goredis "github.com/redis/go-redis/v9"
)

// wantIndexes computes, from the stored job records alone, every index
// member and uniq/ticks field the store must hold, and the queues that must
// be in queues: an oracle written apart from lib.lua's entries and the
// scripts' own index changes.
func wantIndexes(t *testing.T, recs map[string]string, wm string) map[string][]string {
	t.Helper()
	want := map[string][]string{}
	add := func(key, member string) { want[key] = append(want[key], member) }
	for id, rec := range recs {
		j, err := parseJob(rec)
		if err != nil {
			t.Fatalf("job %s: %v", id, err)
		}
		if j.ID != id {
			t.Fatalf("record under %s holds id %s", id, j.ID)
		}
		ca := tT(j.CreatedAt)
		// a pending job without a scheduled time is found in readyq
		if j.Status != stores.StatusPending || !j.ScheduledAt.IsZero() {
			add("bystatus", statusPrefix(j.Status)+ca+id)
		}
		switch j.Status {
		case stores.StatusPending:
			sa := optT(j.ScheduledAt)
			if sa != "" {
				add("sched", sa+id)
			}
			if sa == "" || sa < wm {
				add("readyq", lp(j.Queue)+prio(j.Priority)+ca+id)
				add("queues", lp(j.Queue))
			}
		case stores.StatusDispatched:
			add("disp", tT(j.DispatchedAt)+id)
		case stores.StatusRunning:
			if j.Timeout > 0 {
				add("run", tT(j.StartedAt.Add(j.Timeout))+id)
			}
		}
		if j.Status.InFlight() && j.WorkerID != "" {
			add("wjobs", lp(j.WorkerID)+id)
		}
		if j.FollowerNodeID != "" {
			add("fol", lp(j.FollowerNodeID)+ca+id)
		}
		if j.Status.Terminal() {
			add("done", tT(j.CompletedAt)+id)
			if !j.ChannelsCleaned {
				add("uncl", tT(j.CompletedAt)+id)
			}
		} else if j.UniqueKey != "" {
			add("uniq", j.UniqueKey+"="+id)
		}
		if j.ScheduleID != "" && !j.ScheduleTick.IsZero() {
			add("ticks", j.ScheduleID+tT(j.ScheduleTick)+"="+id)
		}
	}
	return want
}

// checkIndexes compares every job index of b with wantIndexes.
func checkIndexes(t *testing.T, ctx context.Context, b *Backend, step string) {
	t.Helper()
	k := b.k.job
	recs, err := b.c.HGetAll(ctx, k[kJobs]).Result()
	must(t, err)
	wm, err := b.c.Get(ctx, k[kWM]).Result()
	if err != nil {
		wm = zeroT
	}
	want := wantIndexes(t, recs, wm)
	got := map[string][]string{}
	for _, name := range []string{"readyq", "sched", "bystatus", "disp", "run", "wjobs", "fol", "done", "uncl"} {
		ms, err := b.c.ZRange(ctx, k[slices.Index(jobKeyNames, name)], 0, -1).Result()
		must(t, err)
		got[name] = ms
	}
	for _, name := range []string{"uniq", "ticks"} {
		h, err := b.c.HGetAll(ctx, k[slices.Index(jobKeyNames, name)]).Result()
		must(t, err)
		for f, id := range h {
			got[name] = append(got[name], f+"="+id)
		}
	}
	// queues may name queues that have no ready job left (dispatch drops
	// them when it meets them), never miss one that has
	qs, err := b.c.SMembers(ctx, k[kQueues]).Result()
	must(t, err)
	for _, q := range want["queues"] {
		if !slices.Contains(qs, q) {
			t.Fatalf("after %s: queue %q has ready jobs but is not in queues %q", step, q, qs)
		}
	}
	for _, name := range []string{"readyq", "sched", "bystatus", "disp", "run", "wjobs", "fol", "done", "uncl", "uniq", "ticks"} {
		g, w := got[name], want[name]
		sort.Strings(g)
		sort.Strings(w)
		if !slices.Equal(g, w) {
			t.Fatalf("after %s: index %s\n got %q\nwant %q", step, name, g, w)
		}
	}
}

// TestIndexesMatchRecords runs a random mix of every job operation (seeded,
// so a failure repeats) and after each one checks that every index holds
// exactly the members the stored records call for: no transition leaves a
// stale member or misses one.
func TestIndexesMatchRecords(t *testing.T) {
	s, b := openStore(t)
	ctx := ctxT(t)
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	rnd := rand.New(rand.NewSource(seed))
	now := t0
	queues := []string{"a", "b", "c{x}"}
	workers := []string{"w1", "w2"}
	nodes := []string{"n1", "n2"}
	schedID := stores.NewID()
	var known []string
	tick := 0
	pick := func() string {
		if len(known) == 0 {
			return stores.NewID()
		}
		return known[rnd.Intn(len(known))]
	}
	refsOf := func(jobs []*stores.Job) []stores.Ref {
		out := make([]stores.Ref, len(jobs))
		for i, j := range jobs {
			out[i] = j.Ref()
		}
		return out
	}
	// inFlight returns up to n jobs in flight, read from the store.
	inFlight := func(n int) []*stores.Job {
		page, err := s.Jobs().Query(ctx, stores.JobQuery{Statuses: []stores.JobStatus{stores.StatusDispatched, stores.StatusRunning}, Limit: 50})
		must(t, err)
		rnd.Shuffle(len(page.Jobs), func(a, b int) { page.Jobs[a], page.Jobs[b] = page.Jobs[b], page.Jobs[a] })
		return page.Jobs[:min(n, len(page.Jobs))]
	}
	// expected reports whether err is one a random operation may meet.
	expected := func(err error) bool {
		return err == nil || errors.Is(err, stores.ErrNotFound) || errors.Is(err, stores.ErrConflict) || errors.Is(err, stores.ErrAlreadyExists)
	}
	for step := 0; step < 600; step++ {
		now = now.Add(time.Duration(rnd.Intn(3000)) * time.Millisecond)
		var op string
		var err error
		switch rnd.Intn(16) {
		case 0, 1, 2:
			op = "enqueue"
			var batch []*stores.Job
			for i := rnd.Intn(4) + 1; i > 0; i-- {
				j := &stores.Job{Type: "t", Queue: queues[rnd.Intn(len(queues))], Priority: rnd.Intn(3) - 1,
					CreatedAt: now.Add(-time.Duration(rnd.Intn(5)) * time.Second), MaxRetries: rnd.Intn(2)}
				if rnd.Intn(3) == 0 {
					j.ScheduledAt = now.Add(time.Duration(rnd.Intn(8000)-2000) * time.Millisecond)
				}
				if rnd.Intn(3) == 0 {
					j.Timeout = time.Duration(rnd.Intn(5000)+1) * time.Millisecond
				}
				if rnd.Intn(4) == 0 {
					j.UniqueKey = fmt.Sprintf("u%d", rnd.Intn(4))
				}
				if rnd.Intn(5) == 0 {
					tick++
					j.ScheduleID, j.ScheduleType, j.ScheduleTick = schedID, stores.ScheduleTypeCron, t0.Add(time.Duration(tick)*time.Minute)
				}
				if rnd.Intn(8) == 0 {
					j.WorkerID = workers[rnd.Intn(len(workers))]
				}
				if rnd.Intn(8) == 0 {
					j.FollowerNodeID = nodes[rnd.Intn(len(nodes))]
				}
				switch rnd.Intn(8) {
				case 0:
					j.Status = stores.StatusCompleted
					j.CompletedAt = now
				case 1:
					j.Status, j.Attempt, j.DispatchedAt = stores.StatusDispatched, 1, now
				}
				batch = append(batch, j)
			}
			if err = s.Jobs().EnqueueMany(ctx, batch); err == nil {
				for _, j := range batch {
					known = append(known, j.ID)
				}
			}
		case 3, 4:
			op = "dispatch"
			p := stores.DispatchParams{Limit: rnd.Intn(4) + 1, Now: now}
			if rnd.Intn(2) == 0 {
				p.WorkerID = workers[rnd.Intn(len(workers))]
				p.Start = rnd.Intn(2) == 0 // straight to running (J4)
			}
			if rnd.Intn(2) == 0 {
				p.Queues = queues[:rnd.Intn(len(queues))+1]
			}
			_, err = s.Jobs().Dispatch(ctx, p)
		case 5:
			op = "mark running"
			if js := inFlight(3); len(js) > 0 {
				var results []error
				results, err = s.Jobs().MarkRunningMany(ctx, refsOf(js), workers[rnd.Intn(len(workers))], now)
				for _, e := range results {
					if !expected(e) {
						err = e
					}
				}
			}
		case 6:
			op = "mark running (one)"
			if js := inFlight(1); len(js) == 1 {
				_, err = s.Jobs().MarkRunning(ctx, js[0].Ref(), "", now)
			}
		case 7:
			op = "complete"
			if js := inFlight(3); len(js) > 0 {
				_, err = s.Jobs().CompleteMany(ctx, refsOf(js), now)
			}
		case 8:
			op = "fail, time out or retry"
			if js := inFlight(1); len(js) == 1 {
				switch rnd.Intn(3) {
				case 0:
					err = s.Jobs().Fail(ctx, js[0].Ref(), "boom", now)
				case 1:
					err = s.Jobs().TimeOut(ctx, js[0].Ref(), now)
				default:
					_, _, err = s.Jobs().Retry(ctx, js[0].Ref(), "again", now)
				}
			}
		case 9:
			op = "cancel"
			err = s.Jobs().Cancel(ctx, pick(), now)
		case 10:
			op = "claim or release"
			if rnd.Intn(3) == 0 {
				_, err = s.Jobs().ReleaseFollower(ctx, nodes[rnd.Intn(len(nodes))])
			} else {
				err = s.Jobs().ClaimForFollower(ctx, pick(), nodes[rnd.Intn(len(nodes))])
			}
		case 11:
			op = "mark cleaned"
			err = s.Jobs().MarkCleaned(ctx, []string{pick(), pick()})
		case 12:
			op = "recover"
			_, err = s.Jobs().Recover(ctx, stores.RecoverParams{Now: now, DispatchLease: 2 * time.Second,
				DeadWorkers: workers[:rnd.Intn(2)], Limit: 10})
		case 13:
			op = "dead letter and requeue"
			if j, gerr := s.Jobs().Get(ctx, pick()); gerr == nil && j.Attempt > 0 {
				var d *stores.DeadLetter
				if d, err = s.Jobs().MoveToDeadLetter(ctx, j.Ref(), "", now); err == nil && rnd.Intn(2) == 0 {
					_, err = s.DeadLetters().Requeue(ctx, d.ID, now)
				}
			}
		case 14:
			op = "purge"
			_, err = s.Jobs().Purge(ctx, now.Add(-time.Duration(rnd.Intn(10))*time.Second), rnd.Intn(5)+1)
		case 15:
			op = "pending"
			_, err = s.Jobs().Pending(ctx, now, 5)
		}
		if !expected(err) {
			t.Fatalf("step %d %s: %v", step, op, err)
		}
		checkIndexes(t, ctx, b, fmt.Sprintf("step %d (%s)", step, op))
	}
}

// TestOldLiveMemberOfReadyJobLeaves: stores written before pending jobs
// without a scheduled time left bystatus kept a 'live' member for them.
// Query must not return such a job twice, and the job's next transition
// through lib.lua's store removes the member (entries lists it for
// removal), so the indexes match the records again.
func TestOldLiveMemberOfReadyJobLeaves(t *testing.T) {
	s, b := openStore(t)
	ctx := ctxT(t)
	j := &stores.Job{Type: "t", Queue: "a", CreatedAt: t0}
	must(t, s.Jobs().Enqueue(ctx, j))
	k := b.k.job
	old := statusPrefix(stores.StatusPending) + tT(j.CreatedAt) + j.ID
	must(t, b.c.ZAdd(ctx, k[kByStatus], goredis.Z{Member: old}).Err())
	page, err := s.Jobs().Query(ctx, stores.JobQuery{Limit: 10})
	must(t, err)
	if len(page.Jobs) != 1 || page.Jobs[0].ID != j.ID {
		t.Fatalf("Query returned %d jobs, want the one job once", len(page.Jobs))
	}
	must(t, s.Jobs().Cancel(ctx, j.ID, t0.Add(time.Second)))
	if n, err := b.c.ZScore(ctx, k[kByStatus], old).Result(); !errors.Is(err, goredis.Nil) {
		t.Fatalf("the old live member is still there (score %v, err %v) after Cancel", n, err)
	}
	checkIndexes(t, ctx, b, "after Cancel")
}
