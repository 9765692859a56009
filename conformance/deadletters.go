package conformance

import (
	"fmt"
	"slices"
	"time"

	"github.com/orchestrix/persistence/abstractions/stores"
)

// deadLetterTests covers D1.
func deadLetterTests() []testCase {
	return []testCase{
		{"D1_AddGetRemove", testDeadLetterAddGetRemove},
		{"D1_ListNewestFirstPaged", testDeadLetterList},
		{"D1_RequeueMakesJobPendingAgain", testRequeue},
		{"D1_RequeueConflictingWithLiveJobKeepsDeadLetter", testRequeueConflict},
	}
}

// newDeadLetter returns a dead letter of a failed job with most fields set.
func newDeadLetter(seq int, failedAt time.Time) *stores.DeadLetter {
	j := newJob(seq)
	j.Status, j.Attempt, j.RetryCount, j.MaxRetries = stores.StatusFailed, 3, 2, 2
	j.DispatchedAt, j.StartedAt, j.CompletedAt = failedAt.Add(-time.Minute), failedAt.Add(-50*time.Second), failedAt
	j.WorkerID, j.LastError, j.Priority = "w1", "boom", 4
	j.Args = []byte(`{"order": 17,  "lines":[ ]}`)
	return &stores.DeadLetter{ID: stores.NewID(), Job: *j, LastError: "boom", TotalAttempts: 3, FailedAt: failedAt}
}

func getDeadLetter(t T, st *stores.Store, id string) *stores.DeadLetter {
	t.Helper()
	d, err := st.DeadLetters().Get(t.Context(), id)
	must(t, err, "DeadLetters Get %s", id)
	return d
}

func testDeadLetterAddGetRemove(t T, st *stores.Store) {
	ctx := t.Context()
	in, want := fullJob(t, st, stores.StatusFailed)
	d := &stores.DeadLetter{ID: stores.NewID(), Job: *in, LastError: "final: it broke", TotalAttempts: 3, FailedAt: at(time.Hour + 7)}
	must(t, st.DeadLetters().Add(ctx, d), "DeadLetters Add")
	wantDL := &stores.DeadLetter{ID: d.ID, Job: *want, LastError: "final: it broke", TotalAttempts: 3, FailedAt: at(time.Hour)}
	checkEqual(t, "stored dead letter", wantDL, getDeadLetter(t, st, d.ID))

	dup := newDeadLetter(1, at(time.Hour))
	dup.ID = d.ID
	wantErr(t, st.DeadLetters().Add(ctx, dup), stores.ErrAlreadyExists, "DeadLetters Add with a stored ID")
	checkEqual(t, "dead letter after a duplicate Add", wantDL, getDeadLetter(t, st, d.ID))

	must(t, st.DeadLetters().Remove(ctx, d.ID), "DeadLetters Remove")
	_, err := st.DeadLetters().Get(ctx, d.ID)
	wantErr(t, err, stores.ErrNotFound, "Get of a removed dead letter")
	wantErr(t, st.DeadLetters().Remove(ctx, d.ID), stores.ErrNotFound, "second Remove")
	_, err = st.DeadLetters().Get(ctx, stores.NewID())
	wantErr(t, err, stores.ErrNotFound, "Get of a missing dead letter")
}

func testDeadLetterList(t T, st *stores.Store) {
	ctx := t.Context()
	var all []*stores.DeadLetter
	for i := range 23 {
		// Every third pair shares a FailedAt: ties order by ID descending.
		d := newDeadLetter(i, at(time.Duration(i/2)*time.Minute))
		must(t, st.DeadLetters().Add(ctx, d), "DeadLetters Add")
		all = append(all, d)
	}
	slices.SortFunc(all, func(a, b *stores.DeadLetter) int {
		if c := b.FailedAt.Compare(a.FailedAt); c != 0 {
			return c
		}
		return cmpString(b.ID, a.ID)
	})
	var got []*stores.DeadLetter
	cursor := ""
	for page := 0; ; page++ {
		if page > 10 {
			t.Fatalf("dead letter paging did not end")
		}
		p, err := st.DeadLetters().List(ctx, cursor, 5)
		must(t, err, "DeadLetters List page %d", page+1)
		if len(p.DeadLetters) > 5 {
			t.Fatalf("DeadLetters List returned %d, limit 5", len(p.DeadLetters))
		}
		got = append(got, p.DeadLetters...)
		if p.Next == "" {
			if len(got) < len(all) {
				t.Errorf("DeadLetters List ended after %d of %d", len(got), len(all))
			}
			break
		}
		last := p.DeadLetters[len(p.DeadLetters)-1]
		if c, err := stores.DecodeCursor(p.Next); err != nil || c.ID != last.ID || !c.Time.Equal(last.FailedAt) {
			t.Errorf("DeadLetters Next %q decodes to %+v (%v), want the last row's (FailedAt, ID)", p.Next, c, err)
		}
		cursor = p.Next
	}
	if len(got) != len(all) {
		t.Fatalf("listed %d dead letters, want %d", len(got), len(all))
	}
	for i := range all {
		checkEqual(t, fmt.Sprintf("dead letter %d, newest first", i), all[i], got[i])
	}
}

