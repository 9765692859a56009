// Command peerbench measures Orchestrix persistence drivers side by side with
// the job queues people would otherwise pick: River on PostgreSQL and asynq
// on Redis. It runs the same lean burn-down (insert N no-op jobs, then work
// them all) through each, alternating round-robin so slow drifts of a shared
// machine hit every workload alike, takes the median of the runs, and checks
// the ratios the project targets.
//
// It is a module of its own so River and asynq never enter the dependency
// graph of a module users import. From the repository root:
//
//	go run ./tools/peerbench --jobs 100000 --runs 3 --json peerbench.json
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"sort"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"
)

const usage = `Usage:
  go run ./tools/peerbench [flags]

Runs a burn-down of --jobs no-op jobs (insert them all, timed, then work
them all, timed) through each workload, --runs times, alternating
round-robin per round in this order:

  river          River v0.51.2, riverpgxv5 (PostgreSQL)
  pg-lean        ours: ent on PostgreSQL, bench --lean
  pg-full        ours: ent on PostgreSQL, bench (log line + history row per job)
  asynq          asynq v0.26 (Redis)
  redis-lean     ours: redis, bench --lean
  redis-full     ours: redis, bench
  sqlite-lean    ours: ent on a fresh SQLite file, bench --lean
  sqlite-full    ours: ent on a fresh SQLite file, bench
  inmemory-lean  ours: inmemory, bench --lean
  inmemory-full  ours: inmemory, bench

then prints the median insert and work jobs/s of each workload and the
target ratios with PASS or FAIL. Exit code 1 when a run failed or a target
failed.

Every PostgreSQL run (River and ours) creates its own database
peerbench_<random> next to --pg and drops it afterwards. asynq runs in Redis
DB --asynq-db, which is FLUSHED before and after each run (asynq's key names
are fixed); ours runs in DB --redis-db under a random ?prefix= whose keys
are deleted afterwards. Every Redis workload starts on the same server
memory, --redis-memory: warm (about 1 KB a job of strings written to DB
--redis-db and deleted first, so the allocator holds free memory as in a
server in service) or cold (MEMORY PURGE first: every page faulted in anew).

Our workloads run 'orchestrix-store bench --json', built once into a
temporary folder from the workspace's working tree, or from a git revision
with --store-ref (e.g. HEAD, when others are editing the tree), or taken
from --store-bin. Their --workers, --batch and --insert-batch (the jobs of
one EnqueueMany in the insert phase; --batch when left out) are the
--*-shape flags, WORKERSxBATCH[:INSERT]. The jobs' IDs are left to the
store to generate, as River's and asynq's are.

Flags:
`

// config is the harness's flags.
type config struct {
	Jobs           int
	Runs           int
	PG             string
	Redis          string
	RedisDB        int
	AsynqDB        int
	AsynqEnqueuers int
	RedisMemory    string // redisWarm or redisCold, see redismemory.go
	Only           string
	JSON           string
	StoreBin       string
	StoreRef       string
	Timeout        time.Duration
	PGShape        shape
	RedisShape     shape
	SQLiteShape    shape
	InmemoryShape  shape
	// MarkRunning runs ours with bench --mark-running: Dispatch, then
	// MarkRunningMany, one write per job more than River's lifecycle.
	MarkRunning bool
}

// phases is the duration of one run's insert and work phases.
type phases struct{ insert, work time.Duration }

type runFunc func(ctx context.Context, cfg *config) (phases, error)

// workload is one column of the comparison.
type workload struct {
	Name    string
	Backend string // postgres, redis, sqlite, inmemory
	Params  string
	run     runFunc
}

