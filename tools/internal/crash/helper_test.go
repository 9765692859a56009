package crash

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"os"
	"strings"
	"time"

	"github.com/orchestrix/persistence/abstractions/stores"
)

// Environment of a helper process.
const (
	envHelper = "ORCHESTRIX_CRASH_HELPER" // "1": run as a helper, not as tests
	envDriver = "ORCHESTRIX_CRASH_DRIVER"
	envDSN    = "ORCHESTRIX_CRASH_DSN"
	envID     = "ORCHESTRIX_CRASH_ID" // the incarnation number: names the worker and node
)

// Workload shape, shared by the helper and the checks.
const (
	queue      = "crash"
	jobType    = "crash.job"
	leaseTTL   = 500 * time.Millisecond
	maxRetries = 1
	maxBatch   = 20
)

func workerID(n int) string { return fmt.Sprintf("crash-worker-%d", n) }
func nodeID(n int) string   { return fmt.Sprintf("crash-node-%d", n) }

// batchArgs is what every job of an enqueue batch carries: the batch tag
// (also its CorrelationID) and the batch size, so a check can tell a whole
// batch from a partial one.
type batchArgs struct {
	Batch string `json:"batch"`
	Size  int    `json:"size"`
	I     int    `json:"i"`
}

// outcome decides, from the job and attempt alone, how the helper finishes
// an attempt: "complete", "fail" or "retry".
func outcome(ref stores.Ref) string {
	h := fnv.New32a()
	fmt.Fprintf(h, "%s/%d", ref.ID, ref.Attempt)
	switch v := h.Sum32() % 20; {
	case v < 12:
		return "complete"
	case v < 15:
		return "fail"
	}
	return "retry"
}

// say writes one protocol line to stdout in one write: lines written before
// a SIGKILL reach the parent whole.
func say(format string, args ...any) {
	_, _ = os.Stdout.WriteString(fmt.Sprintf(format, args...) + "\n")
}

// runHelper is the helper process: it works until it is killed. Protocol on
// stdout, one line each: READY; TERM <term> (a lease it acquired); INTENT
// <tag> <size> <id,id,...> before an EnqueueMany and ACK <tag> after it
// returned. An unexpected error exits with status 3 and the error on stderr.
func runHelper() {
	ctx := context.Background()
	n := 0
	fmt.Sscan(os.Getenv(envID), &n)
	fail := func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, "crash helper %d: %s\n", n, fmt.Sprintf(format, args...))
		os.Exit(3)
	}
	s, err := stores.Open(os.Getenv(envDriver), os.Getenv(envDSN))
	if err != nil {
		fail("open: %v", err)
	}
	worker, node := workerID(n), nodeID(n)
	say("READY")
	var term int64
	for round := 0; ; round++ {
		now := time.Now()
		if _, err := s.Workers().Heartbeat(ctx, &stores.Worker{ID: worker, HostName: "crash", Queues: []string{queue}, MaxConcurrency: 100}, now); err != nil {
			fail("worker heartbeat: %v", err)
		}
		if _, err := s.Nodes().Heartbeat(ctx, &stores.CoordinatorNode{ID: node, HostName: "crash", ProcessID: os.Getpid()}, now); err != nil {
			fail("node heartbeat: %v", err)
		}
		// W3: acquire when free, renew while held.
		if term == 0 {
			l, err := s.Nodes().AcquireLeadership(ctx, node, now, leaseTTL)
			switch {
			case err == nil && l.Holder == node:
				term = l.Term
				say("TERM %d", term)
			case err == nil:
				fail("AcquireLeadership returned a lease held by %s", l.Holder)
			case !errors.Is(err, stores.ErrConflict):
				fail("acquire leadership: %v", err)
			}
		} else if _, err := s.Nodes().RenewLeadership(ctx, node, term, now, leaseTTL); errors.Is(err, stores.ErrConflict) {
			term = 0
		} else if err != nil {
			fail("renew leadership: %v", err)
		}

		// J1: one batch, all or nothing.
		size := 1 + rand.IntN(maxBatch)
		tag := "batch-" + stores.NewID()
		jobs := make([]*stores.Job, size)
		ids := make([]string, size)
		for i := range jobs {
			args, _ := json.Marshal(batchArgs{Batch: tag, Size: size, I: i})
			jobs[i] = &stores.Job{ID: stores.NewID(), Type: jobType, Queue: queue, Args: args, CorrelationID: tag,
				Priority: rand.IntN(3), MaxRetries: maxRetries}
			ids[i] = jobs[i].ID
		}
		say("INTENT %s %d %s", tag, size, strings.Join(ids, ","))
		if err := s.Jobs().EnqueueMany(ctx, jobs); err != nil {
			fail("enqueue batch %s: %v", tag, err)
		}
		say("ACK %s", tag)

		// J4, J5, J6, J7: dispatch a batch and finish it.
		got, err := s.Jobs().Dispatch(ctx, stores.DispatchParams{Queues: []string{queue}, Limit: 10, Now: time.Now(), WorkerID: worker})
		if err != nil {
			fail("dispatch: %v", err)
		}
		var complete []stores.Ref
		for _, j := range got {
			run, err := s.Jobs().MarkRunning(ctx, j.Ref(), worker, time.Now())
			if err != nil {
				fail("mark %s running: %v", j.ID, err)
			}
			if err := s.Jobs().ClaimForFollower(ctx, j.ID, node); err != nil && !errors.Is(err, stores.ErrConflict) {
				fail("claim %s: %v", j.ID, err)
			}
			now := time.Now()
			switch outcome(run.Ref()) {
			case "complete":
				complete = append(complete, run.Ref())
			case "fail":
				if err := s.Jobs().Fail(ctx, run.Ref(), "planned failure", now); err != nil {
					fail("fail %s: %v", j.ID, err)
				}
			default:
				_, retried, err := s.Jobs().Retry(ctx, run.Ref(), "planned retry", now)
				if err != nil {
					fail("retry %s: %v", j.ID, err)
				}
				if !retried {
					if _, err := s.Jobs().MoveToDeadLetter(ctx, run.Ref(), "no retries left", now); err != nil {
						fail("dead-letter %s: %v", j.ID, err)
					}
				}
			}
		}
		if len(complete) > 0 {
			res, err := s.Jobs().CompleteMany(ctx, complete, time.Now())
			if err != nil {
				fail("complete %d: %v", len(complete), err)
			}
			for i, e := range res {
				if e != nil {
					fail("complete %s: %v", complete[i].ID, e)
				}
			}
		}
	}
}
