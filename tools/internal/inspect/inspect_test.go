package inspect

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/orchestrix/persistence/abstractions/stores"
	_ "github.com/orchestrix/persistence/ent"
	"github.com/orchestrix/persistence/tools/internal/cli"
)

func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Run(context.Background(), cli.Env{Stdout: &out, Stderr: &errb}, args)
	return code, out.String(), errb.String()
}

// populated returns the DSN of a SQLite store holding 5 jobs (2 failed),
// a cron and an interval schedule, 3 workers, 2 nodes with a leader, and
// a dead letter.
func populated(t *testing.T) string {
	t.Helper()
	dsn := "sqlite://" + filepath.Join(t.TempDir(), "inspect.db")
	ctx := context.Background()
	s, err := stores.Open("ent", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	now := time.Now()
	for i := 0; i < 5; i++ {
		j := &stores.Job{Type: "email", Queue: "mail", CreatedAt: now.Add(time.Duration(i) * time.Millisecond)}
		if i < 2 {
			j.Status, j.LastError, j.CompletedAt = stores.StatusFailed, "smtp: 554\nrejected", now
		}
		if err := s.Jobs().Enqueue(ctx, j); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Jobs().Enqueue(ctx, &stores.Job{Type: "report", Queue: "batch"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Cron().Register(ctx, &stores.CronSchedule{ScheduleFields: stores.ScheduleFields{Name: "nightly", JobType: "report", Queue: "batch", Enabled: true}, Expression: "0 3 * * *", TimeZone: "Europe/Berlin"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Intervals().Register(ctx, &stores.IntervalSchedule{ScheduleFields: stores.ScheduleFields{Name: "poll", JobType: "poll", Queue: "batch", Enabled: true}, Interval: time.Minute}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"w-c", "w-a", "w-b"} {
		if _, err := s.Workers().Heartbeat(ctx, &stores.Worker{ID: id, Queues: []string{"mail"}, MaxConcurrency: 4}, now); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []string{"n-1", "n-2"} {
		if _, err := s.Nodes().Heartbeat(ctx, &stores.CoordinatorNode{ID: id}, now); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Nodes().AcquireLeadership(ctx, "n-2", now, time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := s.DeadLetters().Add(ctx, &stores.DeadLetter{Job: stores.Job{ID: stores.NewID(), Type: "email", Queue: "mail"}, LastError: "gave up", TotalAttempts: 3}); err != nil {
		t.Fatal(err)
	}
	return dsn
}

func TestJobsFiltersAndPaging(t *testing.T) {
	dsn := populated(t)
	code, out, stderr := run(t, "jobs", "--driver", "ent", "--dsn", dsn, "--queue", "mail", "--limit", "3")
	if code != cli.ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 5 || !strings.HasPrefix(lines[0], "ID ") || !strings.HasPrefix(lines[4], "next cursor: ") {
		t.Fatalf("want header, 3 rows and a cursor:\n%s", out)
	}
	cursor := strings.TrimPrefix(lines[4], "next cursor: ")
	code, out, _ = run(t, "jobs", "--driver", "ent", "--dsn", dsn, "--queue", "mail", "--limit", "3", "--cursor", cursor, "--json")
	if code != cli.ExitOK {
		t.Fatalf("page 2: exit %d", code)
	}
	var p2 struct {
		Jobs []stores.Job
		Next string
	}
	if err := json.Unmarshal([]byte(out), &p2); err != nil || len(p2.Jobs) != 2 || p2.Next != "" {
		t.Fatalf("page 2 should hold the last 2 jobs: %v\n%s", err, out)
	}
	code, out, _ = run(t, "jobs", "--driver", "ent", "--dsn", dsn, "--status", "failed", "--type", "email")
	if code != cli.ExitOK || strings.Count(out, " failed ") != 2 || strings.Count(out, "\n") != 3 {
		t.Fatalf("want 2 failed jobs, errors on one line:\n%s", out)
	}
	if !strings.Contains(out, "smtp: 554 rejected") {
		t.Errorf("last error should be shown on one line:\n%s", out)
	}
}

func TestSchedulesWorkersNodesDeadLetters(t *testing.T) {
	dsn := populated(t)
	code, out, _ := run(t, "schedules", "--driver", "ent", "--dsn", dsn)
	if code != cli.ExitOK || !strings.Contains(out, "0 3 * * * Europe/Berlin") || !strings.Contains(out, "every 1m0s") {
		t.Fatalf("schedules: exit %d\n%s", code, out)
	}
	code, out, _ = run(t, "schedules", "--driver", "ent", "--dsn", dsn, "--limit", "1")
	if code != cli.ExitOK || !strings.Contains(out, "next cursor: cron:nightly") {
		t.Fatalf("schedules page 1:\n%s", out)
	}
	code, out, _ = run(t, "schedules", "--driver", "ent", "--dsn", dsn, "--limit", "1", "--cursor", "cron:nightly")
	if code != cli.ExitOK || !strings.Contains(out, "poll") || strings.Contains(out, "nightly") {
		t.Fatalf("schedules page 2:\n%s", out)
	}
	code, out, _ = run(t, "workers", "--driver", "ent", "--dsn", dsn, "--limit", "2")
	if code != cli.ExitOK || !strings.Contains(out, "w-a") || !strings.Contains(out, "w-b") || strings.Contains(out, "w-c") || !strings.Contains(out, "next cursor: w-b") {
		t.Fatalf("workers page 1:\n%s", out)
	}
	code, out, _ = run(t, "workers", "--driver", "ent", "--dsn", dsn, "--cursor", "w-b")
	if code != cli.ExitOK || !strings.Contains(out, "w-c") || strings.Contains(out, "w-a") {
		t.Fatalf("workers page 2:\n%s", out)
	}
	code, out, _ = run(t, "nodes", "--driver", "ent", "--dsn", dsn)
	if code != cli.ExitOK || !strings.Contains(out, "leader: n-2, term 1") {
		t.Fatalf("nodes:\n%s", out)
	}
	code, out, _ = run(t, "dead-letters", "--driver", "ent", "--dsn", dsn, "--json")
	var dl struct {
		DeadLetters []stores.DeadLetter `json:"dead_letters"`
	}
	if code != cli.ExitOK || json.Unmarshal([]byte(out), &dl) != nil || len(dl.DeadLetters) != 1 || dl.DeadLetters[0].LastError != "gave up" {
		t.Fatalf("dead letters:\n%s", out)
	}
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{
		{}, {"things"}, {"jobs"}, {"jobs", "--driver", "inmemory", "--status", "weird"},
		{"jobs", "--driver", "inmemory", "--limit", "0"}, {"workers", "--driver", "inmemory", "--status", "x"},
		{"jobs", "--driver", "inmemory", "--cursor", "not-a-cursor"}, {"schedules", "--driver", "inmemory", "--kind", "yearly"},
	} {
		code, out, stderr := run(t, args...)
		if code != cli.ExitUsage || out != "" || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%v: exit %d stdout %q stderr %q", args, code, out, stderr)
		}
	}
	if code, out, _ := run(t, "jobs", "--help"); code != cli.ExitOK || !strings.Contains(out, "Examples:") {
		t.Errorf("--help: %d\n%s", code, out)
	}
}
