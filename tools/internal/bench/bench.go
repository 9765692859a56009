// Package bench implements `orchestrix-store bench`: it drives a store the
// way an Orchestrix cluster does, measures throughput and latency, and then
// checks the contract's invariants against what the store holds.
package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/orchestrix/persistence/abstractions/stores"
	"github.com/orchestrix/persistence/tools/internal/cli"
)

const usage = `Usage:
  orchestrix-store bench [flags]

Drives a store like an Orchestrix cluster, prints throughput and latency,
then checks invariants against what the store holds. A violated invariant
makes the exit code 1.

With no flags it runs on the embedded default: the ent driver on a fresh
SQLite file in a temporary folder (the path is printed; removed at the end
unless --keep).

Scenarios:
  burndown (default)  insert --jobs jobs with EnqueueMany in --insert-batch
      batches (default --batch; timed on its own), their IDs left empty for
      the store to generate, as most callers do (--caller-ids: the bench's
      own, which a store must look up before it stores them), then
      --workers workers loop: Dispatch a batch with Start (straight to
      running on the worker, as a worker that takes its own work does),
      then complete the batch with one log line and one history row per
      job in one CompleteRecorded call (one transaction where the store
      offers it), until every job is done. --lean completes with
      CompleteMany instead: it keeps the job
      lifecycle (running, then completed) and leaves out the log line and
      history row: the state machine alone, without the records a real
      worker also writes (River's lean run, fetch to running and complete,
      has the same two writes per job). --mark-running dispatches without
      Start and then calls MarkRunningMany on the batch: the lifecycle of a
      leader that dispatches jobs to workers which report their start, one
      write per job more.
      --backlog N first stores N pending jobs in another queue (untimed) and
      leaves them there: the burn-down's throughput as the table grows.
      Each timed phase starts right after a GC, as testing.B's runs do, so
      it is not charged for the garbage of the set-up before it.
  cluster  three coordinator nodes race for the leadership lease and renew
      it; the leader fires a cron schedule ("* * * * * *", every second) and
      a 250ms interval schedule (misfire policy fire_all, so no tick is lost
      on failover), reaps dead workers and nodes and recovers their jobs;
      nodes claim jobs as followers; --workers workers heartbeat, dispatch,
      run, fail a share of jobs (Retry with backoff, then MoveToDeadLetter)
      and complete the rest. Part-way the leader node and one worker crash
      (stop renewing and heartbeating); the survivors must detect and
      recover them. Runs for --duration, then drains. --jobs is spread over
      the run (default 2000 for this scenario). --lease is the leadership
      TTL (renewed every fifth of it); --dead-after is how long a silent
      worker or node lives before the leader declares it dead: keep it
      above a server restart and the machine's scheduling hiccups, or live
      members are declared dead (they learn it from their next heartbeat).
      A store error other than ErrConflict, ErrNotFound and
      ErrInvalidArgument is transient: the call is repeated with backoff
      and counted (transient_errors); an outage over 30s ends the run.
      The run stops firing and producing, waits until every node has seen
      that, then drains until no job of the run is unfinished.

Invariants checked at the end, through the public API:
  terminal_once      every job of the run is terminal or a dead letter, exactly
                     once, none lost and none extra
  dispatch_once      no (job, attempt) was handed to two dispatchers
  schedule_ticks     (cluster) no schedule tick fired twice, no gap between
                     the first and last tick
  fencing_monotonic  (cluster) each new leadership term is greater than every
                     term seen before
  leases_disjoint    (cluster) [acquired, expires) of distinct terms never overlap
  claim_exclusive    (cluster) no job had two follower owners at a time (a
                     claim after the owner's release is a handover)
  crash_recovered    (cluster) the crashed worker and node were found dead and
                     their jobs recovered or released

Defaults: --workers and --batch default per driver for a burn-down
(printed on stderr and in the output): ent on PostgreSQL 8 workers,
batch 1000; redis 8 workers, batch 500; ent on SQLite, inmemory and
others 4 workers, batch 1000. The cluster scenario: 4 workers, batch 100.

Several stores: repeat --driver and --dsn; they run one after another and
are compared side by side in one table. Pairing rules:
  no --dsn               each --driver runs on its default store (ent: a fresh
                         SQLite file; inmemory: ""; redis needs a --dsn)
  one --driver, n --dsn  that driver on every DSN
  n --driver, n --dsn    paired in order (an empty --dsn "" means the default)
Bench writes jobs to a queue of its own (bench-<run id>) and leaves them;
run it against a scratch database, never a production one.

Output: an aligned table, or with --json ONE JSON object: for a single store
the run itself {"driver", "dsn" (password redacted), "scenario", "jobs",
"seconds", "insert_jobs_per_sec", "work_jobs_per_sec", "ops": {"dispatch":
{"p50_ms", "p99_ms", "count"}, ...}, "invariants": {"terminal_once": {"ok",
"counts"}, ...}, "memory": {"every_seconds", "live_heap_mib": [...],
"start_mib", "end_mib", "peak_mib"}, "ok"}; for several stores {"runs":
[<run>, ...], "ok"}. Latency percentiles come from histograms with
buckets under 1/64 wide (within 1%); memory is the bench process's live
heap (after each GC) sampled every second from the start of the run to
the end of the drain, before the final checks read the store: start and
end are medians of the first and last quarter of the samples.
A progress bar is drawn on stderr when stdout is a terminal and --json is off.

Examples:
  orchestrix-store bench
  orchestrix-store bench --jobs 100000 --workers 8 --batch 500
  orchestrix-store bench --driver inmemory --driver ent
  orchestrix-store bench --driver ent --dsn sqlite:///tmp/a.db --dsn 'postgres://postgres@127.0.0.1:5432/bench?sslmode=disable'
  orchestrix-store bench --driver redis --dsn 'redis://127.0.0.1:6379/9?prefix=bench'
  orchestrix-store bench --scenario cluster --duration 20s --json
  orchestrix-store bench --lean --jobs 100000 --cpuprofile cpu.pprof   # then: go tool pprof -top cpu.pprof
                                                                      # (-tagfocus phase=work: the work phase only)
  orchestrix-store bench --scenario cluster --memprofile mem.pprof      # then: go tool pprof -sample_index=inuse_space -top mem.pprof
`

