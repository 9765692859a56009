package inmemory

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/google/btree"

	"github.com/orchestrix/persistence/abstractions/stores"
)

// jobStore implements stores.JobStore (J1–J10) over the shared state.
type jobStore struct{ db *db }

var (
	_ stores.JobStore          = jobStore{}
	_ stores.RecordedCompleter = jobStore{}
)

func sortJobs[J any](js []J, less func(a, b J) bool) {
	slices.SortFunc(js, func(a, b J) int {
		switch {
		case less(a, b):
			return -1
		case less(b, a):
			return 1
		}
		return 0
	})
}

// jobStages holds the buffers snapshot copies jobs into.
var jobStages = sync.Pool{New: func() any { return new([]stores.Job) }}

// snapshotLocked runs rows under the store's lock, shared when read is
// set, and snapshots the rows it returns; the caller makes its copies from
// the snapshot after the lock is let go (copies). The unlock is deferred so
// that a panic under the lock cannot leave it held.
func (d *db) snapshotLocked(ctx context.Context, read bool, rows func() []*jobRow) (*[]stores.Job, error) {
	if read {
		if err := d.rlock(ctx); err != nil {
			return nil, err
		}
		defer d.mu.RUnlock()
	} else {
		if err := d.lock(ctx); err != nil {
			return nil, err
		}
		defer d.mu.Unlock()
	}
	return snapshot(rows()), nil
}

// snapshot copies the stored jobs into a pooled buffer, under the lock: a
// copy into memory already touched. The copies a caller gets are made from
// it after the lock (copies), so their fresh memory, and the page faults of
// first touching it, do not hold up other callers.
func snapshot(js []*jobRow) *[]stores.Job {
	p := jobStages.Get().(*[]stores.Job)
	for _, j := range js {
		*p = append(*p, j.Job)
	}
	return p
}

// copies returns deep copies of the snapshot's jobs, as Clone would, in one
// array of jobs and one buffer of arguments for the lot instead of two
// allocations per job: each copy's Args is a capacity-capped window of the
// buffer, so no copy shares anything mutable with the store or another copy
// (appending to Args reallocates). The snapshot's Args are the stored
// rows', which are never written (rowOf), so copies runs without the lock.
// It gives the buffer back to the pool.
func copies(p *[]stores.Job) []*stores.Job {
	js := *p
	n := 0
	for i := range js {
		n += len(js[i].Args)
	}
	out := make([]*stores.Job, len(js))
	cs := make([]stores.Job, len(js))
	args := make([]byte, 0, n)
	for i := range js {
		cs[i] = js[i]
		if js[i].Args != nil {
			k := len(args)
			args = append(args, js[i].Args...)
			cs[i].Args = args[k:len(args):len(args)]
		}
		out[i] = &cs[i]
	}
	clear(js) // the pool must not keep the stored jobs' strings alive
	*p = js[:0]
	jobStages.Put(p)
	return out
}

func notFound(kind, id string) error {
	return fmt.Errorf("%s %s: %w", kind, id, stores.ErrNotFound)
}

// Enqueue implements stores.JobStore (J1).
func (s jobStore) Enqueue(ctx context.Context, job *stores.Job) error {
	return s.EnqueueMany(ctx, []*stores.Job{job})
}

// EnqueueMany implements stores.JobStore (J1): all or nothing.
func (s jobStore) EnqueueMany(ctx context.Context, jobs []*stores.Job) error {
	if err := ctx.Err(); err != nil { // before any work (E2)
		return err
	}
	rows := stageRows(jobs)
	if err := s.db.lock(ctx); err != nil {
		return err
	}
	defer s.db.mu.Unlock()
	return s.db.jobs.insertAll(rows)
}

// Get implements stores.JobStore (J2).
func (s jobStore) Get(ctx context.Context, id string) (*stores.Job, error) {
	if err := s.db.rlock(ctx); err != nil {
		return nil, err
	}
	defer s.db.mu.RUnlock()
	j, ok := s.db.jobs.byID[id]
	if !ok {
		return nil, notFound("job", id)
	}
	return j.Clone(), nil
}

