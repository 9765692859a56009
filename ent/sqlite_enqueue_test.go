package ent_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/orchestrix/persistence/abstractions/stores"
)

// TestSQLiteEnqueueManyChunks: on SQLite, EnqueueMany runs batches as
// prepared 100-row INSERTs plus one INSERT for the rest, in one transaction
// when there is more than one (J1). Every size stores every job, and a
// duplicate in the last statement of a batch leaves none of it.
func TestSQLiteEnqueueManyChunks(t *testing.T) {
	ctx := t.Context()
	st, err := stores.OpenContext(ctx, "ent", "sqlite://"+filepath.Join(t.TempDir(), "chunks.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	created := time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC)
	batch := func(n int) []*stores.Job {
		jobs := make([]*stores.Job, n)
		for i := range jobs {
			jobs[i] = &stores.Job{ID: stores.NewID(), Type: "chunk.task", Queue: fmt.Sprintf("q%d", n),
				Args: []byte(fmt.Sprintf(`{"i":%d}`, i)), CreatedAt: created.Add(time.Duration(i) * time.Microsecond)}
		}
		return jobs
	}
	for _, n := range []int{1, 99, 100, 101, 250, 300} {
		jobs := batch(n)
		if err := st.Jobs().EnqueueMany(ctx, jobs); err != nil {
			t.Fatalf("EnqueueMany of %d: %v", n, err)
		}
		for _, i := range []int{0, n / 2, n - 1} {
			got, err := st.Jobs().Get(ctx, jobs[i].ID)
			if err != nil {
				t.Fatalf("batch of %d, job %d: %v", n, i, err)
			}
			if got.Queue != jobs[i].Queue || string(got.Args) != string(jobs[i].Args) || !got.CreatedAt.Equal(jobs[i].CreatedAt) {
				t.Errorf("batch of %d, job %d: got %+v, want %+v", n, i, got, jobs[i])
			}
		}
		page, err := st.Jobs().Query(ctx, stores.JobQuery{Queues: []string{jobs[0].Queue}, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Jobs) != n {
			t.Errorf("batch of %d: queue holds %d jobs", n, len(page.Jobs))
		}
	}
	for _, n := range []int{100, 250} {
		jobs := batch(n)
		jobs[n-1].ID = jobs[0].ID
		err := st.Jobs().EnqueueMany(ctx, jobs)
		if !errors.Is(err, stores.ErrAlreadyExists) {
			t.Fatalf("EnqueueMany of %d holding one ID twice: %v, want ErrAlreadyExists", n, err)
		}
		for _, i := range []int{0, 1, n - 2} {
			if _, err := st.Jobs().Get(ctx, jobs[i].ID); !errors.Is(err, stores.ErrNotFound) {
				t.Errorf("job %d of the rejected batch of %d: %v, want ErrNotFound", i, n, err)
			}
		}
	}
}
