package conformance

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/orchestrix/persistence/abstractions/stores"
)

// jobTests covers J1–J10.
func jobTests() []testCase {
	return []testCase{
		{"J1_EnqueueStoresJob", testEnqueueStoresJob},
		{"J1_EnqueueManyStoresAll", testEnqueueManyStoresAll},
		{"J1_DuplicateIDIsAlreadyExists", testDuplicateJobID},
		{"J1_EnqueueManyIsAllOrNothing", testEnqueueManyAllOrNothing},
		{"J1_GeneratedIDs", testGeneratedIDs},
		{"J1_UniqueKeyHeldByLiveJob", testUniqueKey},
		{"J1_ScheduleTickIsUnique", testScheduleTickUnique},
		{"J2_GetMissingIsNotFound", testGetMissing},
		{"J2_RoundTripsEveryField", testJobRoundTrip},
		{"J2_ReturnsCopies", testJobCopies},
		{"J3_PendingOrderDueRuleAndLimit", testPending},
		{"J3_DueScheduledOldestFirst", testDueScheduled},
		{"J4_DispatchOrderAndFields", testDispatchOrder},
		{"J4_DispatchQueueFilterAndLimit", testDispatchFilter},
		{"J4_ConcurrentDispatchNeverDuplicates", testConcurrentDispatch},
		{"J4_DispatchStartRunsTheJobs", testDispatchStart},
		{"J5_TransitionsAfterDispatch", testTransitions},
		{"J5_StaleAttemptIsConflictAndUnchanged", testStaleAttempt},
		{"J5_NotInFlightIsConflictAndUnchanged", testNotInFlight},
		{"J5_MissingJobIsNotFound", testTransitionMissing},
		{"J5_CompleteManyPerItemResults", testCompleteMany},
		{"J5_ConcurrentTransitionsOneWinner", testConcurrentTransitions},
		{"J5_MarkRunningManyPerItemResults", testMarkRunningMany},
		{"J5_ConcurrentMarkRunningManyOneWinner", testConcurrentMarkRunningMany},
		{"J5_CancelNonTerminalOnly", testCancel},
		{"J6_FollowerOwnership", testFollowerOwnership},
		{"J6_ConcurrentClaimOneWinner", testConcurrentClaim},
		{"J7_RetryBackoff", testRetryBackoff},
		{"J7_RetryExhaustedReturnsFalseUnchanged", testRetryExhausted},
		{"J7_MoveToDeadLetterHoldsEveryField", testMoveToDeadLetter},
		{"J8_RecoverDispatchLease", testRecoverDispatchLease},
		{"J8_RecoverRunningTimeout", testRecoverTimeout},
		{"J8_RecoverDeadWorkers", testRecoverDeadWorkers},
		{"J8_RecoverStartedOnDispatch", testRecoverStarted},
		{"J8_RecoverLimit", testRecoverLimit},
		{"J8_RecoverNeverRacesCompletion", testRecoverRace},
		{"J9_UncleanedAndMarkCleaned", testUncleaned},
		{"J9_PurgeTerminalJobsWithHistoryAndLogs", testPurgeJobs},
		{"J10_QueryFilters", testQueryFilters},
		{"J10_QueryPagingWhileInserting", testQueryPaging},
		{"J10_QueryAcrossQueuesPrioritiesAndStates", testQueryAcrossIndexes},
	}
}

func testEnqueueStoresJob(t T, st *stores.Store) {
	j := newJob(1)
	j.Args = json.RawMessage(`{"to":"a@example.com"}`)
	must(t, st.Jobs().Enqueue(t.Context(), j), "Enqueue")
	want := &stores.Job{ID: j.ID, Type: j.Type, Queue: j.Queue, Args: j.Args,
		Status: stores.StatusPending, CreatedAt: at(time.Millisecond)}
	checkJob(t, "stored job", want, getJob(t, st, j.ID))

	// An empty ID gets a generated UUID.
	k := newJob(2)
	k.ID = ""
	must(t, st.Jobs().Enqueue(t.Context(), k), "Enqueue without ID")
	if k.ID == "" {
		t.Fatalf("Enqueue left the ID empty")
	}
	getJob(t, st, k.ID)
}

func testEnqueueManyStoresAll(t T, st *stores.Store) {
	var jobs []*stores.Job
	for i := range 50 {
		j := newJob(i)
		j.Priority = i % 3
		jobs = append(jobs, j)
	}
	enqueue(t, st, jobs...)
	for _, j := range jobs {
		checkJob(t, "job "+j.ID, j, getJob(t, st, j.ID))
	}
}

func testDuplicateJobID(t T, st *stores.Store) {
	j := newJob(1)
	enqueue(t, st, j)
	before := getJob(t, st, j.ID)
	dup := newJob(2)
	dup.ID, dup.Queue, dup.Type = j.ID, "other", "other.type"
	wantErr(t, st.Jobs().Enqueue(t.Context(), dup), stores.ErrAlreadyExists, "Enqueue with a taken ID")
	checkJob(t, "job after the rejected duplicate", before, getJob(t, st, j.ID))

	// A terminal job still holds its ID.
	d := dispatchJob(t, st, newJob(3), at(time.Minute), "")
	must(t, st.Jobs().Complete(t.Context(), d.Ref(), at(2*time.Minute)), "Complete")
	dup2 := newJob(4)
	dup2.ID = d.ID
	wantErr(t, st.Jobs().Enqueue(t.Context(), dup2), stores.ErrAlreadyExists, "Enqueue with the ID of a completed job")
}

func testEnqueueManyAllOrNothing(t T, st *stores.Store) {
	existing := newJob(0)
	enqueue(t, st, existing)
	before := getJob(t, st, existing.ID)

	// A duplicate of a stored job in the middle of the batch.
	a, b := newJob(1), newJob(2)
	clash := newJob(3)
	clash.ID = existing.ID
	clash.Queue = "clash"
	err := st.Jobs().EnqueueMany(t.Context(), []*stores.Job{a, clash, b})
	wantErr(t, err, stores.ErrAlreadyExists, "EnqueueMany with the ID of a stored job")
	wantGone(t, st, a.ID, "first job of a rejected batch")
	wantGone(t, st, b.ID, "last job of a rejected batch")
	checkJob(t, "stored job after the rejected batch", before, getJob(t, st, existing.ID))

	// A duplicate inside the batch itself.
	c, d := newJob(4), newJob(5)
	twin := newJob(6)
	twin.ID = c.ID
	err = st.Jobs().EnqueueMany(t.Context(), []*stores.Job{c, d, twin})
	wantErr(t, err, stores.ErrAlreadyExists, "EnqueueMany with the same ID twice")
	wantGone(t, st, c.ID, "job of a batch holding its ID twice")
	wantGone(t, st, d.ID, "job of a batch holding a duplicate")

	// A unique key held twice inside the batch.
	e, f := newJob(7), newJob(8)
	e.UniqueKey, f.UniqueKey = "batch-key", "batch-key"
	err = st.Jobs().EnqueueMany(t.Context(), []*stores.Job{e, f})
	wantErr(t, err, stores.ErrAlreadyExists, "EnqueueMany with one unique key twice")
	wantGone(t, st, e.ID, "job of a batch holding a unique key twice")
	wantGone(t, st, f.ID, "job of a batch holding a unique key twice")
}

// testGeneratedIDs: jobs enqueued with empty IDs get new distinct ones,
// which is the batch a driver may store without looking for its IDs
// (stores.FreshEnqueuer); the same jobs enqueued again, their IDs now
// filled in, are ErrAlreadyExists with nothing changed; unique keys are
// still checked.
func testGeneratedIDs(t T, st *stores.Store) {
	var jobs []*stores.Job
	for i := range 60 {
		j := newJob(i)
		j.ID, j.Priority = "", i%3
		jobs = append(jobs, j)
	}
	enqueue(t, st, jobs...)
	single := newJob(60)
	single.ID = ""
	must(t, st.Jobs().Enqueue(t.Context(), single), "Enqueue with an empty ID")
	jobs = append(jobs, single)
	seen := map[string]bool{}
	for i, j := range jobs {
		if len(j.ID) != 36 || seen[j.ID] {
			t.Fatalf("job %d got ID %q: want a new canonical UUID", i, j.ID)
		}
		seen[j.ID] = true
		checkJob(t, "generated job "+j.ID, j, getJob(t, st, j.ID))
	}
	pending, err := st.Jobs().Pending(t.Context(), at(time.Hour), 100)
	must(t, err, "Pending")
	if len(pending) != len(jobs) || pending[0].Priority != 2 || pending[len(pending)-1].Priority != 0 {
		t.Fatalf("Pending returned %d jobs (priority %d first): want %d, priority 2 first and 0 last", len(pending), pending[0].Priority, len(jobs))
	}

	again := []*stores.Job{newJob(70), jobs[10], newJob(71)}
	again[0].ID, again[2].ID = "", ""
	wantErr(t, st.Jobs().EnqueueMany(t.Context(), again), stores.ErrAlreadyExists, "EnqueueMany of a stored generated job with new ones")
	wantErr(t, st.Jobs().EnqueueMany(t.Context(), jobs[20:30]), stores.ErrAlreadyExists, "EnqueueMany of stored generated jobs again")
	for _, j := range append(again[:1:1], again[2]) {
		if j.ID != "" {
			wantGone(t, st, j.ID, "new job of a rejected batch")
		}
	}
	for _, j := range jobs {
		checkJob(t, "generated job after the rejected batches", j, getJob(t, st, j.ID))
	}

	holder := newJob(80)
	holder.UniqueKey = "generated-key"
	enqueue(t, st, holder)
	clash := []*stores.Job{newJob(81), newJob(82)}
	clash[0].ID, clash[1].ID, clash[1].UniqueKey = "", "", holder.UniqueKey
	wantErr(t, st.Jobs().EnqueueMany(t.Context(), clash), stores.ErrAlreadyExists, "EnqueueMany of generated jobs, one with a held unique key")
	for _, j := range clash {
		if j.ID != "" {
			wantGone(t, st, j.ID, "job of a generated batch with a held unique key")
		}
	}
}

func testUniqueKey(t T, st *stores.Store) {
	holder := newJob(1)
	holder.UniqueKey = "report:2030-01-02"
	holder.Queue = "uk"
	enqueue(t, st, holder)
	tryNewcomer := func(stage string) {
		t.Helper()
		n := newJob(2)
		n.UniqueKey = holder.UniqueKey
		wantErr(t, st.Jobs().Enqueue(t.Context(), n), stores.ErrAlreadyExists, "Enqueue with a unique key held by a %s job", stage)
		wantGone(t, st, n.ID, "rejected newcomer")
	}
	tryNewcomer("pending")
	d := dispatch(t, st, at(time.Minute), 1, "w1", "uk")
	if len(d) != 1 {
		t.Fatalf("Dispatch returned %d jobs, want 1", len(d))
	}
	tryNewcomer("dispatched")
	_, err := st.Jobs().MarkRunning(t.Context(), d[0].Ref(), "", at(2*time.Minute))
	must(t, err, "MarkRunning")
	tryNewcomer("running")
	must(t, st.Jobs().Complete(t.Context(), d[0].Ref(), at(3*time.Minute)), "Complete")

	// Terminal: the key is free again.
	next := newJob(3)
	next.UniqueKey = holder.UniqueKey
	must(t, st.Jobs().Enqueue(t.Context(), next), "Enqueue with the key of a completed job")
	// And freed by cancellation too.
	must(t, st.Jobs().Cancel(t.Context(), next.ID, at(4*time.Minute)), "Cancel")
	last := newJob(4)
	last.UniqueKey = holder.UniqueKey
	must(t, st.Jobs().Enqueue(t.Context(), last), "Enqueue with the key of a cancelled job")
}