// Pending implements stores.JobStore (J3).
func (s jobStore) Pending(ctx context.Context, now time.Time, limit int) ([]*stores.Job, error) {
	snap, err := s.db.snapshotLocked(ctx, false, func() []*jobRow { return s.db.jobs.firstReady(now, nil, limit) })
	if err != nil {
		return nil, err
	}
	return copies(snap), nil
}

// DueScheduled implements stores.JobStore (J3).
func (s jobStore) DueScheduled(ctx context.Context, now time.Time, limit int) ([]*stores.Job, error) {
	if err := s.db.rlock(ctx); err != nil {
		return nil, err
	}
	defer s.db.mu.RUnlock()
	var out []*stores.Job
	s.db.jobs.scheduled.Ascend(func(j *jobRow) bool {
		if j.ScheduledAt.After(now) {
			return false
		}
		out = append(out, j.Clone())
		return len(out) < limit
	})
	return out, nil
}

// Dispatch implements stores.JobStore (J4): under the one lock, no two
// callers can pick the same job.
func (s jobStore) Dispatch(ctx context.Context, p stores.DispatchParams) ([]*stores.Job, error) {
	snap, err := s.db.snapshotLocked(ctx, false, func() []*jobRow {
		t := s.db.jobs
		picked := t.firstReady(p.Now, p.Queues, p.Limit)
		for _, j := range picked {
			t.update(j, func(j *stores.Job) {
				j.Status = stores.StatusDispatched
				j.DispatchedAt = p.Now
				j.Attempt++
				if p.WorkerID != "" {
					j.WorkerID = p.WorkerID
				}
				if p.Start {
					j.Status, j.StartedAt = stores.StatusRunning, p.Now
				}
			})
		}
		return picked
	})
	if err != nil {
		return nil, err
	}
	return copies(snap), nil
}

// inFlight returns the stored job at ref if it is dispatched or running at
// that attempt: ErrNotFound for a missing job, ErrConflict otherwise (J5).
func (t *jobTable) inFlight(ref stores.Ref) (*jobRow, error) {
	return inFlightRow(t.byID[ref.ID], ref)
}

// inFlightRow is inFlight for the stored job j that ref.ID names (nil:
// none).
func inFlightRow(j *jobRow, ref stores.Ref) (*jobRow, error) {
	if j == nil {
		return nil, notFound("job", ref.ID)
	}
	if err := conflictUnlessAt(&j.Job, ref); err != nil {
		return nil, err
	}
	if !j.Status.InFlight() {
		return nil, fmt.Errorf("job %s is %s, not in flight: %w", j.ID, j.Status, stores.ErrConflict)
	}
	return j, nil
}

func conflictUnlessAt(j *stores.Job, ref stores.Ref) error {
	if j.Attempt != ref.Attempt {
		return fmt.Errorf("job %s is at attempt %d, not %d: %w", j.ID, j.Attempt, ref.Attempt, stores.ErrConflict)
	}
	return nil
}

// markRunning moves the dispatched job at ref to running (J5).
func (t *jobTable) markRunning(j *jobRow, ref stores.Ref, workerID string, now time.Time) (*jobRow, error) {
	j, err := inFlightRow(j, ref)
	if err != nil {
		return nil, err
	}
	if j.Status != stores.StatusDispatched {
		return nil, fmt.Errorf("job %s is %s, not dispatched: %w", j.ID, j.Status, stores.ErrConflict)
	}
	t.update(j, func(j *stores.Job) {
		j.Status = stores.StatusRunning
		j.StartedAt = now
		if workerID != "" {
			j.WorkerID = workerID
		}
	})
	return j, nil
}

