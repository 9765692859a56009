package conformance

import (
	"fmt"
	"time"

	"github.com/orchestrix/persistence/abstractions/stores"
)

// logTests covers L1: job logs and job history.
func logTests() []testCase {
	return []testCase{
		{"L1_LogListInWrittenOrderPaged", testLogOrder},
		{"L1_LogAppendIsAllOrNothing", testLogAllOrNothing},
		{"L1_LogPurgeBeforeCutoff", testLogPurge},
		{"L1_HistoryAppendListPurge", testHistory},
	}
}

// listLogs pages through a job's log and returns every entry.
func listLogs(t T, st *stores.Store, jobID string, limit int) []*stores.LogEntry {
	t.Helper()
	var all []*stores.LogEntry
	cursor := ""
	for range 10000 {
		page, err := st.Logs().List(t.Context(), jobID, cursor, limit)
		must(t, err, "Logs List")
		if len(page.Entries) > limit {
			t.Fatalf("Logs List returned %d entries, limit %d", len(page.Entries), limit)
		}
		all = append(all, page.Entries...)
		if page.Next == "" {
			return all
		}
		if len(page.Entries) < limit {
			t.Errorf("Logs List: a short page (%d of %d) has a Next cursor", len(page.Entries), limit)
		}
		cursor = page.Next
	}
	t.Fatalf("Logs List paging did not end")
	return nil
}

func testLogOrder(t T, st *stores.Store) {
	ctx := t.Context()
	job, other := stores.NewID(), stores.NewID()
	var want []*stores.LogEntry
	appendLogs := func(entries ...*stores.LogEntry) {
		t.Helper()
		must(t, st.Logs().Append(ctx, entries), "Logs Append of %d entries", len(entries))
		for _, e := range entries {
			if e.JobID == job {
				want = append(want, e)
			}
		}
	}
	line := func(i int, ts time.Time) *stores.LogEntry {
		return &stores.LogEntry{JobID: job, Timestamp: ts, Level: "info", Message: fmt.Sprintf("line %03d", i)}
	}
	// One at a time, then batches; equal timestamps, a batch with earlier
	// timestamps than the one before it, and caller IDs in descending
	// order: the written order is the only order.
	for i := range 20 {
		appendLogs(line(i, at(time.Second)))
	}
	var batch []*stores.LogEntry
	for i := range 100 {
		batch = append(batch, line(20+i, at(time.Second)))
		if i%10 == 0 {
			batch = append(batch, &stores.LogEntry{JobID: other, Timestamp: at(time.Second), Message: "other job"})
		}
	}
	appendLogs(batch...)
	batch = nil
	for i := range 30 {
		batch = append(batch, line(120+i, at(-time.Duration(i)*time.Millisecond)))
	}
	appendLogs(batch...)
	desc := []string{"ffffffff-ffff-4fff-bfff-ffffffffffff", "88888888-8888-4888-8888-888888888888", "00000000-0000-4000-8000-000000000001"}
	batch = nil
	for i, id := range desc {
		e := line(150+i, at(2*time.Second))
		e.ID, e.Level, e.Exception = id, "error", "stack\n\tframe 1"
		batch = append(batch, e)
	}
	appendLogs(batch...)
	appendLogs(line(153, at(3*time.Second)))

	for _, limit := range []int{7, 1000} {
		got := listLogs(t, st, job, limit)
		if len(got) != len(want) {
			t.Errorf("listed %d entries in pages of %d, want %d", len(got), limit, len(want))
			continue
		}
		for i := range want {
			if !checkEqual(t, fmt.Sprintf("entry %d in pages of %d", i, limit), want[i], got[i]) {
				break
			}
		}
	}
	if got := listLogs(t, st, stores.NewID(), 10); len(got) != 0 {
		t.Errorf("a job without logs lists %d entries", len(got))
	}
}

func testLogAllOrNothing(t T, st *stores.Store) {
	ctx := t.Context()
	job := stores.NewID()
	first := &stores.LogEntry{ID: stores.NewID(), JobID: job, Timestamp: at(0), Message: "first"}
	must(t, st.Logs().Append(ctx, []*stores.LogEntry{first}), "Logs Append")
	clash := []*stores.LogEntry{
		{JobID: job, Timestamp: at(time.Second), Message: "new 1"},
		{ID: first.ID, JobID: job, Timestamp: at(time.Second), Message: "duplicate"},
	}
	wantErr(t, st.Logs().Append(ctx, clash), stores.ErrAlreadyExists, "Logs Append with a stored ID")
	twinID := stores.NewID()
	twins := []*stores.LogEntry{
		{ID: twinID, JobID: job, Timestamp: at(time.Second), Message: "twin 1"},
		{ID: twinID, JobID: job, Timestamp: at(time.Second), Message: "twin 2"},
	}
	wantErr(t, st.Logs().Append(ctx, twins), stores.ErrAlreadyExists, "Logs Append with one ID twice")
	got := listLogs(t, st, job, 10)
	if len(got) != 1 {
		t.Fatalf("after two rejected batches the job has %d entries, want 1", len(got))
	}
	checkEqual(t, "the only entry", first, got[0])
}

