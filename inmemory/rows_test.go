package inmemory

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/orchestrix/persistence/abstractions/stores"
)

// A ref given twice in one batch is ErrConflict "appears twice" whatever
// its first entry got (done, not found, stale attempt); distinct refs of
// one job are not repeats.
func TestEachRefRepeats(t *testing.T) {
	ctx := context.Background()
	s, b := open(t)
	var jobs []*stores.Job
	for i := range 3 {
		jobs = append(jobs, newJob("q", 0, at(time.Duration(i))))
	}
	must(t, s.Jobs().EnqueueMany(ctx, jobs))
	got, err := s.Jobs().Dispatch(ctx, stores.DispatchParams{Limit: 3, Now: at(time.Minute), WorkerID: "w"})
	must(t, err)
	if len(got) != 3 {
		t.Fatalf("dispatched %d", len(got))
	}
	a, c, d := got[0].Ref(), got[1].Ref(), got[2].Ref()
	missing := stores.Ref{ID: stores.NewID(), Attempt: 1}
	stale := stores.Ref{ID: c.ID, Attempt: 2}
	refs := []stores.Ref{a, a, missing, missing, stale, c, stale, d}
	res, err := s.Jobs().MarkRunningMany(ctx, refs, "w", at(time.Minute))
	must(t, err)
	twice := func(e error) bool { return errors.Is(e, stores.ErrConflict) && strings.Contains(e.Error(), "twice") }
	checks := []func(error) bool{
		func(e error) bool { return e == nil }, twice,
		func(e error) bool { return errors.Is(e, stores.ErrNotFound) }, twice,
		func(e error) bool { return errors.Is(e, stores.ErrConflict) && !twice(e) },
		func(e error) bool { return e == nil }, twice,
		func(e error) bool { return e == nil },
	}
	for i, ok := range checks {
		if !ok(res[i]) {
			t.Errorf("result %d (ref %v): %v", i, refs[i], res[i])
		}
	}
	// The next batch starts afresh: its first ref of a job is no repeat.
	res, err = s.Jobs().CompleteMany(ctx, []stores.Ref{a, c, d, a}, at(time.Minute))
	must(t, err)
	if res[0] != nil || res[1] != nil || res[2] != nil || !twice(res[3]) {
		t.Fatalf("CompleteMany = %v", res)
	}
	verifyIndexes(t, b)
}

// IDs that are not canonical UUIDs (the backend used without the portable
// layer) order as strings among canonical ones, in every index and in
// Query's paging.
func TestNonCanonicalIDsOrderAsStrings(t *testing.T) {
	ctx := context.Background()
	b := New()
	defer b.Close()
	ids := []string{"job-10", "job-2", "0190d6f8-7a3b-7c4d-8e5f-6a7b8c9d0e1f", "Z", "0190d6f8-7a3b-7c4d-8e5f-6a7b8c9d0e1f~",
		"0190D6F8-7A3B-7C4D-8E5F-6A7B8C9D0E1F", "ffffffff-ffff-ffff-ffff-ffffffffffff", "00000000-0000-0000-0000-000000000000", "", "~"}
	var jobs []*stores.Job
	for _, id := range ids {
		jobs = append(jobs, &stores.Job{ID: id, Type: "t", Queue: "q", Status: stores.StatusPending, CreatedAt: t0})
	}
	must(t, b.Jobs().EnqueueMany(ctx, jobs))
	want := slices.Clone(ids)
	slices.Sort(want)
	var seen []string
	q := stores.JobQuery{Limit: 3}
	for {
		page, err := b.Jobs().Query(ctx, q)
		must(t, err)
		for _, j := range page.Jobs {
			seen = append(seen, j.ID)
		}
		if page.Next == "" {
			break
		}
		q.Cursor = page.Next
	}
	if !slices.Equal(seen, want) {
		t.Fatalf("Query pages = %q, want %q", seen, want)
	}
	got, err := b.Jobs().Dispatch(ctx, stores.DispatchParams{Limit: len(ids), Now: at(time.Hour), WorkerID: "w"})
	must(t, err)
	var order []string
	for _, j := range got {
		order = append(order, j.ID)
	}
	if !slices.Equal(order, want) {
		t.Fatalf("Dispatch order = %q, want %q", order, want)
	}
	b.db.mu.Lock()
	defer b.db.mu.Unlock()
	if err := b.db.jobs.verify(); err != nil {
		t.Fatal(err)
	}
}

// Dispatched and running jobs share a byStatus tree: Query by one of the
// two statuses pages through that status only.
func TestQueryInFlightStatuses(t *testing.T) {
	ctx := context.Background()
	s, b := open(t)
	var jobs []*stores.Job
	for i := range 6 {
		jobs = append(jobs, newJob("q", 0, at(time.Duration(i))))
	}
	must(t, s.Jobs().EnqueueMany(ctx, jobs))
	got, err := s.Jobs().Dispatch(ctx, stores.DispatchParams{Limit: 5, Now: at(time.Minute), WorkerID: "w"})
	must(t, err)
	for _, j := range got[1:3] {
		_, err := s.Jobs().MarkRunning(ctx, j.Ref(), "w", at(time.Minute))
		must(t, err)
	}
	query := func(sts ...stores.JobStatus) []string {
		var out []string
		q := stores.JobQuery{Statuses: sts, Limit: 1}
		for {
			page, err := s.Jobs().Query(ctx, q)
			must(t, err)
			for _, j := range page.Jobs {
				if !slices.Contains(sts, j.Status) {
					t.Fatalf("Query %v returned a %s job", sts, j.Status)
				}
				out = append(out, j.ID)
			}
			if page.Next == "" {
				return out
			}
			q.Cursor = page.Next
		}
	}
	ids := func(js []*stores.Job) []string {
		var out []string
		for _, j := range js {
			out = append(out, j.ID)
		}
		return out
	}
	if r := query(stores.StatusRunning); !slices.Equal(r, ids(got[1:3])) {
		t.Errorf("running = %v, want %v", r, ids(got[1:3]))
	}
	if d := query(stores.StatusDispatched); !slices.Equal(d, append(ids(got[:1]), ids(got[3:])...)) {
		t.Errorf("dispatched = %v", d)
	}
	if a := query(stores.StatusRunning, stores.StatusDispatched, stores.StatusPending); !slices.Equal(a, ids(jobs)) {
		t.Errorf("all = %v, want %v", a, ids(jobs))
	}
	verifyIndexes(t, b)
}
