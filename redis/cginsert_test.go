//go:build cginsert

package redis

// TestCGInsert counts the server instructions per job of each step of the
// lean life (README, "Benchmarks"): CGI_N plain jobs enqueued in batches of
// 500, dispatched from their queue 500 at a time, marked running and
// completed; then as many again, dispatched with Start and completed. It
// needs a private redis-server under callgrind (the dumps go to CGI_DIR):
//
//	valgrind --tool=callgrind --callgrind-out-file=/tmp/cgi/cg.%p \
//	  redis-server --port 7801 --save '' --appendonly no --hz 1
//	CGI_ADDR=127.0.0.1:7801 CGI_PID=<valgrind pid> CGI_DIR=/tmp/cgi CGI_N=10000 \
//	  go test -tags cginsert -run TestCGInsert -v .
//
// Before each step it zeroes the counters (callgrind_control -z), after it
// dumps them, and prints the dump's total over the jobs of the step, and
// the client's CPU time per job. The first step to run a script includes
// compiling it (EVAL after NOSCRIPT): compare the second enqueue. CGI_SINGLE
// enqueues a fifth of the jobs with single Enqueue calls and the rest in
// batches of 100 instead; CGI_ENQONLY leaves out all but the enqueues;
// CGI_ROUNDS repeats the whole.

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/orchestrix/persistence/abstractions/stores"
	goredis "github.com/redis/go-redis/v9"
)

// cgiCPU returns this process's CPU time (user + system).
func cgiCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// cgiServerCPU returns the CPU time (user + system) of the process
// CGI_SERVER_PID (the server), 0 without it.
func cgiServerCPU(t *testing.T) time.Duration {
	pid := os.Getenv("CGI_SERVER_PID")
	if pid == "" {
		return 0
	}
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	must(t, err)
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / 100 // USER_HZ
}

// cgiCtl runs callgrind_control with args while pinging the server, which
// callgrind only answers while the server runs.
func cgiCtl(t *testing.T, c *goredis.Client, pid string, args ...string) {
	cmd := exec.Command("callgrind_control", append(args, pid)...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	for {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			return
		case <-time.After(20 * time.Millisecond):
			c.Ping(context.Background())
		}
	}
}

