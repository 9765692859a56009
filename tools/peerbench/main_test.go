package main

import (
	"context"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

func TestMedian(t *testing.T) {
	for _, c := range []struct {
		in   []float64
		want float64
	}{
		{nil, 0},
		{[]float64{5}, 5},
		{[]float64{9, 1, 5}, 5},
		{[]float64{4, 1, 3, 2}, 2.5},
	} {
		if got := median(c.in); got != c.want {
			t.Errorf("median(%v) = %v, want %v", c.in, got, c.want)
		}
	}
	xs := []float64{3, 1, 2}
	median(xs)
	if xs[0] != 3 {
		t.Errorf("median sorted its argument in place: %v", xs)
	}
}

func TestShapeSet(t *testing.T) {
	var s shape
	if err := s.Set("16x500"); err != nil || s != (shape{16, 500, 0}) || s.insert() != 500 || s.String() != "16x500" {
		t.Fatalf("Set(16x500) = %v, %v", s, err)
	}
	if err := s.Set("4x500:5000"); err != nil || s != (shape{4, 500, 5000}) || s.insert() != 5000 || s.String() != "4x500:5000" {
		t.Fatalf("Set(4x500:5000) = %v, %v", s, err)
	}
	for _, bad := range []string{"", "16", "x500", "0x10", "1001x1", "1x0", "1x10001", "ax1", "1x1:", "1x1:0", "1x1:10001", ":5", "1x1:a"} {
		if err := s.Set(bad); err == nil {
			t.Errorf("Set(%q) accepted", bad)
		}
	}
}

func TestSelectWorkloads(t *testing.T) {
	all := workloads(&config{})
	names := func(ws []workload) string {
		var s []string
		for _, w := range ws {
			s = append(s, w.Name)
		}
		return strings.Join(s, ",")
	}
	for only, want := range map[string]string{
		"":                    names(all),
		"pg":                  "river,pg-lean,pg-full",
		"redis":               "asynq,redis-lean,redis-full",
		"inmemory-lean,river": "river,inmemory-lean", // order of the round, not of --only
	} {
		ws, err := selectWorkloads(all, only)
		if err != nil || names(ws) != want {
			t.Errorf("--only %q = %s, %v; want %s", only, names(ws), err, want)
		}
	}
	if _, err := selectWorkloads(all, "river,sidekiq"); err == nil || !strings.Contains(err.Error(), "sidekiq") {
		t.Errorf("--only with an unknown name: err = %v", err)
	}
}

// fakeReport is a report of the named workloads with given medians.
func fakeReport(rates map[string][2]float64, failed ...string) *report {
	cfg := &config{Jobs: 1000, Runs: 1}
	ws, _ := selectWorkloads(workloads(cfg), "")
	var keep []workload
	for _, w := range ws {
		if _, ok := rates[w.Name]; ok {
			keep = append(keep, w)
		}
	}
	r := newReport(cfg, keep)
	for i, w := range keep {
		var err error
		for _, f := range failed {
			if f == w.Name {
				err = context.DeadlineExceeded
			}
		}
		ins, work := rates[w.Name][0], rates[w.Name][1]
		r.add(i, cfg.Jobs, phases{insert: time.Duration(float64(time.Second) * 1000 / ins), work: time.Duration(float64(time.Second) * 1000 / work)}, err)
	}
	r.finish()
	return r
}

func target(t *testing.T, r *report, name string) targetResult {
	t.Helper()
	for _, tr := range r.Targets {
		if tr.Name == name {
			return tr
		}
	}
	t.Fatalf("no target %q in %+v", name, r.Targets)
	return targetResult{}
}

func TestTargets(t *testing.T) {
	r := fakeReport(map[string][2]float64{
		"river":   {10000, 4000},
		"pg-lean": {20000, 5000},
		"pg-full": {20000, 2000},
	})
	if tr := target(t, r, "ent/PostgreSQL work vs River"); tr.Status != "FAIL" || tr.Ratio < 1.249 || tr.Ratio > 1.251 {
		t.Errorf("work vs River = %+v, want FAIL at 1.25", tr)
	}
	if tr := target(t, r, "ent/PostgreSQL insert vs River"); tr.Status != "PASS" || tr.Ratio < 1.99 || tr.Ratio > 2.01 {
		t.Errorf("insert vs River = %+v, want PASS at 2", tr)
	}
	if tr := target(t, r, "ent/PostgreSQL full vs lean (work)"); tr.Status != "FAIL" {
		t.Errorf("full vs lean = %+v, want FAIL at 0.4", tr)
	}
	if tr := target(t, r, "inmemory work vs ent/PostgreSQL"); tr.Status != "n/a" {
		t.Errorf("inmemory target without an inmemory run = %+v, want n/a", tr)
	}
	for _, tr := range r.Targets {
		if strings.Contains(tr.Name, "asynq") {
			t.Errorf("target %q listed though neither side ran", tr.Name)
		}
	}
	if r.OK {
		t.Error("report OK with failing targets")
	}

	r = fakeReport(map[string][2]float64{"river": {100, 100}, "pg-lean": {1000, 1000}})
	if !r.OK || target(t, r, "ent/PostgreSQL work vs River").Status != "PASS" {
		t.Errorf("all targets pass, report = %+v", r)
	}

	r = fakeReport(map[string][2]float64{"river": {100, 100}, "pg-lean": {1000, 1000}}, "river")
	if r.OK || target(t, r, "ent/PostgreSQL work vs River").Status != "n/a" || r.Workloads[0].OKRuns != 0 {
		t.Errorf("a failed run must fail the report and leave its targets n/a: %+v", r)
	}
}

func TestValidate(t *testing.T) {
	for _, args := range [][]string{
		{"--jobs", "0"}, {"--runs", "0"}, {"--redis-db", "14"}, {"--asynq-enqueuers", "0"},
		{"--store-bin", "x", "--store-ref", "HEAD"}, {"extra"}, {"--only", "nope"}, {"--pg-shape", "3"}, {"--redis-memory", "hot"},
	} {
		if code := run(args, io.Discard, io.Discard); code != 2 {
			t.Errorf("run(%q) = %d, want 2 (usage error)", args, code)
		}
	}
}

// TestRunOursParsesBench runs runOurs against a stand-in for
// orchestrix-store that prints canned JSON, so the parsing and the refusal
// of a run with a violated invariant are checked without any server.
func TestRunOursParsesBench(t *testing.T) {
	dir := t.TempDir()
	fake := func(json string, code int) string {
		p := filepath.Join(dir, "store")
		script := "#!/bin/sh\necho \"$@\" > " + filepath.Join(dir, "args") + "\ncat <<'EOF'\n" + json + "\nEOF\nexit " + strconv.Itoa(code) + "\n"
		if err := os.WriteFile(p, []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cfg := &config{Jobs: 10}
	cfg.StoreBin = fake(`{"insert_seconds":0.5,"work_seconds":2,"insert_jobs_per_sec":20,"work_jobs_per_sec":5,"invariants":{"terminal_once":{"ok":true}},"ok":true}`, 0)
	p, err := runOurs(context.Background(), cfg, "inmemory", "", shape{2, 3, 7}, true)
	if err != nil || p.insert != 500*time.Millisecond || p.work != 2*time.Second {
		t.Fatalf("runOurs = %+v, %v; want 0.5s insert, 2s work", p, err)
	}
	if args, err := os.ReadFile(filepath.Join(dir, "args")); err != nil || !strings.Contains(string(args), "--workers 2 --batch 3 --insert-batch 7") {
		t.Errorf("bench ran with %q (%v), want the shape's three numbers", args, err)
	}
	cfg.StoreBin = fake(`{"insert_seconds":0.5,"work_seconds":2,"invariants":{"terminal_once":{"ok":false,"message":"3 jobs lost"}},"ok":false}`, 1)
	if _, err := runOurs(context.Background(), cfg, "inmemory", "", shape{1, 1, 0}, true); err == nil || !strings.Contains(err.Error(), "3 jobs lost") {
		t.Errorf("a violated invariant: err = %v, want it named", err)
	}
	cfg.StoreBin = fake(`not json`, 1)
	if _, err := runOurs(context.Background(), cfg, "inmemory", "", shape{1, 1, 0}, true); err == nil {
		t.Error("unreadable output accepted")
	}
}

// needServer skips (or, under CI=true, fails) when addr does not answer.
func needServer(t *testing.T, what, addr, how string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err == nil {
		c.Close()
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s at %s not reachable (CI=true): %v", what, addr, err)
	}
	t.Skipf("%s at %s not reachable: %v; %s", what, addr, err, how)
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// TestPeersSmoke runs the River and asynq workloads on 500 jobs: both must
// finish every job and leave no database or asynq key behind.
func TestPeersSmoke(t *testing.T) {
	cfg := &config{Jobs: 500, RedisDB: 13, AsynqDB: 14, AsynqEnqueuers: 4, RedisMemory: redisWarm,
		PG:    envOr("PEERBENCH_PG", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"),
		Redis: envOr("PEERBENCH_REDIS", "127.0.0.1:6379")}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	t.Run("river", func(t *testing.T) {
		u, err := url.Parse(cfg.PG)
		if err != nil {
			t.Fatalf("PEERBENCH_PG: %v", err)
		}
		needServer(t, "PostgreSQL", u.Host, "set PEERBENCH_PG to a postgres:// DSN")
		p, err := runRiver(ctx, cfg)
		if err != nil || p.insert <= 0 || p.work <= 0 {
			t.Fatalf("runRiver = %+v, %v", p, err)
		}
	})
	t.Run("redis-memory", func(t *testing.T) {
		needServer(t, "Redis", cfg.Redis, "set PEERBENCH_REDIS to host:port")
		for _, mem := range []string{redisWarm, redisCold} {
			c := *cfg
			c.RedisMemory = mem
			if err := prepareRedis(ctx, &c); err != nil {
				t.Fatalf("prepareRedis %s: %v", mem, err)
			}
		}
		rdb := goredis.NewClient(&goredis.Options{Addr: cfg.Redis, DB: cfg.RedisDB})
		defer rdb.Close()
		left, err := rdb.Keys(ctx, "peerbench-warmup-*").Result()
		if err != nil || len(left) > 0 {
			t.Fatalf("the warm-up left %d keys (%v)", len(left), err)
		}
	})
	t.Run("asynq", func(t *testing.T) {
		needServer(t, "Redis", cfg.Redis, "set PEERBENCH_REDIS to host:port")
		p, err := runAsynq(ctx, cfg)
		if err != nil || p.insert <= 0 || p.work <= 0 {
			t.Fatalf("runAsynq = %+v, %v", p, err)
		}
	})
}