// Config is one bench run's parameters.
type Config struct {
	Scenario string
	Jobs     int
	Workers  int
	Batch    int
	// InsertBatch is the jobs of one EnqueueMany in a burn-down's insert
	// phase and backlog (--insert-batch; 0 until withDefaults: Batch).
	InsertBatch int
	Lean        bool
	// CallerIDs makes a burn-down give its jobs IDs of its own instead of
	// leaving them to the store (--caller-ids).
	CallerIDs bool
	// MarkRunning makes a burn-down dispatch without Start and then call
	// MarkRunningMany (--mark-running).
	MarkRunning bool
	// Backlog is how many pending jobs a burn-down first stores in another
	// queue and leaves there (--backlog).
	Backlog  int
	Duration time.Duration
	// Lease is the cluster scenario's leadership TTL; DeadAfter how long a
	// silent member lives before it is declared dead (W2).
	Lease, DeadAfter time.Duration
	Progress         bool // draw a progress bar on stderr
	// HeapProfile, when set, is called once a run has taken its last
	// memory sample (right after a GC), before the final checks read the
	// store: --memprofile then shows what the client holds at the end of
	// the run, its ledgers included.
	HeapProfile func()
}

// Target is one store to run against.
type Target struct {
	Driver string
	DSN    string
}

// OpStats is the latency of one operation.
type OpStats struct {
	P50Ms float64 `json:"p50_ms"`
	P99Ms float64 `json:"p99_ms"`
	Count int     `json:"count"`
}

// Invariant is the outcome of one invariant check.
type Invariant struct {
	OK      bool           `json:"ok"`
	Counts  map[string]int `json:"counts"`
	Message string         `json:"message,omitempty"`
}

// Result is one run: what --json prints for a single store.
type Result struct {
	Driver           string               `json:"driver"`
	DSN              string               `json:"dsn"`
	Scenario         string               `json:"scenario"`
	Jobs             int                  `json:"jobs"`
	Workers          int                  `json:"workers"`
	Batch            int                  `json:"batch"`
	InsertBatch      int                  `json:"insert_batch,omitempty"`
	Lean             bool                 `json:"lean"`
	MarkRunning      bool                 `json:"mark_running,omitempty"`
	CallerIDs        bool                 `json:"caller_ids,omitempty"`
	Backlog          int                  `json:"backlog,omitempty"`
	Seconds          float64              `json:"seconds"`
	InsertSeconds    float64              `json:"insert_seconds"`
	WorkSeconds      float64              `json:"work_seconds"`
	InsertJobsPerSec float64              `json:"insert_jobs_per_sec"`
	WorkJobsPerSec   float64              `json:"work_jobs_per_sec"`
	Ops              map[string]OpStats   `json:"ops"`
	Invariants       map[string]Invariant `json:"invariants"`
	TransientErrors  int                  `json:"transient_errors"` // store errors the cluster scenario retried
	Memory           *Memory              `json:"memory,omitempty"` // live heap through the run, before the final checks
	Events           []string             `json:"events,omitempty"`
	Error            string               `json:"error,omitempty"`
	OK               bool                 `json:"ok"`
}