// MarkRunning implements stores.JobStore (J5).
func (s jobStore) MarkRunning(ctx context.Context, ref stores.Ref, workerID string, now time.Time) (*stores.Job, error) {
	if err := s.db.lock(ctx); err != nil {
		return nil, err
	}
	defer s.db.mu.Unlock()
	j, err := s.db.jobs.markRunning(s.db.jobs.byID[ref.ID], ref, workerID, now)
	if err != nil {
		return nil, err
	}
	return j.Clone(), nil
}

// MarkRunningMany implements stores.JobStore (J5): one lock for the batch;
// a ref given again is ErrConflict whatever its first entry got.
func (s jobStore) MarkRunningMany(ctx context.Context, refs []stores.Ref, workerID string, now time.Time) ([]error, error) {
	if err := s.db.lock(ctx); err != nil {
		return nil, err
	}
	defer s.db.mu.Unlock()
	t := s.db.jobs
	return t.eachRef(refs, func(j *jobRow, ref stores.Ref) error {
		_, err := t.markRunning(j, ref, workerID, now)
		return err
	}), nil
}

// eachRef applies one transition per ref of a batch and returns the
// per-ref results; transition gets the stored job ref.ID names (nil: none).
// A ref given again is one transition: its first entry decides, the repeats
// are ErrConflict (as on every backend). Repeats are found without a set of
// the refs until one can occur: every stored job a ref names is stamped with
// the batch, and only a ref naming a job already stamped, or no stored job,
// can repeat an earlier ref; from there on a set of the refs so far decides.
func (t *jobTable) eachRef(refs []stores.Ref, transition func(*jobRow, stores.Ref) error) []error {
	errs := make([]error, len(refs))
	t.batch++
	var seen map[stores.Ref]bool
	for i, ref := range refs {
		j := t.byID[ref.ID]
		if seen == nil && (j == nil || j.stamp == t.batch) {
			seen = make(map[stores.Ref]bool, len(refs)-i)
			for _, r := range refs[:i] {
				seen[r] = true
			}
		}
		if seen != nil {
			if seen[ref] {
				errs[i] = fmt.Errorf("job %s attempt %d appears twice in the batch: %w", ref.ID, ref.Attempt, stores.ErrConflict)
				continue
			}
			seen[ref] = true
		}
		if j != nil {
			j.stamp = t.batch
		}
		errs[i] = transition(j, ref)
	}
	return errs
}

// finish moves the in-flight job at ref to a terminal status (J5).
func (t *jobTable) finish(j *jobRow, ref stores.Ref, status stores.JobStatus, errMsg *string, now time.Time) error {
	j, err := inFlightRow(j, ref)
	if err != nil {
		return err
	}
	t.update(j, func(j *stores.Job) {
		j.Status = status
		j.CompletedAt = now
		if errMsg != nil {
			j.LastError = *errMsg
		}
	})
	return nil
}

// Complete implements stores.JobStore (J5).
func (s jobStore) Complete(ctx context.Context, ref stores.Ref, now time.Time) error {
	if err := s.db.lock(ctx); err != nil {
		return err
	}
	defer s.db.mu.Unlock()
	t := s.db.jobs
	return t.finish(t.byID[ref.ID], ref, stores.StatusCompleted, nil, now)
}

// CompleteMany implements stores.JobStore (J5): one lock for the batch; a
// ref given again is ErrConflict whatever its first entry got.
func (s jobStore) CompleteMany(ctx context.Context, refs []stores.Ref, now time.Time) ([]error, error) {
	if err := s.db.lock(ctx); err != nil {
		return nil, err
	}
	defer s.db.mu.Unlock()
	t := s.db.jobs
	return t.eachRef(refs, func(j *jobRow, ref stores.Ref) error {
		return t.finish(j, ref, stores.StatusCompleted, nil, now)
	}), nil
}