func workloads(cfg *config) []workload {
	ours := func(s shape, lean bool) string {
		kind := "full: log line + history row per job"
		if lean {
			kind = "lean"
		}
		if cfg.MarkRunning {
			kind += ", --mark-running"
		}
		return fmt.Sprintf("bench --workers %d --batch %d --insert-batch %d, %s", s.Workers, s.Batch, s.insert(), kind)
	}
	return []workload{
		{"river", "postgres", "River v0.51.2: " + riverParams, runRiver},
		{"pg-lean", "postgres", ours(cfg.PGShape, true), runEntPG(true)},
		{"pg-full", "postgres", ours(cfg.PGShape, false), runEntPG(false)},
		{"asynq", "redis", "asynq v0.26.0: " + asynqParams(cfg), runAsynq},
		{"redis-lean", "redis", ours(cfg.RedisShape, true), runRedis(true)},
		{"redis-full", "redis", ours(cfg.RedisShape, false), runRedis(false)},
		{"sqlite-lean", "sqlite", ours(cfg.SQLiteShape, true), runSQLite(true)},
		{"sqlite-full", "sqlite", ours(cfg.SQLiteShape, false), runSQLite(false)},
		{"inmemory-lean", "inmemory", ours(cfg.InmemoryShape, true), runInmemory(true)},
		{"inmemory-full", "inmemory", ours(cfg.InmemoryShape, false), runInmemory(false)},
	}
}