// Run is the bench command.
func Run(ctx context.Context, env cli.Env, args []string) int {
	fs := cli.NewFlagSet(env, "bench", usage)
	var drivers, dsns cli.Strings
	fs.Var(&drivers, "driver", "driver name (repeatable, see pairing rules; default ent)")
	fs.Var(&dsns, "dsn", "data source name (repeatable; default: the driver's default store)")
	scenario := fs.String("scenario", "burndown", "burndown or cluster")
	jobs := fs.Int("jobs", 20000, "jobs to run (cluster: default 2000, spread over --duration)")
	workers := fs.Int("workers", 0, "concurrent workers (default: the driver's, see Defaults)")
	batch := fs.Int("batch", 0, "jobs per EnqueueMany, Dispatch, MarkRunningMany and CompleteMany (default: the driver's)")
	insertBatch := fs.Int("insert-batch", 0, "burndown: jobs per EnqueueMany of the insert phase and the backlog (default: --batch)")
	jsonOut := fs.Bool("json", false, "print one JSON object instead of a table")
	lean := fs.Bool("lean", false, "leave out the log line and history row per job")
	callerIDs := fs.Bool("caller-ids", false, "burndown: enqueue jobs with IDs the bench makes, not IDs the store generates (a store must then look each one up)")
	markRunning := fs.Bool("mark-running", false, "burndown: Dispatch without Start, then MarkRunningMany (one write per job more)")
	backlog := fs.Int("backlog", 0, "burndown: first store this many pending jobs in another queue, untimed, and leave them (throughput as the table grows)")
	duration := fs.Duration("duration", 10*time.Second, "how long the cluster scenario runs before draining")
	keep := fs.Bool("keep", false, "keep the temporary SQLite folder of a default ent store")
	lease := fs.Duration("lease", DefaultLease, "cluster: leadership lease TTL")
	deadAfter := fs.Duration("dead-after", DefaultDeadAfter, "cluster: a worker or node silent this long is declared dead")
	cpuProfile := fs.String("cpuprofile", "", "write a pprof CPU profile of the whole run to this file")
	memProfile := fs.String("memprofile", "", "write a pprof heap profile to this file at the end of the run, before the final checks (after a GC; several stores: the last)")
	if done, code := fs.Parse(args); done {
		return code
	}
	if fs.NArg() > 0 {
		return cli.Fail(env, "bench", cli.Usagef("unexpected argument %q (bench takes only flags)", fs.Arg(0)))
	}
	cfg := Config{Scenario: *scenario, Jobs: *jobs, Workers: *workers, Batch: *batch, InsertBatch: *insertBatch, Lean: *lean, CallerIDs: *callerIDs, MarkRunning: *markRunning, Backlog: *backlog,
		Duration: *duration, Lease: *lease, DeadAfter: *deadAfter, Progress: !*jsonOut && env.Terminal()}
	if fs.Set("workers") && cfg.Workers == 0 || fs.Set("batch") && cfg.Batch == 0 || fs.Set("insert-batch") && cfg.InsertBatch == 0 {
		return cli.Fail(env, "bench", cli.Usagef("--workers, --batch and --insert-batch must be at least 1"))
	}
	if cfg.Scenario == "cluster" && !fs.Set("jobs") {
		cfg.Jobs = 2000
	}
	if err := cfg.validate(); err != nil {
		return cli.Fail(env, "bench", err)
	}
	targets, err := pairTargets(drivers, dsns)
	if err != nil {
		return cli.Fail(env, "bench", err)
	}

	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return cli.Fail(env, "bench", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return cli.Fail(env, "bench", err)
		}
		defer pprof.StopCPUProfile()
	}
	if *memProfile != "" {
		f, err := os.Create(*memProfile) // now, so a bad path fails before the run
		if err != nil {
			return cli.Fail(env, "bench", err)
		}
		defer f.Close()
		cfg.HeapProfile = func() {
			// The caller has just run a GC: the profile shows live memory
			// as of now. A later run replaces an earlier one's.
			_, err := f.Seek(0, io.SeekStart)
			if err == nil {
				err = f.Truncate(0)
			}
			if err == nil {
				err = pprof.WriteHeapProfile(f)
			}
			if err != nil {
				fmt.Fprintf(env.Stderr, "%s bench: write the heap profile: %s\n", cli.Program, err)
			}
		}
	}
	var results []*Result
	for _, t := range targets {
		r, err := runTarget(ctx, env, cfg, t, *keep, *jsonOut)
		if err != nil {
			if errors.Is(err, context.Canceled) {
				return cli.Fail(env, "bench", errors.New("interrupted"))
			}
			var ue *cli.UsageError
			if errors.As(err, &ue) {
				return cli.Fail(env, "bench", err)
			}
			fmt.Fprintf(env.Stderr, "%s bench: %s %s: %s\n", cli.Program, t.Driver, stores.RedactDSN(t.DSN), cli.Redact(err.Error(), t.DSN))
			r = &Result{Driver: t.Driver, DSN: stores.RedactDSN(t.DSN), Scenario: cfg.Scenario, Jobs: cfg.Jobs, Error: cli.Redact(err.Error(), t.DSN)}
		}
		results = append(results, r)
	}

	ok := true
	for _, r := range results {
		ok = ok && r.OK
	}
	if *jsonOut {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		var v any = results[0]
		if len(results) > 1 {
			v = struct {
				Runs []*Result `json:"runs"`
				OK   bool      `json:"ok"`
			}{results, ok}
		}
		if err := enc.Encode(v); err != nil {
			return cli.Fail(env, "bench", err)
		}
	} else {
		printTable(env.Stdout, results)
	}
	if !ok {
		return cli.ExitFailure
	}
	return cli.ExitOK
}