// CompleteRecorded implements stores.RecordedCompleter (J5, L1): the
// records are staged before the locks, filed under recMu, and the batch
// completed under both (recMu, then mu) before recMu goes, so no call sees
// the records without the completions or the other way round. Filing under
// recMu alone lets Dispatch and CompleteMany run meanwhile. A duplicate
// record ID takes the batch's records back out before any job changes.
func (s jobStore) CompleteRecorded(ctx context.Context, b stores.CompletedBatch) ([]error, error) {
	if err := ctx.Err(); err != nil { // before any work (E2)
		return nil, err
	}
	d := s.db
	logs := d.reserve.logStages.get(len(b.Logs))
	defer d.reserve.logStages.put(logs)
	stageRecords(logs, b.Logs, logEntryID, logEntryJobID, fillLog)
	hist := d.reserve.histStages.get(len(b.History))
	defer d.reserve.histStages.put(hist)
	stageRecords(hist, b.History, historyID, historyJobID, fillHistory)
	d.reserve.refill()
	defer d.reserve.refill()
	if err := d.lockRecords(ctx); err != nil {
		return nil, err
	}
	defer d.recMu.Unlock()
	logSeq := d.logs.seq
	if len(b.Logs) > 0 {
		if err := appendStaged(d.logs, logs, b.Logs, logEntryID, logEntryJobID, placeLog); err != nil {
			return nil, err
		}
	}
	if len(b.History) > 0 {
		if err := appendStaged(d.history, hist, b.History, historyID, historyJobID, placeHistory); err != nil {
			unappend(d.logs, b.Logs, logEntryID, logSeq)
			return nil, err
		}
	}
	// Not d.lock: the records are filed, so a done context must not stop
	// the completions now, and Close, which needs recMu, cannot have run.
	d.mu.Lock() // after recMu (lock order)
	defer d.mu.Unlock()
	t := d.jobs
	return t.eachRef(b.Refs, func(j *jobRow, ref stores.Ref) error {
		return t.finish(j, ref, stores.StatusCompleted, nil, b.Now)
	}), nil
}

// Fail implements stores.JobStore (J5).
func (s jobStore) Fail(ctx context.Context, ref stores.Ref, errMsg string, now time.Time) error {
	if err := s.db.lock(ctx); err != nil {
		return err
	}
	defer s.db.mu.Unlock()
	t := s.db.jobs
	return t.finish(t.byID[ref.ID], ref, stores.StatusFailed, &errMsg, now)
}

// TimeOut implements stores.JobStore (J5).
func (s jobStore) TimeOut(ctx context.Context, ref stores.Ref, now time.Time) error {
	if err := s.db.lock(ctx); err != nil {
		return err
	}
	defer s.db.mu.Unlock()
	t := s.db.jobs
	return t.finish(t.byID[ref.ID], ref, stores.StatusTimedOut, nil, now)
}

// retry sends the in-flight job j back to pending, spending one retry (J7).
func (t *jobTable) retry(j *jobRow, errMsg string, now time.Time) {
	t.update(j, func(j *stores.Job) {
		j.Status = stores.StatusPending
		j.RetryCount++
		j.ScheduledAt = stores.NormalizeTime(now.Add(j.RetryPolicy.Backoff(j.RetryCount)))
		j.LastError = errMsg
		j.WorkerID = ""
	})
}

// Retry implements stores.JobStore (J7).
func (s jobStore) Retry(ctx context.Context, ref stores.Ref, errMsg string, now time.Time) (*stores.Job, bool, error) {
	if err := s.db.lock(ctx); err != nil {
		return nil, false, err
	}
	defer s.db.mu.Unlock()
	t := s.db.jobs
	j, err := t.inFlight(ref)
	if err != nil {
		return nil, false, err
	}
	if j.RetryCount >= j.MaxRetries {
		return j.Clone(), false, nil
	}
	t.retry(j, errMsg, now)
	return j.Clone(), true, nil
}