func testScheduleTickUnique(t T, st *stores.Store) {
	sched := registerCron(t, st, "tick-owner")
	tick := at(time.Hour)
	mk := func(seq int, tick time.Time) *stores.Job {
		j := newJob(seq)
		j.ScheduleID, j.ScheduleType, j.ScheduleTick = sched.ID, stores.ScheduleTypeCron, tick
		return j
	}
	first := mk(1, tick)
	enqueue(t, st, first)
	dup := mk(2, tick)
	wantErr(t, st.Jobs().Enqueue(t.Context(), dup), stores.ErrAlreadyExists, "Enqueue of a second job for the same schedule tick")
	wantGone(t, st, dup.ID, "second job of one tick")

	// Still held once the first job is terminal.
	must(t, st.Jobs().Cancel(t.Context(), first.ID, at(2*time.Minute)), "Cancel")
	dup2 := mk(3, tick)
	wantErr(t, st.Jobs().Enqueue(t.Context(), dup2), stores.ErrAlreadyExists, "Enqueue for a tick whose job was cancelled")

	// Another tick of the same schedule is fine.
	must(t, st.Jobs().Enqueue(t.Context(), mk(4, tick.Add(time.Hour))), "Enqueue for the next tick")
}

// registerCron registers an enabled cron schedule or ends the test.
func registerCron(t T, st *stores.Store, name string) *stores.CronSchedule {
	t.Helper()
	s, err := st.Cron().Register(t.Context(), &stores.CronSchedule{
		ScheduleFields: stores.ScheduleFields{Name: name, JobType: "cron.job", Queue: "cron",
			Enabled: true, CreatedAt: base, NextRun: at(time.Hour)},
		Expression: "0 * * * *",
	})
	must(t, err, "Register cron schedule %q", name)
	return s
}

func testGetMissing(t T, st *stores.Store) {
	enqueue(t, st, newJob(1))
	wantGone(t, st, stores.NewID(), "never stored")
}

// fullJob returns a job with every field set, as the caller passes it, and
// the job the store must return: times in UTC truncated to microseconds,
// durations truncated to milliseconds.
func fullJob(t T, st *stores.Store, status stores.JobStatus) (in, want *stores.Job) {
	t.Helper()
	sched := registerCron(t, st, "full-"+string(status))
	plus5 := time.FixedZone("UTC+5", 5*3600)
	in = &stores.Job{
		ID:             stores.NewID(),
		Type:           "report.generate",
		Queue:          "reports",
		Args:           json.RawMessage(`{"b":1, "a":[1,2],  "s":"x\u00e9\n"}`),
		Status:         status,
		Priority:       -7,
		CorrelationID:  "corr-42",
		UniqueKey:      "uk-" + string(status),
		CreatedAt:      base.Add(999_999 * time.Nanosecond).In(plus5),
		ScheduledAt:    at(time.Second + 1_500*time.Nanosecond),
		DispatchedAt:   at(2*time.Second + 123_456_789),
		StartedAt:      at(3 * time.Second),
		Timeout:        90*time.Second + 1_999*time.Microsecond,
		RetryCount:     2,
		MaxRetries:     5,
		RetryPolicy:    stores.RetryPolicy{InitialDelay: 1500*time.Millisecond + 999*time.Microsecond, Multiplier: 2.5, MaxDelay: 10 * time.Minute},
		LastError:      "boom: 'quoted'\nsecond line",
		WorkerID:       "worker-1",
		FollowerNodeID: "node-1",
		ScheduleID:     sched.ID,
		ScheduleType:   stores.ScheduleTypeCron,
		ScheduleTick:   at(time.Hour),
		Attempt:        3,
	}
	if status.Terminal() {
		in.CompletedAt = at(4*time.Second + 7)
		in.ChannelsCleaned = true
	}
	want = in.Clone()
	want.CreatedAt = base.Add(999 * time.Microsecond)
	want.ScheduledAt = at(time.Second + time.Microsecond)
	want.DispatchedAt = at(2*time.Second + 123_456*time.Microsecond)
	want.CompletedAt = stores.NormalizeTime(in.CompletedAt)
	want.Timeout = 90*time.Second + time.Millisecond
	want.RetryPolicy.InitialDelay = 1500 * time.Millisecond
	return in, want
}

func testJobRoundTrip(t T, st *stores.Store) {
	for _, status := range []stores.JobStatus{stores.StatusRunning, stores.StatusCompleted} {
		in, want := fullJob(t, st, status)
		must(t, st.Jobs().Enqueue(t.Context(), in), "Enqueue %s job", status)
		checkJob(t, "round trip of a "+string(status)+" job", want, getJob(t, st, want.ID))
	}
	// No arguments stay no arguments; JSON scalars and whitespace stay exact.
	for i, args := range []string{"", `null`, ` [ 1 , 2 ] `, `"text"`, `{"k":{"nested":[{}]}}`} {
		j := newJob(i)
		j.Args = json.RawMessage(args)
		enqueue(t, st, j)
		got := getJob(t, st, j.ID)
		if string(got.Args) != args {
			t.Errorf("Args %q came back as %q", args, got.Args)
		}
	}
}

func testJobCopies(t T, st *stores.Store) {
	j := newJob(1)
	j.Args = json.RawMessage(`{"n":1}`)
	enqueue(t, st, j)
	want := getJob(t, st, j.ID)
	// Changing the caller's value after Enqueue must not reach the store.
	j.Args[2] = 'X'
	j.Queue = "mutated"
	got := getJob(t, st, j.ID)
	got.Args[2] = 'Y'
	got.Status = stores.StatusFailed
	checkJob(t, "job after the caller modified its copies", want, getJob(t, st, j.ID))
}

// pendingFixture stores jobs whose Pending order is known: it returns the
// due pending IDs in Pending order.
func pendingFixture(t T, st *stores.Store, now time.Time) []string {
	t.Helper()
	mk := func(seq, prio int) *stores.Job {
		j := newJob(seq)
		j.Priority = prio
		return j
	}
	p1, p2, p3, p4 := mk(30, 0), mk(20, 5), mk(10, 5), mk(0, -1)
	future := mk(1, 10)
	future.ScheduledAt = now.Add(time.Microsecond)
	exact := mk(2, 1)
	exact.ScheduledAt = now
	past := mk(3, 1)
	past.ScheduledAt = now.Add(-time.Hour)
	busy := mk(4, 100)
	busy.Status, busy.Attempt, busy.DispatchedAt = stores.StatusDispatched, 1, now
	done := mk(5, 100)
	done.Status, done.CompletedAt = stores.StatusCompleted, now
	enqueue(t, st, p1, p2, p3, p4, future, exact, past, busy, done)
	// Priority descending, then created ascending (exact before past).
	return []string{p3.ID, p2.ID, exact.ID, past.ID, p1.ID, p4.ID}
}

func testPending(t T, st *stores.Store) {
	now := at(time.Hour)
	want := pendingFixture(t, st, now)
	got, err := st.Jobs().Pending(t.Context(), now, 100)
	must(t, err, "Pending")
	checkIDs(t, "Pending", want, ids(got))
	got, err = st.Jobs().Pending(t.Context(), now, 2)
	must(t, err, "Pending with limit 2")
	checkIDs(t, "Pending with limit 2", want[:2], ids(got))
	for _, j := range got {
		checkJob(t, "job returned by Pending", getJob(t, st, j.ID), j)
	}
	// Pending is a read: nothing moved.
	again, err := st.Jobs().Pending(t.Context(), now, 100)
	must(t, err, "Pending again")
	checkIDs(t, "Pending again", want, ids(again))
}

func testDueScheduled(t T, st *stores.Store) {
	now := at(time.Hour)
	mk := func(seq int, sched time.Time) *stores.Job {
		j := newJob(seq)
		j.ScheduledAt = sched
		return j
	}
	a := mk(1, now.Add(-time.Minute))
	b := mk(2, now.Add(-5*time.Minute))
	c := mk(3, now)
	future := mk(4, now.Add(time.Second))
	unscheduled := mk(5, time.Time{})
	running := mk(6, now.Add(-time.Hour))
	running.Status, running.Attempt, running.StartedAt = stores.StatusRunning, 1, now
	enqueue(t, st, a, b, c, future, unscheduled, running)
	got, err := st.Jobs().DueScheduled(t.Context(), now, 100)
	must(t, err, "DueScheduled")
	checkIDs(t, "DueScheduled", []string{b.ID, a.ID, c.ID}, ids(got))
	got, err = st.Jobs().DueScheduled(t.Context(), now, 1)
	must(t, err, "DueScheduled with limit 1")
	checkIDs(t, "DueScheduled with limit 1", []string{b.ID}, ids(got))
}

func testDispatchOrder(t T, st *stores.Store) {
	now := at(time.Hour)
	order := pendingFixture(t, st, now)
	before := map[string]*stores.Job{}
	for _, id := range order {
		before[id] = getJob(t, st, id)
	}
	got := dispatch(t, st, now, 3, "worker-7")
	checkIDs(t, "Dispatch with limit 3", order[:3], ids(got))
	for _, j := range got {
		want := before[j.ID].Clone()
		want.Status, want.DispatchedAt, want.Attempt, want.WorkerID = stores.StatusDispatched, now, 1, "worker-7"
		checkJob(t, "job returned by Dispatch", want, j)
		checkJob(t, "stored dispatched job", want, getJob(t, st, j.ID))
	}
	// Without a worker id the field is left as it was; the rest follow.
	rest := dispatch(t, st, now, 100, "")
	checkIDs(t, "second Dispatch", order[3:], ids(rest))
	for _, j := range rest {
		if j.WorkerID != "" || j.Attempt != 1 || j.Status != stores.StatusDispatched || !j.DispatchedAt.Equal(now) {
			t.Errorf("job %s after Dispatch without worker: WorkerID %q Attempt %d Status %s DispatchedAt %s",
				j.ID, j.WorkerID, j.Attempt, j.Status, fmtTime(j.DispatchedAt))
		}
	}
	if more := dispatch(t, st, now, 100, ""); len(more) != 0 {
		t.Errorf("third Dispatch returned %v, want nothing (future, in-flight and terminal jobs stay)", ids(more))
	}
}

func testDispatchFilter(t T, st *stores.Store) {
	now := at(time.Hour)
	var a []string
	var all []*stores.Job
	for i := range 12 {
		j := newJob(i)
		j.Queue = []string{"alpha", "beta", "gamma"}[i%3]
		all = append(all, j)
		if j.Queue == "alpha" {
			a = append(a, j.ID)
		}
	}
	prefix := newJob(99)
	prefix.Queue = "alphabet"
	enqueue(t, st, append(all, prefix)...)

	got := dispatch(t, st, now, 2, "", "alpha")
	checkIDs(t, "Dispatch of queue alpha, limit 2", a[:2], ids(got))
	got = dispatch(t, st, now, 100, "", "alpha")
	checkIDs(t, "Dispatch of queue alpha", a[2:], ids(got))
	got = dispatch(t, st, now, 100, "", "gamma", "beta")
	// Pending order across both queues is creation order here.
	var bc []string
	for _, j := range all {
		if j.Queue != "alpha" {
			bc = append(bc, j.ID)
		}
	}
	checkIDs(t, "Dispatch of queues gamma and beta", bc, ids(got))
	got = dispatch(t, st, now, 100, "", "nope")
	checkIDs(t, "Dispatch of an unknown queue", nil, ids(got))
	got = dispatch(t, st, now, 100, "")
	checkIDs(t, "Dispatch of every queue", []string{prefix.ID}, ids(got))
}

