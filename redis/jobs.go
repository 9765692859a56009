package redis

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/orchestrix/persistence/abstractions/stores"
	goredis "github.com/redis/go-redis/v9"
)

// jobStore implements stores.JobStore (J1–J10).
type jobStore struct{ b *Backend }

var (
	_ stores.JobStore          = (*jobStore)(nil)
	_ stores.FreshEnqueuer     = (*jobStore)(nil)
	_ stores.RecordedCompleter = (*jobStore)(nil)
)

func (s *jobStore) keys() []string { return s.b.k.job }

func (s *jobStore) Enqueue(ctx context.Context, job *stores.Job) error {
	return s.EnqueueMany(ctx, []*stores.Job{job})
}

// EnqueueMany stores a batch of plain pending jobs (isPlain) with
// enqueuePlain and any other batch with enqueue.lua (J1).
func (s *jobStore) EnqueueMany(ctx context.Context, jobs []*stores.Job) error {
	if len(jobs) == 0 {
		return nil
	}
	if !slices.ContainsFunc(jobs, func(j *stores.Job) bool { return !isPlain(j) }) {
		ok, err := s.b.canHold(ctx)
		if err != nil {
			return err
		}
		if ok {
			return s.enqueuePlain(ctx, jobs)
		}
	}
	args := make([]any, len(jobs))
	for i, j := range jobs {
		args[i] = encodeJob(j)
	}
	_, err := s.b.run(ctx, scriptEnqueue, s.keys(), args...)
	return err
}

// isPlain reports whether j is a plain pending job: due now (no
// ScheduledAt) and without a worker, follower, unique key or schedule, so
// its only index entries are its readyq member and its queue.
func isPlain(j *stores.Job) bool {
	return j.Status == stores.StatusPending && j.ScheduledAt.IsZero() && j.WorkerID == "" &&
		j.FollowerNodeID == "" && j.UniqueKey == "" && j.ScheduleID == ""
}

// canHold reports whether the server lets this client RENAME every
// holding key, which a rejected plain enqueue or history append needs to
// hold its keys (enqueue_check.lua, history_check.lua): were RENAME denied
// (an ACL, rename-command), even for one key, the batch's writes would run.
// It asks once, with a RENAME of each holding key onto itself, which a
// server that allows it answers with OK or "no such key". Without RENAME
// every batch goes through enqueue.lua or history_append_many.lua.
func (b *Backend) canHold(ctx context.Context) (bool, error) {
	switch b.hold.Load() {
	case 1:
		return true, nil
	case 2:
		return false, nil
	}
	held := append(append([]string(nil), b.k.plain[len(plainKeyNames):]...), b.k.hist[len(histKeyNames):]...)
	for _, key := range held {
		err := b.c.Rename(ctx, key, key).Err()
		var rerr goredis.Error
		switch {
		case err == nil || errors.As(err, &rerr) && strings.Contains(rerr.Error(), "no such key"):
		case errors.As(err, &rerr):
			b.hold.Store(2)
			return false, nil
		default:
			return false, b.wrap(err, "enqueue")
		}
	}
	b.hold.Store(1)
	return true, nil
}

// enqueuePlain stores plain pending jobs, all or none (J1), in one MULTI/EXEC
// of native commands: enqueue_check.lua (no id taken, else it holds the
// keys so that the writes fail), HSET of the records, ZADD of their readyq
// members (built here from the records, the same bytes lib.lua's entries
// reads), SADD of their queues, hold_release.lua. A plain job has no
// bystatus member: Query finds pending jobs in readyq. Redis runs the
// transaction as one step, like a script, and the native commands cost the
// server half of what a script spends on the same writes: a script turns
// every argument into a Lua string (hashing each byte) and back. A batch
// that names one id twice is rejected here.
func (s *jobStore) enqueuePlain(ctx context.Context, jobs []*stores.Job) error {
	ids := make([]string, len(jobs))
	for i, j := range jobs {
		ids[i] = j.ID
	}
	if id, ok := repeated(ids); ok {
		return fmt.Errorf("%w: job id %s given twice", stores.ErrAlreadyExists, id)
	}
	k := s.keys()
	a := newPlainArgs(jobs, k[kJobs], k[kReadyQ])
	pipe := s.b.c.TxPipeline()
	check := scriptEnqueueCheck.Eval(ctx, pipe, s.b.k.plain, a.ids...)
	pipe.Do(ctx, a.hset...)
	pipe.Do(ctx, a.ready...)
	pipe.SAdd(ctx, k[kQueues], a.queues...)
	scriptHoldRelease.Eval(ctx, pipe, s.b.k.plain)
	return s.b.execHeld(ctx, pipe, check, "enqueue", "job id")
}

