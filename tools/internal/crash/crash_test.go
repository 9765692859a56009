package crash

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/orchestrix/persistence/abstractions/stores"
	_ "github.com/orchestrix/persistence/ent"
	_ "github.com/orchestrix/persistence/redis"
	"github.com/orchestrix/persistence/tools/internal/testenv"
)

func TestMain(m *testing.M) {
	if os.Getenv(envHelper) == "1" {
		runHelper()
		return
	}
	os.Exit(m.Run())
}

// kills is how many times each backend's helper is killed:
// ORCHESTRIX_CRASH_KILLS, default 10 (the CI short form).
func kills(t *testing.T) int {
	if v := os.Getenv("ORCHESTRIX_CRASH_KILLS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("ORCHESTRIX_CRASH_KILLS=%q: want a positive number", v)
		}
		return n
	}
	return 10
}

func TestJ1_J4_J8_W3_KilledHelperSQLite(t *testing.T) {
	dsn := "sqlite://" + filepath.Join(t.TempDir(), "crash.db")
	crashTest(t, "ent", dsn, nil)
}

func TestJ1_J4_J8_W3_KilledHelperPostgres(t *testing.T) {
	base := testenv.PostgresDSN(t)
	admin, err := stores.Open("ent", base+"&migrate=false")
	if err != nil {
		t.Fatalf("open %s: %v", stores.RedactDSN(base), err)
	}
	t.Cleanup(func() { admin.Close() })
	db := admin.Backend().(interface{ DB() *sql.DB }).DB()
	name := testenv.Name("orx_crash_")
	if _, err := db.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		if _, err := db.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)"); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	dsn := strings.Replace(base, "/test?", "/"+name+"?", 1)
	if dsn == base {
		t.Skipf("cannot derive a database name from %s", stores.RedactDSN(base))
	}
	// A statement the killed helper had sent runs on in its server backend
	// and may still commit (all or nothing) after the kill; check the store
	// once no backend of that database is busy any more.
	settle := func(t *testing.T) {
		deadline := time.Now().Add(30 * time.Second)
		for {
			var busy int
			err := db.QueryRow(`SELECT count(*) FROM pg_stat_activity
WHERE datname = $1 AND state IS DISTINCT FROM 'idle' AND pid <> pg_backend_pid()`, name).Scan(&busy)
			if err != nil {
				t.Fatalf("pg_stat_activity: %v", err)
			}
			if busy == 0 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d backends of %s still busy 30s after the kill", busy, name)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	crashTest(t, "ent", dsn, settle)
}

func TestJ1_J4_J8_W3_KilledHelperRedis(t *testing.T) {
	dsn := testenv.RedisDSN(t) + "?prefix=" + testenv.Name("orxcrash-")
	t.Cleanup(func() {
		s, err := stores.Open("redis", dsn)
		if err != nil {
			return
		}
		defer s.Close()
		if d, ok := s.Backend().(interface{ DeleteAll(context.Context) error }); ok {
			_ = d.DeleteAll(context.Background())
		}
	})
	crashTest(t, "redis", dsn, nil)
}

// ledger is what the helpers said, across every incarnation.
type ledger struct {
	intents map[string][]string // batch tag -> job ids
	acked   map[string]bool     // batch tags EnqueueMany returned for
	terms   []int64             // leases acquired, in order
}

// crashTest kills helpers on driver/dsn, checks the store after every
// kill (once settle, when set, says the server has finished what the dead
// helper sent), then recovers and drains.
func crashTest(t *testing.T, driver, dsn string, settle func(t *testing.T)) {
	ctx := context.Background()
	s, err := stores.Open(driver, dsn) // migrates a fresh ent database before any helper runs
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer s.Close()
	led := &ledger{intents: map[string][]string{}, acked: map[string]bool{}}
	n := kills(t)
	for i := 1; i <= n; i++ {
		out := runAndKill(t, driver, dsn, i)
		led.read(t, i, out)
		if settle != nil {
			settle(t)
		}
		if !check(t, s, led, fmt.Sprintf("after kill %d", i)) {
			t.Fatalf("store inconsistent after kill %d of %d", i, n)
		}
	}
	t.Logf("%d kills: %d batches intended, %d acknowledged, leases acquired: %v", n, len(led.intents), len(led.acked), led.terms)
	if len(led.acked) == 0 {
		t.Fatalf("no helper ever acknowledged a batch: the kills came too early to test anything")
	}
	recoverAndDrain(t, ctx, s, led, n)
}

// runAndKill starts helper i, lets it work for a random while after it is
// ready, kills it with SIGKILL and returns what it wrote.
func runAndKill(t *testing.T, driver, dsn string, i int) []byte {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envHelper+"=1", envDriver+"="+driver, envDSN+"="+dsn, envID+"="+strconv.Itoa(i))
	var stdout, stderr syncBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start helper %d: %v", i, err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for !bytes.Contains(stdout.Bytes(), []byte("READY\n")) {
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			t.Fatalf("helper %d not ready after 30s; stderr: %s", i, stderr.Bytes())
		}
		time.Sleep(5 * time.Millisecond)
	}
	// Random points: from right after opening the store to well into
	// the work, across lease acquisition, batches and finishing.
	time.Sleep(time.Duration(20+rand.IntN(700)) * time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("kill helper %d: %v", i, err)
	}
	err := cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("helper %d ended on its own (%v) before the kill; stderr: %s", i, err, stderr.Bytes())
	}
	return stdout.Bytes()
}

