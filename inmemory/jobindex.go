package inmemory

import (
	"fmt"
	"time"

	"github.com/google/btree"

	"github.com/orchestrix/persistence/abstractions/stores"
)

// jobTable holds the live jobs and one index per hot query. Stored jobs are
// private copies; an index keyed by a field that changes is updated by
// unindex (before the change) and index (after it), so every index is a pure
// function of the jobs' current fields plus the dispatch watermark.
type jobTable struct {
	byID map[string]*stores.Job
	// byCreated orders every job by (CreatedAt, ID): Query paging (J10).
	byCreated *btree.BTreeG[*stores.Job]
	// byStatus orders the jobs of each status by (CreatedAt, ID): Query with
	// a status filter reads only the statuses asked for.
	byStatus map[stores.JobStatus]*btree.BTreeG[*stores.Job]
	// uniqueKeys maps a UniqueKey to the non-terminal job holding it (J1).
	uniqueKeys map[string]*stores.Job
	// ticks maps (ScheduleID, ScheduleTick) to the job a firing made (S3).
	ticks map[tickKey]*stores.Job

	// ready holds the pending jobs that are due at the watermark, in
	// Pending order (priority desc, CreatedAt, ID), over every queue and per
	// queue: Dispatch reads the first Limit of them (J3, J4).
	ready        *btree.BTreeG[*stores.Job]
	readyByQueue map[string]*btree.BTreeG[*stores.Job]
	// scheduled holds every pending job with a ScheduledAt, by
	// (ScheduledAt, ID): DueScheduled reads it, and moving the watermark
	// promotes its due prefix into ready.
	scheduled *btree.BTreeG[*stores.Job]
	// watermark is the instant ready is computed at: ready holds exactly the
	// pending jobs with no ScheduledAt or one at or before it. Queries move
	// it to their now, in either direction.
	watermark time.Time

	// dispatched orders dispatched jobs by (DispatchedAt, ID) and
	// runningDeadlines running jobs with a Timeout by (StartedAt+Timeout,
	// ID): the expired prefixes are what Recover handles (J8).
	dispatched       *btree.BTreeG[*stores.Job]
	runningDeadlines *btree.BTreeG[*stores.Job]
	// inFlightByWorker holds the dispatched and running jobs of each worker,
	// for Recover's dead workers.
	inFlightByWorker map[string]map[string]*stores.Job
	// byFollower orders each follower's jobs by (CreatedAt, ID) (J6).
	byFollower map[string]*btree.BTreeG[*stores.Job]
	// uncleaned orders terminal jobs not channels-cleaned and finished all
	// terminal jobs with a CompletedAt, by (CompletedAt, ID) (J9).
	uncleaned *btree.BTreeG[*stores.Job]
	finished  *btree.BTreeG[*stores.Job]
}

type tickKey struct {
	scheduleID string
	tick       int64 // UnixMicro
}

func tickOf(j *stores.Job) (tickKey, bool) {
	if j.ScheduleID == "" || j.ScheduleTick.IsZero() {
		return tickKey{}, false
	}
	return tickKey{j.ScheduleID, j.ScheduleTick.UnixMicro()}, true
}

func newJobTable() *jobTable {
	return &jobTable{
		byID:             map[string]*stores.Job{},
		byCreated:        newTree(createdLess),
		byStatus:         map[stores.JobStatus]*btree.BTreeG[*stores.Job]{},
		uniqueKeys:       map[string]*stores.Job{},
		ticks:            map[tickKey]*stores.Job{},
		ready:            newTree(readyLess),
		readyByQueue:     map[string]*btree.BTreeG[*stores.Job]{},
		scheduled:        newTree(scheduledLess),
		dispatched:       newTree(dispatchedLess),
		runningDeadlines: newTree(deadlineLess),
		inFlightByWorker: map[string]map[string]*stores.Job{},
		byFollower:       map[string]*btree.BTreeG[*stores.Job]{},
		uncleaned:        newTree(completedLess),
		finished:         newTree(completedLess),
	}
}

