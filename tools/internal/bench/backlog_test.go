package bench

import (
	"bytes"
	"context"
	"testing"

	"github.com/orchestrix/persistence/abstractions/stores"
	"github.com/orchestrix/persistence/tools/internal/cli"
)

// A burn-down with a backlog works only its own queue: the backlog's jobs
// are all stored, once each, and left pending; the run's invariants hold.
func TestBacklogStaysPendingInItsOwnQueue(t *testing.T) {
	ctx := context.Background()
	s, err := stores.Open("inmemory", "")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	cfg := Config{Scenario: "burndown", Jobs: 300, Workers: 3, Batch: 40, Backlog: 1234, Lean: true}.withDefaults("inmemory", "")
	var stderr bytes.Buffer
	r, err := runBurndown(ctx, cli.Env{Stdout: &bytes.Buffer{}, Stderr: &stderr}, cfg, s)
	if err != nil {
		t.Fatalf("burndown: %v (%s)", err, stderr.String())
	}
	if r.Backlog != 1234 {
		t.Errorf("result backlog = %d, want 1234", r.Backlog)
	}
	for name, inv := range r.Invariants {
		if !inv.OK {
			t.Errorf("%s: %+v", name, inv)
		}
	}
	if c := r.Invariants["terminal_once"].Counts["completed"]; c != 300 {
		t.Errorf("completed = %d, want 300", c)
	}
	seen := map[string]bool{}
	queues := map[string]bool{}
	for q := (stores.JobQuery{Limit: 500}); ; {
		page, err := s.Jobs().Query(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, j := range page.Jobs {
			if j.Type != "bench.backlog" {
				continue
			}
			if j.Status != stores.StatusPending || seen[j.ID] {
				t.Fatalf("backlog job %s: status %s, seen before %v", j.ID, j.Status, seen[j.ID])
			}
			seen[j.ID] = true
			queues[j.Queue] = true
		}
		if page.Next == "" {
			break
		}
		q.Cursor = page.Next
	}
	if len(seen) != 1234 || len(queues) != 1 {
		t.Errorf("backlog: %d jobs in %d queues, want 1234 in 1", len(seen), len(queues))
	}
}

func TestBacklogUsage(t *testing.T) {
	for _, args := range [][]string{
		{"--driver", "inmemory", "--backlog", "-1"},
		{"--driver", "inmemory", "--scenario", "cluster", "--backlog", "10"},
	} {
		if code, _, stderr := run(t, args...); code != cli.ExitUsage || !bytes.Contains([]byte(stderr), []byte("--backlog")) {
			t.Errorf("%v: exit %d, stderr %q; want a usage error naming --backlog", args, code, stderr)
		}
	}
}
