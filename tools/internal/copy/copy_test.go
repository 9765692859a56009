package copy

import (
	"bytes"
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/orchestrix/persistence/abstractions/stores"
	_ "github.com/orchestrix/persistence/ent"
	_ "github.com/orchestrix/persistence/redis"
	"github.com/orchestrix/persistence/tools/internal/cli"
	"github.com/orchestrix/persistence/tools/internal/inspect"
	"github.com/orchestrix/persistence/tools/internal/testenv"
)

func run(t *testing.T, f func(context.Context, cli.Env, []string) int, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := f(context.Background(), cli.Env{Stdout: &out, Stderr: &errb}, args)
	return code, out.String(), errb.String()
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// populate fills a SQLite store with every kind of record: jobs in every
// status, history, logs, schedules (one disabled), workers and nodes in
// every status, a leader, and dead letters made by MoveToDeadLetter.
func populate(t *testing.T) string {
	t.Helper()
	dsn := "sqlite://" + filepath.Join(t.TempDir(), "source.db")
	s, err := stores.Open("ent", dsn)
	must(t, err)
	defer s.Close()
	ctx := context.Background()
	now := time.Now()
	var jobs []*stores.Job
	for i := 0; i < 25; i++ {
		jobs = append(jobs, &stores.Job{Type: "t" + string(rune('a'+i%3)), Queue: "q", Args: []byte(`{"i":1}`), Priority: i % 4,
			MaxRetries: 2, RetryPolicy: stores.RetryPolicy{InitialDelay: time.Second, Multiplier: 2}, CreatedAt: now.Add(time.Duration(i) * time.Microsecond)})
	}
	jobs[0].UniqueKey = "only-one"
	jobs[1].ScheduledAt = now.Add(time.Hour)
	must(t, s.Jobs().EnqueueMany(ctx, jobs))
	got, err := s.Jobs().Dispatch(ctx, stores.DispatchParams{Limit: 12, Now: now, WorkerID: "w1"})
	must(t, err)
	for i, j := range got {
		_, err := s.Jobs().MarkRunning(ctx, j.Ref(), "w1", now)
		must(t, err)
		must(t, s.History().Append(ctx, &stores.JobHistory{JobID: j.ID, Attempt: int(j.Attempt), WorkerID: "w1", StartedAt: now, CompletedAt: now, Status: stores.StatusCompleted}))
		must(t, s.Logs().Append(ctx, []*stores.LogEntry{{JobID: j.ID, Level: "info", Message: "one"}, {JobID: j.ID, Level: "warn", Message: "two"}}))
		switch i % 4 {
		case 0:
			must(t, s.Jobs().Complete(ctx, j.Ref(), now))
		case 1:
			must(t, s.Jobs().Fail(ctx, j.Ref(), "boom", now))
		case 2:
			_, err := s.Jobs().MoveToDeadLetter(ctx, j.Ref(), "dead", now)
			must(t, err)
		}
	}
	must(t, s.Jobs().ClaimForFollower(ctx, jobs[24].ID, "n1"))
	_, err = s.Cron().Register(ctx, &stores.CronSchedule{ScheduleFields: stores.ScheduleFields{Name: "nightly", JobType: "r", Queue: "q", Enabled: true}, Expression: "0 3 * * *", TimeZone: "Europe/Berlin"})
	must(t, err)
	iv, err := s.Intervals().Register(ctx, &stores.IntervalSchedule{ScheduleFields: stores.ScheduleFields{Name: "poll", JobType: "p", Queue: "q"}, Interval: time.Minute})
	must(t, err)
	must(t, s.Intervals().SetEnabled(ctx, iv.ID, false))
	for _, w := range []string{"w1", "w2", "w3"} {
		_, err := s.Workers().Heartbeat(ctx, &stores.Worker{ID: w, HostName: "h", Queues: []string{"q"}, MaxConcurrency: 5, CurrentLoad: 2, Metadata: []byte(`{"v":1}`)}, now)
		must(t, err)
	}
	must(t, s.Workers().MarkDraining(ctx, "w2"))
	must(t, s.Workers().MarkOffline(ctx, "w3"))
	for _, n := range []string{"n1", "n2"} {
		_, err := s.Nodes().Heartbeat(ctx, &stores.CoordinatorNode{ID: n, HostName: "h", ProcessID: 7}, now)
		must(t, err)
	}
	_, err = s.Nodes().AdjustJobCount(ctx, "n1", 3)
	must(t, err)
	must(t, s.Nodes().SetRole(ctx, "n1", stores.RoleLeader))
	must(t, s.Nodes().MarkOffline(ctx, "n2"))
	_, err = s.Nodes().AcquireLeadership(ctx, "n1", now, time.Hour)
	must(t, err)
	return dsn
}

// snapshot is what inspect shows of a store, as JSON per entity.
func snapshot(t *testing.T, driver, dsn string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, what := range []string{"jobs", "schedules", "dead-letters", "workers"} {
		code, o, stderr := run(t, inspect.Run, what, "--driver", driver, "--dsn", dsn, "--json", "--limit", "1000")
		if code != cli.ExitOK {
			t.Fatalf("inspect %s: exit %d: %s", what, code, stderr)
		}
		out[what] = o
	}
	// Nodes without the lease, which is not copied.
	code, o, _ := run(t, inspect.Run, "nodes", "--driver", driver, "--dsn", dsn)
	if code != cli.ExitOK {
		t.Fatalf("inspect nodes: exit %d", code)
	}
	out["nodes"] = strings.Split(o, "leader:")[0]
	return out
}

func copyAndCompare(t *testing.T, src, toDriver, to string) {
	t.Helper()
	args := []string{"--from-driver", "ent", "--from", src, "--to-driver", toDriver, "--to", to, "--batch", "7"}
	code, out, stderr := run(t, Run, args...)
	if code != cli.ExitOK {
		t.Fatalf("copy: exit %d: %s\n%s", code, stderr, out)
	}
	for _, want := range []string{"jobs:               22 copied", "dead letters:       3 copied", "history rows:       12 copied", "log lines:          24 copied", "verified:"} {
		if !strings.Contains(out, want) {
			t.Errorf("copy output lacks %q:\n%s", want, out)
		}
	}
	before, after := snapshot(t, "ent", src), snapshot(t, toDriver, to)
	for k := range before {
		if before[k] != after[k] {
			t.Errorf("inspect %s differs:\nsource: %s\ntarget: %s", k, before[k], after[k])
		}
	}
	// A re-run copies nothing and still verifies.
	code, out, stderr = run(t, Run, args...)
	if code != cli.ExitOK || !strings.Contains(out, "jobs:               0 copied, 22 already there") || !strings.Contains(out, "log lines:          0 copied, 24 already there") {
		t.Fatalf("re-run: exit %d: %s\n%s", code, stderr, out)
	}
}

func TestCopySQLiteToSQLite(t *testing.T) {
	copyAndCompare(t, populate(t), "ent", "sqlite://"+filepath.Join(t.TempDir(), "target.db"))
}

func TestCopySQLiteToPostgres(t *testing.T) {
	base := testenv.PostgresDSN(t)
	admin, err := stores.Open("ent", base+"&migrate=false")
	must(t, err)
	t.Cleanup(func() { admin.Close() })
	db := admin.Backend().(interface{ DB() *sql.DB }).DB()
	name := testenv.Name("orx_copy_")
	if _, err := db.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		if _, err := db.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)"); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	to := strings.Replace(base, "/test?", "/"+name+"?", 1)
	if to == base {
		t.Skipf("cannot derive a database name from %s", stores.RedactDSN(base))
	}
	copyAndCompare(t, populate(t), "ent", to)
}