// timeIDLess orders by an instant, then ID.
func timeIDLess(ta, tb time.Time, ida, idb string) bool {
	if c := ta.Compare(tb); c != 0 {
		return c < 0
	}
	return ida < idb
}

func createdLess(a, b *stores.Job) bool {
	return timeIDLess(a.CreatedAt, b.CreatedAt, a.ID, b.ID)
}

// readyLess is Pending order: priority descending, then CreatedAt, then ID.
func readyLess(a, b *stores.Job) bool {
	if a.Priority != b.Priority {
		return a.Priority > b.Priority
	}
	return createdLess(a, b)
}

func scheduledLess(a, b *stores.Job) bool {
	return timeIDLess(a.ScheduledAt, b.ScheduledAt, a.ID, b.ID)
}

func dispatchedLess(a, b *stores.Job) bool {
	return timeIDLess(a.DispatchedAt, b.DispatchedAt, a.ID, b.ID)
}

func deadline(j *stores.Job) time.Time { return j.StartedAt.Add(j.Timeout) }

func deadlineLess(a, b *stores.Job) bool {
	return timeIDLess(deadline(a), deadline(b), a.ID, b.ID)
}

func completedLess(a, b *stores.Job) bool {
	return timeIDLess(a.CompletedAt, b.CompletedAt, a.ID, b.ID)
}

// dueAt reports whether a pending job belongs in ready at instant t.
func dueAt(j *stores.Job, t time.Time) bool {
	return j.ScheduledAt.IsZero() || !j.ScheduledAt.After(t)
}

// subtree returns m[k], creating it with less when create is set.
func subtree[K comparable](m map[K]*btree.BTreeG[*stores.Job], k K, less btree.LessFunc[*stores.Job], create bool) *btree.BTreeG[*stores.Job] {
	t := m[k]
	if t == nil && create {
		t = newTree(less)
		m[k] = t
	}
	return t
}

// deleteFrom removes j from m[k] and drops the subtree once empty, so maps
// keyed by queue, worker or follower do not grow without bound.
func deleteFrom[K comparable](m map[K]*btree.BTreeG[*stores.Job], k K, j *stores.Job) {
	if t := m[k]; t != nil {
		t.Delete(j)
		if t.Len() == 0 {
			delete(m, k)
		}
	}
}

// index adds j to every index its current fields put it in.
func (t *jobTable) index(j *stores.Job) {
	subtree(t.byStatus, j.Status, createdLess, true).ReplaceOrInsert(j)
	terminal := j.Status.Terminal()
	if j.UniqueKey != "" && !terminal {
		t.uniqueKeys[j.UniqueKey] = j
	}
	switch j.Status {
	case stores.StatusPending:
		if !j.ScheduledAt.IsZero() {
			t.scheduled.ReplaceOrInsert(j)
		}
		if dueAt(j, t.watermark) {
			t.ready.ReplaceOrInsert(j)
			subtree(t.readyByQueue, j.Queue, readyLess, true).ReplaceOrInsert(j)
		}
	case stores.StatusDispatched:
		t.dispatched.ReplaceOrInsert(j)
	case stores.StatusRunning:
		if j.Timeout > 0 {
			t.runningDeadlines.ReplaceOrInsert(j)
		}
	}
	if j.Status.InFlight() && j.WorkerID != "" {
		m := t.inFlightByWorker[j.WorkerID]
		if m == nil {
			m = map[string]*stores.Job{}
			t.inFlightByWorker[j.WorkerID] = m
		}
		m[j.ID] = j
	}
	if j.FollowerNodeID != "" {
		subtree(t.byFollower, j.FollowerNodeID, createdLess, true).ReplaceOrInsert(j)
	}
	if terminal {
		if !j.ChannelsCleaned {
			t.uncleaned.ReplaceOrInsert(j)
		}
		if !j.CompletedAt.IsZero() {
			t.finished.ReplaceOrInsert(j)
		}
	}
}