func (c Config) validate() error {
	switch {
	case c.Scenario != "burndown" && c.Scenario != "cluster":
		return cli.Usagef("--scenario must be burndown or cluster, got %q", c.Scenario)
	case c.Jobs < 1:
		return cli.Usagef("--jobs must be at least 1, got %d", c.Jobs)
	case c.Backlog < 0:
		return cli.Usagef("--backlog must be 0 or more, got %d", c.Backlog)
	case c.Backlog > 0 && c.Scenario != "burndown":
		return cli.Usagef("--backlog applies to the burndown scenario only")
	case c.CallerIDs && c.Scenario != "burndown":
		return cli.Usagef("--caller-ids applies to the burndown scenario only (cluster jobs always carry the bench's IDs)")
	case c.MarkRunning && c.Scenario != "burndown":
		return cli.Usagef("--mark-running applies to the burndown scenario only (cluster workers always mark their jobs running)")
	case c.Workers < 0 || c.Workers > 1000:
		return cli.Usagef("--workers must be between 1 and 1000, got %d", c.Workers)
	case c.Batch < 0 || c.Batch > stores.MaxBatch:
		return cli.Usagef("--batch must be between 1 and %d, got %d", stores.MaxBatch, c.Batch)
	case c.InsertBatch < 0 || c.InsertBatch > stores.MaxBatch:
		return cli.Usagef("--insert-batch must be between 1 and %d, got %d", stores.MaxBatch, c.InsertBatch)
	case c.InsertBatch > 0 && c.Scenario != "burndown":
		return cli.Usagef("--insert-batch applies to the burndown scenario only")
	case c.Duration < time.Second:
		return cli.Usagef("--duration must be at least 1s, got %s", c.Duration)
	case c.Lease < 500*time.Millisecond:
		return cli.Usagef("--lease must be at least 500ms, got %s", c.Lease)
	case c.DeadAfter < 2*heartbeatEvery:
		return cli.Usagef("--dead-after must be at least %s (two heartbeats), got %s", 2*heartbeatEvery, c.DeadAfter)
	}
	return nil
}

// pairTargets applies the pairing rules of --driver and --dsn.
func pairTargets(drivers, dsns []string) ([]Target, error) {
	if len(drivers) == 0 {
		drivers = []string{"ent"}
	}
	var ts []Target
	switch {
	case len(dsns) == 0:
		for _, d := range drivers {
			ts = append(ts, Target{Driver: d})
		}
	case len(drivers) == 1:
		for _, dsn := range dsns {
			ts = append(ts, Target{Driver: drivers[0], DSN: dsn})
		}
	case len(drivers) == len(dsns):
		for i := range drivers {
			ts = append(ts, Target{Driver: drivers[i], DSN: dsns[i]})
		}
	default:
		return nil, cli.Usagef("%d --driver and %d --dsn flags: give one --driver for every --dsn (paired in order), a single --driver for all, or no --dsn", len(drivers), len(dsns))
	}
	for _, t := range ts {
		if !cli.Registered(t.Driver) {
			return nil, cli.Usagef("unknown driver %q; drivers built into this binary: %s", t.Driver, strings.Join(stores.Drivers(), ", "))
		}
	}
	return ts, nil
}

