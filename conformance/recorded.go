package conformance

import (
	"fmt"
	"time"

	"github.com/orchestrix/persistence/abstractions/stores"
)

// The tests of Store.CompleteRecorded: a batch's completions (J5) with the
// log lines and history rows its attempts wrote (L1).

// attemptRecords returns a log line and a history row of job's attempt.
func attemptRecords(job string, attempt int64, msg string, now time.Time) (*stores.LogEntry, *stores.JobHistory) {
	return &stores.LogEntry{JobID: job, Timestamp: now, Level: "info", Message: msg},
		&stores.JobHistory{JobID: job, Attempt: int(attempt), WorkerID: "w1", StartedAt: at(2 * time.Hour),
			CompletedAt: now, Status: stores.StatusCompleted, Duration: now.Sub(at(2 * time.Hour))}
}

func listHistory(t T, st *stores.Store, job string) []*stores.JobHistory {
	t.Helper()
	rows, err := st.History().ListByJob(t.Context(), job)
	must(t, err, "History ListByJob")
	return rows
}

// wantRecords checks that job's stored log and history are exactly logs
// and rows.
func wantRecords(t T, st *stores.Store, what, job string, logs []*stores.LogEntry, rows []*stores.JobHistory) {
	t.Helper()
	gotLogs := listLogs(t, st, job, 100)
	if len(gotLogs) != len(logs) {
		t.Errorf("%s: job %s has %d log lines, want %d", what, job, len(gotLogs), len(logs))
	} else {
		for i := range logs {
			checkEqual(t, fmt.Sprintf("%s: log line %d", what, i), logs[i], gotLogs[i])
		}
	}
	gotRows := listHistory(t, st, job)
	if len(gotRows) != len(rows) {
		t.Errorf("%s: job %s has %d history rows, want %d", what, job, len(gotRows), len(rows))
	} else {
		for i := range rows {
			checkEqual(t, fmt.Sprintf("%s: history row %d", what, i), rows[i], gotRows[i])
		}
	}
}