// cgiTotal returns the total Ir of the newest dump.
func cgiTotal(t *testing.T, dir string) int64 {
	files, _ := filepath.Glob(filepath.Join(dir, "cg.*"))
	sort.Slice(files, func(a, b int) bool {
		fa, _ := os.Stat(files[a])
		fb, _ := os.Stat(files[b])
		return fa.ModTime().Before(fb.ModTime())
	})
	if len(files) == 0 {
		t.Fatal("no dump")
	}
	b, err := os.ReadFile(files[len(files)-1])
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "summary:") || strings.HasPrefix(l, "totals:") {
			n, err := strconv.ParseInt(strings.TrimSpace(strings.Fields(l)[1]), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatal("no totals in " + files[len(files)-1])
	return 0
}

func TestCGInsert(t *testing.T) {
	addr, pid := os.Getenv("CGI_ADDR"), os.Getenv("CGI_PID")
	dir := os.Getenv("CGI_DIR")
	if dir == "" {
		dir = "/tmp/cgi"
	}
	n, _ := strconv.Atoi(os.Getenv("CGI_N"))
	if n == 0 {
		n = 10000
	}
	rounds, _ := strconv.Atoi(os.Getenv("CGI_ROUNDS"))
	if rounds == 0 {
		rounds = 1
	}
	ctx := context.Background()
	prefix := fmt.Sprintf("cgi%d", time.Now().UnixNano())
	s, err := stores.Open("redis", "redis://"+addr+"/0?prefix="+prefix)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c := goredis.NewClient(&goredis.Options{Addr: addr})
	defer c.Close()
	step := func(name string, per int, f func()) {
		cgiCtl(t, c, pid, "-z")
		start := time.Now()
		c0 := cgiCPU()
		f()
		cpu := cgiCPU() - c0
		el := time.Since(start)
		cgiCtl(t, c, pid, "-d", name)
		tot := cgiTotal(t, dir)
		t.Logf("%-22s %8.0f instr/job  client %5.2f µs/job (%d jobs, %v)", name, float64(tot)/float64(per), float64(cpu.Nanoseconds())/1000/float64(per), per, el.Round(time.Millisecond))
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	for round := 0; round < rounds; round++ {
		for _, startMode := range []bool{false, true} {
			queue := fmt.Sprintf("bench-%s-%d-%v", prefix, round, startMode)
			jobs := make([]*stores.Job, n)
			for i := range jobs {
				jobs[i] = &stores.Job{ID: stores.NewID(), Type: "bench.burndown", Queue: queue,
					Args: []byte(`{"n":` + strconv.Itoa(i) + `}`), CreatedAt: now}
			}
			if os.Getenv("CGI_SINGLE") != "" {
				m := n / 5
				step("enqueue single", m, func() {
					for i := 0; i < m; i++ {
						if err := s.Jobs().Enqueue(ctx, jobs[i]); err != nil {
							t.Fatal(err)
						}
					}
				})
				step("enqueue batch 100", n-m, func() {
					for i := m; i < n; i += 100 {
						if err := s.Jobs().EnqueueMany(ctx, jobs[i:min(i+100, n)]); err != nil {
							t.Fatal(err)
						}
					}
				})
			} else {
				step("enqueue", n, func() {
					for i := 0; i < n; i += 500 {
						if err := s.Jobs().EnqueueMany(ctx, jobs[i:min(i+500, n)]); err != nil {
							t.Fatal(err)
						}
					}
				})
			}
			if os.Getenv("CGI_ENQONLY") != "" {
				continue
			}
			var got [][]*stores.Job
			name := "dispatch"
			if startMode {
				name = "dispatch+start"
			}
			step(name, n, func() {
				for {
					js, err := s.Jobs().Dispatch(ctx, stores.DispatchParams{Now: now, Limit: 500, Queues: []string{queue}, WorkerID: "w1", Start: startMode})
					if err != nil {
						t.Fatal(err)
					}
					if len(js) == 0 {
						break
					}
					got = append(got, js)
				}
			})
			refs := func(js []*stores.Job) []stores.Ref {
				out := make([]stores.Ref, len(js))
				for i, j := range js {
					out[i] = stores.Ref{ID: j.ID, Attempt: j.Attempt}
				}
				return out
			}
			if !startMode {
				step("mark running", n, func() {
					for _, js := range got {
						if _, err := s.Jobs().MarkRunningMany(ctx, refs(js), "w1", now); err != nil {
							t.Fatal(err)
						}
					}
				})
			}
			if startMode {
				records(t, s, step, got, now)
			}
			step("complete", n, func() {
				for _, js := range got {
					errs, err := s.Jobs().CompleteMany(ctx, refs(js), now)
					if err != nil {
						t.Fatal(err)
					}
					for _, e := range errs {
						if e != nil {
							t.Fatal(e)
						}
					}
				}
			})
		}
	}
}

// records appends one log line and one history row per dispatched job, a
// batch per Dispatch, as the full bench does, each as a step of its own.
func records(t *testing.T, s *stores.Store, step func(string, int, func()), got [][]*stores.Job, now time.Time) {
	n := 0
	for _, js := range got {
		n += len(js)
	}
	ctx := context.Background()
	step("log line", n, func() {
		for _, js := range got {
			entries := make([]*stores.LogEntry, len(js))
			for i, j := range js {
				entries[i] = &stores.LogEntry{JobID: j.ID, Timestamp: now, Level: "info", Message: "bench job ran on w1"}
			}
			if err := s.Logs().Append(ctx, entries); err != nil {
				t.Fatal(err)
			}
		}
	})
	step("history row", n, func() {
		for _, js := range got {
			rows := make([]*stores.JobHistory, len(js))
			for i, j := range js {
				rows[i] = &stores.JobHistory{JobID: j.ID, Attempt: int(j.Attempt), WorkerID: "w1", StartedAt: now,
					CompletedAt: now, Status: stores.StatusCompleted, Duration: time.Millisecond}
			}
			if err := s.History().AppendMany(ctx, rows); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// TestCGClient measures the client's CPU time per enqueued job against a
// server (CGI_DSN, on a fresh prefix it deletes at the end): CGI_N plain
// jobs (default 100,000), 4 callers, batches of 500, as bench's insert;
// with CGI_SERVER_PID, the server's CPU time per job too (from /proc).
func TestCGClient(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("CGI_N"))
	if n == 0 {
		n = 100000
	}
	ctx := context.Background()
	cfg, err := ParseDSN(os.Getenv("CGI_DSN"))
	must(t, err)
	cfg.Prefix = fmt.Sprintf("ricl%d", time.Now().UnixNano())
	b, err := OpenConfig(ctx, cfg)
	must(t, err)
	defer func() { must(t, b.DeleteAll(ctx)); b.Close() }()
	s := stores.Wrap(DriverName, b)
	now := time.Now().UTC()
	jobs := make([]*stores.Job, n)
	for i := range jobs {
		jobs[i] = &stores.Job{ID: stores.NewID(), Type: "bench.burndown", Queue: "bench-" + cfg.Prefix,
			Args: []byte(`{"n":` + strconv.Itoa(i) + `}`), CreatedAt: now}
	}
	ch := make(chan []*stores.Job)
	done := make(chan bool)
	for w := 0; w < 4; w++ {
		go func() {
			for batch := range ch {
				if err := s.Jobs().EnqueueMany(ctx, batch); err != nil {
					panic(err)
				}
			}
			done <- true
		}()
	}
	c0, s0, t0 := cgiCPU(), cgiServerCPU(t), time.Now()
	for i := 0; i < n; i += 500 {
		ch <- jobs[i:min(i+500, n)]
	}
	close(ch)
	for w := 0; w < 4; w++ {
		<-done
	}
	cpu, scpu, el := cgiCPU()-c0, cgiServerCPU(t)-s0, time.Since(t0)
	t.Logf("client %.2f µs/job, server %.2f µs/job, %.0f jobs/s", float64(cpu.Nanoseconds())/1000/float64(n),
		float64(scpu.Nanoseconds())/1000/float64(n), float64(n)/el.Seconds())
}

// TestCGMembers counts the server instructions per ZADD member of candidate
// sorted-set layouts (docs/PERFORMANCE.md, "What those format changes would
// buy"): for each, 95,000 members in time order fill a set (uncounted), then
// 5,000 more are added in batches of 500 and counted. Same server set-up
// as TestCGInsert.
func TestCGMembers(t *testing.T) {
	addr, pid := os.Getenv("CGI_ADDR"), os.Getenv("CGI_PID")
	dir := os.Getenv("CGI_DIR")
	if dir == "" {
		dir = "/tmp/cgi"
	}
	ctx := context.Background()
	c := goredis.NewClient(&goredis.Options{Addr: addr})
	defer c.Close()
	const fill, measured = 95000, 5000
	base := time.Now().UTC().Truncate(time.Microsecond)
	ids := make([]string, fill+measured)
	for i := range ids {
		ids[i] = stores.NewID()
	}
	bin := func(id string) string { b, _ := uuidBytes(id); return string(b) }
	be8 := func(u uint64) string { return string(binary.BigEndian.AppendUint64(nil, u)) }
	layouts := []struct {
		name   string
		member func(i int) (score, member string)
	}{
		{"readyq text (today)", func(i int) (string, string) {
			return "0", lp("default") + string(appendPrio(nil, 0)) + tT(base.Add(time.Duration(i)*time.Microsecond)) + ids[i]
		}},
		{"bystatus text (today)", func(i int) (string, string) {
			return "0", "live:" + tT(base.Add(time.Duration(i)*time.Microsecond)) + ids[i]
		}},
		{"readyq binary", func(i int) (string, string) {
			return "0", "\x07default" + be8(1<<63) + be8(uint64(base.UnixMicro()+int64(i))) + bin(ids[i])
		}},
		{"score, text id", func(i int) (string, string) {
			return strconv.FormatInt(base.UnixMicro()+int64(i), 10), ids[i]
		}},
		{"score, binary id", func(i int) (string, string) {
			return strconv.FormatInt(base.UnixMicro()+int64(i), 10), bin(ids[i])
		}},
	}
	for k, l := range layouts {
		key := fmt.Sprintf("cgm%d:%d", time.Now().UnixNano(), k)
		add := func(from, to int) {
			for s := from; s < to; s += 500 {
				args := []any{"zadd", key}
				for i := s; i < min(s+500, to); i++ {
					score, m := l.member(i)
					args = append(args, score, m)
				}
				must(t, c.Do(ctx, args...).Err())
			}
		}
		add(0, fill)
		cgiCtl(t, c, pid, "-z")
		add(fill, fill+measured)
		cgiCtl(t, c, pid, "-d", "members")
		_, m := l.member(0)
		t.Logf("%-22s %3d bytes  %6.0f instr/member", l.name, len(m), float64(cgiTotal(t, dir))/measured)
		must(t, c.Del(ctx, key).Err())
	}
}
