package redis

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/orchestrix/persistence/abstractions/stores"
)

// logMessages pages through a job's log in pages of size and returns the
// messages in the order listed.
func logMessages(t *testing.T, s *stores.Store, job string, size int) []string {
	t.Helper()
	var out []string
	cur := ""
	for {
		p, err := s.Logs().List(ctxT(t), job, cur, size)
		must(t, err)
		for _, e := range p.Entries {
			out = append(out, e.Message)
		}
		if cur = p.Next; cur == "" {
			return out
		}
	}
}

// TestL1_LogPurgeWithinABatch: one Append holds lines before, at and just
// after the cut-off in no time order; Purge with a small limit deletes
// exactly the ones before it, limit per call (the batch's locators are
// split across calls), and the rest still list in written order (L1, J9).
func TestL1_LogPurgeWithinABatch(t *testing.T) {
	s, b := openStore(t)
	ctx := ctxT(t)
	job := stores.NewID()
	cut := t0.Add(time.Hour)
	offsets := []time.Duration{time.Microsecond, -time.Minute, 0, -time.Microsecond, time.Hour, -2 * time.Hour, -time.Second, 0}
	var batch []*stores.LogEntry
	var want []string
	for i, d := range offsets {
		m := fmt.Sprintf("line %d", i)
		batch = append(batch, &stores.LogEntry{JobID: job, Timestamp: cut.Add(d), Message: m})
		if d >= 0 {
			want = append(want, m)
		}
	}
	must(t, s.Logs().Append(ctx, batch))
	for call, n := range []int{2, 2, 0} {
		got, err := s.Logs().Purge(ctx, cut, 2)
		must(t, err)
		if got != n {
			t.Fatalf("Purge call %d deleted %d, want %d", call+1, got, n)
		}
	}
	if got := logMessages(t, s, job, 3); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("after Purge the log lists %v, want %v", got, want)
	}
	if n := b.c.SCard(ctx, b.k.job[kLogID]).Val(); n != int64(len(want)) {
		t.Errorf("logid holds %d ids, want %d", n, len(want))
	}
	// The batch is filed again by its earliest line left: at the cut-off.
	n, err := s.Logs().Purge(ctx, cut.Add(time.Microsecond), 100)
	must(t, err)
	if n != 2 {
		t.Errorf("Purge just after the cut-off deleted %d, want the 2 lines at it", n)
	}
}

// TestL1_HistoryPurgeWithinABatch: as above for history rows, with a row
// that has no CompletedAt (never purged by time) in the same batch.
func TestL1_HistoryPurgeWithinABatch(t *testing.T) {
	s, _ := openStore(t)
	ctx := ctxT(t)
	job := stores.NewID()
	cut := t0.Add(time.Hour)
	var rows []*stores.JobHistory
	for i, d := range []time.Duration{0, -time.Microsecond, time.Microsecond, -time.Hour, -time.Minute} {
		rows = append(rows, &stores.JobHistory{JobID: job, Attempt: i + 1, StartedAt: t0, CompletedAt: cut.Add(d),
			Status: stores.StatusFailed, WorkerID: "w", Error: "e", Duration: time.Millisecond})
	}
	rows = append(rows, &stores.JobHistory{JobID: job, Attempt: 6, StartedAt: t0})
	must(t, s.History().AppendMany(ctx, rows))
	for call, n := range []int{2, 1, 0} {
		got, err := s.History().Purge(ctx, cut, 2)
		must(t, err)
		if got != n {
			t.Fatalf("Purge call %d deleted %d, want %d", call+1, got, n)
		}
	}
	left, err := s.History().ListByJob(ctx, job)
	must(t, err)
	var attempts []int
	for _, h := range left {
		attempts = append(attempts, h.Attempt)
	}
	if fmt.Sprint(attempts) != "[1 3 6]" {
		t.Fatalf("after Purge attempts %v are left, want [1 3 6]", attempts)
	}
}

