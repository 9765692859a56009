package ent_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/lib/pq"

	"github.com/orchestrix/persistence/abstractions/stores"
)

// TestJ1_EnqueueManySurvivesKilledConnection terminates the PostgreSQL
// backend that is in the middle of a large EnqueueMany (pg_terminate_backend
// from a second connection, found by its application_name) and checks that
// the call fails, that no job of the batch is stored, and that the next
// call on the same store succeeds on a fresh connection (J1
// all-or-nothing).
func TestJ1_EnqueueManySurvivesKilledConnection(t *testing.T) {
	admin := requirePostgres(t)
	ctx := t.Context()
	b, st, app := openNamedPostgres(t, "orchestrix_kill_", url.Values{"max_open_conns": {"1"}})

	// The killer terminates the store's connection once its statement has
	// been running for a few milliseconds (so part of the batch is written:
	// on PostgreSQL one INSERT … SELECT FROM unnest holds the whole batch).
	killDuring := func(stop <-chan struct{}) <-chan bool {
		return terminateWhen(ctx, admin, app, "now() - query_start > interval '5 milliseconds'", time.Millisecond, stop)
	}

	created := time.Now().Add(-time.Hour)
	batch := make([]*stores.Job, stores.MaxBatch)
	for i := range batch {
		batch[i] = &stores.Job{Type: "kill", Queue: "q", Args: []byte(`{"i": 1}`), CreatedAt: created.Add(time.Duration(i) * time.Microsecond)}
	}
	type attempt struct {
		ids string
		err error
	}
	var attempts []attempt
	// A kill can land just after the statement finished (the next call then
	// runs on a fresh connection); try until one lands mid-statement.
	for range 20 {
		stop := make(chan struct{})
		struck := killDuring(stop)
		err := st.Jobs().EnqueueMany(ctx, batch)
		close(stop)
		<-struck
		attempts = append(attempts, attempt{idsArray(batch), err})
		if err != nil {
			break
		}
		for _, j := range batch {
			j.ID = ""
		}
	}
	failed := 0
	for i, a := range attempts {
		var stored int
		if err := admin.QueryRowContext(ctx, "SELECT count(*) FROM "+b.schema+".jobs WHERE type = 'kill' AND id = ANY($1::uuid[])",
			a.ids).Scan(&stored); err != nil {
			t.Fatal(err)
		}
		switch {
		case a.err != nil:
			failed++
			t.Logf("EnqueueMany %d on a terminated connection: %v", i+1, a.err)
			if stored != 0 {
				t.Fatalf("%d jobs of the failed batch %d are stored: not all-or-nothing", stored, i+1)
			}
		case stored != len(batch):
			t.Fatalf("EnqueueMany %d succeeded but %d of its %d jobs are stored", i+1, stored, len(batch))
		}
	}
	if failed == 0 {
		t.Fatalf("pg_terminate_backend never cut an EnqueueMany mid-statement in %d calls", len(attempts))
	}
	t.Logf("%d calls, %d failed on the terminated connection, the others stored in full", len(attempts), failed)

	next := []*stores.Job{{Type: "after", Queue: "q"}, {Type: "after", Queue: "q"}}
	if err := st.Jobs().EnqueueMany(ctx, next); err != nil {
		t.Fatalf("the next call after the kill failed: %v", err)
	}
	for _, j := range next {
		if _, err := st.Jobs().Get(ctx, j.ID); err != nil {
			t.Fatalf("job of the next call: %v", err)
		}
	}
}

