package stores

import (
	"context"
	"time"
)

// jobStore validates every JobStore call once for all drivers.
type jobStore struct {
	s *Store
	d JobStore
}

func (j *jobStore) Enqueue(ctx context.Context, job *Job) error {
	if err := j.s.check(ctx); err != nil {
		return err
	}
	var c checker
	c.job(plain("job"), job, j.s.now())
	if c.err != nil {
		return c.err
	}
	if f, ok := j.d.(FreshEnqueuer); ok && c.generated == 1 {
		return f.EnqueueFresh(ctx, []*Job{job})
	}
	return j.d.Enqueue(ctx, job)
}

func (j *jobStore) EnqueueMany(ctx context.Context, jobs []*Job) error {
	if err := j.s.check(ctx); err != nil {
		return err
	}
	var c checker
	checkBatch(&c, "jobs", len(jobs))
	if c.err == nil {
		c.reserveIDs(emptyIDs(jobs, func(j *Job) string { return j.ID }))
	}
	now := j.s.now()
	for i, job := range jobs {
		c.job(at("jobs", i), job, now)
	}
	if c.err != nil {
		return c.err
	}
	if f, ok := j.d.(FreshEnqueuer); ok && c.generated == len(jobs) {
		return f.EnqueueFresh(ctx, jobs)
	}
	return j.d.EnqueueMany(ctx, jobs)
}

func (j *jobStore) Get(ctx context.Context, id string) (*Job, error) {
	if err := j.s.check(ctx); err != nil {
		return nil, err
	}
	var c checker
	c.id("id", &id)
	if c.err != nil {
		return nil, c.err
	}
	return j.d.Get(ctx, id)
}

func (j *jobStore) Pending(ctx context.Context, now time.Time, limit int) ([]*Job, error) {
	if err := j.s.check(ctx); err != nil {
		return nil, err
	}
	var c checker
	c.now("now", &now)
	c.limit("limit", limit)
	if c.err != nil {
		return nil, c.err
	}
	return j.d.Pending(ctx, now, limit)
}

func (j *jobStore) DueScheduled(ctx context.Context, now time.Time, limit int) ([]*Job, error) {
	if err := j.s.check(ctx); err != nil {
		return nil, err
	}
	var c checker
	c.now("now", &now)
	c.limit("limit", limit)
	if c.err != nil {
		return nil, c.err
	}
	return j.d.DueScheduled(ctx, now, limit)
}

func (j *jobStore) Dispatch(ctx context.Context, p DispatchParams) ([]*Job, error) {
	if err := j.s.check(ctx); err != nil {
		return nil, err
	}
	var c checker
	c.names("Queues", p.Queues)
	c.limit("Limit", p.Limit)
	c.now("Now", &p.Now)
	c.optName("WorkerID", p.WorkerID)
	if p.Start && p.WorkerID == "" {
		c.fail("WorkerID", "must be set when Start is: a running job belongs to a worker")
	}
	if c.err != nil {
		return nil, c.err
	}
	got, err := j.d.Dispatch(ctx, p)
	if err != nil || !p.Start {
		return got, err
	}
	return j.startDispatched(ctx, got, p)
}

// startDispatched finishes a Dispatch with Start on a driver written before
// Start existed, which left the jobs dispatched: it marks them running as
// MarkRunningMany does, the way database/sql emulates what a driver lacks.
// A job it cannot start (recovered in between) is left out, back in the
// queue or fenced off, never lost; when the call fails, the jobs stay
// dispatched to p.WorkerID until Recover returns them (J8).
func (j *jobStore) startDispatched(ctx context.Context, got []*Job, p DispatchParams) ([]*Job, error) {
	var refs []Ref
	for _, job := range got {
		if job.Status == StatusDispatched {
			refs = append(refs, job.Ref())
		}
	}
	if len(refs) == 0 {
		return got, nil
	}
	results, err := j.d.MarkRunningMany(ctx, refs, p.WorkerID, p.Now)
	if err != nil {
		return nil, err
	}
	out, k := got[:0], 0
	for _, job := range got {
		if job.Status == StatusDispatched {
			ok := results[k] == nil
			k++
			if !ok {
				continue
			}
			job.Status, job.StartedAt, job.WorkerID = StatusRunning, p.Now, p.WorkerID
		}
		out = append(out, job)
	}
	return out, nil
}

