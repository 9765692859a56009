package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/orchestrix/persistence/abstractions/stores"
	goredis "github.com/redis/go-redis/v9"
)

// shape is the --workers, --batch and --insert-batch of one of our bench
// runs.
type shape struct {
	Workers int `json:"workers"`
	Batch   int `json:"batch"`
	// Insert is the jobs of one EnqueueMany in the insert phase: Batch
	// when 0.
	Insert int `json:"insert_batch,omitempty"`
}

func (s shape) insert() int {
	if s.Insert == 0 {
		return s.Batch
	}
	return s.Insert
}

func (s shape) String() string {
	if s.Insert != 0 {
		return fmt.Sprintf("%dx%d:%d", s.Workers, s.Batch, s.Insert)
	}
	return fmt.Sprintf("%dx%d", s.Workers, s.Batch)
}

// Set parses WORKERSxBATCH[:INSERT], e.g. 8x1000 or 4x500:5000 (a
// flag.Value).
func (s *shape) Set(v string) error {
	fail := fmt.Errorf("want WORKERSxBATCH[:INSERT] with 1..1000 workers and batches of 1..%d, got %q", stores.MaxBatch, v)
	wb, in, hasInsert := strings.Cut(v, ":")
	w, b, ok := strings.Cut(wb, "x")
	wi, err1 := strconv.Atoi(w)
	bi, err2 := strconv.Atoi(b)
	ii := 0
	if hasInsert {
		var err error
		if ii, err = strconv.Atoi(in); err != nil || ii < 1 || ii > stores.MaxBatch {
			return fail
		}
	}
	if !ok || err1 != nil || err2 != nil || wi < 1 || wi > 1000 || bi < 1 || bi > stores.MaxBatch {
		return fail
	}
	s.Workers, s.Batch, s.Insert = wi, bi, ii
	return nil
}

// benchResult is the part of `orchestrix-store bench --json` peerbench reads.
type benchResult struct {
	InsertSeconds    float64 `json:"insert_seconds"`
	WorkSeconds      float64 `json:"work_seconds"`
	InsertJobsPerSec float64 `json:"insert_jobs_per_sec"`
	WorkJobsPerSec   float64 `json:"work_jobs_per_sec"`
	Invariants       map[string]struct {
		OK      bool   `json:"ok"`
		Message string `json:"message"`
	} `json:"invariants"`
	Error string `json:"error"`
	OK    bool   `json:"ok"`
}

// buildStore compiles orchestrix-store once into dir, so no run pays for
// compilation: from the workspace (go.work) the harness runs in, or, when
// ref is set, from that git revision of it (git archive into dir/src), so
// uncommitted edits in the working tree neither break nor skew the build.
func buildStore(ctx context.Context, dir, ref string) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOWORK").Output()
	gowork := strings.TrimSpace(string(out))
	if err != nil || gowork == "" || gowork == "off" {
		return "", fmt.Errorf("no go.work found: run peerbench from the repository (go run ./tools/peerbench) or pass --store-bin")
	}
	root := filepath.Dir(gowork)
	if ref != "" {
		src := filepath.Join(dir, "src")
		if err := os.Mkdir(src, 0o755); err != nil {
			return "", err
		}
		archive := exec.CommandContext(ctx, "git", "-C", root, "archive", "--format=tar", ref)
		untar := exec.CommandContext(ctx, "tar", "-x", "-C", src)
		pipe, err := archive.StdoutPipe()
		if err != nil {
			return "", err
		}
		untar.Stdin, untar.Stderr, archive.Stderr = pipe, os.Stderr, os.Stderr
		if err := untar.Start(); err != nil {
			return "", fmt.Errorf("--store-ref %s: tar: %w", ref, err)
		}
		aerr := archive.Run()
		if uerr := untar.Wait(); aerr == nil && uerr != nil {
			aerr = uerr
		}
		if aerr != nil {
			return "", fmt.Errorf("--store-ref %s: git archive: %w", ref, aerr)
		}
		root = src
	}
	bin := filepath.Join(dir, "orchestrix-store")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./tools/cmd/orchestrix-store")
	cmd.Dir = root
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("build orchestrix-store: %w", err)
	}
	return bin, nil
}

