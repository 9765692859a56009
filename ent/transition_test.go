package ent_test

import (
	"database/sql"
	"net/url"
	"testing"
	"time"

	"github.com/orchestrix/persistence/abstractions/stores"
)

// TestJ5_ManyTransitionsSurviveAConcurrentChange: on PostgreSQL
// CompleteMany and MarkRunningMany change the rows they probed by ctid. A
// job whose row another transaction changes (here ClaimForFollower's
// column, from a second connection) while the batch waits for its lock
// has a new row version by then: the batch must still move it, not report
// a conflict, and keep the other transaction's change (J5, J6).
func TestJ5_ManyTransitionsSurviveAConcurrentChange(t *testing.T) {
	admin := requirePostgres(t)
	ctx := t.Context()
	b, st, app := openNamedPostgres(t, "orchestrix_j5_", nil)

	for _, c := range []struct {
		name  string
		start bool // dispatch straight to running
		move  func(refs []stores.Ref) ([]error, error)
		want  stores.JobStatus
	}{
		{"CompleteMany", true, func(refs []stores.Ref) ([]error, error) {
			return st.Jobs().CompleteMany(ctx, refs, time.Now())
		}, stores.StatusCompleted},
		{"MarkRunningMany", false, func(refs []stores.Ref) ([]error, error) {
			return st.Jobs().MarkRunningMany(ctx, refs, "w2", time.Now())
		}, stores.StatusRunning},
	} {
		queue := randomName("q")
		jobs := make([]*stores.Job, 10)
		for i := range jobs {
			jobs[i] = &stores.Job{Type: "j5", Queue: queue}
		}
		if err := st.Jobs().EnqueueMany(ctx, jobs); err != nil {
			t.Fatal(err)
		}
		got, err := st.Jobs().Dispatch(ctx, stores.DispatchParams{Queues: []string{queue}, Limit: 10, Now: time.Now(), WorkerID: "w1", Start: c.start})
		if err != nil || len(got) != 10 {
			t.Fatalf("%s: Dispatch: %d jobs, %v", c.name, len(got), err)
		}
		refs := make([]stores.Ref, len(got))
		for i, j := range got {
			refs[i] = j.Ref()
		}
		// Hold a change of job 3's row open in another transaction.
		tx, err := admin.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.ExecContext(ctx, "UPDATE "+b.schema+".jobs SET follower_node_id = 'node-9' WHERE id = $1", got[3].ID); err != nil {
			t.Fatal(err)
		}
		type outcome struct {
			results []error
			err     error
		}
		done := make(chan outcome, 1)
		go func() {
			results, err := c.move(refs)
			done <- outcome{results, err}
		}()
		waitForLockWait(t, admin, app)
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		out := <-done
		if out.err != nil {
			t.Fatalf("%s: %v", c.name, out.err)
		}
		for i, e := range out.results {
			if e != nil {
				t.Errorf("%s: job %d: %v, want it moved", c.name, i, e)
			}
		}
		for i, j := range got {
			stored, err := st.Jobs().Get(ctx, j.ID)
			if err != nil {
				t.Fatal(err)
			}
			if stored.Status != c.want {
				t.Errorf("%s: job %d is %s, want %s", c.name, i, stored.Status, c.want)
			}
			if i == 3 && stored.FollowerNodeID != "node-9" {
				t.Errorf("%s: the concurrent change of job 3 was lost: follower %q", c.name, stored.FollowerNodeID)
			}
		}
	}
}

// waitForLockWait waits until a connection of application app waits for a
// row lock.
func waitForLockWait(t *testing.T, admin *sql.DB, app string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		var n int
		if err := admin.QueryRowContext(t.Context(), `SELECT count(*) FROM pg_stat_activity
WHERE application_name = $1 AND wait_event_type = 'Lock'`, app).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return
		}
		time.Sleep(2 * time.Millisecond)
	}
	t.Fatal("the batch never waited for the row lock")
}

// TestJ4_DispatchPlanSettingStaysLocal: Dispatch of one queue on
// PostgreSQL turns bitmap scans off for its own transaction (SET LOCAL);
// the store's only connection must have them back on afterwards, for every
// other statement of the store.
func TestJ4_DispatchPlanSettingStaysLocal(t *testing.T) {
	ctx := t.Context()
	b, st, _ := openNamedPostgres(t, "orchestrix_plan_", url.Values{"max_open_conns": {"1"}})
	if err := st.Jobs().Enqueue(ctx, &stores.Job{Type: "plan", Queue: "q"}); err != nil {
		t.Fatal(err)
	}
	got, err := st.Jobs().Dispatch(ctx, stores.DispatchParams{Queues: []string{"q"}, Limit: 10, Now: time.Now()})
	if err != nil || len(got) != 1 {
		t.Fatalf("Dispatch: %d jobs, %v", len(got), err)
	}
	var setting string
	if err := b.DB().QueryRowContext(ctx, "SHOW enable_bitmapscan").Scan(&setting); err != nil {
		t.Fatal(err)
	}
	if setting != "on" {
		t.Fatalf("enable_bitmapscan is %q on the store's connection after Dispatch, want on", setting)
	}
}
