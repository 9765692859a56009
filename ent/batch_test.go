package ent_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/orchestrix/persistence/abstractions/stores"
	"github.com/orchestrix/persistence/ent"
)

// batchDialects runs f on a SQLite file and on PostgreSQL (skipped without
// a server): the batch paths differ by dialect (COPY on PostgreSQL from
// 64 rows, prepared multi-row INSERTs on SQLite), the contract does not.
func batchDialects(t *testing.T, f func(t *testing.T, st *stores.Store, dialect string)) {
	t.Run("sqlite", func(t *testing.T) {
		st, err := stores.OpenContext(t.Context(), "ent", "sqlite://"+filepath.Join(t.TempDir(), "batch.db"))
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		f(t, st, ent.DialectSQLite)
	})
	t.Run("postgres", func(t *testing.T) {
		b, err := openPostgresSchema(t.Context(), t, nil)
		if err != nil {
			t.Fatal(err)
		}
		st := stores.Wrap("ent", b)
		defer st.Close()
		f(t, st, ent.DialectPostgres)
	})
}

// awkwardJobs returns n jobs of queue whose text and bytes hold what the
// COPY text format escapes (tab, newline, carriage return, backslash),
// with every optional field set on some and unset on others.
func awkwardJobs(queue string, n int) []*stores.Job {
	created := time.Date(2026, 3, 4, 5, 6, 7, 891011000, time.UTC)
	jobs := make([]*stores.Job, n)
	for i := range jobs {
		j := &stores.Job{Type: "copy.task", Queue: queue, Priority: i % 3,
			Args:          []byte(fmt.Sprintf(`{"i":%d,"s":"tab\tnl\ncr\rbs\\ \\N"}`, i)),
			CorrelationID: fmt.Sprintf("corr\\%d\t", i), CreatedAt: created.Add(time.Duration(i) * time.Microsecond),
			Timeout: 1500 * time.Millisecond, MaxRetries: 3, LastError: "line one\nline\ttwo \\N",
			RetryPolicy: stores.RetryPolicy{InitialDelay: time.Second, Multiplier: 1.5, MaxDelay: time.Minute}}
		if i%2 == 0 {
			j.UniqueKey = fmt.Sprintf("%s-key-%d", queue, i)
			j.ScheduledAt = created.Add(-time.Minute)
			j.Args = nil
		}
		if i%5 == 0 {
			j.ScheduleID, j.ScheduleType, j.ScheduleTick = stores.NewID(), stores.ScheduleTypeCron, created.Add(time.Duration(i)*time.Second)
		}
		jobs[i] = j
	}
	return jobs
}

// TestJ1_EnqueueManyBatchRoundTrip: a batch stored by EnqueueMany reads back
// field for field, at sizes around the COPY threshold (63, 64, 65) and above
// one prepared SQLite INSERT (250), with text and bytes that need escaping.
func TestJ1_EnqueueManyBatchRoundTrip(t *testing.T) {
	batchDialects(t, func(t *testing.T, st *stores.Store, _ string) {
		ctx := t.Context()
		for _, n := range []int{63, 64, 65, 250} {
			jobs := awkwardJobs(fmt.Sprintf("rt%d", n), n)
			if err := st.Jobs().EnqueueMany(ctx, jobs); err != nil {
				t.Fatalf("EnqueueMany of %d: %v", n, err)
			}
			for i, want := range jobs {
				got, err := st.Jobs().Get(ctx, want.ID)
				if err != nil {
					t.Fatalf("batch of %d, job %d: %v", n, i, err)
				}
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("batch of %d, job %d:\n got %+v\nwant %+v", n, i, got, want)
				}
			}
		}
	})
}