// runOurs runs `orchestrix-store bench --json` once on driver/dsn and
// returns its insert and work phases. A run whose invariants fail is an
// error: its speed would not count.
func runOurs(ctx context.Context, cfg *config, driver, dsn string, sh shape, lean bool) (phases, error) {
	var p phases
	args := []string{"bench", "--json", "--driver", driver, "--jobs", strconv.Itoa(cfg.Jobs),
		"--workers", strconv.Itoa(sh.Workers), "--batch", strconv.Itoa(sh.Batch), "--insert-batch", strconv.Itoa(sh.insert())}
	if dsn != "" {
		args = append(args, "--dsn", dsn)
	}
	if lean {
		args = append(args, "--lean")
	}
	if cfg.MarkRunning {
		args = append(args, "--mark-running")
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, cfg.StoreBin, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = 10 * time.Second
	runErr := cmd.Run()
	var r benchResult
	if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if runErr != nil {
			return p, fmt.Errorf("orchestrix-store bench --driver %s: %v: %s", driver, runErr, msg)
		}
		return p, fmt.Errorf("orchestrix-store bench --driver %s: unreadable JSON: %w", driver, err)
	}
	if r.Error != "" {
		return p, fmt.Errorf("orchestrix-store bench --driver %s: %s", driver, r.Error)
	}
	for name, inv := range r.Invariants {
		if !inv.OK {
			return p, fmt.Errorf("orchestrix-store bench --driver %s: invariant %s violated: %s", driver, name, inv.Message)
		}
	}
	if runErr != nil || !r.OK {
		return p, fmt.Errorf("orchestrix-store bench --driver %s: failed (%v): %s", driver, runErr, strings.TrimSpace(stderr.String()))
	}
	p.insert = time.Duration(r.InsertSeconds * float64(time.Second))
	p.work = time.Duration(r.WorkSeconds * float64(time.Second))
	return p, nil
}

// runEntPG runs our ent driver on a fresh PostgreSQL database of its own
// (ent migrates on open).
func runEntPG(lean bool) runFunc {
	return func(ctx context.Context, cfg *config) (phases, error) {
		db, err := createDatabase(ctx, cfg.PG)
		if err != nil {
			return phases{}, err
		}
		defer db.drop()
		return runOurs(ctx, cfg, "ent", db.dsn, cfg.PGShape, lean)
	}
}

// runRedis runs our redis driver in DB cfg.RedisDB under a key prefix of
// its own, deleting that prefix's keys afterwards.
func runRedis(lean bool) runFunc {
	return func(ctx context.Context, cfg *config) (phases, error) {
		if err := prepareRedis(ctx, cfg); err != nil {
			return phases{}, err
		}
		prefix := "peerbench-" + randomSuffix()
		defer deleteRedisPrefix(cfg, prefix)
		dsn := fmt.Sprintf("redis://%s/%d?prefix=%s", cfg.Redis, cfg.RedisDB, prefix)
		return runOurs(ctx, cfg, "redis", dsn, cfg.RedisShape, lean)
	}
}

// deleteRedisPrefix removes every key of the store with this prefix: the
// driver's keys are {P}:*, {P:w}:* and {P:n}:*, all matched by "{P*" since
// P ends in a random suffix no other prefix shares. DEL, not UNLINK: the
// server frees the keys before the next workload starts, not in a
// background thread beside it.
func deleteRedisPrefix(cfg *config, prefix string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rdb := goredis.NewClient(&goredis.Options{Addr: cfg.Redis, DB: cfg.RedisDB})
	defer rdb.Close()
	iter := rdb.Scan(ctx, 0, "{"+prefix+"*", 1000).Iterator()
	var batch []string
	flush := func() {
		if len(batch) > 0 {
			if err := rdb.Del(ctx, batch...).Err(); err != nil {
				fmt.Fprintf(os.Stderr, "peerbench: warning: delete redis keys {%s*: %v\n", prefix, err)
			}
			batch = batch[:0]
		}
	}
	for iter.Next(ctx) {
		if batch = append(batch, iter.Val()); len(batch) == 1000 {
			flush()
		}
	}
	flush()
	if err := iter.Err(); err != nil {
		fmt.Fprintf(os.Stderr, "peerbench: warning: scan redis keys {%s*: %v\n", prefix, err)
	}
}

// runSQLite runs our ent driver on its default store: a fresh SQLite file
// in a temporary folder that bench removes at the end.
func runSQLite(lean bool) runFunc {
	return func(ctx context.Context, cfg *config) (phases, error) {
		return runOurs(ctx, cfg, "ent", "", cfg.SQLiteShape, lean)
	}
}

// runInmemory runs our inmemory driver.
func runInmemory(lean bool) runFunc {
	return func(ctx context.Context, cfg *config) (phases, error) {
		return runOurs(ctx, cfg, "inmemory", "", cfg.InmemoryShape, lean)
	}
}