// Cancel implements stores.JobStore.
func (s jobStore) Cancel(ctx context.Context, id string, now time.Time) error {
	if err := s.db.lock(ctx); err != nil {
		return err
	}
	defer s.db.mu.Unlock()
	t := s.db.jobs
	j, ok := t.byID[id]
	if !ok {
		return notFound("job", id)
	}
	if j.Status.Terminal() {
		return fmt.Errorf("job %s is already %s: %w", id, j.Status, stores.ErrConflict)
	}
	t.update(j, func(j *stores.Job) {
		j.Status = stores.StatusCancelled
		j.CompletedAt = now
	})
	return nil
}

// MoveToDeadLetter implements stores.JobStore (J7): the job leaves the live
// set and the dead letter appears in one step.
func (s jobStore) MoveToDeadLetter(ctx context.Context, ref stores.Ref, errMsg string, now time.Time) (*stores.DeadLetter, error) {
	if err := s.db.lock(ctx); err != nil {
		return nil, err
	}
	defer s.db.mu.Unlock()
	t := s.db.jobs
	j, ok := t.byID[ref.ID]
	if !ok {
		return nil, notFound("job", ref.ID)
	}
	if err := conflictUnlessAt(&j.Job, ref); err != nil {
		return nil, err
	}
	if errMsg == "" {
		errMsg = j.LastError
	}
	d := &stores.DeadLetter{
		ID:            stores.NewID(),
		Job:           *j.Clone(),
		LastError:     errMsg,
		TotalAttempts: int(j.Attempt),
		FailedAt:      now,
	}
	// A fresh UUIDv7 cannot collide in practice; checking keeps the table
	// consistent even if it did.
	for s.db.deadLetters.byID[d.ID] != nil {
		d.ID = stores.NewID()
	}
	t.remove(j)
	s.db.deadLetters.insert(d)
	return d.Clone(), nil
}

// ClaimForFollower implements stores.JobStore (J6).
func (s jobStore) ClaimForFollower(ctx context.Context, jobID, nodeID string) error {
	if err := s.db.lock(ctx); err != nil {
		return err
	}
	defer s.db.mu.Unlock()
	t := s.db.jobs
	j, ok := t.byID[jobID]
	if !ok {
		return notFound("job", jobID)
	}
	switch j.FollowerNodeID {
	case nodeID:
		return nil
	case "":
		t.update(j, func(j *stores.Job) { j.FollowerNodeID = nodeID })
		return nil
	}
	return fmt.Errorf("job %s is owned by follower %q: %w", jobID, j.FollowerNodeID, stores.ErrConflict)
}

// ByFollower implements stores.JobStore (J6).
func (s jobStore) ByFollower(ctx context.Context, nodeID string, limit int) ([]*stores.Job, error) {
	if err := s.db.rlock(ctx); err != nil {
		return nil, err
	}
	defer s.db.mu.RUnlock()
	var out []*stores.Job
	if tr := s.db.jobs.byFollower[nodeID]; tr != nil {
		tr.Ascend(func(j *jobRow) bool {
			out = append(out, j.Clone())
			return len(out) < limit
		})
	}
	return out, nil
}

// CountByFollower implements stores.JobStore (J6).
func (s jobStore) CountByFollower(ctx context.Context, nodeID string) (int, error) {
	if err := s.db.rlock(ctx); err != nil {
		return 0, err
	}
	defer s.db.mu.RUnlock()
	if tr := s.db.jobs.byFollower[nodeID]; tr != nil {
		return tr.Len(), nil
	}
	return 0, nil
}

// ReleaseFollower implements stores.JobStore (J6).
func (s jobStore) ReleaseFollower(ctx context.Context, nodeID string) (int, error) {
	if err := s.db.lock(ctx); err != nil {
		return 0, err
	}
	defer s.db.mu.Unlock()
	t := s.db.jobs
	tr := t.byFollower[nodeID]
	if tr == nil {
		return 0, nil
	}
	owned := make([]*jobRow, 0, tr.Len())
	tr.Ascend(func(j *jobRow) bool { owned = append(owned, j); return true })
	for _, j := range owned {
		t.update(j, func(j *stores.Job) { j.FollowerNodeID = "" })
	}
	return len(owned), nil
}