// terminateWhen terminates the active backend of application app once
// cond (SQL over pg_stat_activity) holds for it, polling every poll, until
// stop is closed. The channel says whether it terminated one.
func terminateWhen(ctx context.Context, admin *sql.DB, app, cond string, poll time.Duration, stop <-chan struct{}) <-chan bool {
	struck := make(chan bool, 1)
	go func() {
		for {
			select {
			case <-stop:
				struck <- false
				return
			default:
			}
			var ok bool
			err := admin.QueryRowContext(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
WHERE application_name = $1 AND state = 'active' AND `+cond, app).Scan(&ok)
			if err == nil && ok {
				struck <- true
				return
			}
			time.Sleep(poll)
		}
	}()
	return struck
}

func idsArray(jobs []*stores.Job) string {
	s := "{"
	for i, j := range jobs {
		if i > 0 {
			s += ","
		}
		s += j.ID
	}
	return s + "}"
}

// TestJ5_CompleteRecordedSurvivesKilledConnection is the crash between the
// steps of Store.CompleteRecorded on PostgreSQL (J5, L1): the backend is
// terminated while it streams the history rows, after the batch's
// completion and log lines were written in the same transaction. A call
// that fails must leave every job of its batch running at its attempt and
// no log line or history row of it; a call the kill missed (it landed
// after the COPY) must have stored all of it. The store works on after.
func TestJ5_CompleteRecordedSurvivesKilledConnection(t *testing.T) {
	admin := requirePostgres(t)
	ctx := t.Context()
	b, st, app := openNamedPostgres(t, "orchestrix_kill_", url.Values{"max_open_conns": {"1"}})

	// batch dispatches n fresh jobs and returns the call that completes
	// them with a log line and a history row each.
	const n = stores.MaxBatch
	batch := func() stores.CompletedBatch {
		t.Helper()
		jobs := make([]*stores.Job, n)
		for i := range jobs {
			jobs[i] = &stores.Job{Type: "kill", Queue: "q"}
		}
		if err := st.Jobs().EnqueueMany(ctx, jobs); err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		got, err := st.Jobs().Dispatch(ctx, stores.DispatchParams{Limit: n, Now: now, WorkerID: "w", Start: true})
		if err != nil || len(got) != n {
			t.Fatalf("Dispatch: %d jobs, %v", len(got), err)
		}
		c := stores.CompletedBatch{Now: now}
		for _, j := range got {
			c.Refs = append(c.Refs, j.Ref())
			c.Logs = append(c.Logs, &stores.LogEntry{JobID: j.ID, Timestamp: now, Level: "info", Message: "a line long enough to take the COPY a while"})
			c.History = append(c.History, &stores.JobHistory{JobID: j.ID, Attempt: int(j.Attempt), WorkerID: "w",
				StartedAt: now.Add(-time.Second), CompletedAt: now, Status: stores.StatusCompleted, Duration: time.Second})
		}
		return c
	}
	// stored counts the batch's jobs completed, log lines and history rows.
	stored := func(c stores.CompletedBatch) (completed, logs, rows int) {
		t.Helper()
		ids := make([]string, len(c.Refs))
		for i, r := range c.Refs {
			ids[i] = r.ID
		}
		q := fmt.Sprintf(`SELECT (SELECT count(*) FROM %[1]s.jobs WHERE id = ANY($1::uuid[]) AND status = 'completed'),
	(SELECT count(*) FROM %[1]s.log_entries WHERE job_id = ANY($1::uuid[])),
	(SELECT count(*) FROM %[1]s.job_history WHERE job_id = ANY($1::uuid[]))`, b.schema)
		if err := admin.QueryRowContext(ctx, q, pq.StringArray(ids)).Scan(&completed, &logs, &rows); err != nil {
			t.Fatal(err)
		}
		return completed, logs, rows
	}

	failed := 0
	for try := 1; try <= 20 && failed == 0; try++ {
		c := batch()
		stop := make(chan struct{})
		struck := terminateWhen(ctx, admin, app, "query LIKE 'COPY job_history%'", 200*time.Microsecond, stop)
		_, err := st.CompleteRecorded(ctx, c)
		close(stop)
		<-struck
		completed, logs, rows := stored(c)
		if err != nil {
			failed++
			t.Logf("try %d: CompleteRecorded on a terminated connection: %v", try, err)
			if completed != 0 || logs != 0 || rows != 0 {
				t.Fatalf("after the failed call %d jobs of its batch are completed, %d log lines and %d history rows stored: not one step", completed, logs, rows)
			}
		} else if completed != n || logs != n || rows != n {
			t.Fatalf("try %d succeeded with %d of %d jobs completed, %d log lines, %d history rows", try, completed, n, logs, rows)
		}
	}
	if failed == 0 {
		t.Fatalf("pg_terminate_backend never cut a CompleteRecorded in its history COPY")
	}

	c := batch()
	res, err := st.CompleteRecorded(ctx, c)
	if err != nil {
		t.Fatalf("the next call after the kill failed: %v", err)
	}
	for i, e := range res {
		if e != nil {
			t.Fatalf("result %d of the next call: %v", i, e)
		}
	}
	if completed, logs, rows := stored(c); completed != n || logs != n || rows != n {
		t.Fatalf("after the next call %d of %d jobs are completed, %d log lines and %d history rows stored", completed, n, logs, rows)
	}
}