// execHeld runs pipe, a transaction opened by check (enqueue_check.lua,
// history_check.lua), and returns ErrAlreadyExists about what when the
// check held the keys, so that the writes failed.
func (b *Backend) execHeld(ctx context.Context, pipe goredis.Pipeliner, check *goredis.Cmd, op, what string) error {
	_, err := pipe.Exec(ctx)
	if n, cerr := check.Int(); cerr == nil && n == 1 {
		return fmt.Errorf("%w: %s", stores.ErrAlreadyExists, what)
	} else if cerr != nil {
		return b.wrap(cerr, op)
	}
	return b.wrap(err, op)
}

// plainArgs are the arguments of a plain enqueue: the ids (for
// enqueue_check.lua), the HSET of ids and records and the ZADD command
// whole, the SADD's queues.
type plainArgs struct{ ids, hset, ready, queues []any }

// newPlainArgs encodes jobs for enqueuePlain and EnqueueFresh.
func newPlainArgs(jobs []*stores.Job, jobsKey, readyq string) plainArgs {
	n := len(jobs)
	a := plainArgs{ids: make([]any, n), hset: make([]any, 2, 2+2*n), ready: make([]any, 2, 2+2*n)}
	a.hset[0], a.hset[1] = "hset", jobsKey
	a.ready[0], a.ready[1] = "zadd", readyq
	for i, j := range jobs {
		s, rec := plainRecord(j)
		id := any(j.ID)
		a.ids[i] = id
		a.hset = append(a.hset, id, s[:rec])
		a.ready = append(a.ready, "0", s[rec:])
		if i == 0 || j.Queue != jobs[i-1].Queue {
			a.queues = append(a.queues, s[rec:rec+3+len(j.Queue)])
		}
	}
	return a
}

// EnqueueFresh implements stores.FreshEnqueuer. A plain batch whose IDs
// the portable layer generated takes enqueuePlain's transaction without
// enqueue_check.lua and its holds: no ID can be taken, and the check was
// a sixth of the server's time per job (docs/PERFORMANCE.md). Any other
// batch is EnqueueMany's: unique keys and schedule ticks are still checked.
func (s *jobStore) EnqueueFresh(ctx context.Context, jobs []*stores.Job) error {
	if len(jobs) == 0 || slices.ContainsFunc(jobs, func(j *stores.Job) bool { return !isPlain(j) }) {
		return s.EnqueueMany(ctx, jobs)
	}
	k := s.keys()
	a := newPlainArgs(jobs, k[kJobs], k[kReadyQ])
	pipe := s.b.c.TxPipeline()
	added := pipe.Do(ctx, a.hset...)
	pipe.Do(ctx, a.ready...)
	pipe.SAdd(ctx, k[kQueues], a.queues...)
	if _, err := pipe.Exec(ctx); err != nil {
		return s.b.wrap(err, "enqueue")
	}
	// Only colliding generated IDs get here: say so rather than hide it.
	if n, err := added.Int(); err != nil || n != len(jobs) {
		return fmt.Errorf("redis: enqueue: %d new records for %d generated job ids: an id was already stored and its record is overwritten", n, len(jobs))
	}
	return nil
}

// repeated sorts ids and returns one that occurs twice, if any.
func repeated(ids []string) (string, bool) {
	slices.Sort(ids)
	for i := 1; i < len(ids); i++ {
		if ids[i] == ids[i-1] {
			return ids[i], true
		}
	}
	return "", false
}

func (s *jobStore) Get(ctx context.Context, id string) (*stores.Job, error) {
	raw, err := s.b.c.HGet(ctx, s.keys()[kJobs], id).Result()
	if errors.Is(err, goredis.Nil) {
		return nil, fmt.Errorf("%w: job %s", stores.ErrNotFound, id)
	}
	if err != nil {
		return nil, s.b.wrap(err, "get job")
	}
	return decodeJob(raw)
}