// transition is the gate of the single-job transitions after dispatch (J5):
// the store and context, the ref, an optional error message, and now.
func (j *jobStore) transition(ctx context.Context, ref *Ref, errMsg string, now *time.Time) error {
	if err := j.s.check(ctx); err != nil {
		return err
	}
	var c checker
	c.ref(plain("ref"), ref)
	c.text("errMsg", errMsg, MaxTextLen)
	c.now("now", now)
	return c.err
}

// batchTransition is the gate of the batch transitions (J5).
func (j *jobStore) batchTransition(ctx context.Context, refs []Ref, workerID string, now *time.Time) error {
	if err := j.s.check(ctx); err != nil {
		return err
	}
	var c checker
	checkBatch(&c, "refs", len(refs))
	for i := range refs {
		c.ref(at("refs", i), &refs[i])
	}
	c.optName("workerID", workerID)
	c.now("now", now)
	return c.err
}

func (j *jobStore) MarkRunning(ctx context.Context, ref Ref, workerID string, now time.Time) (*Job, error) {
	if err := j.transition(ctx, &ref, "", &now); err != nil {
		return nil, err
	}
	var c checker
	c.optName("workerID", workerID)
	if c.err != nil {
		return nil, c.err
	}
	return j.d.MarkRunning(ctx, ref, workerID, now)
}

func (j *jobStore) MarkRunningMany(ctx context.Context, refs []Ref, workerID string, now time.Time) ([]error, error) {
	if err := j.batchTransition(ctx, refs, workerID, &now); err != nil {
		return nil, err
	}
	return j.d.MarkRunningMany(ctx, refs, workerID, now)
}

func (j *jobStore) Complete(ctx context.Context, ref Ref, now time.Time) error {
	if err := j.transition(ctx, &ref, "", &now); err != nil {
		return err
	}
	return j.d.Complete(ctx, ref, now)
}

func (j *jobStore) CompleteMany(ctx context.Context, refs []Ref, now time.Time) ([]error, error) {
	if err := j.batchTransition(ctx, refs, "", &now); err != nil {
		return nil, err
	}
	return j.d.CompleteMany(ctx, refs, now)
}

func (j *jobStore) Fail(ctx context.Context, ref Ref, errMsg string, now time.Time) error {
	if err := j.transition(ctx, &ref, errMsg, &now); err != nil {
		return err
	}
	return j.d.Fail(ctx, ref, errMsg, now)
}

func (j *jobStore) TimeOut(ctx context.Context, ref Ref, now time.Time) error {
	if err := j.transition(ctx, &ref, "", &now); err != nil {
		return err
	}
	return j.d.TimeOut(ctx, ref, now)
}

func (j *jobStore) Retry(ctx context.Context, ref Ref, errMsg string, now time.Time) (*Job, bool, error) {
	if err := j.transition(ctx, &ref, errMsg, &now); err != nil {
		return nil, false, err
	}
	return j.d.Retry(ctx, ref, errMsg, now)
}

func (j *jobStore) Cancel(ctx context.Context, id string, now time.Time) error {
	if err := j.s.check(ctx); err != nil {
		return err
	}
	var c checker
	c.id("id", &id)
	c.now("now", &now)
	if c.err != nil {
		return c.err
	}
	return j.d.Cancel(ctx, id, now)
}

func (j *jobStore) MoveToDeadLetter(ctx context.Context, ref Ref, errMsg string, now time.Time) (*DeadLetter, error) {
	if err := j.transition(ctx, &ref, errMsg, &now); err != nil {
		return nil, err
	}
	return j.d.MoveToDeadLetter(ctx, ref, errMsg, now)
}