// TestJ9_PurgeOrphansSharedBatches: jobs whose lines and rows share batches
// with jobs that stay; purging the first leaves the others' locators, so a
// later Purge by time deletes exactly the survivors' old records (J9, L1).
func TestJ9_PurgeOrphansSharedBatches(t *testing.T) {
	s, b := openStore(t)
	ctx := ctxT(t)
	var done, live []*stores.Job
	for i := 0; i < 20; i++ {
		done = append(done, &stores.Job{Type: "t", Queue: "q", CreatedAt: t0, Status: stores.StatusCompleted, CompletedAt: t0})
		live = append(live, &stores.Job{Type: "t", Queue: "q", CreatedAt: t0})
	}
	must(t, s.Jobs().EnqueueMany(ctx, append(append([]*stores.Job(nil), done...), live...)))
	for round := 0; round < 3; round++ {
		var lines []*stores.LogEntry
		var rows []*stores.JobHistory
		for i := range done {
			for _, j := range []*stores.Job{done[i], live[i]} {
				ts := t0.Add(time.Duration(round*10+i%5) * time.Second)
				lines = append(lines, &stores.LogEntry{JobID: j.ID, Timestamp: ts, Message: "m"})
				rows = append(rows, &stores.JobHistory{JobID: j.ID, Attempt: round + 1, StartedAt: t0, CompletedAt: ts})
			}
		}
		must(t, s.Logs().Append(ctx, lines))
		must(t, s.History().AppendMany(ctx, rows))
	}
	n, err := s.Jobs().Purge(ctx, t0.Add(time.Microsecond), 100)
	must(t, err)
	if n != len(done) {
		t.Fatalf("purged %d jobs, want %d", n, len(done))
	}
	k := b.k.job
	if ids, lines := b.c.SCard(ctx, k[kLogID]).Val(), b.c.ZCard(ctx, k[kLogR]).Val(); ids != 60 || lines != 60 {
		t.Fatalf("after the job Purge %d log ids and %d lines are left, want 60", ids, lines)
	}
	// Each batch lost half its locators; what is left still purges by time.
	nl, err := s.Logs().Purge(ctx, t0.Add(12*time.Second), 1000)
	must(t, err)
	nh, err := s.History().Purge(ctx, t0.Add(12*time.Second), 1000)
	must(t, err)
	// round 0 (20 lines of live jobs, 0..4 s), round 1 before 12 s (i%5 in 0, 1: 8)
	if nl != 28 || nh != 28 {
		t.Errorf("Purge by time deleted %d lines and %d rows, want 28 each", nl, nh)
	}
	for _, c := range []struct {
		key string
		n   int64
	}{{k[kLogID], b.c.SCard(ctx, k[kLogID]).Val()}, {k[kLogR], b.c.ZCard(ctx, k[kLogR]).Val()},
		{k[kHistID], b.c.SCard(ctx, k[kHistID]).Val()}, {k[kHistR], b.c.ZCard(ctx, k[kHistR]).Val()}} {
		if c.n != 32 {
			t.Errorf("%s holds %d entries, want 32", c.key, c.n)
		}
	}
	nl, err = s.Logs().Purge(ctx, t0.Add(time.Hour), 1000)
	must(t, err)
	nh, err = s.History().Purge(ctx, t0.Add(time.Hour), 1000)
	must(t, err)
	if nl != 32 || nh != 32 {
		t.Errorf("the last Purge deleted %d lines and %d rows, want 32 each", nl, nh)
	}
	for _, key := range []string{k[kLogBT], k[kLogBL], k[kHistBT], k[kHistBL], k[kLogID], k[kHistID]} {
		if b.c.Exists(ctx, key).Val() != 0 {
			t.Errorf("%s is left after everything was purged", key)
		}
	}
}

// TestL1_ConcurrentAppendsKeepWrittenOrder: writers appending to the same
// jobs at once; each writer's lines list in the order it wrote them, and
// cursor paging across many batches neither skips nor repeats (L1, E4).
func TestL1_ConcurrentAppendsKeepWrittenOrder(t *testing.T) {
	s, _ := openStore(t)
	ctx := ctxT(t)
	jobs := []string{stores.NewID(), stores.NewID()}
	const writers, calls = 4, 30
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := 0; c < calls; c++ {
				var batch []*stores.LogEntry
				for k := 0; k < 3; k++ {
					for _, j := range jobs {
						batch = append(batch, &stores.LogEntry{JobID: j, Timestamp: t0, Message: fmt.Sprintf("%d %03d", w, 3*c+k)})
					}
				}
				if err := s.Logs().Append(ctx, batch); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	for _, j := range jobs {
		got := logMessages(t, s, j, 7)
		if len(got) != writers*calls*3 {
			t.Fatalf("job lists %d lines, want %d", len(got), writers*calls*3)
		}
		last := map[string]string{}
		for _, m := range got {
			w := m[:1]
			if m <= last[w] {
				t.Fatalf("writer %s's line %q listed after %q", w, m, last[w])
			}
			last[w] = m
		}
	}
}