// next returns the T just after t: the exclusive upper bound of "at or
// before t".
func next(t time.Time) string { return tT(t.Add(time.Microsecond)) }

func (s *jobStore) Pending(ctx context.Context, now time.Time, limit int) ([]*stores.Job, error) {
	v, err := s.b.run(ctx, scriptPending, s.keys(), tT(now), next(now), limit)
	if err != nil {
		return nil, err
	}
	return decodeJobs(v)
}

// rangeGet reads up to count records of hash named by an index range.
func (b *Backend) rangeGet(ctx context.Context, index, hash, min, max string, count int, reverse bool) ([]any, error) {
	rev := "0"
	if reverse {
		rev = "1"
	}
	v, err := b.run(ctx, scriptRangeGet, []string{index, hash}, min, max, count, rev, 36)
	if err != nil {
		return nil, err
	}
	return replyList(v)
}

func (s *jobStore) rangeJobs(ctx context.Context, index int, min, max string, count int) ([]*stores.Job, error) {
	v, err := s.b.rangeGet(ctx, s.keys()[index], s.keys()[kJobs], min, max, count, false)
	if err != nil {
		return nil, err
	}
	return decodeJobs(v)
}

func (s *jobStore) DueScheduled(ctx context.Context, now time.Time, limit int) ([]*stores.Job, error) {
	return s.rangeJobs(ctx, kSched, "-", "("+next(now), limit)
}

func (s *jobStore) Dispatch(ctx context.Context, p stores.DispatchParams) ([]*stores.Job, error) {
	start := "0"
	if p.Start {
		start = "1"
	}
	args := []any{tT(p.Now), next(p.Now), p.Limit, p.WorkerID, start}
	seen := map[string]bool{}
	for _, q := range p.Queues {
		if !seen[q] {
			seen[q] = true
			args = append(args, q)
		}
	}
	v, err := s.b.run(ctx, scriptDispatch, s.keys(), args...)
	if err != nil {
		return nil, err
	}
	return decodeJobs(v)
}

func (s *jobStore) MarkRunning(ctx context.Context, ref stores.Ref, workerID string, now time.Time) (*stores.Job, error) {
	v, err := s.b.run(ctx, scriptMarkRunning, s.keys(), ref.ID, pad19(ref.Attempt), workerID, tT(now))
	if err != nil {
		return nil, err
	}
	return decodeJob(v)
}

// MarkRunningMany moves a batch of dispatched jobs to running with one
// script run (J5).
func (s *jobStore) MarkRunningMany(ctx context.Context, refs []stores.Ref, workerID string, now time.Time) ([]error, error) {
	args := make([]any, 0, 2+2*len(refs))
	args = append(args, workerID, tT(now))
	for _, r := range refs {
		args = append(args, r.ID, pad19(r.Attempt))
	}
	v, err := s.b.run(ctx, scriptMarkRunningMany, s.keys(), args...)
	if err != nil {
		return nil, err
	}
	return refResults(v, refs, "dispatched")
}

// refResults maps a script's failures (lib.lua: flat pairs of a ref's
// 1-based place and 'NOTFOUND' or 'CONFLICT', in ref order) to one error
// per ref, nil for a ref that moved.
func refResults(v any, refs []stores.Ref, want string) ([]error, error) {
	list, err := replyList(v)
	if err != nil || len(list)%2 != 0 {
		return nil, fmt.Errorf("%w: script returned %d values for failures", errUnexpected, len(list))
	}
	out := make([]error, len(refs))
	for k := 0; k < len(list); k += 2 {
		p, ok := list[k].(int64)
		if !ok || p < 1 || p > int64(len(refs)) || out[p-1] != nil {
			return nil, fmt.Errorf("%w: script named ref %v of %d", errUnexpected, list[k], len(refs))
		}
		r := refs[p-1]
		switch list[k+1] {
		case "NOTFOUND":
			out[p-1] = fmt.Errorf("%w: job %s", stores.ErrNotFound, r.ID)
		case "CONFLICT":
			out[p-1] = fmt.Errorf("%w: job %s is not %s at attempt %d", stores.ErrConflict, r.ID, want, r.Attempt)
		default:
			return nil, fmt.Errorf("%w: script returned code %v", errUnexpected, list[k+1])
		}
	}
	return out, nil
}