// TestJ1_EnqueueManyBatchDuplicateStoresNothing: a batch large enough for
// COPY with an ID twice (in the middle), with the ID of a stored job, or
// with a unique key a live job holds fails with ErrAlreadyExists naming the
// clash, and stores none of its jobs; the store then takes the same jobs
// without the clash.
func TestJ1_EnqueueManyBatchDuplicateStoresNothing(t *testing.T) {
	batchDialects(t, func(t *testing.T, st *stores.Store, dialect string) {
		ctx := t.Context()
		stored := awkwardJobs("stored", 1)[0]
		if err := st.Jobs().Enqueue(ctx, stored); err != nil {
			t.Fatal(err)
		}
		cases := []struct {
			name string
			// clash makes the clash and returns the column and value the
			// error must name (SQLite names only the column).
			clash func(jobs []*stores.Job) (column, value string)
		}{
			{"id twice", func(jobs []*stores.Job) (string, string) {
				jobs[120].ID = jobs[80].ID
				return "id", jobs[80].ID
			}},
			{"id of a stored job", func(jobs []*stores.Job) (string, string) {
				jobs[150].ID = stored.ID
				return "id", stored.ID
			}},
			{"live unique key", func(jobs []*stores.Job) (string, string) {
				jobs[100].UniqueKey = stored.UniqueKey
				return "unique_key", stored.UniqueKey
			}},
		}
		for _, c := range cases {
			jobs := awkwardJobs("dup", 200)
			for _, j := range jobs {
				j.ID = stores.NewID()
			}
			column, value := c.clash(jobs)
			err := st.Jobs().EnqueueMany(ctx, jobs)
			if !errors.Is(err, stores.ErrAlreadyExists) {
				t.Fatalf("%s: EnqueueMany: %v, want ErrAlreadyExists", c.name, err)
			}
			if !strings.Contains(err.Error(), column) || dialect == ent.DialectPostgres && !strings.Contains(err.Error(), value) {
				t.Errorf("%s: the error does not name %s %s: %v", c.name, column, value, err)
			}
			page, err := st.Jobs().Query(ctx, stores.JobQuery{Queues: []string{"dup"}, Limit: 1000})
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Jobs) != 0 {
				t.Fatalf("%s: %d jobs of the rejected batch are stored", c.name, len(page.Jobs))
			}
		}
		// The store is unchanged and usable: the batch without a clash goes in.
		jobs := awkwardJobs("dup", 200)
		if err := st.Jobs().EnqueueMany(ctx, jobs); err != nil {
			t.Fatalf("EnqueueMany after the rejected batches: %v", err)
		}
	})
}

// TestJ4_EnqueueManyRacesDispatch: inserters store large batches while
// dispatchers claim from the same queue (run with -race); every job is
// dispatched exactly once and none is lost (J1, J4).
func TestJ4_EnqueueManyRacesDispatch(t *testing.T) {
	batchDialects(t, func(t *testing.T, st *stores.Store, _ string) {
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		const inserters, batches, batch, dispatchers = 4, 5, 100, 3
		var (
			wg       sync.WaitGroup
			mu       sync.Mutex
			seen     = map[string]int{}
			inserted = make(chan struct{})
			errs     = make(chan error, inserters+dispatchers)
		)
		var insertWG sync.WaitGroup
		for w := range inserters {
			insertWG.Add(1)
			go func() {
				defer insertWG.Done()
				for range batches {
					jobs := awkwardJobs("race", batch)
					for _, j := range jobs {
						j.UniqueKey, j.ScheduledAt, j.ScheduleID, j.ScheduleType, j.ScheduleTick = "", time.Time{}, "", "", time.Time{}
						j.CorrelationID = fmt.Sprintf("inserter-%d", w)
					}
					if err := st.Jobs().EnqueueMany(ctx, jobs); err != nil {
						errs <- fmt.Errorf("EnqueueMany: %w", err)
						return
					}
				}
			}()
		}
		go func() { insertWG.Wait(); close(inserted) }()
		for range dispatchers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					// Once every batch is in, an empty dispatch means none is left.
					done := false
					select {
					case <-inserted:
						done = true
					default:
					}
					got, err := st.Jobs().Dispatch(ctx, stores.DispatchParams{Queues: []string{"race"}, Limit: 70, Now: time.Now()})
					if err != nil {
						errs <- fmt.Errorf("Dispatch: %w", err)
						return
					}
					mu.Lock()
					for _, j := range got {
						seen[j.ID]++
					}
					mu.Unlock()
					if done && len(got) == 0 {
						return
					}
				}
			}()
		}
		wg.Wait()
		insertWG.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if want := inserters * batches * batch; len(seen) != want {
			t.Fatalf("dispatched %d distinct jobs, want %d", len(seen), want)
		}
		for id, n := range seen {
			if n != 1 {
				t.Fatalf("job %s dispatched %d times", id, n)
			}
		}
	})
}

// awkwardLogs returns n log lines, two jobs' worth interleaved, with text
// the COPY text format escapes.
func awkwardLogs(jobA, jobB string, n int) []*stores.LogEntry {
	at := time.Date(2026, 3, 4, 5, 6, 7, 123456000, time.UTC)
	out := make([]*stores.LogEntry, n)
	for i := range out {
		job := jobA
		if i%3 == 0 {
			job = jobB
		}
		out[i] = &stores.LogEntry{ID: stores.NewID(), JobID: job, Timestamp: at.Add(time.Duration(i) * time.Microsecond),
			Level: "info\t", Message: fmt.Sprintf("line %d\nwith \\N and \\ and\r", i), Exception: strings.Repeat("\t", i%3)}
	}
	return out
}