// syncBuffer is a bytes.Buffer safe for the writer goroutine of exec and a
// reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) Bytes() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]byte(nil), s.b.Bytes()...)
}

// read takes helper i's protocol lines into the ledger. W3: every lease a
// helper acquired has a term greater than every term acquired before it, by
// this helper or an earlier (killed) one.
func (l *ledger) read(t *testing.T, i int, out []byte) {
	t.Helper()
	lines := strings.Split(string(out), "\n")
	lines = lines[:len(lines)-1] // a last line without "\n" was cut by the kill
	for _, line := range lines {
		f := strings.Fields(line)
		switch {
		case len(f) == 1 && f[0] == "READY":
		case len(f) == 2 && f[0] == "TERM":
			term, _ := strconv.ParseInt(f[1], 10, 64)
			if len(l.terms) > 0 && term <= l.terms[len(l.terms)-1] {
				t.Fatalf("W3: helper %d acquired term %d after term %d had been issued", i, term, l.terms[len(l.terms)-1])
			}
			l.terms = append(l.terms, term)
		case len(f) == 4 && f[0] == "INTENT":
			l.intents[f[1]] = strings.Split(f[3], ",")
			if size, _ := strconv.Atoi(f[2]); size != len(l.intents[f[1]]) {
				t.Fatalf("helper %d: INTENT line with %d ids for size %s", i, len(l.intents[f[1]]), f[2])
			}
		case len(f) == 2 && f[0] == "ACK":
			l.acked[f[1]] = true
		default:
			t.Fatalf("helper %d wrote %q", i, line)
		}
	}
}

// snapshot is every job and dead letter of the store.
type snapshot struct {
	jobs map[string]*stores.Job
	dead map[string]*stores.DeadLetter // by original job id
}

func take(t *testing.T, s *stores.Store, what string) (snapshot, bool) {
	t.Helper()
	ctx := context.Background()
	snap := snapshot{jobs: map[string]*stores.Job{}, dead: map[string]*stores.DeadLetter{}}
	ok := true
	bad := func(format string, args ...any) {
		t.Errorf("%s: %s", what, fmt.Sprintf(format, args...))
		ok = false
	}
	for _, j := range queryAll(t, s, stores.JobQuery{}) {
		if snap.jobs[j.ID] != nil {
			bad("J10: job %s listed twice", j.ID)
		}
		snap.jobs[j.ID] = j
	}
	// No job in two states: the status filters partition the jobs, each
	// job under its own status (the indexes agree with the records).
	seen := map[string]stores.JobStatus{}
	for _, st := range stores.JobStatuses {
		for _, j := range queryAll(t, s, stores.JobQuery{Statuses: []stores.JobStatus{st}}) {
			if prev, twice := seen[j.ID]; twice {
				bad("job %s is listed as %s and as %s", j.ID, prev, st)
			}
			seen[j.ID] = st
			if j.Status != st {
				bad("job %s listed under %s has status %s", j.ID, st, j.Status)
			}
		}
	}
	if len(seen) != len(snap.jobs) {
		bad("%d jobs in all, %d under a status filter", len(snap.jobs), len(seen))
	}
	cursor := ""
	for {
		page, err := s.DeadLetters().List(ctx, cursor, 1000)
		if err != nil {
			t.Fatalf("%s: list dead letters: %v", what, err)
		}
		for _, d := range page.DeadLetters {
			if snap.dead[d.Job.ID] != nil {
				bad("job %s has two dead letters", d.Job.ID)
			}
			snap.dead[d.Job.ID] = d
		}
		if page.Next == "" {
			break
		}
		cursor = page.Next
	}
	return snap, ok
}

