package ent_test

import (
	"net/url"
	"testing"
	"time"

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

	// The killer waits until the store's connection has been running the
	// batch's statement for a while (so part of the batch is written: on
	// PostgreSQL one INSERT … SELECT FROM unnest holds the whole batch),
	// then terminates it.
	// killDuring terminates the batch's backend once its statement has been
	// running for a few milliseconds, until stop is closed.
	killDuring := func(stop <-chan struct{}) <-chan bool {
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
WHERE application_name = $1 AND state = 'active' AND now() - query_start > interval '5 milliseconds'`, app).Scan(&ok)
				if err == nil && ok {
					struck <- true
					return
				}
				time.Sleep(time.Millisecond)
			}
		}()
		return struck
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