// finish runs finish.lua for refs and returns one error (or nil) per ref.
func (s *jobStore) finish(ctx context.Context, status stores.JobStatus, refs []stores.Ref, msg string, now time.Time) ([]error, error) {
	args := make([]any, 0, 3+2*len(refs))
	args = append(args, string(status), tT(now), msg)
	for _, r := range refs {
		args = append(args, r.ID, pad19(r.Attempt))
	}
	v, err := s.b.run(ctx, scriptFinish, s.keys(), args...)
	if err != nil {
		return nil, err
	}
	return refResults(v, refs, "in flight")
}

func (s *jobStore) finishOne(ctx context.Context, status stores.JobStatus, ref stores.Ref, msg string, now time.Time) error {
	errs, err := s.finish(ctx, status, []stores.Ref{ref}, msg, now)
	if err != nil {
		return err
	}
	return errs[0]
}

func (s *jobStore) Complete(ctx context.Context, ref stores.Ref, now time.Time) error {
	return s.finishOne(ctx, stores.StatusCompleted, ref, "", now)
}

func (s *jobStore) CompleteMany(ctx context.Context, refs []stores.Ref, now time.Time) ([]error, error) {
	return s.finish(ctx, stores.StatusCompleted, refs, "", now)
}

// CompleteRecorded implements stores.RecordedCompleter (J5, L1): the log
// lines, the history rows and the completions of a batch in one step, so a
// stored record id changes nothing and no crash leaves a row without its
// completion. Where the server lets this client RENAME (canHold), one
// MULTI/EXEC keeps the rows native (completeHeld); else
// complete_recorded.lua stores them too.
func (s *jobStore) CompleteRecorded(ctx context.Context, c stores.CompletedBatch) ([]error, error) {
	logs, err := logArgs(c.Logs)
	if err != nil {
		return nil, err
	}
	var hist historyArgs
	held := false
	if len(c.History) > 0 {
		if hist, err = newHistoryArgs(c.History); err != nil {
			return nil, err
		}
		if held, err = s.b.canHold(ctx); err != nil {
			return nil, err
		}
	}
	mode := "rows"
	if held {
		if err := hist.repeatedID(); err != nil {
			return nil, err
		}
		mode = "held"
	}
	args := make([]any, 0, 5+2*len(c.Refs)+len(logs)+2+2*len(c.History))
	args = append(args, tT(c.Now), len(c.Refs), len(c.Logs), len(c.History), mode)
	for _, r := range c.Refs {
		args = append(args, r.ID, pad19(r.Attempt))
	}
	args = append(args, logs...)
	if len(c.History) > 0 {
		args = append(append(args, hist.batch, hist.list), hist.ids...)
	}
	var v any
	if held {
		v, err = s.completeHeld(ctx, args, hist)
	} else {
		v, err = s.b.run(ctx, scriptCompleteRecorded, s.keys(), append(args, hist.members...)...)
	}
	if err != nil {
		return nil, err
	}
	return refResults(v, c.Refs, "in flight")
}

// completeHeld runs CompleteRecorded as one MULTI/EXEC: history_hold.lua
// holds the history keys, complete_recorded.lua (held mode) checks every
// record id, stores the log lines, completes the jobs and gives the keys
// back, then the rows' native commands (historyArgs.queueWrites) and
// hold_release.lua. When the script refuses the batch, or the server does
// not have it (NOSCRIPT: EVALSHA cannot fall back to EVAL inside a
// transaction), the keys stay held, so the native commands fail and
// nothing is written; on NOSCRIPT the script is loaded and the transaction
// sent once more.
func (s *jobStore) completeHeld(ctx context.Context, args []any, hist historyArgs) (any, error) {
	keys := append(append([]string(nil), s.keys()...), s.b.k.hist[len(histKeyNames):]...)
	for try := 0; ; try++ {
		pipe := s.b.c.TxPipeline()
		scriptHistoryHold.Eval(ctx, pipe, s.b.k.hist)
		main := scriptCompleteRecorded.EvalSha(ctx, pipe, keys, args...)
		hist.queueWrites(ctx, pipe, s.b.k.hist)
		scriptHoldRelease.Eval(ctx, pipe, s.b.k.hist)
		_, err := pipe.Exec(ctx)
		if merr := main.Err(); merr != nil {
			if try == 0 && goredis.HasErrorPrefix(merr, "NOSCRIPT") {
				if err := scriptCompleteRecorded.Load(ctx, s.b.c).Err(); err != nil {
					return nil, s.b.wrap(err, "complete with records")
				}
				continue
			}
			return nil, s.b.wrap(merr, "complete with records")
		}
		if err != nil { // the script ran, a later command failed: its error
			return nil, s.b.wrap(err, "complete with records")
		}
		return main.Val(), nil
	}
}

