package inmemory

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/orchestrix/persistence/abstractions/stores"
)

func newJob(queue string, prio int, created time.Time) *stores.Job {
	return &stores.Job{ID: stores.NewID(), Type: "t", Queue: queue, Priority: prio, CreatedAt: created, Args: json.RawMessage(`{"a":1}`)}
}

func ids(js []*stores.Job) []string {
	out := make([]string, len(js))
	for i, j := range js {
		out[i] = j.ID
	}
	return out
}

func dispatchOne(t *testing.T, s *stores.Store, id string, now time.Time) *stores.Job {
	t.Helper()
	got, err := s.Jobs().Dispatch(context.Background(), stores.DispatchParams{Limit: 10000, Now: now})
	must(t, err)
	for _, j := range got {
		if j.ID == id {
			return j
		}
	}
	t.Fatalf("job %s was not dispatched", id)
	return nil
}

func TestJ1_UniqueKeyHeldOnlyByNonTerminalJobs(t *testing.T) {
	ctx := context.Background()
	s, b := open(t)
	a := newJob("q", 0, t0)
	a.UniqueKey = "k"
	must(t, s.Jobs().Enqueue(ctx, a))
	dup := newJob("q", 0, t0)
	dup.UniqueKey = "k"
	wantErr(t, s.Jobs().Enqueue(ctx, dup), stores.ErrAlreadyExists)
	// A terminal newcomer does not hold the key, so it does not conflict.
	done := newJob("q", 0, t0)
	done.UniqueKey, done.Status, done.CompletedAt = "k", stores.StatusCompleted, t0
	must(t, s.Jobs().Enqueue(ctx, done))
	must(t, s.Jobs().Cancel(ctx, a.ID, at(time.Second)))
	must(t, s.Jobs().Enqueue(ctx, dup))
	verifyIndexes(t, b)
}

func TestJ1_EnqueueManyAllOrNothing(t *testing.T) {
	ctx := context.Background()
	s, b := open(t)
	existing := newJob("q", 0, t0)
	must(t, s.Jobs().Enqueue(ctx, existing))
	cases := map[string][]*stores.Job{}
	x, y := newJob("q", 0, t0), newJob("q", 0, t0)
	y.ID = x.ID
	cases["duplicate id in batch"] = []*stores.Job{x, y}
	x, y = newJob("q", 0, t0), newJob("q", 0, t0)
	x.UniqueKey, y.UniqueKey = "u", "u"
	cases["duplicate unique key in batch"] = []*stores.Job{x, y}
	x, y = newJob("q", 0, t0), newJob("q", 0, t0)
	sid := stores.NewID()
	x.ScheduleID, x.ScheduleType, x.ScheduleTick = sid, stores.ScheduleTypeCron, t0
	y.ScheduleID, y.ScheduleType, y.ScheduleTick = sid, stores.ScheduleTypeCron, t0
	cases["duplicate schedule tick in batch"] = []*stores.Job{x, y}
	x, y = newJob("q", 0, t0), newJob("q", 0, t0)
	y.ID = existing.ID
	cases["id held by a stored job"] = []*stores.Job{x, y}
	for name, batch := range cases {
		t.Run(name, func(t *testing.T) {
			wantErr(t, s.Jobs().EnqueueMany(ctx, batch), stores.ErrAlreadyExists)
			if _, err := s.Jobs().Get(ctx, batch[0].ID); batch[0].ID != existing.ID && !isNotFound(err) {
				t.Fatalf("first job of a failed batch was stored: %v", err)
			}
		})
	}
	page, err := s.Jobs().Query(ctx, stores.JobQuery{Limit: 100})
	must(t, err)
	if len(page.Jobs) != 1 {
		t.Fatalf("store holds %d jobs after failed batches, want 1", len(page.Jobs))
	}
	verifyIndexes(t, b)
}

// J1: a batch's job is checked against the stored jobs before against the
// earlier jobs of its batch (found outside the lock, stageRows), so the
// error names the first job that cannot be stored, for the first reason.
func TestJ1_EnqueueManyReportsTheFirstConflict(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t)
	existing := newJob("q", 0, t0)
	must(t, s.Jobs().Enqueue(ctx, existing))
	x, held := newJob("q", 0, t0), newJob("q", 0, t0)
	held.ID = existing.ID
	again := *x
	keyed, keyedHeld := newJob("q", 0, t0), newJob("q", 0, t0)
	keyedHeld.ID = existing.ID
	keyed.UniqueKey, keyedHeld.UniqueKey = "k", "k"
	stored := "job " + existing.ID + ": " + stores.ErrAlreadyExists.Error()
	for _, c := range []struct {
		name  string
		batch []*stores.Job
		want  string
	}{
		{"stored before repeat", []*stores.Job{x, held, &again}, stored},
		{"repeat before stored", []*stores.Job{x, &again, held}, "job " + x.ID + " appears twice in the batch: " + stores.ErrAlreadyExists.Error()},
		{"repeat that is also stored", []*stores.Job{keyed, keyedHeld}, stored},
	} {
		err := s.Jobs().EnqueueMany(ctx, c.batch)
		wantErr(t, err, stores.ErrAlreadyExists)
		if err.Error() != c.want {
			t.Errorf("%s: err = %v, want %q", c.name, err, c.want)
		}
	}
}