func testConcurrentDispatch(t T, st *stores.Store) {
	const jobs, dispatchers, limit = 500, 16, 7
	var all []*stores.Job
	for i := range jobs {
		j := newJob(i)
		j.Queue = []string{"q-a", "q-b"}[i%2]
		j.Priority = i % 3
		all = append(all, j)
	}
	// Dispatchers read every queue, one queue, or both by name, so an index
	// per queue that falls out of step with the others shows up; every
	// second one starts its jobs (DispatchParams.Start), so the two kinds of
	// claim race each other too.
	filters := [][]string{nil, {"q-a"}, {"q-b", "q-a"}, {"q-b"}}
	enqueue(t, st, all...)
	now := at(time.Hour)
	var fails failures
	got := make([][]*stores.Job, dispatchers)
	race(dispatchers, &fails, func(i int) {
		// Bounded, so a driver that never drains cannot hang the suite.
		for range 2 * jobs {
			batch, err := st.Jobs().Dispatch(t.Context(), stores.DispatchParams{Queues: filters[i%len(filters)], Limit: limit, Now: now,
				WorkerID: fmt.Sprintf("w%d", i), Start: i%2 == 1})
			if err != nil {
				fails.add("dispatcher %d: Dispatch: %v", i, err)
				return
			}
			if len(batch) == 0 {
				return
			}
			if len(batch) > limit {
				fails.add("dispatcher %d: Dispatch returned %d jobs, limit %d", i, len(batch), limit)
			}
			got[i] = append(got[i], batch...)
		}
		fails.add("dispatcher %d: Dispatch still returned jobs after %d calls", i, 2*jobs)
	})
	fails.report(t)
	var bad failures
	seen := map[string]string{}
	status := func(i int) stores.JobStatus {
		if i%2 == 1 {
			return stores.StatusRunning
		}
		return stores.StatusDispatched
	}
	wantStatus := map[string]stores.JobStatus{}
	for i, batch := range got {
		for _, j := range batch {
			w := fmt.Sprintf("w%d", i)
			if prev, dup := seen[j.ID]; dup {
				bad.add("job %s dispatched twice: to %s and to %s", j.ID, prev, w)
				continue
			}
			seen[j.ID], wantStatus[j.ID] = w, status(i)
			if j.Status != status(i) || j.Attempt != 1 || j.WorkerID != w {
				bad.add("job %s returned to %s as status %s attempt %d worker %q, want %s", j.ID, w, j.Status, j.Attempt, j.WorkerID, status(i))
			}
		}
	}
	if len(seen) != jobs {
		bad.add("%d distinct jobs dispatched, want %d: jobs were lost", len(seen), jobs)
	}
	for _, j := range all {
		s := getJob(t, st, j.ID)
		if s.Status != wantStatus[j.ID] || s.Attempt != 1 || s.WorkerID != seen[j.ID] {
			bad.add("stored job %s: status %s attempt %d worker %q, want %s, 1, %q", j.ID, s.Status, s.Attempt, s.WorkerID, wantStatus[j.ID], seen[j.ID])
		}
	}
	bad.report(t)
}

// testDispatchStart: Dispatch with Start is Dispatch and MarkRunning in one
// step (J4, J5): the jobs come back running from Now on the worker, in
// Pending order, and every later transition treats them as running.
func testDispatchStart(t T, st *stores.Store) {
	ctx := t.Context()
	now := at(time.Hour)
	order := pendingFixture(t, st, now)
	before := map[string]*stores.Job{}
	for _, id := range order {
		before[id] = getJob(t, st, id)
	}
	_, err := st.Jobs().Dispatch(ctx, stores.DispatchParams{Limit: 3, Now: now, Start: true})
	wantInvalidField(t, err, "WorkerID", "Dispatch with Start and no WorkerID")
	for _, id := range order {
		checkJob(t, "job after a rejected Dispatch", before[id], getJob(t, st, id))
	}

	got, err := st.Jobs().Dispatch(ctx, stores.DispatchParams{Limit: 3, Now: now, WorkerID: "worker-7", Start: true})
	must(t, err, "Dispatch with Start")
	checkIDs(t, "Dispatch with Start, limit 3", order[:3], ids(got))
	for _, j := range got {
		want := before[j.ID].Clone()
		want.Status, want.DispatchedAt, want.StartedAt, want.Attempt, want.WorkerID = stores.StatusRunning, now, now, 1, "worker-7"
		checkJob(t, "job returned by Dispatch with Start", want, j)
		checkJob(t, "stored started job", want, getJob(t, st, j.ID))
	}
	page, err := st.Jobs().Query(ctx, stores.JobQuery{Statuses: []stores.JobStatus{stores.StatusRunning}, Limit: 100})
	must(t, err, "Query running jobs")
	checkIDs(t, "Query of running jobs", sorted(ids(got)), sorted(ids(page.Jobs)))

	// Already running: MarkRunning is a conflict and changes nothing.
	first := getJob(t, st, got[0].ID)
	_, err = st.Jobs().MarkRunning(ctx, first.Ref(), "worker-8", now.Add(time.Second))
	wantErr(t, err, stores.ErrConflict, "MarkRunning of a job started by Dispatch")
	results, err := st.Jobs().MarkRunningMany(ctx, []stores.Ref{first.Ref()}, "worker-8", now.Add(time.Second))
	must(t, err, "MarkRunningMany")
	wantErr(t, results[0], stores.ErrConflict, "MarkRunningMany of a job started by Dispatch")
	checkJob(t, "started job after MarkRunning conflicts", first, getJob(t, st, first.ID))

	// They complete and fail as running jobs do; a stale attempt is fenced.
	results, err = st.Jobs().CompleteMany(ctx, []stores.Ref{got[0].Ref(), got[1].Ref()}, now.Add(2*time.Second))
	must(t, err, "CompleteMany of started jobs")
	for i, e := range results {
		must(t, e, "CompleteMany of started job %d", i)
	}
	want := first.Clone()
	want.Status, want.CompletedAt = stores.StatusCompleted, now.Add(2*time.Second)
	checkJob(t, "completed started job", want, getJob(t, st, first.ID))
	third := getJob(t, st, got[2].ID)
	_, ok, err := st.Jobs().Retry(ctx, third.Ref(), "boom", now.Add(3*time.Second))
	must(t, err, "Retry of a started job")
	if ok {
		t.Fatalf("Retry of a job with MaxRetries 0 said a retry was left")
	}
	must(t, st.Jobs().Fail(ctx, third.Ref(), "boom", now.Add(3*time.Second)), "Fail of a started job")
	wantErr(t, st.Jobs().Complete(ctx, third.Ref(), now.Add(4*time.Second)), stores.ErrConflict, "Complete of a failed started job")

	// The rest go out as before, without Start: dispatched, not started.
	rest := dispatch(t, st, now, 100, "worker-9")
	checkIDs(t, "Dispatch after the started ones", order[3:], ids(rest))
	for _, j := range rest {
		if j.Status != stores.StatusDispatched || !j.StartedAt.IsZero() {
			t.Errorf("job %s dispatched without Start: status %s StartedAt %s, want dispatched, not started", j.ID, j.Status, fmtTime(j.StartedAt))
		}
	}
}

// inFlight enqueues a job in its own queue and dispatches it at base+1h.
func inFlight(t T, st *stores.Store, seq int, worker string) *stores.Job {
	t.Helper()
	j := newJob(seq)
	j.MaxRetries = 3
	return dispatchJob(t, st, j, at(time.Hour), worker)
}

func testTransitions(t T, st *stores.Store) {
	ctx := t.Context()
	now := at(2 * time.Hour)

	d := inFlight(t, st, 1, "w1")
	run, err := st.Jobs().MarkRunning(ctx, d.Ref(), "w2", now)
	must(t, err, "MarkRunning")
	want := d.Clone()
	want.Status, want.StartedAt, want.WorkerID = stores.StatusRunning, now, "w2"
	checkJob(t, "job returned by MarkRunning", want, run)
	checkJob(t, "running job", want, getJob(t, st, d.ID))
	must(t, st.Jobs().Complete(ctx, run.Ref(), now.Add(time.Second)), "Complete running job")
	want.Status, want.CompletedAt = stores.StatusCompleted, now.Add(time.Second)
	checkJob(t, "completed job", want, getJob(t, st, d.ID))

	// MarkRunning without a worker keeps the dispatching worker.
	d = inFlight(t, st, 2, "w1")
	run, err = st.Jobs().MarkRunning(ctx, d.Ref(), "", now)
	must(t, err, "MarkRunning without worker")
	if run.WorkerID != "w1" {
		t.Errorf("MarkRunning without a worker id: WorkerID %q, want w1", run.WorkerID)
	}
	must(t, st.Jobs().TimeOut(ctx, run.Ref(), now.Add(time.Minute)), "TimeOut")
	want = run.Clone()
	want.Status, want.CompletedAt = stores.StatusTimedOut, now.Add(time.Minute)
	checkJob(t, "timed out job", want, getJob(t, st, d.ID))

	// Fail and Complete straight from dispatched.
	d = inFlight(t, st, 3, "w1")
	must(t, st.Jobs().Fail(ctx, d.Ref(), "exit status 1", now), "Fail")
	want = d.Clone()
	want.Status, want.CompletedAt, want.LastError = stores.StatusFailed, now, "exit status 1"
	checkJob(t, "failed job", want, getJob(t, st, d.ID))

	d = inFlight(t, st, 4, "w1")
	must(t, st.Jobs().Complete(ctx, d.Ref(), now), "Complete dispatched job")
	want = d.Clone()
	want.Status, want.CompletedAt = stores.StatusCompleted, now
	checkJob(t, "job completed from dispatched", want, getJob(t, st, d.ID))
}

// staleJob returns a job at its second attempt and the stale first ref.
func staleJob(t T, st *stores.Store, seq int) (cur *stores.Job, stale stores.Ref) {
	t.Helper()
	d := inFlight(t, st, seq, "w1")
	_, ok, err := st.Jobs().Retry(t.Context(), d.Ref(), "first attempt failed", at(time.Hour+time.Second))
	must(t, err, "Retry")
	if !ok {
		t.Fatalf("Retry of a job with retries left returned false")
	}
	again := dispatch(t, st, at(3*time.Hour), 10, "w2", d.Queue)
	if len(again) != 1 || again[0].Attempt != d.Attempt+1 {
		t.Fatalf("second Dispatch returned %d jobs (want 1 at attempt %d)", len(again), d.Attempt+1)
	}
	return again[0], d.Ref()
}

// transitions names every conditional transition, for table tests.
var transitions = []struct {
	name string
	do   func(st *stores.Store, t T, ref stores.Ref) error
}{
	{"MarkRunning", func(st *stores.Store, t T, ref stores.Ref) error {
		_, err := st.Jobs().MarkRunning(t.Context(), ref, "w9", at(4*time.Hour))
		return err
	}},
	{"Complete", func(st *stores.Store, t T, ref stores.Ref) error {
		return st.Jobs().Complete(t.Context(), ref, at(4*time.Hour))
	}},
	{"CompleteMany", func(st *stores.Store, t T, ref stores.Ref) error {
		res, err := st.Jobs().CompleteMany(t.Context(), []stores.Ref{ref}, at(4*time.Hour))
		if err != nil {
			return err
		}
		if len(res) != 1 {
			return fmt.Errorf("CompleteMany returned %d results for 1 ref", len(res))
		}
		return res[0]
	}},
	{"Fail", func(st *stores.Store, t T, ref stores.Ref) error {
		return st.Jobs().Fail(t.Context(), ref, "stale failure", at(4*time.Hour))
	}},
	{"TimeOut", func(st *stores.Store, t T, ref stores.Ref) error {
		return st.Jobs().TimeOut(t.Context(), ref, at(4*time.Hour))
	}},
	{"Retry", func(st *stores.Store, t T, ref stores.Ref) error {
		_, _, err := st.Jobs().Retry(t.Context(), ref, "stale retry", at(4*time.Hour))
		return err
	}},
	{"MoveToDeadLetter", func(st *stores.Store, t T, ref stores.Ref) error {
		_, err := st.Jobs().MoveToDeadLetter(t.Context(), ref, "stale dead letter", at(4*time.Hour))
		return err
	}},
}

