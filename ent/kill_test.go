package ent_test

import (
	"context"
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
	app := randomName("orchestrix_kill_")
	b, err := openPostgresSchema(ctx, t, url.Values{"application_name": {app}, "max_open_conns": {"1"}})
	if err != nil {
		t.Fatal(err)
	}
	st := stores.Wrap("ent", b)
	defer st.Close()

	// The killer waits until the store's connection has been running the
	// batch's statement for a while (so part of the batch is written: on
	// PostgreSQL one INSERT … SELECT FROM unnest holds the whole batch),
	// then terminates it.
	killed := make(chan error, 1)
	go func() {
		deadline := time.Now().Add(30 * time.Second)
		for time.Now().Before(deadline) {
			var ok bool
			err := admin.QueryRowContext(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
WHERE application_name = $1 AND state = 'active' AND now() - query_start > interval '5 milliseconds'`, app).Scan(&ok)
			if err == nil && ok {
				killed <- nil
				return
			}
			time.Sleep(2 * time.Millisecond)
		}
		killed <- context.DeadlineExceeded
	}()

	created := time.Now().Add(-time.Hour)
	batch := make([]*stores.Job, stores.MaxBatch)
	for i := range batch {
		batch[i] = &stores.Job{Type: "kill", Queue: "q", Args: []byte(`{"i": 1}`), CreatedAt: created.Add(time.Duration(i) * time.Microsecond)}
	}
	// Every call is all or nothing, and its result says which: a call that
	// returned an error stored none of its jobs, a call that returned nil
	// stored all of them. (database/sql runs a statement again on a fresh
	// connection when the driver reports the old one dead before any
	// result, so a single-statement batch whose connection was terminated
	// may still succeed: then it must be stored exactly once, in full.)
	type attempt struct {
		ids string
		err error
	}
	var attempts []attempt
	struck := false
	for range 20 { // until the killer strikes during a call
		err := st.Jobs().EnqueueMany(ctx, batch)
		attempts = append(attempts, attempt{idsArray(batch), err})
		select {
		case kerr := <-killed:
			if kerr != nil {
				t.Fatalf("the batch's backend was never seen running its statement: %v", kerr)
			}
			struck = true
		default:
		}
		if struck || err != nil {
			break
		}
		for _, j := range batch {
			j.ID = ""
		}
	}
	if !struck {
		if err := <-killed; err != nil {
			t.Fatalf("the batch's backend was never seen running its statement: %v", err)
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