func isNotFound(err error) bool { return err != nil && errorsIs(err, stores.ErrNotFound) }

func TestJ1_ScheduleTickUniqueAmongAllStoredJobs(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t)
	sid := stores.NewID()
	a := newJob("q", 0, t0)
	a.ScheduleID, a.ScheduleType, a.ScheduleTick = sid, stores.ScheduleTypeInterval, t0
	a.Status, a.CompletedAt = stores.StatusCompleted, t0
	must(t, s.Jobs().Enqueue(ctx, a))
	b := newJob("q", 0, t0)
	b.ScheduleID, b.ScheduleType, b.ScheduleTick = sid, stores.ScheduleTypeInterval, t0
	wantErr(t, s.Jobs().Enqueue(ctx, b), stores.ErrAlreadyExists)
	b.ScheduleTick = at(time.Minute)
	must(t, s.Jobs().Enqueue(ctx, b))
}

func TestJ1_StoreDoesNotAliasCallerMemory(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t)
	j := newJob("q", 0, t0)
	must(t, s.Jobs().Enqueue(ctx, j))
	j.Args[2] = 'X'
	j.Queue = "other"
	got, err := s.Jobs().Get(ctx, j.ID)
	must(t, err)
	if string(got.Args) != `{"a":1}` || got.Queue != "q" {
		t.Fatalf("stored job changed with the caller's value: %s %s", got.Args, got.Queue)
	}
	got.Args[2] = 'Y'
	again, _ := s.Jobs().Get(ctx, j.ID)
	if string(again.Args) != `{"a":1}` {
		t.Fatalf("stored job changed with a returned value: %s", again.Args)
	}
}

// J3: priority descending, then CreatedAt, then ID; scheduled jobs join
// when due, and leave again when a later call's now is earlier.
func TestJ3_PendingOrderAndWatermark(t *testing.T) {
	ctx := context.Background()
	s, b := open(t)
	low := newJob("a", 0, at(0))
	high := newJob("b", 5, at(2*time.Second))
	mid1 := newJob("a", 1, at(time.Second))
	mid2 := newJob("b", 1, at(time.Second))
	later := newJob("a", 9, at(0))
	later.ScheduledAt = at(time.Hour)
	running := newJob("a", 100, at(0))
	running.Status = stores.StatusRunning
	must(t, s.Jobs().EnqueueMany(ctx, []*stores.Job{low, high, mid1, mid2, later, running}))
	if mid2.ID < mid1.ID {
		mid1, mid2 = mid2, mid1
	}
	pending := func(now time.Time, want ...*stores.Job) {
		t.Helper()
		got, err := s.Jobs().Pending(ctx, now, 10)
		must(t, err)
		if !slices.Equal(ids(got), ids(want)) {
			t.Fatalf("Pending(%s) = %v, want %v", now, ids(got), ids(want))
		}
		verifyIndexes(t, b)
	}
	pending(at(time.Minute), high, mid1, mid2, low)
	pending(at(time.Hour), later, high, mid1, mid2, low)
	pending(at(time.Minute), high, mid1, mid2, low) // the clock went back
	pending(at(2*time.Hour), later, high, mid1, mid2, low)

	due, err := s.Jobs().DueScheduled(ctx, at(time.Hour), 10)
	must(t, err)
	if !slices.Equal(ids(due), []string{later.ID}) {
		t.Fatalf("DueScheduled = %v, want [%s]", ids(due), later.ID)
	}
	due, _ = s.Jobs().DueScheduled(ctx, at(time.Hour-time.Microsecond), 10)
	if len(due) != 0 {
		t.Fatalf("DueScheduled before ScheduledAt = %v, want none", ids(due))
	}
}

func TestJ4_DispatchQueuesOrderAndFields(t *testing.T) {
	ctx := context.Background()
	s, b := open(t)
	var all []*stores.Job
	for i := range 30 {
		j := newJob(fmt.Sprintf("q%d", i%3), i%4, at(time.Duration(i)*time.Millisecond))
		all = append(all, j)
	}
	must(t, s.Jobs().EnqueueMany(ctx, all))
	got, err := s.Jobs().Dispatch(ctx, stores.DispatchParams{Queues: []string{"q0", "q2", "q0"}, Limit: 7, Now: at(time.Minute), WorkerID: "w1"})
	must(t, err)
	var want []*stores.Job
	for _, j := range all {
		if j.Queue != "q1" {
			want = append(want, j)
		}
	}
	sortJobs(want, func(a, b *stores.Job) bool { return readyLess(newRow(a), newRow(b)) })
	want = want[:7]
	if !slices.Equal(ids(got), ids(want)) {
		t.Fatalf("Dispatch = %v, want %v", ids(got), ids(want))
	}
	for _, j := range got {
		if j.Status != stores.StatusDispatched || j.Attempt != 1 || j.WorkerID != "w1" || !j.DispatchedAt.Equal(at(time.Minute)) {
			t.Fatalf("dispatched job = %+v", j)
		}
	}
	verifyIndexes(t, b)
}

