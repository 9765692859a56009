package bench

import (
	"context"
	"strings"
	"testing"

	"github.com/orchestrix/persistence/abstractions/stores"
	"github.com/orchestrix/persistence/inmemory"
)

// TestJobIDs: a run's job ids are UUIDs a store keeps exactly as given, map
// back to their sequence numbers, and nothing else maps to one.
func TestJobIDs(t *testing.T) {
	ids := newJobIDs(runID(), 1000)
	s := stores.Wrap("inmemory", inmemory.New())
	defer s.Close()
	ctx := context.Background()
	for _, seq := range []int{0, 1, 999} {
		id := ids.id(seq)
		if err := s.Jobs().EnqueueMany(ctx, []*stores.Job{{ID: id, Type: "t", Queue: "q"}}); err != nil {
			t.Fatalf("job %d: the store rejects id %s: %v", seq, id, err)
		}
		if j, err := s.Jobs().Get(ctx, id); err != nil || j.ID != id {
			t.Fatalf("job %d: stored as %v, %v", seq, j, err)
		}
		if got, ok := ids.seq(id); !ok || got != seq {
			t.Errorf("seq(%s) = %d, %v; want %d", id, got, ok, seq)
		}
	}
	for _, id := range []string{
		ids.id(1000),                   // beyond the run's jobs
		newJobIDs(runID(), 1000).id(5), // another run's
		stores.NewID(),
		strings.ToUpper(ids.id(5)[:24]) + ids.id(5)[24:],
		ids.id(5)[:35] + "g",
		"",
	} {
		if seq, ok := ids.seq(id); ok {
			t.Errorf("seq(%q) = %d, want none", id, seq)
		}
	}
}

func dispatched(id string, attempt int64) *stores.Job { return &stores.Job{ID: id, Attempt: attempt} }

// TestJ4_ReceiptsCatchDuplicateDispatch: a second receipt of one (job,
// attempt) is a duplicate, counted once however often it repeats, in the
// bit ledger (numbered jobs, early attempts) and in the map (later attempts,
// schedule jobs); other attempts of the same job are not.
func TestJ4_ReceiptsCatchDuplicateDispatch(t *testing.T) {
	ids := newJobIDs(runID(), 100)
	sched := stores.NewID()
	for _, dup := range []*stores.Job{
		dispatched(ids.id(0), 1),
		dispatched(ids.id(99), ledgerAttempts),
		dispatched(ids.id(42), ledgerAttempts+1),
		dispatched(sched, 1),
	} {
		r := newReceipts(ids)
		for a := int64(1); a <= ledgerAttempts+2; a++ {
			r.record([]*stores.Job{dispatched(ids.id(0), a), dispatched(ids.id(99), a), dispatched(ids.id(42), a), dispatched(sched, a)})
		}
		if inv := r.invariant(); !inv.OK || inv.Counts["dispatches"] != 4*(ledgerAttempts+2) {
			t.Fatalf("distinct attempts taken for duplicates: %+v", inv)
		}
		r.record([]*stores.Job{dispatched(dup.ID, dup.Attempt)})
		r.record([]*stores.Job{dispatched(dup.ID, dup.Attempt)})
		inv := r.invariant()
		if inv.OK || inv.Counts["duplicates"] != 1 || !strings.Contains(inv.Message, dup.ID) {
			t.Errorf("job %s attempt %d dispatched three times: %+v", dup.ID, dup.Attempt, inv)
		}
	}
}

// TestTerminalOnceLedger: the streaming terminal_once check passes a clean
// store and catches a missing job, an extra one, one stored twice, and one
// not terminal, for numbered and schedule jobs alike.
func TestTerminalOnceLedger(t *testing.T) {
	ids := newJobIDs(runID(), 10)
	sched := stores.NewID()
	newExpected := func() *jobSet {
		e := newJobSet(ids)
		for seq := range 8 { // 8 and 9 are never enqueued
			e.add(ids.id(seq))
		}
		e.add(sched)
		return e
	}
	live := func(id string, st stores.JobStatus) *stores.Job { return &stores.Job{ID: id, Status: st} }
	dead := func(id string) *stores.DeadLetter { return &stores.DeadLetter{Job: stores.Job{ID: id}} }
	// clean feeds every expected job once: 0..6 and sched completed, 7 a
	// dead letter; skip leaves one out.
	clean := func(tc *terminalCheck, skip string) {
		for seq := range 7 {
			if id := ids.id(seq); id != skip {
				tc.job(live(id, stores.StatusCompleted))
			}
		}
		if sched != skip {
			tc.job(live(sched, stores.StatusCompleted))
		}
		if id := ids.id(7); id != skip {
			tc.deadLetter(dead(id))
		}
	}

	tc := newTerminalCheck(newExpected(), false)
	clean(tc, "")
	if inv := tc.result(); !inv.OK || inv.Counts["expected"] != 9 || inv.Counts["jobs"] != 8 || inv.Counts["dead_letters"] != 1 || inv.Counts["completed"] != 8 {
		t.Fatalf("clean store: %+v", inv)
	}

	for _, c := range []struct {
		name, count string
		feed        func(tc *terminalCheck)
	}{
		{"numbered job lost", "missing", func(tc *terminalCheck) { clean(tc, ids.id(3)) }},
		{"dead-lettered job lost", "missing", func(tc *terminalCheck) { clean(tc, ids.id(7)) }},
		{"schedule job lost", "missing", func(tc *terminalCheck) { clean(tc, sched) }},
		{"numbered id never enqueued", "extra", func(tc *terminalCheck) { clean(tc, ""); tc.job(live(ids.id(8), stores.StatusCompleted)) }},
		{"foreign id", "extra", func(tc *terminalCheck) { clean(tc, ""); tc.deadLetter(dead(stores.NewID())) }},
		{"numbered job twice live", "duplicates", func(tc *terminalCheck) { clean(tc, ""); tc.job(live(ids.id(0), stores.StatusCompleted)) }},
		{"numbered job live and dead", "duplicates", func(tc *terminalCheck) { clean(tc, ""); tc.deadLetter(dead(ids.id(1))) }},
		{"schedule job twice", "duplicates", func(tc *terminalCheck) { clean(tc, ""); tc.deadLetter(dead(sched)) }},
		{"not terminal", "not_terminal", func(tc *terminalCheck) {
			clean(tc, ids.id(2))
			tc.job(live(ids.id(2), stores.StatusRunning))
		}},
	} {
		tc := newTerminalCheck(newExpected(), false)
		c.feed(tc)
		if inv := tc.result(); inv.OK || inv.Counts[c.count] != 1 || inv.Message == "" {
			t.Errorf("%s: want %s=1 and not ok, got %+v", c.name, c.count, inv)
		}
	}

	// A job stored three times is one duplicate; burndown wants completed.
	tc = newTerminalCheck(newExpected(), true)
	clean(tc, "")
	tc.job(live(ids.id(0), stores.StatusCompleted))
	tc.job(live(ids.id(0), stores.StatusCompleted))
	if inv := tc.result(); inv.OK || inv.Counts["duplicates"] != 1 || inv.Counts["not_completed"] != 1 {
		t.Errorf("three copies and a dead letter under allCompleted: %+v", inv)
	}
}