func TestCopySQLiteToRedis(t *testing.T) {
	to := testenv.RedisDSN(t) + "?prefix=" + testenv.Name("orxcopy-")
	t.Cleanup(func() {
		s, err := stores.Open("redis", to)
		if err != nil {
			return
		}
		defer s.Close()
		if d, ok := s.Backend().(interface{ DeleteAll(context.Context) error }); ok {
			_ = d.DeleteAll(context.Background())
		}
	})
	copyAndCompare(t, populate(t), "redis", to)
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{{}, {"--from-driver", "ent"}, {"--from-driver", "ent", "--to-driver", "ent", "--from", "x", "--to", "x"},
		{"--bogus"}, {"--from-driver", "nope", "--to-driver", "ent", "--to", "sqlite:///tmp/x"}, {"--from-driver", "ent", "--to-driver", "ent", "--batch", "0"}} {
		code, out, stderr := run(t, Run, args...)
		if code != cli.ExitUsage || out != "" || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%v: exit %d stdout %q stderr %q", args, code, out, stderr)
		}
	}
	if code, out, _ := run(t, Run, "--help"); code != cli.ExitOK || !strings.Contains(out, "Examples:") || !strings.Contains(out, "lease is not copied") {
		t.Errorf("--help: %d\n%s", code, out)
	}
}