// J4: N concurrent dispatchers never receive the same job, and none is lost.
func TestJ4_ConcurrentDispatchNeverDuplicates(t *testing.T) {
	ctx := context.Background()
	s, b := open(t)
	const n = 2000
	jobs := make([]*stores.Job, n)
	for i := range jobs {
		jobs[i] = newJob([]string{"a", "b"}[i%2], i%5, at(time.Duration(i)))
	}
	must(t, s.Jobs().EnqueueMany(ctx, jobs))
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var queues []string
			if w%2 == 0 {
				queues = []string{"a", "b"}
			}
			for range n { // bounded: a buggy store must fail, not hang
				got, err := s.Jobs().Dispatch(ctx, stores.DispatchParams{Queues: queues, Limit: 7, Now: at(time.Hour)})
				if err != nil {
					t.Error(err)
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, j := range got {
					seen[j.ID]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(seen) != n {
		t.Fatalf("dispatched %d distinct jobs, want %d", len(seen), n)
	}
	for id, c := range seen {
		if c != 1 {
			t.Fatalf("job %s dispatched %d times", id, c)
		}
	}
	verifyIndexes(t, b)
}

// J5: every transition after dispatch is fenced by the attempt.
func TestJ5_StaleAttemptConflicts(t *testing.T) {
	ctx := context.Background()
	s, b := open(t)
	j := newJob("q", 0, t0)
	j.MaxRetries = 1
	must(t, s.Jobs().Enqueue(ctx, j))
	d1 := dispatchOne(t, s, j.ID, at(time.Second))
	_, ok, err := s.Jobs().Retry(ctx, d1.Ref(), "boom", at(2*time.Second))
	must(t, err)
	if !ok {
		t.Fatal("Retry with a retry left returned false")
	}
	d2 := dispatchOne(t, s, j.ID, at(time.Hour))
	if d2.Attempt != 2 {
		t.Fatalf("second dispatch has attempt %d, want 2", d2.Attempt)
	}
	before, _ := s.Jobs().Get(ctx, j.ID)
	wantErr(t, s.Jobs().Complete(ctx, d1.Ref(), at(time.Hour)), stores.ErrConflict)
	wantErr(t, s.Jobs().Fail(ctx, d1.Ref(), "x", at(time.Hour)), stores.ErrConflict)
	wantErr(t, s.Jobs().TimeOut(ctx, d1.Ref(), at(time.Hour)), stores.ErrConflict)
	_, err = s.Jobs().MarkRunning(ctx, d1.Ref(), "", at(time.Hour))
	wantErr(t, err, stores.ErrConflict)
	_, _, err = s.Jobs().Retry(ctx, d1.Ref(), "x", at(time.Hour))
	wantErr(t, err, stores.ErrConflict)
	_, err = s.Jobs().MoveToDeadLetter(ctx, d1.Ref(), "x", at(time.Hour))
	wantErr(t, err, stores.ErrConflict)
	after, _ := s.Jobs().Get(ctx, j.ID)
	if fmt.Sprint(before) != fmt.Sprint(after) {
		t.Fatalf("a stale writer changed the job:\n%+v\n%+v", before, after)
	}
	r, err := s.Jobs().MarkRunning(ctx, d2.Ref(), "w9", at(time.Hour+time.Second))
	must(t, err)
	if r.Status != stores.StatusRunning || r.WorkerID != "w9" || !r.StartedAt.Equal(at(time.Hour+time.Second)) {
		t.Fatalf("MarkRunning returned %+v", r)
	}
	_, err = s.Jobs().MarkRunning(ctx, d2.Ref(), "", at(time.Hour))
	wantErr(t, err, stores.ErrConflict)
	gone := stores.Ref{ID: stores.NewID(), Attempt: 1}
	errs, err := s.Jobs().CompleteMany(ctx, []stores.Ref{d2.Ref(), d2.Ref(), gone, gone}, at(2*time.Hour))
	must(t, err)
	if errs[0] != nil || !errorsIs(errs[1], stores.ErrConflict) || !errorsIs(errs[2], stores.ErrNotFound) || !errorsIs(errs[3], stores.ErrConflict) {
		t.Fatalf("CompleteMany = %v", errs)
	}
	wantErr(t, s.Jobs().Cancel(ctx, j.ID, at(3*time.Hour)), stores.ErrConflict)
	verifyIndexes(t, b)
}

func TestJ7_RetryBackoffAndExhaustion(t *testing.T) {
	ctx := context.Background()
	s, b := open(t)
	j := newJob("q", 0, t0)
	j.MaxRetries = 2
	j.RetryPolicy = stores.RetryPolicy{InitialDelay: time.Second, Multiplier: 3}
	must(t, s.Jobs().Enqueue(ctx, j))
	now := at(time.Minute)
	for i, wantDelay := range []time.Duration{time.Second, 3 * time.Second} {
		d := dispatchOne(t, s, j.ID, now)
		d, err := s.Jobs().MarkRunning(ctx, d.Ref(), "w", now)
		must(t, err)
		r, ok, err := s.Jobs().Retry(ctx, d.Ref(), "boom", now)
		must(t, err)
		if !ok || r.RetryCount != i+1 || r.Status != stores.StatusPending || r.WorkerID != "" || r.LastError != "boom" ||
			!r.ScheduledAt.Equal(now.Add(wantDelay)) || r.Attempt != d.Attempt {
			t.Fatalf("retry %d returned %v %+v", i+1, ok, r)
		}
		if p, _ := s.Jobs().Pending(ctx, now, 10); len(p) != 0 {
			t.Fatalf("retried job is due before its backoff: %v", ids(p))
		}
		now = r.ScheduledAt
	}
	d := dispatchOne(t, s, j.ID, now)
	r, ok, err := s.Jobs().Retry(ctx, d.Ref(), "last", now)
	must(t, err)
	if ok || r.Status != stores.StatusDispatched || r.LastError != "boom" {
		t.Fatalf("Retry with no retry left returned %v %+v", ok, r)
	}
	dl, err := s.Jobs().MoveToDeadLetter(ctx, d.Ref(), "", now)
	must(t, err)
	if dl.LastError != "boom" || dl.TotalAttempts != 3 || dl.Job.ID != j.ID || !dl.FailedAt.Equal(now) || dl.ID == j.ID {
		t.Fatalf("dead letter = %+v", dl)
	}
	_, err = s.Jobs().Get(ctx, j.ID)
	wantErr(t, err, stores.ErrNotFound)
	verifyIndexes(t, b)

	// D1: requeue under the original ID, fenced attempt kept.
	back, err := s.DeadLetters().Requeue(ctx, dl.ID, now)
	must(t, err)
	if back.ID != j.ID || back.Status != stores.StatusPending || back.RetryCount != 0 || back.Attempt != 3 ||
		back.LastError != "" || !back.DispatchedAt.IsZero() || !back.ScheduledAt.IsZero() {
		t.Fatalf("requeued job = %+v", back)
	}
	_, err = s.DeadLetters().Get(ctx, dl.ID)
	wantErr(t, err, stores.ErrNotFound)
	verifyIndexes(t, b)
}

func TestD1_RequeueBlockedByLiveJobKeepsDeadLetter(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t)
	j := newJob("q", 0, t0)
	j.UniqueKey = "once"
	must(t, s.Jobs().Enqueue(ctx, j))
	d := dispatchOne(t, s, j.ID, t0)
	dl, err := s.Jobs().MoveToDeadLetter(ctx, d.Ref(), "gone", t0)
	must(t, err)
	other := newJob("q", 0, t0)
	other.UniqueKey = "once"
	must(t, s.Jobs().Enqueue(ctx, other))
	_, err = s.DeadLetters().Requeue(ctx, dl.ID, t0)
	wantErr(t, err, stores.ErrAlreadyExists)
	if _, err := s.DeadLetters().Get(ctx, dl.ID); err != nil {
		t.Fatalf("dead letter lost by a failed requeue: %v", err)
	}
}

func TestJ6_FollowerClaimRace(t *testing.T) {
	ctx := context.Background()
	s, b := open(t)
	j := newJob("q", 0, t0)
	must(t, s.Jobs().Enqueue(ctx, j))
	var wg sync.WaitGroup
	var mu sync.Mutex
	var winners []string
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			node := fmt.Sprintf("n%d", i)
			err := s.Jobs().ClaimForFollower(ctx, j.ID, node)
			if err == nil {
				mu.Lock()
				winners = append(winners, node)
				mu.Unlock()
			} else if !errorsIs(err, stores.ErrConflict) {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if len(winners) != 1 {
		t.Fatalf("%d nodes won the claim: %v", len(winners), winners)
	}
	must(t, s.Jobs().ClaimForFollower(ctx, j.ID, winners[0]))
	n, err := s.Jobs().CountByFollower(ctx, winners[0])
	must(t, err)
	if n != 1 {
		t.Fatalf("CountByFollower = %d, want 1", n)
	}
	released, err := s.Jobs().ReleaseFollower(ctx, winners[0])
	must(t, err)
	if released != 1 {
		t.Fatalf("ReleaseFollower = %d, want 1", released)
	}
	if n, _ := s.Jobs().CountByFollower(ctx, winners[0]); n != 0 {
		t.Fatalf("CountByFollower after release = %d", n)
	}
	verifyIndexes(t, b)
}

func TestJ8_Recover(t *testing.T) {
	ctx := context.Background()
	s, b := open(t)
	mk := func(timeout time.Duration, retries int) *stores.Job {
		j := newJob("q", 0, t0)
		j.Timeout, j.MaxRetries = timeout, retries
		must(t, s.Jobs().Enqueue(ctx, j))
		return j
	}
	leased := mk(0, 0)          // dispatched, lease expires
	fresh := mk(0, 0)           // dispatched later: lease still valid
	slow := mk(time.Minute, 1)  // running past its timeout, a retry left
	spent := mk(time.Minute, 0) // running past its timeout, no retry left
	orphan := mk(0, 0)          // running on a dead worker, no timeout
	okJob := mk(time.Hour, 0)   // running within its timeout

	d := func(j *stores.Job, now time.Time, worker string) *stores.Job {
		got, err := s.Jobs().Dispatch(ctx, stores.DispatchParams{Limit: 1, Now: now, WorkerID: worker})
		must(t, err)
		if len(got) != 1 || got[0].ID != j.ID {
			t.Fatalf("dispatched %v, want %s", ids(got), j.ID)
		}
		return got[0]
	}
	run := func(j *stores.Job, now time.Time, worker string) {
		_, err := s.Jobs().MarkRunning(ctx, d(j, now, worker).Ref(), "", now)
		must(t, err)
	}
	d(leased, at(0), "w1")
	d(fresh, at(50*time.Second), "w1")
	run(slow, at(time.Second), "w1")
	run(spent, at(time.Second), "w1")
	run(orphan, at(time.Second), "dead")
	run(okJob, at(time.Second), "w1")

	now := at(90 * time.Second)
	res, err := s.Jobs().Recover(ctx, stores.RecoverParams{Now: now, DispatchLease: time.Minute, DeadWorkers: []string{"dead"}, Limit: 100})
	must(t, err)
	slices.Sort(res.Requeued)
	wantRequeued := []string{leased.ID, slow.ID}
	slices.Sort(wantRequeued)
	if !slices.Equal(res.Requeued, wantRequeued) || !slices.Equal(res.TimedOut, []string{spent.ID, orphan.ID}) && !slices.Equal(res.TimedOut, []string{orphan.ID, spent.ID}) {
		t.Fatalf("Recover = %+v, want requeued %v, timed out %s and %s", res, wantRequeued, spent.ID, orphan.ID)
	}
	get := func(j *stores.Job) *stores.Job { g, err := s.Jobs().Get(ctx, j.ID); must(t, err); return g }
	if g := get(leased); g.Status != stores.StatusPending || g.WorkerID != "" || g.RetryCount != 0 {
		t.Fatalf("lease-expired job = %+v", g)
	}
	if g := get(slow); g.Status != stores.StatusPending || g.RetryCount != 1 || g.LastError != "timed out" || g.WorkerID != "" {
		t.Fatalf("timed-out job with a retry = %+v", g)
	}
	if g := get(spent); g.Status != stores.StatusTimedOut || !g.CompletedAt.Equal(now) {
		t.Fatalf("timed-out job without a retry = %+v", g)
	}
	if g := get(orphan); g.Status != stores.StatusTimedOut || g.LastError != "worker lost" {
		t.Fatalf("dead worker's job = %+v", g)
	}
	if g := get(fresh); g.Status != stores.StatusDispatched {
		t.Fatalf("job within its lease = %+v", g)
	}
	if g := get(okJob); g.Status != stores.StatusRunning {
		t.Fatalf("job within its timeout = %+v", g)
	}
	verifyIndexes(t, b)
	res, err = s.Jobs().Recover(ctx, stores.RecoverParams{Now: now, DispatchLease: time.Minute, DeadWorkers: []string{"dead"}, Limit: 100})
	must(t, err)
	if len(res.Requeued)+len(res.TimedOut) != 0 {
		t.Fatalf("second Recover did something: %+v", res)
	}
}

func TestJ8_RecoverLimitOldestFirst(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t)
	var js []*stores.Job
	for i := range 5 {
		j := newJob("q", 0, t0)
		must(t, s.Jobs().Enqueue(ctx, j))
		got, err := s.Jobs().Dispatch(ctx, stores.DispatchParams{Limit: 1, Now: at(time.Duration(i) * time.Second)})
		must(t, err)
		js = append(js, got[0])
	}
	res, err := s.Jobs().Recover(ctx, stores.RecoverParams{Now: at(time.Hour), DispatchLease: time.Minute, Limit: 2})
	must(t, err)
	if !slices.Equal(res.Requeued, []string{js[0].ID, js[1].ID}) {
		t.Fatalf("Recover(limit 2) = %v, want the two oldest", res.Requeued)
	}
}

func TestJ9_UncleanedAndPurge(t *testing.T) {
	ctx := context.Background()
	s, b := open(t)
	var done []*stores.Job
	for i := range 4 {
		j := newJob("q", 0, t0)
		must(t, s.Jobs().Enqueue(ctx, j))
		d := dispatchOne(t, s, j.ID, t0)
		must(t, s.Jobs().Complete(ctx, d.Ref(), at(time.Duration(4-i)*time.Minute)))
		must(t, s.History().Append(ctx, &stores.JobHistory{JobID: j.ID, Attempt: 1, StartedAt: t0, CompletedAt: at(time.Minute), Status: stores.StatusCompleted}))
		must(t, s.Logs().Append(ctx, []*stores.LogEntry{{JobID: j.ID, Timestamp: at(3 * time.Hour), Message: "hi"}}))
		done = append(done, j)
	}
	live := newJob("q", 0, t0)
	must(t, s.Jobs().Enqueue(ctx, live))
	un, err := s.Jobs().Uncleaned(ctx, 10)
	must(t, err)
	if !slices.Equal(ids(un), []string{done[3].ID, done[2].ID, done[1].ID, done[0].ID}) {
		t.Fatalf("Uncleaned = %v, want oldest CompletedAt first", ids(un))
	}
	must(t, s.Jobs().MarkCleaned(ctx, []string{done[3].ID, stores.NewID()}))
	un, _ = s.Jobs().Uncleaned(ctx, 10)
	if len(un) != 3 {
		t.Fatalf("Uncleaned after MarkCleaned = %v", ids(un))
	}
	n, err := s.Jobs().Purge(ctx, at(3*time.Minute+time.Second), 1)
	must(t, err)
	if n != 1 {
		t.Fatalf("Purge(limit 1) = %d", n)
	}
	n, err = s.Jobs().Purge(ctx, at(3*time.Minute+time.Second), 100)
	must(t, err)
	if n != 2 {
		t.Fatalf("second Purge = %d, want 2", n)
	}
	for _, j := range done[1:] {
		if _, err := s.Jobs().Get(ctx, j.ID); !isNotFound(err) {
			t.Fatalf("purged job %s still there: %v", j.ID, err)
		}
		if h, _ := s.History().ListByJob(ctx, j.ID); len(h) != 0 {
			t.Fatalf("purged job's history stayed: %d rows", len(h))
		}
		if l, _ := s.Logs().List(ctx, j.ID, "", 10); len(l.Entries) != 0 {
			t.Fatalf("purged job's logs stayed: %d entries", len(l.Entries))
		}
	}
	if h, _ := s.History().ListByJob(ctx, done[0].ID); len(h) != 1 {
		t.Fatalf("kept job lost its history")
	}
	verifyIndexes(t, b)
}

// J10: paging never skips or repeats a row while rows are added.
func TestJ10_QueryPagingWhileInserting(t *testing.T) {
	ctx := context.Background()
	s, b := open(t)
	var want []string
	for i := range 50 {
		j := newJob([]string{"a", "b"}[i%2], 0, at(time.Duration(i/3)*time.Second))
		must(t, s.Jobs().Enqueue(ctx, j))
		if j.Queue == "a" {
			want = append(want, j.ID)
		}
	}
	var got []string
	cursor := ""
	for page := 0; ; page++ {
		p, err := s.Jobs().Query(ctx, stores.JobQuery{Queues: []string{"a"}, Statuses: []stores.JobStatus{stores.StatusPending, stores.StatusCompleted}, Cursor: cursor, Limit: 4})
		must(t, err)
		got = append(got, ids(p.Jobs)...)
		// Rows added behind the cursor and far ahead of it.
		old := newJob("a", 0, at(-time.Hour))
		must(t, s.Jobs().Enqueue(ctx, old))
		if page < 3 {
			ahead := newJob("a", 0, at(time.Hour+time.Duration(page)))
			must(t, s.Jobs().Enqueue(ctx, ahead))
			want = append(want, ahead.ID)
		}
		if p.Next == "" {
			break
		}
		cursor = p.Next
	}
	if !slices.Equal(got, want) {
		t.Fatalf("paged %d rows, want %d:\n%v\n%v", len(got), len(want), got, want)
	}
	p, err := s.Jobs().Query(ctx, stores.JobQuery{CreatedAfter: at(time.Second), CreatedBefore: at(2 * time.Second), Limit: 100})
	must(t, err)
	if len(p.Jobs) != 3 || p.Next != "" {
		t.Fatalf("time-range query returned %d jobs, next %q", len(p.Jobs), p.Next)
	}
	verifyIndexes(t, b)
}

// TestJobIndexesUnderRandomOperations drives random operations and checks
// after each that every index equals its recomputation from the jobs.
func TestJobIndexesUnderRandomOperations(t *testing.T) {
	ctx := context.Background()
	s, b := open(t)
	rng := rand.New(rand.NewPCG(1, 2))
	var known []string
	refs := map[string]stores.Ref{}
	for step := range 2000 {
		now := at(time.Duration(rng.IntN(600)) * time.Second)
		switch op := rng.IntN(12); op {
		case 0, 1, 2:
			j := newJob(fmt.Sprintf("q%d", rng.IntN(3)), rng.IntN(3), at(time.Duration(rng.IntN(100))*time.Second))
			if rng.IntN(2) == 0 {
				j.ScheduledAt = at(time.Duration(rng.IntN(600)) * time.Second)
			}
			if rng.IntN(4) == 0 {
				j.UniqueKey = fmt.Sprintf("k%d", rng.IntN(5))
			}
			j.MaxRetries, j.Timeout = rng.IntN(2), time.Duration(rng.IntN(3))*time.Minute
			if err := s.Jobs().Enqueue(ctx, j); err == nil {
				known = append(known, j.ID)
			}
		case 3, 4:
			got, err := s.Jobs().Dispatch(ctx, stores.DispatchParams{Limit: 1 + rng.IntN(4), Now: now, WorkerID: fmt.Sprintf("w%d", rng.IntN(3))})
			must(t, err)
			for _, j := range got {
				refs[j.ID] = j.Ref()
			}
		case 5:
			if len(refs) > 0 {
				for id, r := range refs {
					s.Jobs().MarkRunning(ctx, r, "", now)
					_ = id
					break
				}
			}
		case 6:
			for id, r := range refs {
				switch rng.IntN(4) {
				case 0:
					s.Jobs().Complete(ctx, r, now)
				case 1:
					s.Jobs().Retry(ctx, r, "e", now)
				case 2:
					s.Jobs().Fail(ctx, r, "e", now)
				case 3:
					s.Jobs().MoveToDeadLetter(ctx, r, "e", now)
				}
				delete(refs, id)
				break
			}
		case 7:
			if len(known) > 0 {
				s.Jobs().Cancel(ctx, known[rng.IntN(len(known))], now)
			}
		case 8:
			s.Jobs().Recover(ctx, stores.RecoverParams{Now: now, DispatchLease: time.Minute, DeadWorkers: []string{"w1"}, Limit: 3})
		case 9:
			if len(known) > 0 {
				s.Jobs().ClaimForFollower(ctx, known[rng.IntN(len(known))], fmt.Sprintf("n%d", rng.IntN(2)))
			}
			if rng.IntN(5) == 0 {
				s.Jobs().ReleaseFollower(ctx, "n0")
			}
		case 10:
			s.Jobs().Purge(ctx, now, 2)
			if len(known) > 0 {
				s.Jobs().MarkCleaned(ctx, []string{known[rng.IntN(len(known))]})
			}
		case 11:
			if len(known) > 0 {
				id := known[rng.IntN(len(known))]
				s.Logs().Append(ctx, []*stores.LogEntry{{JobID: id, Timestamp: now}, {JobID: id, Timestamp: now.Add(time.Second)}})
				s.History().Append(ctx, &stores.JobHistory{JobID: id, Attempt: 1 + rng.IntN(3), StartedAt: now, CompletedAt: []time.Time{{}, now}[rng.IntN(2)]})
			}
			if rng.IntN(10) == 0 {
				s.Logs().Purge(ctx, now, 3)
				s.History().Purge(ctx, now, 3)
			}
			s.Jobs().Pending(ctx, now, 5)
			page, err := s.DeadLetters().List(ctx, "", 1)
			must(t, err)
			if len(page.DeadLetters) > 0 {
				s.DeadLetters().Requeue(ctx, page.DeadLetters[0].ID, now)
			}
		}
		b.db.recMu.Lock()
		b.db.mu.Lock()
		err := errors.Join(b.db.jobs.verify(), verifyLogs(b.db.logs), verifyHistory(b.db.history), b.db.deadLetters.verify())
		b.db.mu.Unlock()
		b.db.recMu.Unlock()
		if err != nil {
			t.Fatalf("step %d: %v", step, err)
		}
	}
}

// E4: readers share the lock with each other while writers change the
// state; run with -race, which flags any read path that writes.
func TestE4_ReadersAndWritersConcurrently(t *testing.T) {
	ctx := context.Background()
	s, b := open(t)
	// t.Fatal must not run outside the test goroutine.
	check := func(err error) {
		if err != nil {
			t.Error(err)
		}
	}
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				j := newJob("q", i%3, at(time.Duration(i)*time.Millisecond))
				j.FollowerNodeID = fmt.Sprintf("n%d", w)
				check(s.Jobs().Enqueue(ctx, j))
				got, err := s.Jobs().Dispatch(ctx, stores.DispatchParams{Limit: 2, Now: at(time.Minute)})
				check(err)
				for _, d := range got {
					s.Jobs().Complete(ctx, d.Ref(), at(time.Minute))
				}
				_, _ = s.Workers().Heartbeat(ctx, &stores.Worker{ID: "w", Queues: []string{"q"}, MaxConcurrency: 2}, at(time.Duration(i)*time.Second))
			}
		}()
	}
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 200 {
				_, err := s.Jobs().Query(ctx, stores.JobQuery{Statuses: []stores.JobStatus{stores.StatusCompleted}, Limit: 5})
				check(err)
				_, err = s.Jobs().ByFollower(ctx, "n0", 5)
				check(err)
				_, err = s.Jobs().Uncleaned(ctx, 5)
				check(err)
				_, err = s.Workers().Available(ctx, "q", 5)
				check(err)
				_, err = s.Workers().Dead(ctx, at(time.Hour), time.Second)
				check(err)
				_, err = s.Cron().Due(ctx, at(time.Hour), 5)
				check(err)
			}
		}()
	}
	wg.Wait()
	verifyIndexes(t, b)
}