// testCompleteRecorded: the refs complete with per-ref results as in
// CompleteMany (a stale or missing ref is refused, its job unchanged), the
// records of every attempt are stored, generated IDs filled in; invalid
// input names the field and stores nothing.
func testCompleteRecorded(t T, st *stores.Store) {
	now := at(5 * time.Hour)
	a := inFlight(t, st, 1, "w1")
	b := inFlight(t, st, 2, "w1")
	staleCur, stale := staleJob(t, st, 3)
	missing := stores.Ref{ID: stores.NewID(), Attempt: 1}
	unchanged := getJob(t, st, staleCur.ID)

	batch := stores.CompletedBatch{Refs: []stores.Ref{a.Ref(), stale, missing, b.Ref()}, Now: now}
	logs := map[string][]*stores.LogEntry{}
	rows := map[string][]*stores.JobHistory{}
	for _, r := range batch.Refs[:2] {
		e, h := attemptRecords(r.ID, r.Attempt, "done", now)
		extra := &stores.LogEntry{JobID: r.ID, Timestamp: now, Level: "debug", Message: "second line"}
		batch.Logs = append(batch.Logs, e, extra)
		batch.History = append(batch.History, h)
		logs[r.ID], rows[r.ID] = []*stores.LogEntry{e, extra}, []*stores.JobHistory{h}
	}
	e, h := attemptRecords(b.ID, b.Attempt, "done", now)
	batch.Logs, batch.History = append(batch.Logs, e), append(batch.History, h)
	logs[b.ID], rows[b.ID] = []*stores.LogEntry{e}, []*stores.JobHistory{h}

	res, err := st.CompleteRecorded(t.Context(), batch)
	must(t, err, "CompleteRecorded")
	if len(res) != len(batch.Refs) {
		t.Fatalf("CompleteRecorded returned %d results for %d refs", len(res), len(batch.Refs))
	}
	for i, w := range []error{nil, stores.ErrConflict, stores.ErrNotFound, nil} {
		if w == nil && res[i] != nil {
			t.Errorf("CompleteRecorded result %d (job %s): %v, want nil", i, batch.Refs[i].ID, res[i])
		} else if w != nil {
			wantErr(t, res[i], w, "CompleteRecorded result %d (job %s)", i, batch.Refs[i].ID)
		}
	}
	for _, j := range []*stores.Job{a, b} {
		want := j.Clone()
		want.Status, want.CompletedAt = stores.StatusCompleted, now
		checkJob(t, "job completed by CompleteRecorded", want, getJob(t, st, j.ID))
	}
	checkJob(t, "job of the stale ref", unchanged, getJob(t, st, staleCur.ID))
	wantGone(t, st, missing.ID, "missing ref of CompleteRecorded")
	for _, x := range batch.Logs {
		if len(x.ID) != 36 {
			t.Fatalf("CompleteRecorded left log line ID %q: want a generated UUID", x.ID)
		}
	}
	// The stale attempt ran: its records are stored although its
	// completion was refused.
	for id := range logs {
		wantRecords(t, st, "after CompleteRecorded", id, logs[id], rows[id])
	}

	// Invalid input names the field and stores nothing.
	c := inFlight(t, st, 4, "w1")
	ce, ch := attemptRecords(c.ID, c.Attempt, "done", now)
	bad := &stores.JobHistory{JobID: "not-a-uuid", Attempt: 1}
	_, err = st.CompleteRecorded(t.Context(), stores.CompletedBatch{Refs: []stores.Ref{c.Ref()},
		Logs: []*stores.LogEntry{ce}, History: []*stores.JobHistory{ch, bad}, Now: now})
	wantInvalidField(t, err, "batch.History[1].JobID", "CompleteRecorded with a bad history row")
	_, err = st.CompleteRecorded(t.Context(), stores.CompletedBatch{Logs: []*stores.LogEntry{ce}, Now: now})
	wantInvalidField(t, err, "batch.Refs", "CompleteRecorded without refs")
	checkJob(t, "job of a rejected CompleteRecorded", c, getJob(t, st, c.ID))
	wantRecords(t, st, "after a rejected CompleteRecorded", c.ID, nil, nil)
}

// testCompleteRecordedAtomic: on a driver that completes a batch and stores
// its records in one step (stores.RecordedCompleter), a call that fails
// part way, here on a record ID already stored, changes nothing: no job
// completed, no line or row of the batch stored. That is the crash between
// the steps, as seen from the store: it cannot leave a history row whose
// completion never happened, nor the other way round. Then the same batch
// without the duplicate goes through.
func testCompleteRecordedAtomic(t T, st *stores.Store) {
	if _, ok := st.Backend().Jobs().(stores.RecordedCompleter); !ok {
		t.Skipf("the driver's JobStore is not a stores.RecordedCompleter: CompleteRecorded is three calls, each atomic on its own")
	}
	now := at(5 * time.Hour)
	a := inFlight(t, st, 1, "w1")
	b := inFlight(t, st, 2, "w1")
	oldLog, oldRow := attemptRecords(a.ID, a.Attempt, "an earlier line", now)
	oldRow.StartedAt = at(time.Hour) // listed first
	must(t, st.Logs().Append(t.Context(), []*stores.LogEntry{oldLog}), "Logs Append")
	must(t, st.History().Append(t.Context(), oldRow), "History Append")

	fresh := func() stores.CompletedBatch {
		batch := stores.CompletedBatch{Refs: []stores.Ref{a.Ref(), b.Ref()}, Now: now}
		for _, j := range []*stores.Job{a, b} {
			e, h := attemptRecords(j.ID, j.Attempt, "done", now)
			batch.Logs, batch.History = append(batch.Logs, e), append(batch.History, h)
		}
		return batch
	}
	dupLog := fresh()
	dupLog.Logs[1].ID = oldLog.ID
	dupRow := fresh()
	dupRow.History[1].ID = oldRow.ID
	twice := fresh()
	twice.History[1].ID = stores.NewID()
	twice.History[0].ID = twice.History[1].ID
	for what, batch := range map[string]stores.CompletedBatch{
		"a stored log line's ID": dupLog, "a stored history row's ID": dupRow, "one history row ID twice": twice,
	} {
		_, err := st.CompleteRecorded(t.Context(), batch)
		wantErr(t, err, stores.ErrAlreadyExists, "CompleteRecorded with %s", what)
		for _, j := range []*stores.Job{a, b} {
			checkJob(t, "job of a CompleteRecorded with "+what, j, getJob(t, st, j.ID))
		}
		wantRecords(t, st, "after a CompleteRecorded with "+what, a.ID, []*stores.LogEntry{oldLog}, []*stores.JobHistory{oldRow})
		wantRecords(t, st, "after a CompleteRecorded with "+what, b.ID, nil, nil)
	}

	batch := fresh()
	res, err := st.CompleteRecorded(t.Context(), batch)
	must(t, err, "CompleteRecorded after the rejected ones")
	for i, e := range res {
		if e != nil {
			t.Errorf("CompleteRecorded result %d: %v, want nil", i, e)
		}
	}
	wantRecords(t, st, "after CompleteRecorded", a.ID, []*stores.LogEntry{oldLog, batch.Logs[0]}, []*stores.JobHistory{oldRow, batch.History[0]})
	wantRecords(t, st, "after CompleteRecorded", b.ID, batch.Logs[1:], batch.History[1:])
	if got := getJob(t, st, b.ID); got.Status != stores.StatusCompleted {
		t.Errorf("job after CompleteRecorded is %s, want completed", got.Status)
	}
}