// selectWorkloads keeps the workloads --only names: workload names or
// backend names (postgres/pg, redis, sqlite, inmemory), comma-separated.
func selectWorkloads(all []workload, only string) ([]workload, error) {
	if strings.TrimSpace(only) == "" {
		return all, nil
	}
	keep := map[string]bool{}
	for _, n := range strings.Split(only, ",") {
		n = strings.TrimSpace(n)
		if n == "pg" {
			n = "postgres"
		}
		found := false
		for _, w := range all {
			if w.Name == n || w.Backend == n {
				keep[w.Name], found = true, true
			}
		}
		if !found {
			names := make([]string, len(all))
			for i, w := range all {
				names[i] = w.Name
			}
			return nil, fmt.Errorf("--only: unknown workload or backend %q; workloads: %s; backends: postgres (pg), redis, sqlite, inmemory",
				n, strings.Join(names, ", "))
		}
	}
	var out []workload
	for _, w := range all {
		if keep[w.Name] {
			out = append(out, w)
		}
	}
	return out, nil
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	cfg := &config{
		// Picked by a sweep of 4x500, 8x1000, 16x500, 32x250 (and 1x1000,
		// 2x1000 for the embedded stores) at 20,000 jobs on 2 cores; on
		// PostgreSQL by a sweep of 2x2000, 4x1000, 4x2000, 6x1500, 8x1000
		// and 8x2000 at 100,000 jobs (README).
		// Insert batches: 5,000 (River's InsertMany batch) where it measured
		// faster than the work batch, on 2026-12-07 (README).
		PGShape:       shape{Workers: 4, Batch: 2000},
		RedisShape:    shape{Workers: 4, Batch: 500, Insert: 5000},
		SQLiteShape:   shape{Workers: 2, Batch: 1000, Insert: 5000},
		InmemoryShape: shape{Workers: 2, Batch: 1000, Insert: 5000},
	}
	fs := flag.NewFlagSet("peerbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage); fs.PrintDefaults() }
	fs.IntVar(&cfg.Jobs, "jobs", 100_000, "jobs per burn-down")
	fs.IntVar(&cfg.Runs, "runs", 3, "runs of every workload (the median is reported)")
	fs.StringVar(&cfg.PG, "pg", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable", "PostgreSQL DSN; each run creates and drops a database of its own next to it")
	fs.StringVar(&cfg.Redis, "redis", "127.0.0.1:6379", "Redis address host:port")
	fs.IntVar(&cfg.RedisDB, "redis-db", 13, "Redis DB number of our redis runs (keys under a random prefix, deleted afterwards)")
	fs.IntVar(&cfg.AsynqDB, "asynq-db", 14, "Redis DB number of the asynq runs: FLUSHED before and after each run")
	fs.StringVar(&cfg.RedisMemory, "redis-memory", redisWarm, "the Redis server's memory at the start of each Redis workload, asynq's and ours: warm (about 1 KB a job written and deleted first) or cold (MEMORY PURGE first)")
	fs.IntVar(&cfg.AsynqEnqueuers, "asynq-enqueuers", 20, "goroutines calling asynq Client.Enqueue at once (asynq's default pool is 10 per CPU)")
	fs.StringVar(&cfg.Only, "only", "", "comma-separated workloads or backends to run (default: all)")
	fs.StringVar(&cfg.JSON, "json", "", "also write the results as JSON to this file")
	fs.StringVar(&cfg.StoreBin, "store-bin", "", "orchestrix-store binary to run (default: build it from the workspace once)")
	fs.StringVar(&cfg.StoreRef, "store-ref", "", "build orchestrix-store from this git revision (e.g. HEAD) instead of the working tree")
	fs.DurationVar(&cfg.Timeout, "timeout", 15*time.Minute, "limit of one run of one workload")
	fs.BoolVar(&cfg.MarkRunning, "mark-running", false, "run ours with bench --mark-running (Dispatch, then MarkRunningMany: three writes per job, River's lifecycle has two)")
	fs.Var(&cfg.PGShape, "pg-shape", "our bench --workers x --batch[:--insert-batch] on PostgreSQL")
	fs.Var(&cfg.RedisShape, "redis-shape", "our bench --workers x --batch[:--insert-batch] on Redis")
	fs.Var(&cfg.SQLiteShape, "sqlite-shape", "our bench --workers x --batch[:--insert-batch] on SQLite")
	fs.Var(&cfg.InmemoryShape, "inmemory-shape", "our bench --workers x --batch[:--insert-batch] on inmemory")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if err := cfg.validate(fs); err != nil {
		fmt.Fprintf(stderr, "peerbench: %v\n", err)
		return 2
	}
	ws, err := selectWorkloads(workloads(cfg), cfg.Only)
	if err != nil {
		fmt.Fprintf(stderr, "peerbench: %v\n", err)
		return 2
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if cfg.StoreBin == "" && slices.ContainsFunc(ws, func(w workload) bool { return w.Name != "river" && w.Name != "asynq" }) {
		dir, err := os.MkdirTemp("", "peerbench-*")
		if err != nil {
			fmt.Fprintf(stderr, "peerbench: %v\n", err)
			return 1
		}
		defer os.RemoveAll(dir)
		from := "the working tree"
		if cfg.StoreRef != "" {
			from = "git revision " + cfg.StoreRef
		}
		fmt.Fprintf(stderr, "peerbench: building orchestrix-store once, from %s ...\n", from)
		if cfg.StoreBin, err = buildStore(ctx, dir, cfg.StoreRef); err != nil {
			fmt.Fprintf(stderr, "peerbench: %v\n", err)
			return 1
		}
	}

	rep := newReport(cfg, ws)
rounds:
	for round := range cfg.Runs {
		for i, w := range ws {
			if ctx.Err() != nil {
				fmt.Fprintln(stderr, "peerbench: interrupted; the table shows the runs done so far")
				break rounds
			}
			rctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
			p, err := w.run(rctx, cfg)
			cancel()
			r := rep.add(i, cfg.Jobs, p, err)
			if err != nil {
				fmt.Fprintf(stderr, "peerbench: round %d/%d %-14s FAILED: %v\n", round+1, cfg.Runs, w.Name, err)
			} else {
				fmt.Fprintf(stderr, "peerbench: round %d/%d %-14s insert %10.0f jobs/s  work %10.0f jobs/s\n",
					round+1, cfg.Runs, w.Name, r.InsertJobsPerSec, r.WorkJobsPerSec)
			}
		}
	}
	rep.finish()
	rep.print(stdout)
	if cfg.JSON != "" {
		if err := rep.writeJSON(cfg.JSON); err != nil {
			fmt.Fprintf(stderr, "peerbench: --json: %v\n", err)
			return 1
		}
	}
	if !rep.OK || ctx.Err() != nil {
		return 1
	}
	return 0
}

func (c *config) validate(fs *flag.FlagSet) error {
	switch {
	case fs.NArg() > 0:
		return fmt.Errorf("unexpected argument %q (peerbench takes only flags)", fs.Arg(0))
	case c.Jobs < 1:
		return fmt.Errorf("--jobs must be at least 1, got %d", c.Jobs)
	case c.Runs < 1:
		return fmt.Errorf("--runs must be at least 1, got %d", c.Runs)
	case c.RedisDB < 0 || c.AsynqDB < 0:
		return fmt.Errorf("--redis-db and --asynq-db must not be negative")
	case c.RedisDB == c.AsynqDB:
		return fmt.Errorf("--redis-db and --asynq-db must differ (the asynq DB is flushed), both are %d", c.RedisDB)
	case c.RedisMemory != redisWarm && c.RedisMemory != redisCold:
		return fmt.Errorf("--redis-memory must be %s or %s, got %q", redisWarm, redisCold, c.RedisMemory)
	case c.AsynqEnqueuers < 1:
		return fmt.Errorf("--asynq-enqueuers must be at least 1, got %d", c.AsynqEnqueuers)
	case c.StoreBin != "" && c.StoreRef != "":
		return fmt.Errorf("give --store-bin or --store-ref, not both")
	case c.Timeout <= 0:
		return fmt.Errorf("--timeout must be positive, got %s", c.Timeout)
	}
	return nil
}

// runResult is one run of one workload.
type runResult struct {
	InsertSeconds    float64 `json:"insert_seconds"`
	WorkSeconds      float64 `json:"work_seconds"`
	InsertJobsPerSec float64 `json:"insert_jobs_per_sec"`
	WorkJobsPerSec   float64 `json:"work_jobs_per_sec"`
	Error            string  `json:"error,omitempty"`
}

// workloadResult is one workload's runs and medians (over successful runs).
type workloadResult struct {
	Name                   string      `json:"name"`
	Backend                string      `json:"backend"`
	Params                 string      `json:"params"`
	Runs                   []runResult `json:"runs"`
	OKRuns                 int         `json:"ok_runs"`
	InsertJobsPerSecMedian float64     `json:"insert_jobs_per_sec_median"`
	WorkJobsPerSecMedian   float64     `json:"work_jobs_per_sec_median"`
}

// targetResult is one target ratio: numerator / denominator of a phase.
type targetResult struct {
	Name        string  `json:"name"`
	Numerator   string  `json:"numerator"`
	Denominator string  `json:"denominator"`
	Phase       string  `json:"phase"` // insert or work
	Target      float64 `json:"target"`
	Ratio       float64 `json:"ratio,omitempty"`
	Status      string  `json:"status"` // PASS, FAIL or n/a (a side was not run or never succeeded)
}

// report is everything peerbench prints and writes.
type report struct {
	Date      string           `json:"date"`
	GoVersion string           `json:"go_version"`
	GOOS      string           `json:"goos"`
	GOARCH    string           `json:"goarch"`
	NumCPU    int              `json:"num_cpu"`
	Jobs      int              `json:"jobs"`
	Runs      int              `json:"runs"`
	Workloads []workloadResult `json:"workloads"`
	Targets   []targetResult   `json:"targets"`
	OK        bool             `json:"ok"`
}

func newReport(cfg *config, ws []workload) *report {
	r := &report{Date: time.Now().UTC().Format(time.RFC3339), GoVersion: runtime.Version(),
		GOOS: runtime.GOOS, GOARCH: runtime.GOARCH, NumCPU: runtime.NumCPU(), Jobs: cfg.Jobs, Runs: cfg.Runs}
	for _, w := range ws {
		r.Workloads = append(r.Workloads, workloadResult{Name: w.Name, Backend: w.Backend, Params: w.Params})
	}
	return r
}

func (r *report) add(i, jobs int, p phases, err error) runResult {
	var rr runResult
	if err != nil {
		rr.Error = err.Error()
	} else {
		rr.InsertSeconds, rr.WorkSeconds = p.insert.Seconds(), p.work.Seconds()
		rr.InsertJobsPerSec = float64(jobs) / p.insert.Seconds()
		rr.WorkJobsPerSec = float64(jobs) / p.work.Seconds()
	}
	r.Workloads[i].Runs = append(r.Workloads[i].Runs, rr)
	return rr
}

// targets are the ratios the project commits to (see the README).
var targets = []struct {
	name, num, den, phase string
	target                float64
}{
	{"ent/PostgreSQL work vs River", "pg-lean", "river", "work", 1.5},
	{"ent/PostgreSQL insert vs River", "pg-lean", "river", "insert", 1.5},
	{"redis work vs asynq", "redis-lean", "asynq", "work", 4},
	{"redis insert vs asynq", "redis-lean", "asynq", "insert", 4},
	{"ent/SQLite work vs ent/PostgreSQL", "sqlite-lean", "pg-lean", "work", 1},
	{"inmemory work vs ent/PostgreSQL", "inmemory-lean", "pg-lean", "work", 10},
	{"ent/PostgreSQL full vs lean (work)", "pg-full", "pg-lean", "work", 0.6},
	{"redis full vs lean (work)", "redis-full", "redis-lean", "work", 0.6},
	{"ent/SQLite full vs lean (work)", "sqlite-full", "sqlite-lean", "work", 0.6},
	{"inmemory full vs lean (work)", "inmemory-full", "inmemory-lean", "work", 0.6},
}

// finish computes medians, target ratios and the overall verdict.
func (r *report) finish() {
	r.OK = true
	byName := map[string]*workloadResult{}
	for i := range r.Workloads {
		w := &r.Workloads[i]
		var ins, work []float64
		for _, run := range w.Runs {
			if run.Error == "" {
				ins, work = append(ins, run.InsertJobsPerSec), append(work, run.WorkJobsPerSec)
			} else {
				r.OK = false
			}
		}
		w.OKRuns = len(ins)
		w.InsertJobsPerSecMedian, w.WorkJobsPerSecMedian = median(ins), median(work)
		byName[w.Name] = w
	}
	for _, t := range targets {
		tr := targetResult{Name: t.name, Numerator: t.num, Denominator: t.den, Phase: t.phase, Target: t.target, Status: "n/a"}
		n, d := byName[t.num], byName[t.den]
		if n != nil && d != nil && n.OKRuns > 0 && d.OKRuns > 0 {
			nv, dv := n.WorkJobsPerSecMedian, d.WorkJobsPerSecMedian
			if t.phase == "insert" {
				nv, dv = n.InsertJobsPerSecMedian, d.InsertJobsPerSecMedian
			}
			tr.Ratio = nv / dv
			tr.Status = "PASS"
			if tr.Ratio < t.target {
				tr.Status = "FAIL"
				r.OK = false
			}
		}
		if n != nil || d != nil { // list a target when at least one side ran
			r.Targets = append(r.Targets, tr)
		}
	}
}

// median of xs; 0 for none.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func (r *report) print(out io.Writer) {
	fmt.Fprintf(out, "peerbench: %d jobs, median of %d runs, %s, %d CPUs, %s\n\n", r.Jobs, r.Runs, r.GoVersion, r.NumCPU, r.Date)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "workload\tinsert jobs/s\twork jobs/s\truns ok\tparameters")
	for _, w := range r.Workloads {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d/%d\t%s\n", w.Name, rate(w.InsertJobsPerSecMedian, w.OKRuns),
			rate(w.WorkJobsPerSecMedian, w.OKRuns), w.OKRuns, len(w.Runs), w.Params)
	}
	tw.Flush()
	if len(r.Targets) == 0 {
		return
	}
	fmt.Fprintln(out)
	tw = tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "target\tphase\tratio\twanted\tresult")
	for _, t := range r.Targets {
		ratio := "-"
		if t.Status != "n/a" {
			ratio = fmt.Sprintf("%.2fx", t.Ratio)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t>= %gx\t%s\n", t.Name, t.Phase, ratio, t.Target, t.Status)
	}
	tw.Flush()
}

func rate(v float64, ok int) string {
	if ok == 0 {
		return "failed"
	}
	return fmt.Sprintf("%.0f", v)
}

func (r *report) writeJSON(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}