// Dispatch, Pending and Query copy the jobs into a pooled buffer under the
// lock and make the caller's copies after it: under -race, many callers
// that change every copy they get must neither race with each other or the
// store nor see each other's changes, and the store keeps every job as
// written.
func TestJobCopiesIndependentUnderConcurrency(t *testing.T) {
	ctx := context.Background()
	s, b := open(t)
	const n = 3000
	jobs := make([]*stores.Job, n)
	for i := range jobs {
		jobs[i] = newJob("q", 0, at(time.Duration(i)))
		jobs[i].Args = json.RawMessage(fmt.Sprintf(`{"n":%d}`, i))
	}
	must(t, s.Jobs().EnqueueMany(ctx, jobs))
	args := map[string]string{}
	for _, j := range jobs {
		args[j.ID] = string(j.Args)
	}
	// spoil changes a copy and reports whether it came back as stored.
	spoil := func(j *stores.Job) bool {
		ok := string(j.Args) == args[j.ID] && j.Queue == "q"
		j.Args[1], j.Queue, j.ID = 'X', "spoilt", "spoilt"
		return ok
	}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for range n { // bounded: a buggy store must fail, not hang
				got, err := s.Jobs().Dispatch(ctx, stores.DispatchParams{Limit: 1 + w*13, Now: at(time.Hour), WorkerID: "w", Start: true})
				if err != nil || len(got) == 0 {
					if err != nil {
						t.Error(err)
					}
					return
				}
				refs := make([]stores.Ref, len(got))
				for i, j := range got {
					refs[i] = j.Ref()
					if j.Status != stores.StatusRunning || !spoil(j) {
						t.Errorf("dispatched copy %+v is not the stored job", j)
					}
				}
				if _, err := s.Jobs().CompleteMany(ctx, refs, at(time.Hour)); err != nil {
					t.Error(err)
				}
			}
		})
	}
	for range 2 {
		wg.Go(func() {
			for range 200 {
				page, err := s.Jobs().Query(ctx, stores.JobQuery{Limit: 50})
				if err != nil {
					t.Error(err)
					return
				}
				pending, err := s.Jobs().Pending(ctx, at(time.Hour), 20)
				if err != nil {
					t.Error(err)
					return
				}
				for _, j := range append(page.Jobs, pending...) {
					if !spoil(j) {
						t.Errorf("queried copy %+v is not the stored job", j)
					}
				}
			}
		})
	}
	wg.Wait()
	for _, j := range jobs {
		got, err := s.Jobs().Get(ctx, j.ID)
		must(t, err)
		if got.Status != stores.StatusCompleted || string(got.Args) != args[j.ID] || got.Queue != "q" {
			t.Fatalf("stored job %+v changed with a copy, or was not completed", got)
		}
	}
	verifyIndexes(t, b)
}