// testConcurrentCompleteRecorded: racers complete the same attempts, each
// with its own records; per job exactly one racer wins the completion (J5)
// and every racer's records are stored.
func testConcurrentCompleteRecorded(t T, st *stores.Store) {
	const racers, jobs = 12, 20
	now := at(5 * time.Hour)
	var refs []stores.Ref
	for i := range jobs {
		refs = append(refs, inFlight(t, st, i, "w1").Ref())
	}
	var fails failures
	wins := make([][]bool, racers)
	race(racers, &fails, func(i int) {
		batch := stores.CompletedBatch{Refs: refs, Now: now.Add(time.Duration(i) * time.Second)}
		for _, r := range refs {
			e, h := attemptRecords(r.ID, r.Attempt, fmt.Sprintf("racer %d", i), batch.Now)
			batch.Logs, batch.History = append(batch.Logs, e), append(batch.History, h)
		}
		res, err := st.CompleteRecorded(t.Context(), batch)
		if err != nil {
			fails.add("racer %d: CompleteRecorded: %v", i, err)
			return
		}
		wins[i] = make([]bool, len(refs))
		for k, e := range res {
			switch {
			case e == nil:
				wins[i][k] = true
			case !errorsIsConflict(e):
				fails.add("racer %d, job %s: %v, want nil or ErrConflict", i, refs[k].ID, e)
			}
		}
	})
	fails.report(t)
	if t.Failed() {
		return
	}
	for k, r := range refs {
		winner := -1
		for i := range racers {
			if wins[i][k] {
				if winner >= 0 {
					t.Fatalf("job %s: racers %d and %d both completed it", r.ID, winner, i)
				}
				winner = i
			}
		}
		if winner < 0 {
			t.Fatalf("job %s: no racer completed it", r.ID)
		}
		got := getJob(t, st, r.ID)
		if want := now.Add(time.Duration(winner) * time.Second); got.Status != stores.StatusCompleted || !got.CompletedAt.Equal(want) {
			t.Errorf("job %s is %s at %s, want completed at %s (racer %d's time)", r.ID, got.Status, fmtTime(got.CompletedAt), fmtTime(want), winner)
		}
		if n := len(listLogs(t, st, r.ID, 100)); n != racers {
			t.Errorf("job %s has %d log lines, want one per racer (%d)", r.ID, n, racers)
		}
		if n := len(listHistory(t, st, r.ID)); n != racers {
			t.Errorf("job %s has %d history rows, want one per racer (%d)", r.ID, n, racers)
		}
	}
}