func (s *jobStore) Fail(ctx context.Context, ref stores.Ref, errMsg string, now time.Time) error {
	return s.finishOne(ctx, stores.StatusFailed, ref, "="+errMsg, now)
}

func (s *jobStore) TimeOut(ctx context.Context, ref stores.Ref, now time.Time) error {
	return s.finishOne(ctx, stores.StatusTimedOut, ref, "", now)
}

// retryGroup is one conditional transition of retry.lua.
type retryGroup struct {
	job    *stores.Job
	action string // retry, requeue, timeout
	value  string
}

func (g retryGroup) args() []any {
	return []any{g.job.ID, string(g.job.Status), pad19(g.job.Attempt), itoa(int64(g.job.RetryCount)), g.action, g.value}
}

// retryValue is retry.lua's value for a retry: ScheduledAt, then LastError.
func retryValue(j *stores.Job, msg string, now time.Time) string {
	return tT(now.Add(j.RetryPolicy.Backoff(j.RetryCount+1))) + msg
}

// applyRetries runs retry.lua; each result is the new job or nil when the
// job had moved on since the caller read it.
func (s *jobStore) applyRetries(ctx context.Context, now time.Time, groups []retryGroup) ([]*stores.Job, error) {
	args := []any{tT(now)}
	for _, g := range groups {
		args = append(args, g.args()...)
	}
	v, err := s.b.run(ctx, scriptRetry, s.keys(), args...)
	if err != nil {
		return nil, err
	}
	list, err := replyList(v)
	if err != nil || len(list) != len(groups) {
		return nil, fmt.Errorf("%w: retry returned %d results for %d jobs", errUnexpected, len(list), len(groups))
	}
	out := make([]*stores.Job, len(list))
	for i, raw := range list {
		if raw == nil {
			continue
		}
		if out[i], err = decodeJob(raw); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Retry reads the job to compute the backoff in Go (the one definition,
// stores.RetryPolicy.Backoff), then retry.lua applies it only if the job is
// still in flight at the same attempt and retry count, so a concurrent
// transition wins and this call gets ErrConflict (J5, J7).
func (s *jobStore) Retry(ctx context.Context, ref stores.Ref, errMsg string, now time.Time) (*stores.Job, bool, error) {
	j, err := s.Get(ctx, ref.ID)
	if err != nil {
		return nil, false, err
	}
	if !j.Status.InFlight() || j.Attempt != ref.Attempt {
		return nil, false, fmt.Errorf("%w: job %s is not in flight at attempt %d", stores.ErrConflict, ref.ID, ref.Attempt)
	}
	if j.RetryCount >= j.MaxRetries {
		return j, false, nil
	}
	out, err := s.applyRetries(ctx, now, []retryGroup{{job: j, action: "retry", value: retryValue(j, errMsg, now)}})
	if err != nil {
		return nil, false, err
	}
	if out[0] == nil {
		return nil, false, fmt.Errorf("%w: job %s changed while retrying", stores.ErrConflict, ref.ID)
	}
	return out[0], true, nil
}

func (s *jobStore) Cancel(ctx context.Context, id string, now time.Time) error {
	_, err := s.b.run(ctx, scriptCancel, s.keys(), id, tT(now))
	return err
}

func (s *jobStore) MoveToDeadLetter(ctx context.Context, ref stores.Ref, errMsg string, now time.Time) (*stores.DeadLetter, error) {
	v, err := s.b.run(ctx, scriptDeadLetter, s.keys(), ref.ID, pad19(ref.Attempt), stores.NewID(), errMsg, tT(now))
	if err != nil {
		return nil, err
	}
	return decodeDeadLetter(v)
}

func (s *jobStore) ClaimForFollower(ctx context.Context, jobID, nodeID string) error {
	_, err := s.b.run(ctx, scriptClaim, s.keys(), jobID, nodeID)
	return err
}

func (s *jobStore) ByFollower(ctx context.Context, nodeID string, limit int) ([]*stores.Job, error) {
	p := lp(nodeID)
	return s.rangeJobs(ctx, kFol, "["+p, "("+p+maxSuffix, limit)
}

func (s *jobStore) CountByFollower(ctx context.Context, nodeID string) (int, error) {
	p := lp(nodeID)
	n, err := s.b.c.ZLexCount(ctx, s.keys()[kFol], "["+p, "("+p+maxSuffix).Result()
	return int(n), s.b.wrap(err, "count by follower")
}

// releaseBatch bounds one release.lua call.
const releaseBatch = 1000

// ReleaseFollower releases in batches of releaseBatch jobs, each batch one
// atomic script, so a node with very many jobs never blocks the server.
func (s *jobStore) ReleaseFollower(ctx context.Context, nodeID string) (int, error) {
	total := 0
	for {
		v, err := s.b.run(ctx, scriptRelease, s.keys(), nodeID, releaseBatch)
		if err != nil {
			return total, err
		}
		n, _ := v.(int64)
		total += int(n)
		if n < releaseBatch {
			return total, nil
		}
	}
}

// Recover reads the expired in-flight jobs from the dispatch, deadline and
// worker indexes, decides each one in Go (backoff from the one Go
// definition), then retry.lua applies every decision in one atomic step,
// each only if the job still has the status, attempt and retry count read:
// a completion that won the race is never overridden (J8).
func (s *jobStore) Recover(ctx context.Context, p stores.RecoverParams) (stores.RecoverResult, error) {
	var res stores.RecoverResult
	k := s.keys()
	pipe := s.b.c.Pipeline()
	var cmds []*goredis.StringSliceCmd
	by := &goredis.ZRangeBy{Min: "-", Count: int64(p.Limit)}
	if p.DispatchLease > 0 {
		if cutoff := p.Now.Add(-p.DispatchLease); cutoff.After(time.Unix(0, 0)) {
			r := *by
			r.Max = "(" + next(cutoff)
			cmds = append(cmds, pipe.ZRangeByLex(ctx, k[kDisp], &r))
		}
	}
	r := *by
	r.Max = "(" + next(p.Now)
	cmds = append(cmds, pipe.ZRangeByLex(ctx, k[kRun], &r))
	dead := map[string]bool{}
	for _, w := range p.DeadWorkers {
		if dead[w] {
			continue
		}
		dead[w] = true
		cmds = append(cmds, pipe.ZRangeByLex(ctx, k[kWJobs], &goredis.ZRangeBy{Min: "[" + lp(w), Max: "(" + lp(w) + maxSuffix, Count: int64(p.Limit)}))
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return res, s.b.wrap(err, "recover")
	}
	idSet := map[string]bool{}
	var ids []string
	for _, c := range cmds {
		for _, m := range c.Val() {
			id := m[len(m)-36:]
			if !idSet[id] {
				idSet[id] = true
				ids = append(ids, id)
			}
		}
	}
	if len(ids) == 0 {
		return res, nil
	}
	raws, err := s.b.c.HMGet(ctx, k[kJobs], ids...).Result()
	if err != nil {
		return res, s.b.wrap(err, "recover")
	}
	var groups []retryGroup
	for _, raw := range raws {
		if raw == nil {
			continue
		}
		j, err := decodeJob(raw)
		if err != nil {
			return res, err
		}
		lost := j.WorkerID != "" && dead[j.WorkerID]
		switch j.Status {
		case stores.StatusDispatched:
			expired := p.DispatchLease > 0 && !j.DispatchedAt.After(p.Now.Add(-p.DispatchLease))
			if expired || lost {
				groups = append(groups, retryGroup{job: j, action: "requeue"})
			}
		case stores.StatusRunning:
			timedOut := j.Timeout > 0 && !j.StartedAt.Add(j.Timeout).After(p.Now)
			if !timedOut && !lost {
				continue
			}
			msg := "worker lost"
			if timedOut {
				msg = "timed out"
			}
			if j.RetryCount < j.MaxRetries {
				groups = append(groups, retryGroup{job: j, action: "retry", value: retryValue(j, msg, p.Now)})
			} else {
				groups = append(groups, retryGroup{job: j, action: "timeout", value: msg})
			}
		}
	}
	// Oldest first: by dispatch time, then id.
	sort.Slice(groups, func(a, b int) bool {
		x, y := groups[a].job, groups[b].job
		if !x.DispatchedAt.Equal(y.DispatchedAt) {
			return x.DispatchedAt.Before(y.DispatchedAt)
		}
		return x.ID < y.ID
	})
	if len(groups) > p.Limit {
		groups = groups[:p.Limit]
	}
	if len(groups) == 0 {
		return res, nil
	}
	out, err := s.applyRetries(ctx, p.Now, groups)
	if err != nil {
		return res, err
	}
	for i, j := range out {
		if j == nil {
			continue
		}
		if groups[i].action == "timeout" {
			res.TimedOut = append(res.TimedOut, j.ID)
		} else {
			res.Requeued = append(res.Requeued, j.ID)
		}
	}
	return res, nil
}

func (s *jobStore) Uncleaned(ctx context.Context, limit int) ([]*stores.Job, error) {
	return s.rangeJobs(ctx, kUncl, "-", "+", limit)
}

func (s *jobStore) MarkCleaned(ctx context.Context, ids []string) error {
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	_, err := s.b.run(ctx, scriptMarkCleaned, s.keys(), args...)
	return err
}

// orphanBudget bounds the history rows and log lines one purge_orphans.lua
// call deletes.
const orphanBudget = 1000

// Purge deletes up to limit jobs in one script, then their history and logs
// in bounded steps (purge_orphans.lua). The orphan set records the pending
// work, so a crash or cancellation between steps is finished by the next
// Purge (J9).
func (s *jobStore) Purge(ctx context.Context, before time.Time, limit int) (int, error) {
	v, err := s.b.run(ctx, scriptPurgeJobs, s.keys(), tT(before), limit)
	if err != nil {
		return 0, err
	}
	n, _ := v.(int64)
	return int(n), s.purgeOrphans(ctx)
}

// purgeOrphans runs purge_orphans.lua on up to 16 orphans at a time, each
// given with its 16 bytes (the prefix of its rows' members), until none is
// left.
func (s *jobStore) purgeOrphans(ctx context.Context) error {
	prev := int64(1) << 62
	for {
		ids, err := s.b.c.SRandMemberN(ctx, s.keys()[kOrphans], 16).Result()
		if err != nil {
			return s.b.wrap(err, "read orphans")
		}
		if len(ids) == 0 {
			return nil
		}
		args := []any{orphanBudget}
		for _, id := range ids {
			jid, err := uuidBytes(id)
			if err != nil {
				return err
			}
			args = append(args, id, jid)
		}
		v, err := s.b.run(ctx, scriptPurgeOrphans, s.keys(), args...)
		if err != nil {
			return err
		}
		r, _ := v.([]any)
		if len(r) != 2 {
			return errUnexpected
		}
		spent, _ := r[0].(int64)
		left, _ := r[1].(int64)
		// Every call deletes rows or forgets orphans; stop when neither
		// happened (another Purge is working on the same orphans).
		if left == 0 || spent == 0 && left >= prev {
			return nil
		}
		prev = left
	}
}

var allStatuses = stores.JobStatuses

// Query merges (CreatedAt, ID)-ordered ranges chunk by chunk, then reads
// and filters the jobs: the bystatus ranges of the wanted statuses and, for
// pending jobs, readyq's (queue, priority) groups (query_round.lua). The
// keyset bound (the cursor) makes paging stable while rows are added (J10).
func (s *jobStore) Query(ctx context.Context, q stores.JobQuery) (stores.JobPage, error) {
	k := s.keys()
	statuses := q.Statuses
	if len(statuses) == 0 {
		statuses = allStatuses
	}
	want := map[stores.JobStatus]bool{}
	var prefixes []any // bystatus prefixes
	for _, st := range statuses {
		if !want[st] {
			want[st] = true
			if p := statusPrefix(st); !slices.Contains(prefixes, any(p)) {
				prefixes = append(prefixes, p)
			}
		}
	}
	queues := set(q.Queues)
	types := set(q.Types)
	// lower bound on the member suffix T(created)+id, and whether it is exclusive
	lo, open := "", "["
	if !q.CreatedAfter.IsZero() {
		lo = tT(q.CreatedAfter)
	}
	if q.Cursor != "" {
		c, err := stores.DecodeCursor(q.Cursor)
		if err != nil {
			return stores.JobPage{}, err
		}
		if cur := tT(c.Time) + c.ID; cur >= lo {
			lo, open = cur, "("
		}
	}
	hi := maxSuffix
	if !q.CreatedBefore.IsZero() {
		hi = tT(q.CreatedBefore)
	}
	chunk := q.Limit + 1
	if chunk < 100 {
		chunk = 100
	}
	if chunk > 1000 {
		chunk = 1000
	}
	ready := []any{"0"}
	if want[stores.StatusPending] {
		ready[0] = "1"
		for q := range queues {
			ready = append(ready, lp(q))
		}
	}
	var out []*stores.Job
	for len(out) <= q.Limit {
		args := append([]any{open, lo, hi, chunk, len(prefixes)}, prefixes...)
		v, err := s.b.run(ctx, scriptQueryRound, []string{k[kByStatus], k[kReadyQ]}, append(args, ready...)...)
		if err != nil {
			return stores.JobPage{}, err
		}
		ranges, err := queryRanges(v)
		if err != nil {
			return stores.JobPage{}, err
		}
		// Only suffixes up to the smallest last suffix of a range that may
		// hold more are safe to take in this round.
		safe := maxSuffix
		for _, ms := range ranges {
			if len(ms) == chunk && ms[len(ms)-1] < safe {
				safe = ms[len(ms)-1]
			}
		}
		var suffixes []string
		for _, ms := range ranges {
			for _, sfx := range ms {
				if sfx <= safe {
					suffixes = append(suffixes, sfx)
				}
			}
		}
		sort.Strings(suffixes)
		var ids []string
		for i, sfx := range suffixes {
			if i == 0 || sfx != suffixes[i-1] {
				ids = append(ids, sfx[19:])
			}
		}
		if len(ids) > 0 {
			raws, err := s.b.c.HMGet(ctx, k[kJobs], ids...).Result()
			if err != nil {
				return stores.JobPage{}, s.b.wrap(err, "query")
			}
			for _, raw := range raws {
				if raw == nil {
					continue
				}
				j, err := decodeJob(raw)
				if err != nil {
					return stores.JobPage{}, err
				}
				if !want[j.Status] || (queues != nil && !queues[j.Queue]) || (types != nil && !types[j.Type]) {
					continue
				}
				out = append(out, j)
				if len(out) > q.Limit {
					break
				}
			}
		}
		if safe == maxSuffix {
			break
		}
		lo, open = safe, "("
	}
	page := stores.JobPage{Jobs: out}
	if len(out) > q.Limit {
		last := out[q.Limit-1]
		page.Jobs = out[:q.Limit]
		page.Next = stores.Cursor{Time: last.CreatedAt, ID: last.ID}.Encode()
	}
	return page, nil
}

// queryRanges reads query_round.lua's reply: per range, the suffixes
// (T(created) id) of the members it read.
func queryRanges(v any) ([][]string, error) {
	list, err := replyList(v)
	if err != nil {
		return nil, err
	}
	var out [][]string
	for i := 0; i < len(list); {
		plen, ok1 := list[i].(int64)
		n, ok2 := 0, false
		if i+1 < len(list) {
			var n64 int64
			n64, ok2 = list[i+1].(int64)
			n = int(n64)
		}
		if !ok1 || !ok2 || n < 0 || i+2+n > len(list) {
			return nil, fmt.Errorf("%w: query reply at %d of %d", errUnexpected, i, len(list))
		}
		ms := make([]string, n)
		for j := range ms {
			m, ok := list[i+2+j].(string)
			if !ok || len(m) != int(plen)+19+36 {
				return nil, fmt.Errorf("%w: query member %q", errUnexpected, list[i+2+j])
			}
			ms[j] = m[plen:]
		}
		out = append(out, ms)
		i += 2 + n
	}
	return out, nil
}

func set(list []string) map[string]bool {
	if len(list) == 0 {
		return nil
	}
	m := make(map[string]bool, len(list))
	for _, v := range list {
		m[v] = true
	}
	return m
}