// The job trees share one free list of nodes (jobTrees): as batches move
// from the pending trees to the in-flight and finished ones, nodes the
// first free are reused by the others, and every index must stay exact.
func TestJobTreesReuseFreedNodes(t *testing.T) {
	ctx := context.Background()
	s, b := open(t)
	jobs := make([]*stores.Job, 6000)
	for i := range jobs {
		jobs[i] = newJob(fmt.Sprintf("q%d", i%3), i%4, at(time.Duration(i)))
	}
	must(t, s.Jobs().EnqueueMany(ctx, jobs))
	for done := 0; done < len(jobs); {
		got, err := s.Jobs().Dispatch(ctx, stores.DispatchParams{Limit: 700, Now: at(time.Hour), WorkerID: "w", Start: done%2 == 0})
		must(t, err)
		refs := make([]stores.Ref, len(got))
		for i, j := range got {
			refs[i] = j.Ref()
		}
		verifyIndexes(t, b)
		errs, err := s.Jobs().CompleteMany(ctx, refs, at(time.Hour+time.Duration(done)))
		must(t, err)
		for _, e := range errs {
			must(t, e)
		}
		done += len(got)
		verifyIndexes(t, b)
	}
	n, err := s.Jobs().Purge(ctx, at(2*time.Hour), len(jobs))
	must(t, err)
	if n != len(jobs) {
		t.Fatalf("purged %d jobs, want %d", n, len(jobs))
	}
	verifyIndexes(t, b)
}

