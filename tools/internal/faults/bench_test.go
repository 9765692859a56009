package faults

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

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

// benchDuring runs `orchestrix-store bench --scenario cluster` on
// driver/dsn, applies fault part-way through the run, and checks that the
// run completed with every invariant holding (strictly: no tolerance) and
// that the fault was felt. With retrying the run goes through the retrying
// driver (Retrying), which repeats calls and reconciles writes whose reply
// was lost; without, the bench meets the errors itself and must ride them
// out (it retries transient errors and counts them, transient_errors).
func benchDuring(t *testing.T, driver, dsn string, retrying bool, fault func() error) {
	t.Helper()
	RegisterRetrying()
	duration := benchDuration(t)
	retriesBefore := RetryStats.Retries.Load()
	if retrying {
		driver = "retry+" + driver
	}
	var out, errb bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- bench.Run(context.Background(), cli.Env{Stdout: &out, Stderr: &errb}, []string{"--scenario", "cluster",
			"--driver", driver, "--dsn", dsn, "--duration", duration.String(), "--jobs", "600", "--workers", "3", "--json"})
	}()
	// After the scenario's own crash (at 40%), while its detection is
	// pending (the dead timeout, 5s by default, outlasts any outage here,
	// so no live member is declared dead).
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
	t.Logf("bench exit %d, %d jobs, %d calls retried by the driver, %d ambiguous writes reconciled, %d transient errors retried by the bench; events:\n\t%s",
		code, r.Jobs, retries, RetryStats.Reconciled.Load(), r.TransientErrors, strings.Join(r.Events, "\n\t"))
	if r.Error != "" {
		t.Errorf("bench did not complete: exit %d, error %q", code, r.Error)
	}
	for name, inv := range r.Invariants {
		if !inv.OK {
			t.Errorf("invariant %s violated: %s %v", name, inv.Message, inv.Counts)
		}
	}
	if len(r.Invariants) == 0 {
		t.Errorf("no invariants checked; stderr: %s", errb.String())
	}
	if felt := retries + int64(r.TransientErrors); felt == 0 {
		t.Errorf("no call was retried: the fault never reached the run")
	}
}

// outage is how long a fault keeps the server down: longer than the
// clients' own retries (go-redis repeats a failed command for well under a
// second, and a quick Redis restart hid in them), so the run meets the
// errors, and shorter than the scenario's dead timeout (5s), so no live
// member is declared dead.
const outage = 2 * time.Second

// TestBenchClusterSurvivesPostgresRestart: PostgreSQL is restarted (fast
// shutdown: open transactions roll back, connections drop) and, in a second
// run, crashed (immediate shutdown, WAL replay on start) during a cluster
// run; once it is back the run completes with every invariant holding. The
// restart goes through the retrying driver, the crash straight to the bench.
func TestBenchClusterSurvivesPostgresRestart(t *testing.T) {
	p := StartPostgres(t)
	for _, f := range []struct {
		name     string
		stop     func() error
		retrying bool
	}{{"Restart", p.Stop, true}, {"Crash", p.Crash, false}} {
		t.Run(f.name, func(t *testing.T) {
			benchDuring(t, "ent", p.DSN("postgres"), f.retrying, func() error {
				if err := f.stop(); err != nil {
					return err
				}
				time.Sleep(outage)
				return p.Start()
			})
		})
	}
}

// TestBenchClusterSurvivesRedisRestart: Redis is restarted (SIGTERM) and,
// in a second run, killed (SIGKILL) during a cluster run; with the
// append-only file fsynced on every write, once it is back the run
// completes with every invariant holding. The restart goes through the
// retrying driver, the kill straight to the bench.
func TestBenchClusterSurvivesRedisRestart(t *testing.T) {
	r := StartRedis(t)
	for i, f := range []struct {
		name     string
		stop     func()
		retrying bool
	}{{"Restart", r.Stop, true}, {"Kill", r.Kill, false}} {
		t.Run(f.name, func(t *testing.T) {
			benchDuring(t, "redis", r.DSN(i, "bench"), f.retrying, func() error {
				f.stop()
				time.Sleep(outage)
				return r.Start()
			})
		})
	}
}