func (j *jobStore) ClaimForFollower(ctx context.Context, jobID, nodeID string) error {
	if err := j.s.check(ctx); err != nil {
		return err
	}
	var c checker
	c.id("jobID", &jobID)
	c.name("nodeID", nodeID)
	if c.err != nil {
		return c.err
	}
	return j.d.ClaimForFollower(ctx, jobID, nodeID)
}

func (j *jobStore) ByFollower(ctx context.Context, nodeID string, limit int) ([]*Job, error) {
	if err := j.s.check(ctx); err != nil {
		return nil, err
	}
	var c checker
	c.name("nodeID", nodeID)
	c.limit("limit", limit)
	if c.err != nil {
		return nil, c.err
	}
	return j.d.ByFollower(ctx, nodeID, limit)
}

func (j *jobStore) CountByFollower(ctx context.Context, nodeID string) (int, error) {
	if err := j.s.check(ctx); err != nil {
		return 0, err
	}
	var c checker
	c.name("nodeID", nodeID)
	if c.err != nil {
		return 0, c.err
	}
	return j.d.CountByFollower(ctx, nodeID)
}

func (j *jobStore) ReleaseFollower(ctx context.Context, nodeID string) (int, error) {
	if err := j.s.check(ctx); err != nil {
		return 0, err
	}
	var c checker
	c.name("nodeID", nodeID)
	if c.err != nil {
		return 0, c.err
	}
	return j.d.ReleaseFollower(ctx, nodeID)
}

func (j *jobStore) Recover(ctx context.Context, p RecoverParams) (RecoverResult, error) {
	if err := j.s.check(ctx); err != nil {
		return RecoverResult{}, err
	}
	var c checker
	c.now("Now", &p.Now)
	c.duration("DispatchLease", &p.DispatchLease)
	c.names("DeadWorkers", p.DeadWorkers)
	c.limit("Limit", p.Limit)
	if c.err != nil {
		return RecoverResult{}, c.err
	}
	return j.d.Recover(ctx, p)
}

func (j *jobStore) Uncleaned(ctx context.Context, limit int) ([]*Job, error) {
	if err := j.s.check(ctx); err != nil {
		return nil, err
	}
	var c checker
	c.limit("limit", limit)
	if c.err != nil {
		return nil, c.err
	}
	return j.d.Uncleaned(ctx, limit)
}

func (j *jobStore) MarkCleaned(ctx context.Context, ids []string) error {
	if err := j.s.check(ctx); err != nil {
		return err
	}
	var c checker
	checkBatch(&c, "ids", len(ids))
	for i := range ids {
		c.id(indexed("ids", i), &ids[i])
	}
	if c.err != nil {
		return c.err
	}
	return j.d.MarkCleaned(ctx, ids)
}

func (j *jobStore) Purge(ctx context.Context, before time.Time, limit int) (int, error) {
	if err := j.s.check(ctx); err != nil {
		return 0, err
	}
	var c checker
	c.now("before", &before)
	c.limit("limit", limit)
	if c.err != nil {
		return 0, c.err
	}
	return j.d.Purge(ctx, before, limit)
}

func (j *jobStore) Query(ctx context.Context, q JobQuery) (JobPage, error) {
	if err := j.s.check(ctx); err != nil {
		return JobPage{}, err
	}
	var c checker
	for i, st := range q.Statuses {
		if !st.Valid() {
			c.fail(indexed("Statuses", i), "unknown status %q", truncateForError(string(st)))
		}
	}
	c.names("Queues", q.Queues)
	c.names("Types", q.Types)
	c.time("CreatedAfter", &q.CreatedAfter)
	c.time("CreatedBefore", &q.CreatedBefore)
	c.cursor("Cursor", q.Cursor)
	c.limit("Limit", q.Limit)
	if c.err != nil {
		return JobPage{}, c.err
	}
	return j.d.Query(ctx, q)
}