// Recover implements stores.JobStore (J8). Candidates come from the
// expired prefixes of the dispatched and running-deadline indexes and from
// the dead workers' in-flight jobs; the oldest (DispatchedAt, ID) first are
// handled, at most Limit. Under the one lock the state read is the state
// written, so no legitimate transition can be overridden.
func (s jobStore) Recover(ctx context.Context, p stores.RecoverParams) (stores.RecoverResult, error) {
	if err := s.db.lock(ctx); err != nil {
		return stores.RecoverResult{}, err
	}
	defer s.db.mu.Unlock()
	t := s.db.jobs
	seen := map[string]bool{}
	var cands []*jobRow
	add := func(j *jobRow) {
		if !seen[j.ID] {
			seen[j.ID] = true
			cands = append(cands, j)
		}
	}
	if p.DispatchLease > 0 {
		cutoff := p.Now.Add(-p.DispatchLease)
		n := 0
		t.dispatched.Ascend(func(j *jobRow) bool {
			if j.DispatchedAt.After(cutoff) {
				return false
			}
			add(j)
			n++
			return n < p.Limit
		})
	}
	n := 0
	t.runningDeadlines.Ascend(func(j *jobRow) bool {
		if deadline(&j.Job).After(p.Now) {
			return false
		}
		add(j)
		n++
		return n < p.Limit
	})
	dead := make(map[string]bool, len(p.DeadWorkers))
	for _, w := range p.DeadWorkers {
		dead[w] = true
		for _, j := range t.inFlightByWorker[w] {
			add(j)
		}
	}
	sortJobs(cands, dispatchedLess)
	if len(cands) > p.Limit {
		cands = cands[:p.Limit]
	}
	var res stores.RecoverResult
	for _, j := range cands {
		lost := j.WorkerID != "" && dead[j.WorkerID]
		switch j.Status {
		case stores.StatusDispatched:
			t.update(j, func(j *stores.Job) {
				j.Status = stores.StatusPending
				j.WorkerID = ""
			})
			res.Requeued = append(res.Requeued, j.ID)
		case stores.StatusRunning:
			// Every candidate is past its deadline or on a dead worker.
			reason := "timed out"
			if lost && (j.Timeout == 0 || deadline(&j.Job).After(p.Now)) {
				reason = "worker lost"
			}
			if j.RetryCount < j.MaxRetries {
				t.retry(j, reason, p.Now)
				res.Requeued = append(res.Requeued, j.ID)
			} else {
				t.update(j, func(j *stores.Job) {
					j.Status = stores.StatusTimedOut
					j.CompletedAt = p.Now
					j.LastError = reason
				})
				res.TimedOut = append(res.TimedOut, j.ID)
			}
		}
	}
	return res, nil
}

// Uncleaned implements stores.JobStore (J9).
func (s jobStore) Uncleaned(ctx context.Context, limit int) ([]*stores.Job, error) {
	if err := s.db.rlock(ctx); err != nil {
		return nil, err
	}
	defer s.db.mu.RUnlock()
	var out []*stores.Job
	s.db.jobs.uncleaned.Ascend(func(j *jobRow) bool {
		out = append(out, j.Clone())
		return len(out) < limit
	})
	return out, nil
}

// MarkCleaned implements stores.JobStore (J9).
func (s jobStore) MarkCleaned(ctx context.Context, ids []string) error {
	if err := s.db.lock(ctx); err != nil {
		return err
	}
	defer s.db.mu.Unlock()
	t := s.db.jobs
	for _, id := range ids {
		if j, ok := t.byID[id]; ok && !j.ChannelsCleaned {
			t.update(j, func(j *stores.Job) { j.ChannelsCleaned = true })
		}
	}
	return nil
}