// J5: MarkRunningMany is MarkRunning per ref in one call; a repeated ref is
// one transition and its repeats are ErrConflict.
func TestJ5_MarkRunningManyPerItemResults(t *testing.T) {
	ctx := context.Background()
	s, b := open(t)
	a, c := newJob("q", 1, t0), newJob("q", 0, t0)
	must(t, s.Jobs().EnqueueMany(ctx, []*stores.Job{a, c}))
	got, err := s.Jobs().Dispatch(ctx, stores.DispatchParams{Limit: 2, Now: t0})
	must(t, err)
	ra, rc := got[0].Ref(), got[1].Ref()
	stale := stores.Ref{ID: ra.ID, Attempt: ra.Attempt + 1}
	missing := stores.Ref{ID: stores.NewID(), Attempt: 1}
	// Called on the concrete store: the method is newer than some versions
	// of the JobStore interface.
	errs, err := jobStore{b.db}.MarkRunningMany(ctx, []stores.Ref{ra, stale, missing, missing, ra, rc}, "w7", at(time.Second))
	must(t, err)
	want := []error{nil, stores.ErrConflict, stores.ErrNotFound, stores.ErrConflict, stores.ErrConflict, nil}
	for i := range want {
		if (want[i] == nil) != (errs[i] == nil) || want[i] != nil && !errorsIs(errs[i], want[i]) {
			t.Fatalf("entry %d = %v, want %v", i, errs[i], want[i])
		}
	}
	for _, r := range []stores.Ref{ra, rc} {
		j, _ := s.Jobs().Get(ctx, r.ID)
		if j.Status != stores.StatusRunning || j.WorkerID != "w7" || !j.StartedAt.Equal(at(time.Second)) {
			t.Fatalf("job after MarkRunningMany = %+v", j)
		}
	}
	verifyIndexes(t, b)
}

// TestSnapshotLockedUnlocksOnPanic: a panic under the lock of Dispatch,
// Pending or Query (snapshotLocked) must not leave the store locked, or
// every later call of a process that recovered from it would hang (E4).
func TestSnapshotLockedUnlocksOnPanic(t *testing.T) {
	b := New()
	for _, read := range []bool{false, true} {
		func() {
			defer func() {
				if recover() == nil {
					t.Fatal("the panic did not reach the caller")
				}
			}()
			_, _ = b.db.snapshotLocked(context.Background(), read, func() []*jobRow { panic("under the lock") })
		}()
		if !b.db.mu.TryLock() {
			t.Fatalf("read=%v: the lock is still held after a panic under it", read)
		}
		b.db.mu.Unlock()
	}
}
