package ent_test

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/orchestrix/persistence/abstractions/stores"
	"github.com/orchestrix/persistence/ent"
)

// TestSQLiteCheckpointsOffTheWriter: on a SQLite file the writer leaves
// checkpoints to the checkpointer (its own start at 10,000 pages of log),
// and what a write commits still reaches the database file itself soon
// after, without another write. An immutable connection reads only that
// file, never the log.
func TestSQLiteCheckpointsOffTheWriter(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "checkpoint.db")
	st, err := stores.OpenContext(ctx, "ent", "sqlite://"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var pages int
	if err := st.Backend().(*ent.Backend).DB().QueryRowContext(ctx, "PRAGMA wal_autocheckpoint").Scan(&pages); err != nil {
		t.Fatal(err)
	}
	if pages != 10000 {
		t.Errorf("the writer checkpoints at %d pages, want 10000", pages)
	}
	jobs := make([]*stores.Job, 500)
	for i := range jobs {
		jobs[i] = &stores.Job{Type: "checkpoint.task", Queue: "default", Args: []byte(fmt.Sprintf(`{"i":%d}`, i))}
	}
	if err := st.Jobs().EnqueueMany(ctx, jobs); err != nil {
		t.Fatal(err)
	}
	inFile := func() (int, error) {
		db, err := sql.Open("sqlite", "file:"+path+"?immutable=1")
		if err != nil {
			return 0, err
		}
		defer db.Close()
		var n int
		err = db.QueryRowContext(ctx, "SELECT count(*) FROM jobs").Scan(&n)
		return n, err
	}
	var n int
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if n, err = inFile(); err == nil && n == len(jobs) {
			return
		}
	}
	t.Fatalf("the database file holds %d of %d committed jobs 10s after the commit (last error %v): no checkpoint ran", n, len(jobs), err)
}

// TestSQLiteTempStoreInMemory: every write runs with temp_store=memory, so
// the statement journal of a batch UPDATE never goes to a temporary file.
func TestSQLiteTempStoreInMemory(t *testing.T) {
	ctx := t.Context()
	for _, dsn := range []string{"sqlite://" + filepath.Join(t.TempDir(), "temp.db"), "sqlite://:memory:"} {
		st, err := stores.OpenContext(ctx, "ent", dsn)
		if err != nil {
			t.Fatal(err)
		}
		var mode int
		if err := st.Backend().(*ent.Backend).DB().QueryRowContext(ctx, "PRAGMA temp_store").Scan(&mode); err != nil {
			t.Fatal(err)
		}
		if mode != 2 {
			t.Errorf("%s: the writer runs with temp_store %d, want 2 (memory)", dsn, mode)
		}
		st.Close()
	}
}