func testStaleAttempt(t T, st *stores.Store) {
	for i, tr := range transitions {
		cur, stale := staleJob(t, st, i)
		before := getJob(t, st, cur.ID)
		wantErr(t, tr.do(st, t, stale), stores.ErrConflict, "%s with the stale attempt %d (current %d)", tr.name, stale.Attempt, cur.Attempt)
		checkJob(t, "job after a stale "+tr.name, before, getJob(t, st, cur.ID))
		future := stores.Ref{ID: cur.ID, Attempt: cur.Attempt + 1}
		wantErr(t, tr.do(st, t, future), stores.ErrConflict, "%s with a future attempt %d", tr.name, future.Attempt)
		checkJob(t, "job after a "+tr.name+" from the future", before, getJob(t, st, cur.ID))
	}
	// The dead letter store holds nothing from the rejected moves.
	page, err := st.DeadLetters().List(t.Context(), "", 10)
	must(t, err, "DeadLetters List")
	if len(page.DeadLetters) != 0 {
		t.Errorf("a stale MoveToDeadLetter left %d dead letters", len(page.DeadLetters))
	}
}

func testNotInFlight(t T, st *stores.Store) {
	for i, tr := range transitions {
		if tr.name == "MoveToDeadLetter" {
			continue // it accepts any status at the current attempt
		}
		// A completed job and a pending (retried) job are not in flight.
		done := inFlight(t, st, 2*i, "w1")
		must(t, st.Jobs().Complete(t.Context(), done.Ref(), at(2*time.Hour)), "Complete")
		pending := inFlight(t, st, 2*i+1, "w1")
		_, _, err := st.Jobs().Retry(t.Context(), pending.Ref(), "again", at(2*time.Hour))
		must(t, err, "Retry")
		for _, j := range []*stores.Job{done, pending} {
			before := getJob(t, st, j.ID)
			wantErr(t, tr.do(st, t, before.Ref()), stores.ErrConflict, "%s of a %s job", tr.name, before.Status)
			checkJob(t, tr.name+" of a "+string(before.Status)+" job", before, getJob(t, st, j.ID))
		}
	}
}

func testTransitionMissing(t T, st *stores.Store) {
	inFlight(t, st, 1, "w1")
	missing := stores.Ref{ID: stores.NewID(), Attempt: 1}
	for _, tr := range transitions {
		wantErr(t, tr.do(st, t, missing), stores.ErrNotFound, "%s of a missing job", tr.name)
	}
}

func testCompleteMany(t T, st *stores.Store) {
	now := at(5 * time.Hour)
	a := inFlight(t, st, 1, "w1")
	b := inFlight(t, st, 2, "w1")
	f, err := st.Jobs().MarkRunning(t.Context(), inFlight(t, st, 3, "w1").Ref(), "", at(2*time.Hour))
	must(t, err, "MarkRunning")
	staleCur, stale := staleJob(t, st, 4)
	done := inFlight(t, st, 5, "w1")
	must(t, st.Jobs().Complete(t.Context(), done.Ref(), at(2*time.Hour)), "Complete")
	missing := stores.Ref{ID: stores.NewID(), Attempt: 1}

	unchanged := []*stores.Job{getJob(t, st, staleCur.ID), getJob(t, st, done.ID)}
	refs := []stores.Ref{a.Ref(), stale, missing, b.Ref(), done.Ref(), f.Ref()}
	wantErrs := []error{nil, stores.ErrConflict, stores.ErrNotFound, nil, stores.ErrConflict, nil}
	res, err := st.Jobs().CompleteMany(t.Context(), refs, now)
	must(t, err, "CompleteMany")
	if len(res) != len(refs) {
		t.Fatalf("CompleteMany returned %d results for %d refs", len(res), len(refs))
	}
	for i, w := range wantErrs {
		if w == nil && res[i] != nil {
			t.Errorf("CompleteMany result %d (job %s): %v, want nil", i, refs[i].ID, res[i])
		} else if w != nil {
			wantErr(t, res[i], w, "CompleteMany result %d (job %s)", i, refs[i].ID)
		}
	}
	for _, j := range []*stores.Job{a, b, f} {
		want := j.Clone()
		want.Status, want.CompletedAt = stores.StatusCompleted, now
		checkJob(t, "job completed by CompleteMany", want, getJob(t, st, j.ID))
	}
	for _, j := range unchanged {
		checkJob(t, "job rejected by CompleteMany", j, getJob(t, st, j.ID))
	}
	wantGone(t, st, missing.ID, "missing ref of CompleteMany")
}

func testConcurrentTransitions(t T, st *stores.Store) {
	const rounds, racers = 10, 16
	for r := range rounds {
		cur, stale := staleJob(t, st, r)
		var fails failures
		type outcome struct {
			won  bool
			op   string
			now  time.Time
			errM string
		}
		outcomes := make([]outcome, racers)
		race(racers, &fails, func(i int) {
			ref := cur.Ref()
			if i%4 == 3 {
				ref = stale
			}
			now := at(10*time.Hour + time.Duration(i)*time.Second)
			msg := fmt.Sprintf("racer %d", i)
			var err error
			op := []string{"Complete", "Fail", "TimeOut", "CompleteMany", "Retry"}[i%5]
			switch op {
			case "Complete":
				err = st.Jobs().Complete(t.Context(), ref, now)
			case "Fail":
				err = st.Jobs().Fail(t.Context(), ref, msg, now)
			case "TimeOut":
				err = st.Jobs().TimeOut(t.Context(), ref, now)
			case "CompleteMany":
				var res []error
				res, err = st.Jobs().CompleteMany(t.Context(), []stores.Ref{ref}, now)
				if err == nil && len(res) == 1 {
					err = res[0]
				} else if err == nil {
					err = fmt.Errorf("%d results for 1 ref", len(res))
				}
			case "Retry":
				var ok bool
				_, ok, err = st.Jobs().Retry(t.Context(), ref, msg, now)
				if err == nil && !ok {
					err = errors.New("retry with retries left returned false")
				}
			}
			switch {
			case err == nil:
				outcomes[i] = outcome{won: true, op: op, now: now, errM: msg}
				if ref == stale {
					fails.add("round %d: racer %d: %s with the stale attempt succeeded", r, i, op)
				}
			case !errorsIsConflict(err):
				fails.add("round %d: racer %d: %s: %v, want nil or ErrConflict", r, i, op, err)
			}
		})
		fails.report(t)
		var winners []outcome
		for _, o := range outcomes {
			if o.won {
				winners = append(winners, o)
			}
		}
		if len(winners) != 1 {
			t.Errorf("round %d: %d racers won, want exactly 1: %+v", r, len(winners), winners)
			continue
		}
		w := winners[0]
		want := cur.Clone()
		switch w.op {
		case "Complete", "CompleteMany":
			want.Status, want.CompletedAt = stores.StatusCompleted, w.now
		case "Fail":
			want.Status, want.CompletedAt, want.LastError = stores.StatusFailed, w.now, w.errM
		case "TimeOut":
			want.Status, want.CompletedAt = stores.StatusTimedOut, w.now
		case "Retry":
			want.Status, want.RetryCount, want.LastError, want.WorkerID = stores.StatusPending, cur.RetryCount+1, w.errM, ""
			want.ScheduledAt = w.now.Add(cur.RetryPolicy.Backoff(cur.RetryCount + 1))
		}
		checkJob(t, fmt.Sprintf("round %d: job after the race won by %s", r, w.op), want, getJob(t, st, cur.ID))
	}
}

func testMarkRunningMany(t T, st *stores.Store) {
	now := at(5 * time.Hour)
	a := inFlight(t, st, 1, "w1")
	b := inFlight(t, st, 2, "w1")
	running, err := st.Jobs().MarkRunning(t.Context(), inFlight(t, st, 3, "w1").Ref(), "", at(2*time.Hour))
	must(t, err, "MarkRunning")
	staleCur, stale := staleJob(t, st, 4)
	done := inFlight(t, st, 5, "w1")
	must(t, st.Jobs().Complete(t.Context(), done.Ref(), at(2*time.Hour)), "Complete")
	retried := inFlight(t, st, 6, "w1")
	_, _, err = st.Jobs().Retry(t.Context(), retried.Ref(), "again", at(2*time.Hour))
	must(t, err, "Retry")
	missing := stores.Ref{ID: stores.NewID(), Attempt: 1}
	future := stores.Ref{ID: staleCur.ID, Attempt: staleCur.Attempt + 1}

	unchanged := []*stores.Job{getJob(t, st, running.ID), getJob(t, st, staleCur.ID), getJob(t, st, done.ID), getJob(t, st, retried.ID)}
	// a is listed twice: the first entry moves it, the repeat is stale.
	refs := []stores.Ref{a.Ref(), running.Ref(), stale, missing, b.Ref(), done.Ref(), retried.Ref(), future, a.Ref()}
	wantErrs := []error{nil, stores.ErrConflict, stores.ErrConflict, stores.ErrNotFound, nil, stores.ErrConflict, stores.ErrConflict, stores.ErrConflict, stores.ErrConflict}
	res, err := st.Jobs().MarkRunningMany(t.Context(), refs, "w2", now)
	must(t, err, "MarkRunningMany")
	if len(res) != len(refs) {
		t.Fatalf("MarkRunningMany returned %d results for %d refs", len(res), len(refs))
	}
	for i, w := range wantErrs {
		if w == nil && res[i] != nil {
			t.Errorf("MarkRunningMany result %d (job %s): %v, want nil", i, refs[i].ID, res[i])
		} else if w != nil {
			wantErr(t, res[i], w, "MarkRunningMany result %d (job %s attempt %d)", i, refs[i].ID, refs[i].Attempt)
		}
	}
	for _, j := range []*stores.Job{a, b} {
		want := j.Clone()
		want.Status, want.StartedAt, want.WorkerID = stores.StatusRunning, now, "w2"
		checkJob(t, "job moved by MarkRunningMany", want, getJob(t, st, j.ID))
	}
	for _, j := range unchanged {
		checkJob(t, "job rejected by MarkRunningMany", j, getJob(t, st, j.ID))
	}
	wantGone(t, st, missing.ID, "missing ref of MarkRunningMany")

	// Without a worker id the dispatching worker stays; the jobs then
	// complete as any running job does.
	c, d := inFlight(t, st, 7, "w1"), inFlight(t, st, 8, "w3")
	res, err = st.Jobs().MarkRunningMany(t.Context(), []stores.Ref{c.Ref(), d.Ref()}, "", now)
	must(t, err, "MarkRunningMany without a worker id")
	for i, j := range []*stores.Job{c, d} {
		if len(res) != 2 || res[i] != nil {
			t.Fatalf("MarkRunningMany without a worker id: results %v, want [nil nil]", res)
		}
		want := j.Clone()
		want.Status, want.StartedAt = stores.StatusRunning, now
		checkJob(t, "job moved by MarkRunningMany without a worker id", want, getJob(t, st, j.ID))
	}
	cres, err := st.Jobs().CompleteMany(t.Context(), []stores.Ref{c.Ref(), d.Ref()}, now.Add(time.Second))
	must(t, err, "CompleteMany after MarkRunningMany")
	for i, e := range cres {
		if e != nil {
			t.Errorf("CompleteMany of a job MarkRunningMany moved, result %d: %v", i, e)
		}
	}
}

