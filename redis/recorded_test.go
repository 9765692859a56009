package redis

import (
	"errors"
	"testing"
	"time"

	"github.com/orchestrix/persistence/abstractions/stores"
)

// TestL1_RejectedCompleteRecordedChangesNothing: a CompleteRecorded whose
// log line or history row has a stored id, or names one id twice, is
// ErrAlreadyExists and leaves every key of the store as it was: no job
// completed, no record stored, no key held (J5, L1). On a server that lets
// the client RENAME, the rows go in as native commands of one transaction
// (history_hold.lua, complete_recorded.lua, hold_release.lua); without
// RENAME complete_recorded.lua stores them itself. After a SCRIPT FLUSH
// (the transaction's EVALSHA finds no script) a rejected batch still changes
// nothing and a good one still goes through. Then the batch without the
// duplicate completes its jobs and stores its records.
func TestL1_RejectedCompleteRecordedChangesNothing(t *testing.T) {
	onHoldingServers(t, testRejectedCompleteRecorded)
}

func testRejectedCompleteRecorded(t *testing.T, b *Backend, hold int32) {
	s := stores.Wrap(DriverName, b)
	t.Cleanup(func() { s.Close() })
	ctx := ctxT(t)
	now := t0.Add(time.Hour)
	inFlight := func(n int) []*stores.Job {
		jobs := make([]*stores.Job, n)
		for i := range jobs {
			jobs[i] = &stores.Job{Type: "t", Queue: "recorded"}
		}
		must(t, s.Jobs().EnqueueMany(ctx, jobs))
		got, err := s.Jobs().Dispatch(ctx, stores.DispatchParams{Queues: []string{"recorded"}, Limit: n, Now: now, WorkerID: "w", Start: true})
		must(t, err)
		if len(got) != n {
			t.Fatalf("dispatched %d of %d jobs", len(got), n)
		}
		return got
	}
	batchOf := func(jobs []*stores.Job) stores.CompletedBatch {
		c := stores.CompletedBatch{Now: now}
		for _, j := range jobs {
			c.Refs = append(c.Refs, j.Ref())
			c.Logs = append(c.Logs, &stores.LogEntry{JobID: j.ID, Timestamp: now, Level: "info", Message: "ran"})
			c.History = append(c.History, &stores.JobHistory{JobID: j.ID, Attempt: int(j.Attempt), WorkerID: "w",
				StartedAt: now, CompletedAt: now, Status: stores.StatusCompleted})
		}
		return c
	}
	// A first batch stores records whose ids the rejected ones reuse.
	first := batchOf(inFlight(3))
	res, err := s.CompleteRecorded(ctx, first)
	must(t, err)
	must(t, errors.Join(res...))
	if first.Logs[0].ID == "" || first.History[0].ID == "" {
		t.Fatal("CompleteRecorded left the records' IDs empty")
	}

	jobs := inFlight(1200) // longer than one SMISMEMBER chunk
	reject := func(what string, edit func(c *stores.CompletedBatch)) {
		t.Helper()
		c := batchOf(jobs)
		edit(&c)
		before := snapshot(t, ctx, b)
		if _, err := s.CompleteRecorded(ctx, c); !errors.Is(err, stores.ErrAlreadyExists) {
			t.Fatalf("%s: got %v, want ErrAlreadyExists", what, err)
		}
		unchanged(t, ctx, b, what, before)
	}
	rejectAll := func() {
		t.Helper()
		reject("a stored history id past the first chunk", func(c *stores.CompletedBatch) { c.History[1100].ID = first.History[1].ID })
		reject("a stored history id first", func(c *stores.CompletedBatch) { c.History[0].ID = first.History[0].ID })
		reject("a stored log line id", func(c *stores.CompletedBatch) { c.Logs[7].ID = first.Logs[2].ID })
		reject("one history id twice", func(c *stores.CompletedBatch) {
			c.History[3].ID = stores.NewID()
			c.History[9].ID = c.History[3].ID
		})
		reject("one log line id twice", func(c *stores.CompletedBatch) {
			c.Logs[3].ID = stores.NewID()
			c.Logs[1150].ID = c.Logs[3].ID
		})
	}
	rejectAll()
	must(t, b.c.ScriptFlush(ctx).Err())
	rejectAll()
	if b.hold.Load() != hold {
		t.Fatalf("canHold's answer %d, want %d", b.hold.Load(), hold)
	}

	must(t, b.c.ScriptFlush(ctx).Err())
	good := batchOf(jobs)
	res, err = s.CompleteRecorded(ctx, good)
	must(t, err)
	must(t, errors.Join(res...))
	for i, j := range jobs {
		got, err := s.Jobs().Get(ctx, j.ID)
		must(t, err)
		if got.Status != stores.StatusCompleted {
			t.Fatalf("job %d is %s, want completed", i, got.Status)
		}
		if i%300 != 0 {
			continue
		}
		lines, err := s.Logs().List(ctx, j.ID, "", 10)
		must(t, err)
		rows, err := s.History().ListByJob(ctx, j.ID)
		must(t, err)
		if len(lines.Entries) != 1 || lines.Entries[0].ID != good.Logs[i].ID || len(rows) != 1 || rows[0].ID != good.History[i].ID {
			t.Fatalf("job %d: %d log lines, %d history rows, want its one of each", i, len(lines.Entries), len(rows))
		}
	}
	for _, key := range b.k.hist[len(histKeyNames):] {
		if n, _ := b.c.Exists(ctx, key).Result(); n != 0 {
			t.Fatalf("holding key %s left behind", key)
		}
	}
}