func testLogPurge(t T, st *stores.Store) {
	ctx := t.Context()
	job := stores.NewID()
	cut := at(time.Hour)
	var entries []*stores.LogEntry
	for i := range 5 {
		entries = append(entries, &stores.LogEntry{JobID: job, Timestamp: cut.Add(-time.Duration(i+1) * time.Minute), Message: "old"})
	}
	kept := []*stores.LogEntry{
		{JobID: job, Timestamp: cut, Message: "at the cut-off"},
		{JobID: job, Timestamp: cut.Add(time.Minute), Message: "new"},
	}
	must(t, st.Logs().Append(ctx, append(entries, kept...)), "Logs Append")
	for call, want := range []int{2, 2, 1, 0} {
		n, err := st.Logs().Purge(ctx, cut, 2)
		must(t, err, "Logs Purge call %d", call+1)
		if n != want {
			t.Errorf("Logs Purge call %d with limit 2 deleted %d, want %d", call+1, n, want)
		}
	}
	got := listLogs(t, st, job, 10)
	if len(got) != 2 {
		t.Fatalf("after Purge %d entries remain, want 2", len(got))
	}
	for i := range kept {
		checkEqual(t, "entry kept by Purge", kept[i], got[i])
	}
}

func testHistory(t T, st *stores.Store) {
	ctx := t.Context()
	job, other := stores.NewID(), stores.NewID()
	h := func(attempt int, completed time.Time) *stores.JobHistory {
		return &stores.JobHistory{JobID: job, Attempt: attempt, WorkerID: fmt.Sprintf("w%d", attempt),
			StartedAt: completed.Add(-1500 * time.Millisecond), CompletedAt: completed, Status: stores.StatusFailed,
			Error: fmt.Sprintf("attempt %d: 'boom'", attempt), Duration: 1500 * time.Millisecond}
	}
	cut := at(time.Hour)
	h3, h1, h2 := h(3, cut.Add(time.Minute)), h(1, cut.Add(-2*time.Minute)), h(2, cut.Add(-time.Minute))
	h3.Status, h3.Error = stores.StatusCompleted, ""
	for _, r := range []*stores.JobHistory{h3, h1, h2} {
		must(t, st.History().Append(ctx, r), "History Append attempt %d", r.Attempt)
	}
	must(t, st.History().Append(ctx, &stores.JobHistory{JobID: other, Attempt: 1, StartedAt: cut.Add(-time.Hour), CompletedAt: cut.Add(-time.Hour)}), "History Append")
	dup := *h1
	dup.Attempt = 9
	wantErr(t, st.History().Append(ctx, &dup), stores.ErrAlreadyExists, "History Append with a stored ID")

	list := func(id string) []*stores.JobHistory {
		t.Helper()
		rows, err := st.History().ListByJob(ctx, id)
		must(t, err, "History ListByJob")
		return rows
	}
	got := list(job)
	if len(got) != 3 {
		t.Fatalf("ListByJob returned %d rows, want 3", len(got))
	}
	for i, w := range []*stores.JobHistory{h1, h2, h3} {
		checkEqual(t, fmt.Sprintf("history row %d", i), w, got[i])
	}
	if rows := list(stores.NewID()); len(rows) != 0 {
		t.Errorf("ListByJob of an unknown job returned %d rows", len(rows))
	}

	for call, want := range []int{2, 1, 0} {
		n, err := st.History().Purge(ctx, cut, 2)
		must(t, err, "History Purge call %d", call+1)
		if n != want {
			t.Errorf("History Purge call %d with limit 2 deleted %d, want %d", call+1, n, want)
		}
	}
	got = list(job)
	if len(got) != 1 {
		t.Fatalf("after Purge ListByJob returned %d rows, want 1", len(got))
	}
	checkEqual(t, "history row kept by Purge", h3, got[0])
	if rows := list(other); len(rows) != 0 {
		t.Errorf("the other job's old attempt survived Purge")
	}
}