func queryAll(t *testing.T, s *stores.Store, q stores.JobQuery) []*stores.Job {
	t.Helper()
	q.Limit = 1000
	var all []*stores.Job
	for {
		page, err := s.Jobs().Query(context.Background(), q)
		if err != nil {
			t.Fatalf("query jobs: %v", err)
		}
		all = append(all, page.Jobs...)
		if page.Next == "" {
			return all
		}
		q.Cursor = page.Next
	}
}

// check verifies the store against the ledger: every record valid and in
// one place, every batch whole or absent, every acknowledged job present.
func check(t *testing.T, s *stores.Store, led *ledger, what string) bool {
	t.Helper()
	snap, ok := take(t, s, what)
	bad := func(format string, args ...any) {
		t.Errorf("%s: %s", what, fmt.Sprintf(format, args...))
		ok = false
	}
	for id, j := range snap.jobs {
		if snap.dead[id] != nil {
			bad("J7: job %s is both live (%s) and a dead letter", id, j.Status)
		}
		switch {
		case !j.Status.Valid():
			bad("job %s has status %q", id, j.Status)
		case j.Status == stores.StatusPending && j.WorkerID != "":
			bad("pending job %s names worker %s", id, j.WorkerID)
		case j.Status.InFlight() && (j.Attempt < 1 || j.DispatchedAt.IsZero()):
			bad("%s job %s has attempt %d, dispatched at %s", j.Status, id, j.Attempt, j.DispatchedAt)
		case j.Status == stores.StatusRunning && j.StartedAt.IsZero():
			bad("running job %s has no start time", id)
		case j.Status.Terminal() && j.CompletedAt.IsZero():
			bad("%s job %s has no completion time", j.Status, id)
		case j.RetryCount > maxRetries:
			bad("job %s retried %d times, max %d", id, j.RetryCount, maxRetries)
		}
	}
	// J1: a batch is all present or all absent; an acknowledged one is
	// present (no lost job).
	present := map[string]int{} // batch tag -> jobs found live or dead
	owner := map[string]string{}
	for tag, ids := range led.intents {
		for _, id := range ids {
			owner[id] = tag
			var job *stores.Job
			if j := snap.jobs[id]; j != nil {
				job = j
			} else if d := snap.dead[id]; d != nil {
				job = &d.Job
			}
			if job == nil {
				continue
			}
			present[tag]++
			var a batchArgs
			if err := json.Unmarshal(job.Args, &a); err != nil || a.Batch != tag || job.CorrelationID != tag || a.Size != len(ids) {
				bad("job %s of batch %s came back with args %s, correlation %q", id, tag, job.Args, job.CorrelationID)
			}
		}
		switch n := present[tag]; {
		case led.acked[tag] && n != len(ids):
			bad("J1: acknowledged batch %s has %d of its %d jobs", tag, n, len(ids))
		case n != 0 && n != len(ids):
			bad("J1: batch %s is partial: %d of %d jobs", tag, n, len(ids))
		}
	}
	for id := range snap.jobs {
		if owner[id] == "" {
			bad("job %s was never enqueued by a helper", id)
		}
	}
	return ok
}

