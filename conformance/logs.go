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
		{"L1_HistoryAppendManyAllOrNothing", testHistoryAppendMany},
		{"L1_RecordsAreCopies", testRecordCopies},
		{"L1_CompleteRecordedCompletesAndStores", testCompleteRecorded},
		{"L1_CompleteRecordedIsAllOrNothing", testCompleteRecordedAtomic},
		{"L1_ConcurrentCompleteRecordedOneWinner", testConcurrentCompleteRecorded},
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

// testRecordCopies: a store keeps its own copies of the log lines and
// history rows it is given and returns copies (Backend's contract). A caller
// may reuse its structs for the next batch, as orchestrix-store bench does.
func testRecordCopies(t T, st *stores.Store) {
	ctx := t.Context()
	job := stores.NewID()
	e := &stores.LogEntry{JobID: job, Timestamp: at(0), Level: "info", Message: "first"}
	r := &stores.JobHistory{JobID: job, Attempt: 1, WorkerID: "w1", StartedAt: at(0), CompletedAt: at(time.Second),
		Status: stores.StatusCompleted, Duration: time.Second}
	must(t, st.Logs().Append(ctx, []*stores.LogEntry{e}), "Logs Append")
	must(t, st.History().AppendMany(ctx, []*stores.JobHistory{r}), "History AppendMany")
	wantE, wantR := *e, *r
	*e = stores.LogEntry{JobID: stores.NewID(), Timestamp: at(time.Hour), Level: "error", Message: "reused"}
	*r = stores.JobHistory{JobID: stores.NewID(), Attempt: 7, WorkerID: "w9", Status: stores.StatusFailed}
	for round := range 2 {
		entries := listLogs(t, st, job, 10)
		rows, err := st.History().ListByJob(ctx, job)
		must(t, err, "History ListByJob")
		if len(entries) != 1 || len(rows) != 1 {
			t.Fatalf("round %d: %d log lines and %d history rows, want 1 and 1", round, len(entries), len(rows))
		}
		checkEqual(t, "log line after the caller reused its struct", &wantE, entries[0])
		checkEqual(t, "history row after the caller reused its struct", &wantR, rows[0])
		entries[0].Message, rows[0].WorkerID = "changed by the reader", "changed by the reader"
	}
}

func testHistoryAppendMany(t T, st *stores.Store) {
	ctx := t.Context()
	jobs := []string{stores.NewID(), stores.NewID(), stores.NewID()}
	row := func(job string, attempt int) *stores.JobHistory {
		started := at(time.Duration(attempt) * time.Second)
		return &stores.JobHistory{JobID: job, Attempt: attempt, WorkerID: fmt.Sprintf("w%d", attempt%7),
			StartedAt: started, CompletedAt: started.Add(250 * time.Millisecond), Status: stores.StatusCompleted,
			Duration: 250 * time.Millisecond}
	}
	list := func(job string) []*stores.JobHistory {
		t.Helper()
		rows, err := st.History().ListByJob(ctx, job)
		must(t, err, "History ListByJob")
		return rows
	}
	// A batch larger than a backend's natural chunk (SQL drivers insert up
	// to a thousand rows per statement), over several jobs, out of order,
	// with a row still in progress (no CompletedAt, no Status).
	const per = 900
	var batch []*stores.JobHistory
	for a := per; a >= 1; a-- {
		for _, j := range jobs {
			batch = append(batch, row(j, a))
		}
	}
	open := row(jobs[0], per+1)
	open.CompletedAt, open.Status, open.Duration = time.Time{}, "", 0
	batch = append(batch, open)
	must(t, st.History().AppendMany(ctx, batch), "History AppendMany of %d rows", len(batch))
	for ji, j := range jobs {
		got := list(j)
		want := per
		if ji == 0 {
			want++
		}
		if len(got) != want {
			t.Fatalf("job %d: ListByJob returned %d rows after AppendMany, want %d", ji, len(got), want)
		}
		for i, h := range got {
			if h.Attempt != i+1 {
				t.Fatalf("job %d: row %d is attempt %d, want %d (attempt order)", ji, i, h.Attempt, i+1)
			}
		}
		checkEqual(t, "first attempt stored by AppendMany", row(j, 1), withID(got[0], ""))
	}
	checkEqual(t, "attempt in progress stored by AppendMany", open, list(jobs[0])[per])

	fresh := stores.NewID()
	stored := batch[len(batch)/2]
	for _, c := range []struct {
		name string
		rows func() []*stores.JobHistory
	}{
		{"a stored id in the middle of a large batch", func() []*stores.JobHistory {
			var rows []*stores.JobHistory
			for a := 1; a <= 2500; a++ {
				rows = append(rows, row(fresh, a))
			}
			dup := *stored
			dup.JobID = fresh
			return append(rows[:1800:1800], append([]*stores.JobHistory{&dup}, rows[1800:]...)...)
		}},
		{"an id given twice in the batch", func() []*stores.JobHistory {
			a, b := row(fresh, 1), row(fresh, 2)
			b.ID = stores.NewID()
			c := row(fresh, 3)
			c.ID = b.ID
			return []*stores.JobHistory{a, b, c}
		}},
		{"an id given twice at the ends of a large batch", func() []*stores.JobHistory {
			var rows []*stores.JobHistory
			for a := 1; a <= 2500; a++ {
				rows = append(rows, row(fresh, a))
			}
			rows[0].ID = stores.NewID()
			rows[len(rows)-1].ID = rows[0].ID
			return rows
		}},
	} {
		wantErr(t, st.History().AppendMany(ctx, c.rows()), stores.ErrAlreadyExists, "History AppendMany with %s", c.name)
		if rows := list(fresh); len(rows) != 0 {
			t.Errorf("History AppendMany with %s stored %d rows, want none", c.name, len(rows))
		}
	}
	if rows := list(jobs[1]); len(rows) != per {
		t.Errorf("a refused AppendMany changed another job's history: %d rows, want %d", len(rows), per)
	}

	wantErr(t, st.History().AppendMany(ctx, nil), stores.ErrInvalidArgument, "History AppendMany of no rows")
	wantErr(t, st.History().AppendMany(ctx, []*stores.JobHistory{row(fresh, 1), nil}), stores.ErrInvalidArgument, "History AppendMany with a nil row")
	bad := row(fresh, 0)
	wantErr(t, st.History().AppendMany(ctx, []*stores.JobHistory{row(fresh, 1), bad}), stores.ErrInvalidArgument, "History AppendMany with attempt 0")
	if rows := list(fresh); len(rows) != 0 {
		t.Errorf("an invalid AppendMany stored %d rows, want none", len(rows))
	}
}

// withID returns a copy of h with ID set to id.
func withID(h *stores.JobHistory, id string) *stores.JobHistory {
	c := *h
	c.ID = id
	return &c
}
