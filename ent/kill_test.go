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

	// The killer waits until the store's connection has been inside the
	// batch's transaction for a while (so some INSERTs of the batch have
	// run), then terminates it.
	killed := make(chan error, 1)
	go func() {
		deadline := time.Now().Add(30 * time.Second)
		for time.Now().Before(deadline) {
			var ok bool
			err := admin.QueryRowContext(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
WHERE application_name = $1 AND xact_start IS NOT NULL AND now() - xact_start > interval '50 milliseconds'`, app).Scan(&ok)
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
	var enqueueErr error
	for range 5 { // a batch that commits before the killer strikes is retried with new ids
		enqueueErr = st.Jobs().EnqueueMany(ctx, batch)
		if enqueueErr != nil {
			break
		}
		for _, j := range batch {
			j.ID = ""
		}
	}
	if err := <-killed; err != nil {
		t.Fatalf("the batch's backend was never seen in its transaction: %v", err)
	}
	if enqueueErr == nil {
		t.Fatal("EnqueueMany succeeded although its connection was terminated mid-batch")
	}
	t.Logf("EnqueueMany on a terminated connection: %v", enqueueErr)

	var stored int
	if err := admin.QueryRowContext(ctx, "SELECT count(*) FROM "+b.schema+".jobs WHERE type = 'kill' AND id = ANY($1::uuid[])",
		idsArray(batch)).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if stored != 0 {
		t.Fatalf("%d jobs of the failed batch are stored: not all-or-nothing", stored)
	}

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