// testConcurrentMarkRunningManyOneWinner races batches over the same
// dispatched jobs, listed in different orders (so a backend that locks row
// by row meets the lock-order hazard), with single MarkRunning calls mixed
// in: each job moves exactly once, and the winner's worker and time stick.
func testConcurrentMarkRunningMany(t T, st *stores.Store) {
	const rounds, racers, jobs = 5, 16, 8
	for r := range rounds {
		queue := fmt.Sprintf("race-%d", r)
		batch := make([]*stores.Job, jobs)
		for i := range batch {
			batch[i] = newJob(r*jobs + i)
			batch[i].Queue = queue
		}
		enqueue(t, st, batch...)
		got := dispatch(t, st, at(time.Hour), jobs, "w0", queue)
		if len(got) != jobs {
			t.Fatalf("round %d: Dispatch returned %d jobs, want %d", r, len(got), jobs)
		}
		var fails failures
		won := make([][]bool, racers) // won[racer][job index in got]
		race(racers, &fails, func(i int) {
			won[i] = make([]bool, jobs)
			worker := fmt.Sprintf("racer-%d", i)
			now := at(2*time.Hour + time.Duration(i)*time.Second)
			if i%4 == 3 {
				k := i % jobs
				_, err := st.Jobs().MarkRunning(t.Context(), got[k].Ref(), worker, now)
				switch {
				case err == nil:
					won[i][k] = true
				case !errorsIsConflict(err):
					fails.add("round %d: racer %d: MarkRunning: %v, want nil or ErrConflict", r, i, err)
				}
				return
			}
			order := make([]int, jobs) // rotated, reversed on odd racers
			refs := make([]stores.Ref, jobs)
			for p := range order {
				order[p] = (p + i) % jobs
				if i%2 == 1 {
					order[p] = jobs - 1 - order[p]
				}
				refs[p] = got[order[p]].Ref()
			}
			res, err := st.Jobs().MarkRunningMany(t.Context(), refs, worker, now)
			if err != nil {
				fails.add("round %d: racer %d: MarkRunningMany: %v", r, i, err)
				return
			}
			if len(res) != jobs {
				fails.add("round %d: racer %d: MarkRunningMany returned %d results for %d refs", r, i, len(res), jobs)
				return
			}
			for p, e := range res {
				switch {
				case e == nil:
					won[i][order[p]] = true
				case !errorsIsConflict(e):
					fails.add("round %d: racer %d: MarkRunningMany result %d: %v, want nil or ErrConflict", r, i, p, e)
				}
			}
		})
		fails.report(t)
		for k, j := range got {
			var winners []int
			for i := range racers {
				if won[i] != nil && won[i][k] {
					winners = append(winners, i)
				}
			}
			if len(winners) != 1 {
				t.Errorf("round %d: job %d moved to running by %d racers %v, want exactly 1", r, k, len(winners), winners)
				continue
			}
			w := winners[0]
			want := j.Clone()
			want.Status, want.WorkerID = stores.StatusRunning, fmt.Sprintf("racer-%d", w)
			want.StartedAt = at(2*time.Hour + time.Duration(w)*time.Second)
			checkJob(t, fmt.Sprintf("round %d: job %d after the race won by racer %d", r, k, w), want, getJob(t, st, j.ID))
		}
	}
}

func testCancel(t T, st *stores.Store) {
	now := at(3 * time.Hour)
	p := newJob(1)
	enqueue(t, st, p)
	must(t, st.Jobs().Cancel(t.Context(), p.ID, now), "Cancel pending job")
	want := getJob(t, st, p.ID).Clone()
	if want.Status != stores.StatusCancelled || !want.CompletedAt.Equal(now) {
		t.Errorf("cancelled job: status %s CompletedAt %s, want cancelled at %s", want.Status, fmtTime(want.CompletedAt), fmtTime(now))
	}
	wantErr(t, st.Jobs().Cancel(t.Context(), p.ID, now.Add(time.Second)), stores.ErrConflict, "Cancel of a cancelled job")
	checkJob(t, "job after a second Cancel", want, getJob(t, st, p.ID))

	// Cancelling an in-flight job fences out its worker.
	d := inFlight(t, st, 2, "w1")
	must(t, st.Jobs().Cancel(t.Context(), d.ID, now), "Cancel dispatched job")
	cancelled := getJob(t, st, d.ID)
	wantErr(t, st.Jobs().Complete(t.Context(), d.Ref(), now.Add(time.Second)), stores.ErrConflict, "Complete of a cancelled job")
	checkJob(t, "cancelled job after Complete", cancelled, getJob(t, st, d.ID))

	c := inFlight(t, st, 3, "w1")
	must(t, st.Jobs().Complete(t.Context(), c.Ref(), now), "Complete")
	before := getJob(t, st, c.ID)
	wantErr(t, st.Jobs().Cancel(t.Context(), c.ID, now.Add(time.Second)), stores.ErrConflict, "Cancel of a completed job")
	checkJob(t, "completed job after Cancel", before, getJob(t, st, c.ID))
	wantErr(t, st.Jobs().Cancel(t.Context(), stores.NewID(), now), stores.ErrNotFound, "Cancel of a missing job")
}

func testFollowerOwnership(t T, st *stores.Store) {
	ctx := t.Context()
	var jobs []*stores.Job
	for i := range 6 {
		j := newJob(10 - i) // created in reverse order of i
		jobs = append(jobs, j)
	}
	enqueue(t, st, jobs...)
	for _, j := range jobs[:4] {
		must(t, st.Jobs().ClaimForFollower(ctx, j.ID, "node-a"), "ClaimForFollower %s", j.ID)
	}
	must(t, st.Jobs().ClaimForFollower(ctx, jobs[4].ID, "node-b"), "ClaimForFollower")
	must(t, st.Jobs().ClaimForFollower(ctx, jobs[0].ID, "node-a"), "ClaimForFollower of a job the node owns")

	before := getJob(t, st, jobs[1].ID)
	wantErr(t, st.Jobs().ClaimForFollower(ctx, jobs[1].ID, "node-b"), stores.ErrConflict, "ClaimForFollower of a job another node owns")
	checkJob(t, "job after a losing claim", before, getJob(t, st, jobs[1].ID))
	if before.FollowerNodeID != "node-a" {
		t.Errorf("claimed job: FollowerNodeID %q, want node-a", before.FollowerNodeID)
	}
	wantErr(t, st.Jobs().ClaimForFollower(ctx, stores.NewID(), "node-a"), stores.ErrNotFound, "ClaimForFollower of a missing job")

	// ByFollower in (CreatedAt, ID) order: reverse order of claiming here.
	got, err := st.Jobs().ByFollower(ctx, "node-a", 100)
	must(t, err, "ByFollower")
	checkIDs(t, "ByFollower node-a", []string{jobs[3].ID, jobs[2].ID, jobs[1].ID, jobs[0].ID}, ids(got))
	got, err = st.Jobs().ByFollower(ctx, "node-a", 2)
	must(t, err, "ByFollower with limit 2")
	checkIDs(t, "ByFollower node-a, limit 2", []string{jobs[3].ID, jobs[2].ID}, ids(got))
	// Any status: a completed job is still owned.
	d := dispatch(t, st, at(time.Hour), 100, "")
	for _, j := range d {
		if j.ID == jobs[2].ID {
			must(t, st.Jobs().Complete(ctx, j.Ref(), at(2*time.Hour)), "Complete")
		}
	}
	checkCount := func(node string, want int) {
		t.Helper()
		n, err := st.Jobs().CountByFollower(ctx, node)
		must(t, err, "CountByFollower %s", node)
		if n != want {
			t.Errorf("CountByFollower(%s) = %d, want %d", node, n, want)
		}
	}
	checkCount("node-a", 4)
	checkCount("node-b", 1)
	checkCount("node-c", 0)

	n, err := st.Jobs().ReleaseFollower(ctx, "node-a")
	must(t, err, "ReleaseFollower")
	if n != 4 {
		t.Errorf("ReleaseFollower(node-a) = %d, want 4", n)
	}
	checkCount("node-a", 0)
	checkCount("node-b", 1)
	for _, j := range jobs[:4] {
		if got := getJob(t, st, j.ID); got.FollowerNodeID != "" {
			t.Errorf("job %s after ReleaseFollower: FollowerNodeID %q", j.ID, got.FollowerNodeID)
		}
	}
	// Released jobs can be claimed again.
	must(t, st.Jobs().ClaimForFollower(ctx, jobs[1].ID, "node-b"), "ClaimForFollower of a released job")
	n, err = st.Jobs().ReleaseFollower(ctx, "node-z")
	must(t, err, "ReleaseFollower of a node owning nothing")
	if n != 0 {
		t.Errorf("ReleaseFollower(node-z) = %d, want 0", n)
	}
}

func testConcurrentClaim(t T, st *stores.Store) {
	const jobs, nodes = 10, 16
	var all []*stores.Job
	for i := range jobs {
		all = append(all, newJob(i))
	}
	enqueue(t, st, all...)
	for _, j := range all {
		var fails failures
		won := make([]bool, nodes)
		race(nodes, &fails, func(i int) {
			err := st.Jobs().ClaimForFollower(t.Context(), j.ID, fmt.Sprintf("node-%02d", i))
			switch {
			case err == nil:
				won[i] = true
			case !errorsIsConflict(err):
				fails.add("node %d: ClaimForFollower: %v, want nil or ErrConflict", i, err)
			}
		})
		fails.report(t)
		winner := slices.Index(won, true)
		if n := count(won); n != 1 {
			t.Errorf("job %s: %d nodes won the claim, want exactly 1", j.ID, n)
			continue
		}
		if got := getJob(t, st, j.ID).FollowerNodeID; got != fmt.Sprintf("node-%02d", winner) {
			t.Errorf("job %s: FollowerNodeID %q, want the winner node-%02d", j.ID, got, winner)
		}
	}
	total := 0
	for i := range nodes {
		n, err := st.Jobs().CountByFollower(t.Context(), fmt.Sprintf("node-%02d", i))
		must(t, err, "CountByFollower")
		total += n
	}
	if total != jobs {
		t.Errorf("CountByFollower over all nodes = %d, want %d", total, jobs)
	}
}

func count(b []bool) int {
	n := 0
	for _, v := range b {
		if v {
			n++
		}
	}
	return n
}

func testRetryBackoff(t T, st *stores.Store) {
	j := newJob(1)
	j.Queue = "retry"
	j.MaxRetries = 5
	j.RetryPolicy = stores.RetryPolicy{InitialDelay: 2 * time.Second, Multiplier: 3, MaxDelay: time.Minute}
	enqueue(t, st, j)
	delays := []time.Duration{2 * time.Second, 6 * time.Second, 18 * time.Second, 54 * time.Second, time.Minute}
	now := at(time.Hour)
	for n := 1; n <= j.MaxRetries; n++ {
		d := dispatch(t, st, now, 10, "w1", "retry")
		if len(d) != 1 {
			t.Fatalf("retry %d: Dispatch at %s returned %d jobs, want 1", n, fmtTime(now), len(d))
		}
		msg := fmt.Sprintf("failure %d", n)
		got, ok, err := st.Jobs().Retry(t.Context(), d[0].Ref(), msg, now)
		must(t, err, "Retry %d", n)
		if !ok {
			t.Fatalf("Retry %d returned false with %d of %d retries spent", n, n-1, j.MaxRetries)
		}
		want := d[0].Clone()
		want.Status, want.RetryCount, want.LastError, want.WorkerID = stores.StatusPending, n, msg, ""
		want.ScheduledAt = now.Add(delays[n-1])
		checkJob(t, fmt.Sprintf("job returned by Retry %d", n), want, got)
		checkJob(t, fmt.Sprintf("job after Retry %d", n), want, getJob(t, st, j.ID))
		if got.Attempt != int64(n) {
			t.Errorf("Retry %d: Attempt %d, want %d (kept from dispatch)", n, got.Attempt, n)
		}
		// Not due before its backoff has passed.
		if early := dispatch(t, st, want.ScheduledAt.Add(-time.Microsecond), 10, "", "retry"); len(early) != 0 {
			t.Fatalf("retry %d: job dispatched before its ScheduledAt", n)
		}
		now = want.ScheduledAt
	}
}