// Purge implements stores.JobStore (J9): the oldest terminal jobs completed
// before the cut-off go, with their history and logs. A terminal job
// without a CompletedAt has no completion time to compare and stays.
func (s jobStore) Purge(ctx context.Context, before time.Time, limit int) (int, error) {
	if err := s.db.lockRecords(ctx); err != nil {
		return 0, err
	}
	defer s.db.recMu.Unlock()
	s.db.mu.Lock() // after recMu (lock order); Close needs recMu, so it has not run
	defer s.db.mu.Unlock()
	t := s.db.jobs
	var old []*jobRow
	t.finished.Ascend(func(j *jobRow) bool {
		if !j.CompletedAt.Before(before) {
			return false
		}
		old = append(old, j)
		return len(old) < limit
	})
	for _, j := range old {
		t.remove(j)
		s.db.history.removeJob(j.ID)
		s.db.logs.removeJob(j.ID)
	}
	return len(old), nil
}

// Query implements stores.JobQuery (J10): keyset paging over (CreatedAt,
// ID), so rows added between pages are neither skipped nor repeated.
func (s jobStore) Query(ctx context.Context, q stores.JobQuery) (stores.JobPage, error) {
	start := pivot(time.Time{}, time.Time{}, "") // the first (CreatedAt, ID) a row may have
	if q.Cursor != "" {
		c, err := stores.DecodeCursor(q.Cursor)
		if err != nil {
			return stores.JobPage{}, err
		}
		// ID+"\x00" is the smallest string after ID: strictly after the cursor.
		start = pivot(c.Time, time.Time{}, c.ID+"\x00")
	}
	if after := pivot(q.CreatedAfter, time.Time{}, ""); !q.CreatedAfter.IsZero() && createdLess(start, after) {
		start = after
	}
	var page stores.JobPage
	snap, err := s.db.snapshotLocked(ctx, true, func() []*jobRow {
		t := s.db.jobs
		queues, types := setOf(q.Queues), setOf(q.Types)
		// Collect limit+1 matches to learn whether another page follows.
		want := q.Limit + 1
		// statuses filters a byStatus tree that holds more than one status.
		var statuses map[stores.JobStatus]bool
		scan := func(tr *btree.BTreeG[*jobRow], out []*jobRow) []*jobRow {
			n := 0
			tr.AscendGreaterOrEqual(start, func(j *jobRow) bool {
				if !q.CreatedBefore.IsZero() && !j.CreatedAt.Before(q.CreatedBefore) {
					return false
				}
				if (queues == nil || queues[j.Queue]) && (types == nil || types[j.Type]) && (statuses == nil || statuses[j.Status]) {
					out = append(out, j)
					n++
				}
				return n < want
			})
			return out
		}
		var rows []*jobRow
		if len(q.Statuses) == 0 {
			rows = scan(t.byCreated, nil)
		} else {
			statuses = make(map[stores.JobStatus]bool, len(q.Statuses))
			for _, st := range q.Statuses {
				statuses[st] = true
			}
			done := map[stores.JobStatus]bool{}
			for _, st := range q.Statuses {
				k := statusKey(st)
				if tr := t.byStatus[k]; tr != nil && !done[k] {
					done[k] = true
					rows = scan(tr, rows)
				}
			}
			sortJobs(rows, createdLess)
		}
		if len(rows) > q.Limit {
			rows = rows[:q.Limit]
			last := rows[len(rows)-1]
			page.Next = stores.Cursor{Time: last.CreatedAt, ID: last.ID}.Encode()
		}
		return rows
	})
	if err != nil {
		return stores.JobPage{}, err
	}
	page.Jobs = copies(snap)
	return page, nil
}

// setOf returns the values as a set, or nil for an empty list (no filter).
func setOf(list []string) map[string]bool {
	if len(list) == 0 {
		return nil
	}
	m := make(map[string]bool, len(list))
	for _, v := range list {
		m[v] = true
	}
	return m
}