// listLogs reads every log line of a job through the cursor.
func listLogs(t *testing.T, st *stores.Store, jobID string) []*stores.LogEntry {
	t.Helper()
	var all []*stores.LogEntry
	cursor := ""
	for {
		page, err := st.Logs().List(t.Context(), jobID, cursor, 50)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, page.Entries...)
		if page.Next == "" {
			return all
		}
		cursor = page.Next
	}
}

// TestL1_LogBatchesKeepWrittenOrder: log batches around the COPY threshold
// and above one prepared SQLite INSERT read back field for field, each
// job's lines in written order; a batch with an entry id twice (in the
// middle) fails with ErrAlreadyExists and stores none of its lines.
func TestL1_LogBatchesKeepWrittenOrder(t *testing.T) {
	batchDialects(t, func(t *testing.T, st *stores.Store, _ string) {
		ctx := t.Context()
		for _, n := range []int{63, 64, 250} {
			jobA, jobB := stores.NewID(), stores.NewID()
			entries := awkwardLogs(jobA, jobB, n)
			if err := st.Logs().Append(ctx, entries); err != nil {
				t.Fatalf("Append of %d: %v", n, err)
			}
			for _, job := range []string{jobA, jobB} {
				var want []*stores.LogEntry
				for _, e := range entries {
					if e.JobID == job {
						want = append(want, e)
					}
				}
				if got := listLogs(t, st, job); !reflect.DeepEqual(got, want) {
					t.Fatalf("batch of %d: job %s reads back %d lines, not the %d written in order", n, job, len(got), len(want))
				}
			}
		}
		jobA, jobB := stores.NewID(), stores.NewID()
		entries := awkwardLogs(jobA, jobB, 200)
		entries[130].ID = entries[70].ID
		if err := st.Logs().Append(ctx, entries); !errors.Is(err, stores.ErrAlreadyExists) {
			t.Fatalf("Append with an entry id twice: %v, want ErrAlreadyExists", err)
		}
		if got := len(listLogs(t, st, jobA)) + len(listLogs(t, st, jobB)); got != 0 {
			t.Fatalf("%d lines of the rejected batch are stored", got)
		}
	})
}

// TestL1_HistoryBatchesRoundTrip: history batches around the COPY threshold
// and above one prepared SQLite INSERT read back field for field; a batch
// with an id twice (in the middle) fails with ErrAlreadyExists and stores
// none of its rows.
func TestL1_HistoryBatchesRoundTrip(t *testing.T) {
	batchDialects(t, func(t *testing.T, st *stores.Store, _ string) {
		ctx := t.Context()
		started := time.Date(2026, 3, 4, 5, 6, 7, 123456000, time.UTC)
		batch := func(n int) []*stores.JobHistory {
			rows := make([]*stores.JobHistory, n)
			for i := range rows {
				rows[i] = &stores.JobHistory{ID: stores.NewID(), JobID: stores.NewID(), Attempt: i%4 + 1, WorkerID: "w\t1",
					Status: stores.StatusFailed, Error: fmt.Sprintf("boom %d\n\\N", i), Duration: time.Duration(i) * time.Millisecond}
				if i%2 == 0 {
					rows[i].StartedAt, rows[i].CompletedAt = started, started.Add(time.Duration(i)*time.Microsecond)
				}
			}
			return rows
		}
		for _, n := range []int{63, 64, 250} {
			rows := batch(n)
			if err := st.History().AppendMany(ctx, rows); err != nil {
				t.Fatalf("AppendMany of %d: %v", n, err)
			}
			for i, want := range rows {
				got, err := st.History().ListByJob(ctx, want.JobID)
				if err != nil {
					t.Fatal(err)
				}
				if len(got) != 1 || !reflect.DeepEqual(got[0], want) {
					t.Fatalf("batch of %d, row %d: got %+v, want %+v", n, i, got, want)
				}
			}
		}
		rows := batch(200)
		rows[150].ID = rows[20].ID
		if err := st.History().AppendMany(ctx, rows); !errors.Is(err, stores.ErrAlreadyExists) {
			t.Fatalf("AppendMany with an id twice: %v, want ErrAlreadyExists", err)
		}
		for _, i := range []int{0, 20, 100, 199} {
			if got, err := st.History().ListByJob(ctx, rows[i].JobID); err != nil || len(got) != 0 {
				t.Fatalf("row %d of the rejected batch: %v, %v", i, got, err)
			}
		}
	})
}