func testRetryExhausted(t T, st *stores.Store) {
	j := newJob(1)
	j.MaxRetries = 1
	d := dispatchJob(t, st, j, at(time.Hour), "w1")
	_, ok, err := st.Jobs().Retry(t.Context(), d.Ref(), "first", at(time.Hour))
	must(t, err, "Retry")
	if !ok {
		t.Fatalf("first Retry returned false")
	}
	d2 := dispatch(t, st, at(2*time.Hour), 10, "w1", d.Queue)
	if len(d2) != 1 {
		t.Fatalf("Dispatch after Retry returned %d jobs", len(d2))
	}
	before := getJob(t, st, j.ID)
	got, ok, err := st.Jobs().Retry(t.Context(), d2[0].Ref(), "second", at(3*time.Hour))
	must(t, err, "Retry with no retry left")
	if ok {
		t.Errorf("Retry with no retry left returned true")
	}
	if got != nil {
		checkJob(t, "job returned by an exhausted Retry", before, got)
	} else {
		t.Errorf("exhausted Retry returned a nil job, want the unchanged job")
	}
	checkJob(t, "job after an exhausted Retry", before, getJob(t, st, j.ID))
	// The caller then fails it for good.
	must(t, st.Jobs().Fail(t.Context(), d2[0].Ref(), "second", at(3*time.Hour)), "Fail after exhausted retries")
}

func testMoveToDeadLetter(t T, st *stores.Store) {
	ctx := t.Context()
	in, _ := fullJob(t, st, stores.StatusPending)
	in.DispatchedAt, in.StartedAt, in.WorkerID, in.Attempt, in.ScheduledAt = time.Time{}, time.Time{}, "", 0, time.Time{}
	d := dispatchJob(t, st, in, at(time.Hour), "w1")
	run, err := st.Jobs().MarkRunning(ctx, d.Ref(), "", at(time.Hour+time.Second))
	must(t, err, "MarkRunning")
	must(t, st.History().Append(ctx, &stores.JobHistory{JobID: d.ID, Attempt: 1, StartedAt: at(time.Hour), CompletedAt: at(2 * time.Hour), Status: stores.StatusFailed}), "History Append")
	must(t, st.Logs().Append(ctx, []*stores.LogEntry{{JobID: d.ID, Timestamp: at(time.Hour), Level: "error", Message: "it broke"}}), "Logs Append")

	now := at(2 * time.Hour)
	dl, err := st.Jobs().MoveToDeadLetter(ctx, run.Ref(), "gave up", now)
	must(t, err, "MoveToDeadLetter")
	if dl == nil || dl.ID == "" {
		t.Fatalf("MoveToDeadLetter returned %+v, want a dead letter with an ID", dl)
	}
	want := &stores.DeadLetter{ID: dl.ID, Job: *run, LastError: "gave up", TotalAttempts: int(run.Attempt), FailedAt: now}
	checkEqual(t, "dead letter returned by MoveToDeadLetter", want, dl)
	stored, err := st.DeadLetters().Get(ctx, dl.ID)
	must(t, err, "DeadLetters Get")
	checkEqual(t, "stored dead letter", want, stored)
	wantGone(t, st, d.ID, "moved to the dead letters")
	if n := pendingCount(t, st); n != 0 {
		t.Errorf("%d jobs pending after MoveToDeadLetter of the only job", n)
	}
	hist, err := st.History().ListByJob(ctx, d.ID)
	must(t, err, "History ListByJob")
	logs, err := st.Logs().List(ctx, d.ID, "", 10)
	must(t, err, "Logs List")
	if len(hist) != 1 || len(logs.Entries) != 1 {
		t.Errorf("after MoveToDeadLetter: %d history rows and %d log lines, want 1 and 1 (they stay)", len(hist), len(logs.Entries))
	}

	// Any status at the current attempt; an empty message keeps LastError.
	p := inFlight(t, st, 2, "w1")
	retried, _, err := st.Jobs().Retry(ctx, p.Ref(), "flaky", at(time.Hour))
	must(t, err, "Retry")
	dl2, err := st.Jobs().MoveToDeadLetter(ctx, retried.Ref(), "", now)
	must(t, err, "MoveToDeadLetter of a pending job")
	if dl2.LastError != "flaky" || dl2.TotalAttempts != 1 || dl2.Job.Status != stores.StatusPending {
		t.Errorf("dead letter of a retried job: LastError %q TotalAttempts %d Job.Status %s, want \"flaky\", 1, pending",
			dl2.LastError, dl2.TotalAttempts, dl2.Job.Status)
	}
	wantGone(t, st, p.ID, "moved to the dead letters while pending")
}

// pendingCount counts due pending jobs far in the future.
func pendingCount(t T, st *stores.Store) int {
	t.Helper()
	p, err := st.Jobs().Pending(t.Context(), at(10000*time.Hour), stores.MaxLimit)
	must(t, err, "Pending")
	return len(p)
}