func testRequeue(t T, st *stores.Store) {
	ctx := t.Context()
	j := newJob(1)
	j.Queue, j.MaxRetries, j.Priority, j.CorrelationID, j.UniqueKey = "requeue", 1, 3, "corr", "uk-requeue"
	j.Timeout, j.RetryPolicy = time.Minute, stores.RetryPolicy{InitialDelay: time.Second, Multiplier: 2}
	d := dispatchJob(t, st, j, at(time.Hour), "w1")
	must(t, st.Jobs().ClaimForFollower(ctx, d.ID, "node-1"), "ClaimForFollower")
	r, _, err := st.Jobs().Retry(ctx, d.Ref(), "first", at(time.Hour))
	must(t, err, "Retry")
	d2 := dispatch(t, st, r.ScheduledAt, 10, "w2", "requeue")
	if len(d2) != 1 {
		t.Fatalf("second Dispatch returned %d jobs", len(d2))
	}
	run, err := st.Jobs().MarkRunning(ctx, d2[0].Ref(), "", r.ScheduledAt)
	must(t, err, "MarkRunning")
	dl, err := st.Jobs().MoveToDeadLetter(ctx, run.Ref(), "final", at(2*time.Hour))
	must(t, err, "MoveToDeadLetter")

	now := at(3 * time.Hour)
	got, err := st.DeadLetters().Requeue(ctx, dl.ID, now)
	must(t, err, "Requeue")
	want := run.Clone()
	want.Status, want.RetryCount, want.LastError, want.WorkerID, want.FollowerNodeID = stores.StatusPending, 0, "", "", ""
	want.ScheduledAt, want.DispatchedAt, want.StartedAt, want.CompletedAt, want.ChannelsCleaned = time.Time{}, time.Time{}, time.Time{}, time.Time{}, false
	want.CreatedAt = got.CreatedAt // not specified
	checkJob(t, "job returned by Requeue", want, got)
	checkJob(t, "requeued job", want, getJob(t, st, j.ID))
	_, err = st.DeadLetters().Get(ctx, dl.ID)
	wantErr(t, err, stores.ErrNotFound, "Get of a requeued dead letter")
	wantErr(t, requeueErr(st, t, dl.ID, now), stores.ErrNotFound, "second Requeue")

	// It runs again under a new attempt: fencing tokens are never reused.
	again := dispatch(t, st, now, 10, "w3", "requeue")
	if len(again) != 1 || again[0].Attempt != run.Attempt+1 {
		t.Errorf("Dispatch after Requeue: %d jobs, want the job at attempt %d", len(again), run.Attempt+1)
	}
}

func requeueErr(st *stores.Store, t T, id string, now time.Time) error {
	_, err := st.DeadLetters().Requeue(t.Context(), id, now)
	return err
}

func testRequeueConflict(t T, st *stores.Store) {
	ctx := t.Context()
	// A dead letter whose job ID is live again.
	byID := newDeadLetter(1, at(time.Hour))
	must(t, st.DeadLetters().Add(ctx, byID), "DeadLetters Add")
	live := newJob(2)
	live.ID = byID.Job.ID
	enqueue(t, st, live)
	// A dead letter whose unique key a live job holds.
	byKey := newDeadLetter(3, at(time.Hour))
	byKey.Job.UniqueKey = "nightly-report"
	must(t, st.DeadLetters().Add(ctx, byKey), "DeadLetters Add")
	holder := newJob(4)
	holder.UniqueKey = "nightly-report"
	enqueue(t, st, holder)

	for _, d := range []*stores.DeadLetter{byID, byKey} {
		before := getDeadLetter(t, st, d.ID)
		liveBefore := map[string]*stores.Job{live.ID: getJob(t, st, live.ID), holder.ID: getJob(t, st, holder.ID)}
		wantErr(t, requeueErr(st, t, d.ID, at(2*time.Hour)), stores.ErrAlreadyExists, "Requeue conflicting with a live job")
		checkEqual(t, "dead letter after a rejected Requeue", before, getDeadLetter(t, st, d.ID))
		for id, j := range liveBefore {
			checkJob(t, "live job after a rejected Requeue", j, getJob(t, st, id))
		}
	}
	wantGone(t, st, byKey.Job.ID, "job of a rejected Requeue")
	wantErr(t, requeueErr(st, t, stores.NewID(), at(2*time.Hour)), stores.ErrNotFound, "Requeue of a missing dead letter")
}