// recoverAndDrain is what a new leader does after the last kill: find the
// dead workers and nodes (W2), recover their jobs and every dispatch whose
// lease passed (J8), release their follower claims (J6), take the lease
// with a greater term (W3); then a final run finishes every job.
func recoverAndDrain(t *testing.T, ctx context.Context, s *stores.Store, led *ledger, helpers int) {
	// Let every helper's lease and heartbeat age past the timeouts.
	const deadAfter = time.Second
	time.Sleep(max(leaseTTL, deadAfter) + 100*time.Millisecond)
	now := time.Now()

	before, ok := take(t, s, "before recovery")
	if !ok {
		t.FailNow()
	}
	orphans := map[string]bool{}
	for id, j := range before.jobs {
		if j.Status.InFlight() {
			orphans[id] = true
		}
	}

	deadWorkers, err := s.Workers().Dead(ctx, now, deadAfter)
	if err != nil {
		t.Fatalf("W2 dead workers: %v", err)
	}
	var dw []string
	for _, w := range deadWorkers {
		dw = append(dw, w.ID)
	}
	sort.Strings(dw)
	if len(dw) != helpers {
		t.Errorf("W2: %d dead workers %v, want every killed helper's (%d)", len(dw), dw, helpers)
	}
	recovered := map[string]bool{}
	for {
		res, err := s.Jobs().Recover(ctx, stores.RecoverParams{Now: now, DispatchLease: deadAfter, DeadWorkers: dw, Limit: 100})
		if err != nil {
			t.Fatalf("J8 recover: %v", err)
		}
		if len(res.Requeued)+len(res.TimedOut) == 0 {
			break
		}
		for _, id := range append(res.Requeued, res.TimedOut...) {
			if recovered[id] {
				t.Errorf("J8: job %s recovered twice", id)
			}
			recovered[id] = true
		}
	}
	for id := range orphans {
		if !recovered[id] {
			t.Errorf("J8: orphaned job %s (%s on %s) was not recovered", id, before.jobs[id].Status, before.jobs[id].WorkerID)
		}
	}
	for id := range recovered {
		if !orphans[id] {
			t.Errorf("J8: job %s recovered but was not in flight", id)
		}
	}
	deadNodes, err := s.Nodes().Dead(ctx, now, deadAfter)
	if err != nil {
		t.Fatalf("W2 dead nodes: %v", err)
	}
	if len(deadNodes) != helpers {
		t.Errorf("W2: %d dead nodes, want every killed helper's (%d)", len(deadNodes), helpers)
	}
	released := 0
	for _, n := range deadNodes {
		r, err := s.Jobs().ReleaseFollower(ctx, n.ID)
		if err != nil {
			t.Fatalf("J6 release %s: %v", n.ID, err)
		}
		released += r
		if c, err := s.Jobs().CountByFollower(ctx, n.ID); err != nil || c != 0 {
			t.Errorf("J6: node %s still owns %d jobs after its release (%v)", n.ID, c, err)
		}
	}
	lease, err := s.Nodes().AcquireLeadership(ctx, "crash-recovery", time.Now(), time.Minute)
	if err != nil {
		t.Fatalf("W3: the recovering node cannot take the expired lease: %v", err)
	}
	if len(led.terms) > 0 && lease.Term <= led.terms[len(led.terms)-1] {
		t.Errorf("W3: new term %d after term %d", lease.Term, led.terms[len(led.terms)-1])
	}
	t.Logf("recovery: %d dead workers, %d orphans recovered, %d follower claims released, new term %d", len(dw), len(recovered), released, lease.Term)
	if t.Failed() {
		t.FailNow()
	}

	// The final run: a fresh worker finishes everything.
	deadline := time.Now().Add(2 * time.Minute)
	for {
		got, err := s.Jobs().Dispatch(ctx, stores.DispatchParams{Queues: []string{queue}, Limit: 500, Now: time.Now(), WorkerID: "crash-final"})
		if err != nil {
			t.Fatalf("final dispatch: %v", err)
		}
		if len(got) == 0 {
			page, err := s.Jobs().Query(ctx, stores.JobQuery{Statuses: []stores.JobStatus{stores.StatusPending, stores.StatusDispatched, stores.StatusRunning}, Limit: 1})
			if err != nil {
				t.Fatalf("query unfinished: %v", err)
			}
			if len(page.Jobs) == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("final run: job %s still %s", page.Jobs[0].ID, page.Jobs[0].Status)
			}
			time.Sleep(20 * time.Millisecond) // a retry's backoff
			continue
		}
		var refs []stores.Ref
		for _, j := range got {
			r, err := s.Jobs().MarkRunning(ctx, j.Ref(), "crash-final", time.Now())
			if err != nil {
				t.Fatalf("final mark running: %v", err)
			}
			refs = append(refs, r.Ref())
		}
		res, err := s.Jobs().CompleteMany(ctx, refs, time.Now())
		if err != nil {
			t.Fatalf("final complete: %v", err)
		}
		for i, e := range res {
			if e != nil {
				t.Fatalf("final complete %s: %v", refs[i].ID, e)
			}
		}
	}
	final, ok := take(t, s, "after the final run")
	if !check(t, s, led, "after the final run") || !ok {
		t.FailNow()
	}
	counts := map[string]int{}
	for tag, ids := range led.intents {
		for _, id := range ids {
			j, d := final.jobs[id], final.dead[id]
			switch {
			case d != nil:
				counts["dead_letter"]++
			case j == nil && led.acked[tag]:
				t.Errorf("acknowledged job %s lost", id)
			case j == nil:
				counts["never_stored"]++
			case !j.Status.Terminal():
				t.Errorf("job %s is %s after the final run", id, j.Status)
			default:
				counts[string(j.Status)]++
			}
		}
	}
	t.Logf("final: %v", counts)
}