// recoverAll calls Recover or ends the test.
func recoverAll(t T, st *stores.Store, p stores.RecoverParams) stores.RecoverResult {
	t.Helper()
	if p.Limit == 0 {
		p.Limit = 100
	}
	res, err := st.Jobs().Recover(t.Context(), p)
	must(t, err, "Recover at %s", fmtTime(p.Now))
	return res
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

func testRecoverDispatchLease(t T, st *stores.Store) {
	t0 := at(time.Hour)
	a := dispatchJob(t, st, newJob(1), t0, "w1")
	b := dispatchJob(t, st, newJob(2), t0.Add(20*time.Second), "w1")
	beforeB := getJob(t, st, b.ID)

	res := recoverAll(t, st, stores.RecoverParams{Now: t0.Add(30*time.Second - time.Microsecond), DispatchLease: 30 * time.Second})
	if len(res.Requeued)+len(res.TimedOut) != 0 {
		t.Errorf("Recover before the lease expired: %+v, want nothing", res)
	}
	res = recoverAll(t, st, stores.RecoverParams{Now: t0.Add(10 * time.Hour)})
	if len(res.Requeued)+len(res.TimedOut) != 0 {
		t.Errorf("Recover with no lease, no dead worker and no timeout: %+v, want nothing", res)
	}
	res = recoverAll(t, st, stores.RecoverParams{Now: t0.Add(30 * time.Second), DispatchLease: 30 * time.Second})
	checkIDs(t, "Requeued at exactly DispatchedAt+lease", []string{a.ID}, res.Requeued)
	checkIDs(t, "TimedOut", nil, res.TimedOut)
	got := getJob(t, st, a.ID)
	if got.Status != stores.StatusPending || got.WorkerID != "" || got.RetryCount != 0 || got.Attempt != a.Attempt {
		t.Errorf("job after lease expiry: status %s worker %q retries %d attempt %d; want pending, no worker, 0 retries, attempt %d",
			got.Status, got.WorkerID, got.RetryCount, got.Attempt, a.Attempt)
	}
	checkJob(t, "job whose lease had not expired", beforeB, getJob(t, st, b.ID))
	// The old attempt is fenced out, and the job can be dispatched again.
	wantErr(t, st.Jobs().Complete(t.Context(), a.Ref(), t0.Add(time.Minute)), stores.ErrConflict, "Complete by the worker that lost its lease")
	again := dispatch(t, st, t0.Add(time.Minute), 10, "w2", a.Queue)
	if len(again) != 1 || again[0].Attempt != a.Attempt+1 {
		t.Errorf("Dispatch after recovery returned %d jobs, want the job at attempt %d", len(again), a.Attempt+1)
	}
}

func testRecoverTimeout(t T, st *stores.Store) {
	t0 := at(time.Hour)
	running := func(seq, maxRetries int, timeout time.Duration, started time.Time) *stores.Job {
		j := newJob(seq)
		j.MaxRetries, j.Timeout = maxRetries, timeout
		j.RetryPolicy = stores.RetryPolicy{InitialDelay: 5 * time.Second}
		d := dispatchJob(t, st, j, t0, "w1")
		r, err := st.Jobs().MarkRunning(t.Context(), d.Ref(), "", started)
		must(t, err, "MarkRunning")
		return r
	}
	retryable := running(1, 1, 10*time.Second, t0.Add(time.Second))
	final := running(2, 0, 10*time.Second, t0.Add(time.Second))
	noTimeout := running(3, 0, 0, t0.Add(time.Second))
	young := running(4, 0, 10*time.Second, t0.Add(5*time.Second))
	keep := []*stores.Job{getJob(t, st, noTimeout.ID), getJob(t, st, young.ID)}

	now := t0.Add(11 * time.Second) // retryable and final: StartedAt+Timeout == now
	res := recoverAll(t, st, stores.RecoverParams{Now: now, DispatchLease: time.Hour})
	checkIDs(t, "Requeued", []string{retryable.ID}, res.Requeued)
	checkIDs(t, "TimedOut", []string{final.ID}, res.TimedOut)

	want := retryable.Clone()
	want.Status, want.RetryCount, want.LastError, want.WorkerID = stores.StatusPending, 1, "timed out", ""
	want.ScheduledAt = now.Add(5 * time.Second)
	checkJob(t, "timed out job with a retry left", want, getJob(t, st, retryable.ID))
	want = final.Clone()
	want.Status, want.CompletedAt = stores.StatusTimedOut, now
	got := getJob(t, st, final.ID)
	want.LastError = reasonOrEmpty(got.LastError, "timed out")
	checkJob(t, "timed out job with no retry left", want, got)
	for _, j := range keep {
		checkJob(t, "running job not past its timeout", j, getJob(t, st, j.ID))
	}
}

func testRecoverDeadWorkers(t T, st *stores.Store) {
	t0 := at(time.Hour)
	dispatched := dispatchJob(t, st, newJob(1), t0, "dead")
	run := func(seq, maxRetries int, worker string) *stores.Job {
		j := newJob(seq)
		j.MaxRetries = maxRetries
		j.RetryPolicy = stores.RetryPolicy{InitialDelay: time.Second}
		d := dispatchJob(t, st, j, t0, worker)
		r, err := st.Jobs().MarkRunning(t.Context(), d.Ref(), "", t0.Add(time.Second))
		must(t, err, "MarkRunning")
		return r
	}
	retryable := run(2, 2, "dead")
	final := run(3, 0, "dead")
	alive := run(4, 0, "alive")
	aliveDispatched := dispatchJob(t, st, newJob(5), t0, "alive")
	keep := []*stores.Job{getJob(t, st, alive.ID), getJob(t, st, aliveDispatched.ID)}

	now := t0.Add(time.Minute)
	res := recoverAll(t, st, stores.RecoverParams{Now: now, DeadWorkers: []string{"dead", "unknown"}})
	checkIDs(t, "Requeued", sorted([]string{dispatched.ID, retryable.ID}), sorted(res.Requeued))
	checkIDs(t, "TimedOut", []string{final.ID}, res.TimedOut)

	want := dispatched.Clone()
	want.Status, want.WorkerID = stores.StatusPending, ""
	got := getJob(t, st, dispatched.ID)
	want.DispatchedAt = got.DispatchedAt // not specified after requeue
	checkJob(t, "dispatched job of a dead worker", want, got)
	want = retryable.Clone()
	want.Status, want.RetryCount, want.LastError, want.WorkerID = stores.StatusPending, 1, "worker lost", ""
	want.ScheduledAt = now.Add(time.Second)
	checkJob(t, "running job of a dead worker with retries left", want, getJob(t, st, retryable.ID))
	want = final.Clone()
	want.Status, want.CompletedAt = stores.StatusTimedOut, now
	got = getJob(t, st, final.ID)
	want.LastError = reasonOrEmpty(got.LastError, "worker lost")
	checkJob(t, "running job of a dead worker with no retry left", want, got)
	for _, j := range keep {
		checkJob(t, "job of a live worker", j, getJob(t, st, j.ID))
	}
}

// testRecoverStarted: a job that Dispatch started is running (J8): no
// DispatchLease applies to it, its Timeout counts from Dispatch's Now, and
// a dead worker's started job is recovered as a running one.
func testRecoverStarted(t T, st *stores.Store) {
	ctx := t.Context()
	t0 := at(time.Hour)
	start := func(seq int, timeout time.Duration, worker string) *stores.Job {
		j := newJob(seq)
		j.Queue = fmt.Sprintf("started-%d", seq)
		j.MaxRetries, j.Timeout = 1, timeout
		j.RetryPolicy = stores.RetryPolicy{InitialDelay: 5 * time.Second}
		enqueue(t, st, j)
		got, err := st.Jobs().Dispatch(ctx, stores.DispatchParams{Queues: []string{j.Queue}, Limit: 10, Now: t0, WorkerID: worker, Start: true})
		must(t, err, "Dispatch with Start")
		if len(got) != 1 || got[0].ID != j.ID || got[0].Status != stores.StatusRunning {
			t.Fatalf("Dispatch with Start of queue %s: %d jobs, want job %s running", j.Queue, len(got), j.ID)
		}
		return got[0]
	}
	timed := start(1, 10*time.Second, "w1")
	lost := start(2, 0, "dead")
	untimed := start(3, 0, "w1")

	res := recoverAll(t, st, stores.RecoverParams{Now: t0.Add(10*time.Second - time.Microsecond), DispatchLease: time.Second})
	if len(res.Requeued)+len(res.TimedOut) != 0 {
		t.Errorf("Recover with a dispatch lease long past, before any timeout: %+v, want nothing (the jobs are running)", res)
	}
	now := t0.Add(10 * time.Second) // timed: DispatchedAt (= StartedAt) + Timeout
	res = recoverAll(t, st, stores.RecoverParams{Now: now, DispatchLease: time.Second, DeadWorkers: []string{"dead"}})
	checkIDs(t, "Requeued", sorted([]string{timed.ID, lost.ID}), sorted(res.Requeued))
	checkIDs(t, "TimedOut", nil, res.TimedOut)
	want := timed.Clone()
	want.Status, want.RetryCount, want.LastError, want.WorkerID = stores.StatusPending, 1, "timed out", ""
	want.ScheduledAt = now.Add(5 * time.Second)
	checkJob(t, "started job past its timeout", want, getJob(t, st, timed.ID))
	want = lost.Clone()
	want.Status, want.RetryCount, want.LastError, want.WorkerID = stores.StatusPending, 1, "worker lost", ""
	want.ScheduledAt = now.Add(5 * time.Second)
	checkJob(t, "started job of a dead worker", want, getJob(t, st, lost.ID))
	checkJob(t, "started job with no timeout on a live worker", untimed, getJob(t, st, untimed.ID))
	wantErr(t, st.Jobs().Complete(ctx, timed.Ref(), now), stores.ErrConflict, "Complete of the recovered attempt")
}

// reasonOrEmpty accepts the two LastError values the contract leaves open
// for a job Recover times out: unchanged (empty here) or the reason.
func reasonOrEmpty(got, reason string) string {
	if got == reason {
		return reason
	}
	return ""
}

func testRecoverLimit(t T, st *stores.Store) {
	t0 := at(time.Hour)
	var all []*stores.Job
	for i := range 10 {
		all = append(all, newJob(i))
	}
	enqueue(t, st, all...)
	dispatch(t, st, t0, 100, "w1")
	seen := map[string]bool{}
	for i, want := range []int{4, 4, 2, 0} {
		res := recoverAll(t, st, stores.RecoverParams{Now: t0.Add(time.Hour), DispatchLease: time.Minute, Limit: 4})
		if len(res.Requeued) != want || len(res.TimedOut) != 0 {
			t.Errorf("Recover call %d with limit 4: requeued %d timed out %d, want %d and 0", i+1, len(res.Requeued), len(res.TimedOut), want)
		}
		for _, id := range res.Requeued {
			if seen[id] {
				t.Errorf("job %s recovered twice", id)
			}
			seen[id] = true
		}
	}
	if len(seen) != len(all) {
		t.Errorf("recovered %d distinct jobs, want %d", len(seen), len(all))
	}
}

func testRecoverRace(t T, st *stores.Store) {
	const jobs, completers, recoverers = 64, 16, 2
	t0 := at(time.Hour)
	var all []*stores.Job
	for i := range jobs {
		j := newJob(i)
		j.Timeout = 10 * time.Second // MaxRetries 0: a timed out running job ends timed_out
		all = append(all, j)
	}
	enqueue(t, st, all...)
	refs := map[string]stores.Ref{}
	for _, j := range dispatch(t, st, t0, jobs, "w1") {
		refs[j.ID] = j.Ref()
		if len(refs)%2 == 0 { // half of them running
			_, err := st.Jobs().MarkRunning(t.Context(), j.Ref(), "", t0)
			must(t, err, "MarkRunning")
		}
	}
	if len(refs) != jobs {
		t.Fatalf("dispatched %d jobs, want %d", len(refs), jobs)
	}
	now := t0.Add(time.Minute) // every lease and timeout has passed
	var fails failures
	completed := make([]map[string]bool, completers)
	recovered := make([][]string, recoverers)
	race(completers+recoverers, &fails, func(i int) {
		if i >= completers {
			r := i - completers
			for range jobs {
				res, err := st.Jobs().Recover(t.Context(), stores.RecoverParams{Now: now, DispatchLease: 30 * time.Second, Limit: 5})
				if err != nil {
					fails.add("recoverer %d: %v", r, err)
					return
				}
				recovered[r] = append(recovered[r], res.Requeued...)
				recovered[r] = append(recovered[r], res.TimedOut...)
				if len(res.Requeued)+len(res.TimedOut) == 0 {
					return
				}
			}
			return
		}
		completed[i] = map[string]bool{}
		for k, j := range all {
			if k%completers != i {
				continue
			}
			err := st.Jobs().Complete(t.Context(), refs[j.ID], now)
			switch {
			case err == nil:
				completed[i][j.ID] = true
			case !errorsIsConflict(err):
				fails.add("Complete of %s: %v, want nil or ErrConflict", j.ID, err)
			}
		}
	})
	fails.report(t)
	var bad failures
	rec := map[string]int{}
	for _, list := range recovered {
		for _, id := range list {
			rec[id]++
		}
	}
	for _, j := range all {
		done := false
		for _, m := range completed {
			done = done || m[j.ID]
		}
		got := getJob(t, st, j.ID)
		switch {
		case rec[j.ID] > 1:
			bad.add("job %s recovered %d times", j.ID, rec[j.ID])
		case done && rec[j.ID] > 0:
			bad.add("job %s both completed and recovered (now %s)", j.ID, got.Status)
		case done && got.Status != stores.StatusCompleted:
			bad.add("job %s: Complete succeeded but the job is %s", j.ID, got.Status)
		case !done && rec[j.ID] == 0:
			bad.add("job %s neither completed nor recovered: %s", j.ID, got.Status)
		case !done && got.Status != stores.StatusPending && got.Status != stores.StatusTimedOut:
			bad.add("recovered job %s is %s, want pending or timed_out", j.ID, got.Status)
		}
	}
	bad.report(t)
}

func testUncleaned(t T, st *stores.Store) {
	term := func(seq int, status stores.JobStatus, completed time.Duration, cleaned bool) *stores.Job {
		j := newJob(seq)
		j.Status, j.CompletedAt, j.ChannelsCleaned, j.Attempt = status, at(completed), cleaned, 1
		return j
	}
	a := term(1, stores.StatusCompleted, 3*time.Minute, false)
	b := term(2, stores.StatusFailed, time.Minute, false)
	c := term(3, stores.StatusTimedOut, 2*time.Minute, false)
	d := term(4, stores.StatusCancelled, 4*time.Minute, false)
	cleaned := term(5, stores.StatusCompleted, 0, true)
	pending := newJob(6)
	running := newJob(7)
	running.Status, running.Attempt, running.StartedAt = stores.StatusRunning, 1, base
	enqueue(t, st, a, b, c, d, cleaned, pending, running)

	got, err := st.Jobs().Uncleaned(t.Context(), 100)
	must(t, err, "Uncleaned")
	checkIDs(t, "Uncleaned", []string{b.ID, c.ID, a.ID, d.ID}, ids(got))
	got, err = st.Jobs().Uncleaned(t.Context(), 2)
	must(t, err, "Uncleaned with limit 2")
	checkIDs(t, "Uncleaned with limit 2", []string{b.ID, c.ID}, ids(got))

	before := getJob(t, st, a.ID)
	must(t, st.Jobs().MarkCleaned(t.Context(), []string{b.ID, stores.NewID(), c.ID}), "MarkCleaned with a missing id")
	got, err = st.Jobs().Uncleaned(t.Context(), 100)
	must(t, err, "Uncleaned")
	checkIDs(t, "Uncleaned after MarkCleaned", []string{a.ID, d.ID}, ids(got))
	want := getJob(t, st, b.ID)
	if !want.ChannelsCleaned {
		t.Errorf("job %s after MarkCleaned: ChannelsCleaned false", b.ID)
	}
	checkJob(t, "job not named by MarkCleaned", before, getJob(t, st, a.ID))
}

func testPurgeJobs(t T, st *stores.Store) {
	ctx := t.Context()
	cut := at(time.Hour)
	term := func(seq int, status stores.JobStatus, completed time.Time) *stores.Job {
		j := newJob(seq)
		j.Status, j.CompletedAt, j.Attempt = status, completed, 1
		return j
	}
	old := []*stores.Job{
		term(1, stores.StatusCompleted, cut.Add(-3*time.Minute)),
		term(2, stores.StatusFailed, cut.Add(-2*time.Minute)),
		term(3, stores.StatusCancelled, cut.Add(-time.Microsecond)),
	}
	atCut := term(4, stores.StatusCompleted, cut)
	recent := term(5, stores.StatusTimedOut, cut.Add(time.Minute))
	pending := newJob(6)
	running := newJob(7)
	running.Status, running.Attempt, running.StartedAt = stores.StatusRunning, 1, cut.Add(-time.Hour)
	enqueue(t, st, append(old, atCut, recent, pending, running)...)
	for _, j := range append(old, atCut, recent, running) {
		must(t, st.History().Append(ctx, &stores.JobHistory{JobID: j.ID, Attempt: 1, StartedAt: cut.Add(time.Hour), CompletedAt: cut.Add(time.Hour)}), "History Append")
		must(t, st.Logs().Append(ctx, []*stores.LogEntry{{JobID: j.ID, Timestamp: cut.Add(time.Hour), Message: "line"}}), "Logs Append")
	}
	kept := []*stores.Job{atCut, recent, pending, running}
	keptBefore := map[string]*stores.Job{}
	for _, j := range kept {
		keptBefore[j.ID] = getJob(t, st, j.ID)
	}

	total := 0
	for call, want := range []int{2, 1, 0} {
		n, err := st.Jobs().Purge(ctx, cut, 2)
		must(t, err, "Purge call %d", call+1)
		if n != want {
			t.Errorf("Purge call %d with limit 2 deleted %d, want %d", call+1, n, want)
		}
		total += n
		if call == 0 {
			gone := 0
			for _, j := range old {
				if _, err := st.Jobs().Get(ctx, j.ID); err != nil {
					gone++
				}
			}
			if gone != 2 {
				t.Errorf("after the first Purge with limit 2, %d old jobs are gone, want 2", gone)
			}
		}
	}
	for _, j := range old {
		wantGone(t, st, j.ID, "purged")
		hist, err := st.History().ListByJob(ctx, j.ID)
		must(t, err, "History ListByJob")
		logs, err := st.Logs().List(ctx, j.ID, "", 10)
		must(t, err, "Logs List")
		if len(hist) != 0 || len(logs.Entries) != 0 {
			t.Errorf("purged job %s still has %d history rows and %d log lines", j.ID, len(hist), len(logs.Entries))
		}
	}
	for _, j := range kept {
		checkJob(t, "job Purge must keep", keptBefore[j.ID], getJob(t, st, j.ID))
		if j == pending {
			continue
		}
		hist, err := st.History().ListByJob(ctx, j.ID)
		must(t, err, "History ListByJob")
		logs, err := st.Logs().List(ctx, j.ID, "", 10)
		must(t, err, "Logs List")
		if len(hist) != 1 || len(logs.Entries) != 1 {
			t.Errorf("kept job %s has %d history rows and %d log lines, want 1 and 1", j.ID, len(hist), len(logs.Entries))
		}
	}
}

// queryAll pages through q and returns every row, checking the cursor.
func queryAll(t T, st *stores.Store, q stores.JobQuery) []*stores.Job {
	t.Helper()
	var all []*stores.Job
	for range 1000 {
		page, err := st.Jobs().Query(t.Context(), q)
		must(t, err, "Query")
		if len(page.Jobs) > q.Limit {
			t.Fatalf("Query returned %d rows, limit %d", len(page.Jobs), q.Limit)
		}
		all = append(all, page.Jobs...)
		if page.Next == "" {
			return all
		}
		checkCursor(t, page)
		q.Cursor = page.Next
	}
	t.Fatalf("Query paging did not end")
	return nil
}

// checkCursor reports a Next that is not the last row's (CreatedAt, ID).
func checkCursor(t T, page stores.JobPage) {
	t.Helper()
	if len(page.Jobs) == 0 {
		t.Errorf("Query returned an empty page with a Next cursor")
		return
	}
	c, err := stores.DecodeCursor(page.Next)
	last := page.Jobs[len(page.Jobs)-1]
	if err != nil || c.ID != last.ID || !c.Time.Equal(last.CreatedAt) {
		t.Errorf("Query Next %q decodes to %+v (%v), want the last row's (CreatedAt, ID) (%s, %s)", page.Next, c, err, fmtTime(last.CreatedAt), last.ID)
	}
}

func testQueryFilters(t T, st *stores.Store) {
	statuses := []stores.JobStatus{stores.StatusPending, stores.StatusCompleted, stores.StatusFailed, stores.StatusRunning}
	var all []*stores.Job
	for i := range 48 {
		j := newJob(i)
		j.Queue = []string{"q1", "q2", "q3"}[i%3]
		j.Type = []string{"t1", "t2"}[i%2]
		j.Status = statuses[(i/2)%4]
		if j.Status != stores.StatusPending {
			j.Attempt = 1
		}
		if j.Status.Terminal() {
			j.CompletedAt = base
		}
		all = append(all, j)
	}
	// Two rows with one CreatedAt: ties break by ID.
	all[10].CreatedAt = all[11].CreatedAt
	enqueue(t, st, all...)
	slices.SortFunc(all, func(a, b *stores.Job) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return cmpString(a.ID, b.ID)
	})
	cases := []struct {
		name string
		q    stores.JobQuery
		keep func(*stores.Job) bool
	}{
		{"no filter", stores.JobQuery{}, func(*stores.Job) bool { return true }},
		{"status pending", stores.JobQuery{Statuses: []stores.JobStatus{stores.StatusPending}},
			func(j *stores.Job) bool { return j.Status == stores.StatusPending }},
		{"status completed or failed", stores.JobQuery{Statuses: []stores.JobStatus{stores.StatusCompleted, stores.StatusFailed}},
			func(j *stores.Job) bool { return j.Status == stores.StatusCompleted || j.Status == stores.StatusFailed }},
		{"queues q1 or q3", stores.JobQuery{Queues: []string{"q1", "q3"}},
			func(j *stores.Job) bool { return j.Queue == "q1" || j.Queue == "q3" }},
		{"type t2", stores.JobQuery{Types: []string{"t2"}}, func(j *stores.Job) bool { return j.Type == "t2" }},
		{"created in [10ms, 30ms)", stores.JobQuery{CreatedAfter: at(10 * time.Millisecond), CreatedBefore: at(30 * time.Millisecond)},
			func(j *stores.Job) bool {
				return !j.CreatedAt.Before(at(10*time.Millisecond)) && j.CreatedAt.Before(at(30*time.Millisecond))
			}},
		{"everything combined", stores.JobQuery{Statuses: []stores.JobStatus{stores.StatusPending, stores.StatusRunning},
			Queues: []string{"q2"}, Types: []string{"t1"}, CreatedAfter: at(5 * time.Millisecond), CreatedBefore: at(40 * time.Millisecond)},
			func(j *stores.Job) bool {
				return (j.Status == stores.StatusPending || j.Status == stores.StatusRunning) && j.Queue == "q2" && j.Type == "t1" &&
					!j.CreatedAt.Before(at(5*time.Millisecond)) && j.CreatedAt.Before(at(40*time.Millisecond))
			}},
		{"unknown queue", stores.JobQuery{Queues: []string{"q"}}, func(*stores.Job) bool { return false }},
	}
	for _, c := range cases {
		var want []string
		for _, j := range all {
			if c.keep(j) {
				want = append(want, j.ID)
			}
		}
		c.q.Limit = 1000
		page, err := st.Jobs().Query(t.Context(), c.q)
		must(t, err, "Query %s", c.name)
		checkIDs(t, "Query "+c.name, want, ids(page.Jobs))
		if page.Next != "" {
			t.Errorf("Query %s: Next %q on the only page", c.name, page.Next)
		}
		c.q.Limit = 5
		checkIDs(t, "Query "+c.name+" in pages of 5", want, ids(queryAll(t, st, c.q)))
	}
	// An exact multiple of the page size: the last full page has no Next.
	q := stores.JobQuery{Limit: 12}
	for i := range 4 {
		page, err := st.Jobs().Query(t.Context(), q)
		must(t, err, "Query page %d", i+1)
		if len(page.Jobs) != 12 {
			t.Fatalf("Query page %d: %d rows, want 12", i+1, len(page.Jobs))
		}
		if i < 3 {
			checkCursor(t, page)
		} else if page.Next != "" {
			t.Errorf("Query: the last page (48 rows in pages of 12) has Next %q, want empty", page.Next)
		}
		q.Cursor = page.Next
	}
	for _, j := range all {
		got := getJob(t, st, j.ID)
		checkJob(t, "job listed by Query", j, got)
	}
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// testQueryAcrossIndexes pages through more rows than a store reads from
// an index at once, pending jobs spread over queues and priorities, some
// scheduled (due or not), some dispatched, some finished: whatever index a
// store keeps each kind in, Query returns them in (CreatedAt, ID) order,
// each once (J10).
func testQueryAcrossIndexes(t T, st *stores.Store) {
	var all []*stores.Job
	for i := range 1500 {
		j := newJob(i)
		j.Queue = []string{"qa", "qb"}[i%2]
		j.Priority = []int{-5, 0, 7}[i/2%3]
		switch i % 10 {
		case 7:
			j.ScheduledAt = at(2 * time.Hour)
		case 8:
			j.ScheduledAt = at(time.Minute)
		case 9:
			j.Status, j.Attempt, j.CompletedAt = stores.StatusCompleted, 1, base
		}
		all = append(all, j)
	}
	for i := 100; i < len(all); i += 150 {
		all[i+1].CreatedAt = all[i].CreatedAt // ties break by ID
	}
	enqueue(t, st, all...)
	// Dispatch the due jobs of the highest priority first: due scheduled
	// jobs become ready, and the dispatched ones leave the pending jobs.
	got, err := st.Jobs().Dispatch(t.Context(), stores.DispatchParams{Limit: 200, Now: at(time.Hour), WorkerID: "w1"})
	must(t, err, "Dispatch")
	if len(got) != 200 {
		t.Fatalf("Dispatch returned %d jobs, want 200", len(got))
	}
	dispatched := map[string]bool{}
	for _, j := range got {
		dispatched[j.ID] = true
	}
	for _, j := range all {
		if dispatched[j.ID] {
			j.Status = stores.StatusDispatched
		}
	}
	slices.SortFunc(all, func(a, b *stores.Job) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return cmpString(a.ID, b.ID)
	})
	pending := func(j *stores.Job) bool { return j.Status == stores.StatusPending }
	cases := []struct {
		name  string
		q     stores.JobQuery
		pages []int
		keep  func(*stores.Job) bool
	}{
		{"no filter", stores.JobQuery{}, []int{5000, 37}, func(*stores.Job) bool { return true }},
		{"status pending", stores.JobQuery{Statuses: []stores.JobStatus{stores.StatusPending}}, []int{101, 7}, pending},
		{"pending or dispatched in qb", stores.JobQuery{Statuses: []stores.JobStatus{stores.StatusPending, stores.StatusDispatched},
			Queues: []string{"qb"}}, []int{13},
			func(j *stores.Job) bool {
				return j.Queue == "qb" && (pending(j) || j.Status == stores.StatusDispatched)
			}},
		{"pending created in [300ms, 1200ms)", stores.JobQuery{Statuses: []stores.JobStatus{stores.StatusPending},
			CreatedAfter: at(300 * time.Millisecond), CreatedBefore: at(1200 * time.Millisecond)}, []int{50},
			func(j *stores.Job) bool {
				return pending(j) && !j.CreatedAt.Before(at(300*time.Millisecond)) && j.CreatedAt.Before(at(1200*time.Millisecond))
			}},
	}
	for _, c := range cases {
		var want []string
		for _, j := range all {
			if c.keep(j) {
				want = append(want, j.ID)
			}
		}
		for _, limit := range c.pages {
			c.q.Limit = limit
			checkIDs(t, fmt.Sprintf("Query %s in pages of %d", c.name, limit), want, ids(queryAll(t, st, c.q)))
		}
	}
}