// unindex removes j from every index its current fields put it in; call it
// before changing any of those fields.
func (t *jobTable) unindex(j *stores.Job) {
	deleteFrom(t.byStatus, j.Status, j)
	if j.UniqueKey != "" && t.uniqueKeys[j.UniqueKey] == j {
		delete(t.uniqueKeys, j.UniqueKey)
	}
	switch j.Status {
	case stores.StatusPending:
		if !j.ScheduledAt.IsZero() {
			t.scheduled.Delete(j)
		}
		if dueAt(j, t.watermark) {
			t.ready.Delete(j)
			deleteFrom(t.readyByQueue, j.Queue, j)
		}
	case stores.StatusDispatched:
		t.dispatched.Delete(j)
	case stores.StatusRunning:
		if j.Timeout > 0 {
			t.runningDeadlines.Delete(j)
		}
	}
	if j.Status.InFlight() && j.WorkerID != "" {
		if m := t.inFlightByWorker[j.WorkerID]; m != nil {
			delete(m, j.ID)
			if len(m) == 0 {
				delete(t.inFlightByWorker, j.WorkerID)
			}
		}
	}
	if j.FollowerNodeID != "" {
		deleteFrom(t.byFollower, j.FollowerNodeID, j)
	}
	if j.Status.Terminal() {
		t.uncleaned.Delete(j)
		t.finished.Delete(j)
	}
}

// update applies change to the stored job j, keeping every index in step.
func (t *jobTable) update(j *stores.Job, change func(j *stores.Job)) {
	t.unindex(j)
	change(j)
	t.index(j)
}

// conflictOnInsert returns ErrAlreadyExists when j cannot join the live set:
// its ID is taken, its UniqueKey is held by a non-terminal job, or its
// (ScheduleID, ScheduleTick) by any job (J1, S3). batch holds the jobs of the
// same call accepted so far, so a batch cannot conflict with itself.
func (t *jobTable) conflictOnInsert(j *stores.Job, batch *jobBatch) error {
	if _, ok := t.byID[j.ID]; ok {
		return fmt.Errorf("job %s: %w", j.ID, stores.ErrAlreadyExists)
	}
	if j.UniqueKey != "" && !j.Status.Terminal() {
		if holder, ok := t.uniqueKeys[j.UniqueKey]; ok {
			return fmt.Errorf("job %s: unique key %q is held by job %s: %w", j.ID, j.UniqueKey, holder.ID, stores.ErrAlreadyExists)
		}
	}
	tk, hasTick := tickOf(j)
	if hasTick {
		if holder, ok := t.ticks[tk]; ok {
			return fmt.Errorf("job %s: schedule %s tick %s already fired as job %s: %w", j.ID, j.ScheduleID, j.ScheduleTick.Format(time.RFC3339Nano), holder.ID, stores.ErrAlreadyExists)
		}
	}
	if batch == nil {
		return nil
	}
	if batch.ids[j.ID] {
		return fmt.Errorf("job %s appears twice in the batch: %w", j.ID, stores.ErrAlreadyExists)
	}
	if j.UniqueKey != "" && !j.Status.Terminal() && batch.keys[j.UniqueKey] {
		return fmt.Errorf("job %s: unique key %q appears twice in the batch: %w", j.ID, j.UniqueKey, stores.ErrAlreadyExists)
	}
	if hasTick && batch.ticks[tk] {
		return fmt.Errorf("job %s: schedule %s tick %s appears twice in the batch: %w", j.ID, j.ScheduleID, j.ScheduleTick.Format(time.RFC3339Nano), stores.ErrAlreadyExists)
	}
	batch.ids[j.ID] = true
	if j.UniqueKey != "" && !j.Status.Terminal() {
		batch.keys[j.UniqueKey] = true
	}
	if hasTick {
		batch.ticks[tk] = true
	}
	return nil
}