// runTarget opens one store (creating the default one when the DSN is
// empty), runs the scenario and closes it.
func runTarget(ctx context.Context, env cli.Env, cfg Config, t Target, keep, quiet bool) (*Result, error) {
	dsn := t.DSN
	fresh := false
	if dsn == "" {
		switch t.Driver {
		case "ent":
			dir, err := os.MkdirTemp("", "orchestrix-bench-*")
			if err != nil {
				return nil, err
			}
			path := filepath.Join(dir, "bench.db")
			if keep {
				fmt.Fprintf(env.Stderr, "bench: ent on a fresh SQLite file %s (kept)\n", path)
			} else {
				fmt.Fprintf(env.Stderr, "bench: ent on a fresh SQLite file %s (removed at the end; --keep keeps it)\n", path)
				defer os.RemoveAll(dir)
			}
			dsn = "sqlite://" + path
			fresh = true
		case "inmemory":
		default:
			return nil, cli.Usagef("driver %s has no default store: give it a --dsn", t.Driver)
		}
	}
	s, err := cli.Open(ctx, t.Driver, dsn)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	if fresh {
		if m, ok := s.Backend().(stores.Migrator); ok {
			if _, err := m.Migrate(ctx); err != nil {
				return nil, fmt.Errorf("migrate the fresh store: %w", err)
			}
		}
	}
	if n, err := s.Jobs().Query(ctx, stores.JobQuery{Limit: 1}); err == nil && len(n.Jobs) > 0 && !quiet {
		fmt.Fprintf(env.Stderr, "bench: warning: %s already holds jobs; bench adds its own queue and leaves it behind\n", stores.RedactDSN(dsn))
	}
	cfg = cfg.withDefaults(t.Driver, dsn)
	if !quiet {
		fmt.Fprintf(env.Stderr, "bench: %s: %d workers, batch %d", t.Driver, cfg.Workers, cfg.Batch)
		if cfg.InsertBatch != cfg.Batch && cfg.InsertBatch > 0 {
			fmt.Fprintf(env.Stderr, ", insert batch %d", cfg.InsertBatch)
		}
		fmt.Fprintln(env.Stderr)
	}
	var r *Result
	switch cfg.Scenario {
	case "cluster":
		r, err = runCluster(ctx, env, cfg, s)
	default:
		r, err = runBurndown(ctx, env, cfg, s)
	}
	if err != nil {
		return nil, err
	}
	r.Driver, r.DSN = t.Driver, stores.RedactDSN(dsn)
	r.Workers, r.Batch, r.Lean = cfg.Workers, cfg.Batch, cfg.Lean
	if cfg.Scenario == "burndown" {
		r.InsertBatch = cfg.InsertBatch
	}
	r.MarkRunning = cfg.MarkRunning && cfg.Scenario == "burndown"
	r.CallerIDs = cfg.CallerIDs && cfg.Scenario == "burndown"
	r.OK = r.Error == ""
	for _, inv := range r.Invariants {
		r.OK = r.OK && inv.OK
	}
	return r, nil
}

// runID names the queue, nodes, workers and schedules of one run, so runs
// never touch each other's records or a store's existing ones.
func runID() string { return strings.ReplaceAll(stores.NewID()[24:], "-", "") }

// withDefaults fills the worker count and batch size the flags left unset.
// The cluster scenario keeps 4 workers and batches of 100 (it is about
// failover, not throughput). A burn-down gets what measured best on 2
// cores (docs/PERFORMANCE.md): round trips cost more than rows on a SQL
// server, so batches of 1000; on PostgreSQL and Redis, more workers than
// cores keep the server busy while each worker decodes its batch.
func (c Config) withDefaults(driver, dsn string) Config {
	workers, batch := 4, 100
	if c.Scenario == "burndown" {
		switch {
		case driver == "redis":
			workers, batch = 8, 500
		case driver == "ent" && (strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")):
			workers, batch = 8, 1000
		default: // inmemory, ent on SQLite (one writer), other drivers
			workers, batch = 4, 1000
		}
	}
	if c.Workers == 0 {
		c.Workers = workers
	}
	if c.Batch == 0 {
		c.Batch = batch
	}
	if c.InsertBatch == 0 && c.Scenario == "burndown" {
		c.InsertBatch = c.Batch
	}
	return c
}