func testQueryPaging(t T, st *stores.Store) {
	// Originals at even milliseconds; inserts land before and after the
	// cursor between pages.
	var orig []*stores.Job
	for i := range 40 {
		orig = append(orig, newJob(2*i))
	}
	enqueue(t, st, orig...)
	q := stores.JobQuery{Limit: 6, Statuses: []stores.JobStatus{stores.StatusPending}}
	seen := map[string]int{}
	var got []*stores.Job
	var ahead []string
	for page := 0; ; page++ {
		if page > 100 {
			t.Fatalf("paging did not end")
		}
		p, err := st.Jobs().Query(t.Context(), q)
		must(t, err, "Query page %d", page+1)
		for _, j := range p.Jobs {
			seen[j.ID]++
			got = append(got, j)
		}
		if p.Next == "" {
			break
		}
		checkCursor(t, p)
		last := p.Jobs[len(p.Jobs)-1]
		lastMs := int(last.CreatedAt.Sub(base) / time.Millisecond)
		behind := newJob(lastMs - 1) // sorts before the cursor
		front := newJob(lastMs + 1)  // sorts after it
		done := newJob(lastMs + 3)   // after it, filtered out
		done.Status, done.Attempt, done.CompletedAt = stores.StatusCompleted, 1, base
		enqueue(t, st, behind, front, done)
		ahead = append(ahead, front.ID)
		q.Cursor = p.Next
	}
	for i := 1; i < len(got); i++ {
		a, b := got[i-1], got[i]
		if c := a.CreatedAt.Compare(b.CreatedAt); c > 0 || (c == 0 && a.ID >= b.ID) {
			t.Errorf("rows %d and %d out of (CreatedAt, ID) order: %s/%s then %s/%s", i-1, i, fmtTime(a.CreatedAt), a.ID, fmtTime(b.CreatedAt), b.ID)
		}
	}
	for id, n := range seen {
		if n > 1 {
			t.Errorf("row %s returned %d times", id, n)
		}
	}
	for _, j := range orig {
		if seen[j.ID] == 0 {
			t.Errorf("row %s (created %s) skipped", j.ID, fmtTime(j.CreatedAt))
		}
	}
	for _, id := range ahead {
		if seen[id] == 0 {
			t.Errorf("row %s inserted ahead of the cursor was skipped", id)
		}
	}
	for _, j := range got {
		if j.Status != stores.StatusPending {
			t.Errorf("row %s with status %s passed the pending filter", j.ID, j.Status)
		}
	}
}