// jobBatch remembers the identities claimed by the earlier jobs of a batch.
type jobBatch struct {
	ids   map[string]bool
	keys  map[string]bool
	ticks map[tickKey]bool
}

func newJobBatch() *jobBatch {
	return &jobBatch{ids: map[string]bool{}, keys: map[string]bool{}, ticks: map[tickKey]bool{}}
}

// insertAll checks every job and then stores copies of them all, or none
// (J1). The caller holds the lock.
func (t *jobTable) insertAll(jobs []*stores.Job) error {
	batch := newJobBatch()
	for _, j := range jobs {
		if err := t.conflictOnInsert(j, batch); err != nil {
			return err
		}
	}
	for _, j := range jobs {
		t.insert(j.Clone())
	}
	return nil
}

// insert adds a job the caller already checked and copied.
func (t *jobTable) insert(j *stores.Job) {
	t.byID[j.ID] = j
	t.byCreated.ReplaceOrInsert(j)
	if tk, ok := tickOf(j); ok {
		t.ticks[tk] = j
	}
	t.index(j)
}

// remove deletes a job from the live set and every index.
func (t *jobTable) remove(j *stores.Job) {
	t.unindex(j)
	delete(t.byID, j.ID)
	t.byCreated.Delete(j)
	if tk, ok := tickOf(j); ok && t.ticks[tk] == j {
		delete(t.ticks, tk)
	}
}

// moveWatermark recomputes ready for instant now. Moving forward promotes
// the scheduled jobs that came due; moving back (a caller's clock is not
// monotonic across calls) demotes the ones no longer due. Either way the
// work is proportional to the jobs that change sides.
func (t *jobTable) moveWatermark(now time.Time) {
	switch c := now.Compare(t.watermark); {
	case c > 0:
		var due []*stores.Job
		t.scheduled.AscendGreaterOrEqual(&stores.Job{ScheduledAt: t.watermark, ID: maxID}, func(j *stores.Job) bool {
			if j.ScheduledAt.After(now) {
				return false
			}
			due = append(due, j)
			return true
		})
		t.watermark = now
		for _, j := range due {
			t.ready.ReplaceOrInsert(j)
			subtree(t.readyByQueue, j.Queue, readyLess, true).ReplaceOrInsert(j)
		}
	case c < 0:
		var notDue []*stores.Job
		t.scheduled.DescendLessOrEqual(&stores.Job{ScheduledAt: t.watermark, ID: maxID}, func(j *stores.Job) bool {
			if !j.ScheduledAt.After(now) {
				return false
			}
			notDue = append(notDue, j)
			return true
		})
		t.watermark = now
		for _, j := range notDue {
			t.ready.Delete(j)
			deleteFrom(t.readyByQueue, j.Queue, j)
		}
	}
}

// firstReady returns, in Pending order, up to limit jobs due at now from
// the given queues (every queue when empty). It reads O(limit) index
// entries per queue.
func (t *jobTable) firstReady(now time.Time, queues []string, limit int) []*stores.Job {
	t.moveWatermark(now)
	collect := func(tr *btree.BTreeG[*stores.Job], out []*stores.Job) []*stores.Job {
		n := 0
		tr.Ascend(func(j *stores.Job) bool {
			out = append(out, j)
			n++
			return n < limit
		})
		return out
	}
	if len(queues) == 0 {
		return collect(t.ready, make([]*stores.Job, 0, min(limit, t.ready.Len())))
	}
	var out []*stores.Job
	seen := make(map[string]bool, len(queues))
	for _, q := range queues {
		if seen[q] {
			continue
		}
		seen[q] = true
		if tr := t.readyByQueue[q]; tr != nil {
			out = collect(tr, out)
		}
	}
	if len(seen) > 1 {
		sortJobs(out, readyLess)
	}
	if len(out) > limit {
		out = out[:limit]
	}
	return out
}
