package inmemory

import (
	"fmt"
	"time"

	"github.com/google/btree"

	"github.com/orchestrix/persistence/abstractions/stores"
)

// jobTable holds the live jobs and one index per hot query. Stored jobs are
// private copies (jobRow); an index keyed by a field that changes is updated by
// unindex (before the change) and index (after it), so every index is a pure
// function of the jobs' current fields plus the dispatch watermark.
type jobTable struct {
	trees jobTrees // makes every tree below
	byID  map[string]*jobRow
	// byCreated orders every job by (CreatedAt, ID): Query paging (J10).
	byCreated *btree.BTreeG[*jobRow]
	// byStatus orders the jobs of each status by (CreatedAt, ID), the
	// dispatched and running jobs together under inFlightKey (statusKey):
	// Query with
	// a status filter reads only the statuses asked for.
	byStatus map[stores.JobStatus]*btree.BTreeG[*jobRow]
	// uniqueKeys maps a UniqueKey to the non-terminal job holding it (J1).
	uniqueKeys map[string]*jobRow
	// ticks maps (ScheduleID, ScheduleTick) to the job a firing made (S3).
	ticks map[tickKey]*jobRow

	// ready holds the pending jobs that are due at the watermark, in
	// Pending order (priority desc, CreatedAt, ID), over every queue and per
	// queue: Dispatch reads the first Limit of them (J3, J4).
	ready        *btree.BTreeG[*jobRow]
	readyByQueue map[string]*btree.BTreeG[*jobRow]
	// scheduled holds every pending job with a ScheduledAt, by
	// (ScheduledAt, ID): DueScheduled reads it, and moving the watermark
	// promotes its due prefix into ready.
	scheduled *btree.BTreeG[*jobRow]
	// watermark is the instant ready is computed at: ready holds exactly the
	// pending jobs with no ScheduledAt or one at or before it. Queries move
	// it to their now, in either direction.
	watermark time.Time

	// dispatched orders dispatched jobs by (DispatchedAt, ID) and
	// runningDeadlines running jobs with a Timeout by (StartedAt+Timeout,
	// ID): the expired prefixes are what Recover handles (J8).
	dispatched       *btree.BTreeG[*jobRow]
	runningDeadlines *btree.BTreeG[*jobRow]
	// inFlightByWorker holds the dispatched and running jobs of each worker,
	// for Recover's dead workers.
	inFlightByWorker map[string]map[string]*jobRow
	// spareInFlight is an emptied set of inFlightByWorker, for reuse.
	spareInFlight map[string]*jobRow
	// byFollower orders each follower's jobs by (CreatedAt, ID) (J6).
	byFollower map[string]*btree.BTreeG[*jobRow]
	// uncleaned orders terminal jobs not channels-cleaned and finished all
	// terminal jobs with a CompletedAt, by (CompletedAt, ID) (J9).
	uncleaned *btree.BTreeG[*jobRow]
	finished  *btree.BTreeG[*jobRow]

	// batch numbers the batch transitions: a row whose stamp is the current
	// batch was already named by an earlier ref of it (eachRef).
	batch uint64
}

// jobRow is a stored job with what the index orders compare, computed once
// when it is stored: its ID as 128 bits when the ID is a canonical UUID, and
// its CreatedAt as integers (CreatedAt never changes once stored). The
// orders compare these integers instead of ID strings (which share most of
// their leading bytes) and times.
type jobRow struct {
	stores.Job
	id         idKey
	createdSec int64
	createdNs  int32
	stamp      uint64 // the last batch transition that named this job
}

func newRow(j *stores.Job) *jobRow {
	return &jobRow{Job: *j, id: idKeyOf(j.ID), createdSec: j.CreatedAt.Unix(), createdNs: int32(j.CreatedAt.Nanosecond())}
}

// pivot is a row that sorts where a job with CreatedAt created (or any
// other instant the index orders by, at) and this ID would.
func pivot(created, at time.Time, id string) *jobRow {
	r := newRow(&stores.Job{ID: id, CreatedAt: created})
	r.ScheduledAt = at
	return r
}

// idKey orders IDs as their strings do. A canonical UUID (the form the
// portable layer stores: 36 bytes, lower-case hex, dashes at 8, 13, 18 and
// 23) is its 128 bits, in string order since the digits and dashes sit at
// fixed places and '0'-'9' sort before 'a'-'f'; any other ID compares as
// its string.
type idKey struct {
	hi, lo uint64
	canon  bool
}

func idKeyOf(id string) idKey {
	if len(id) != 36 || id[8] != '-' || id[13] != '-' || id[18] != '-' || id[23] != '-' {
		return idKey{}
	}
	var k idKey
	var bad byte // any digit's table entry has a high bit set when one is not hex
	for i, at := range uuidDigitsAt {
		v := hexValue[id[at]]
		bad |= v
		if i < 16 {
			k.hi = k.hi<<4 | uint64(v)
		} else {
			k.lo = k.lo<<4 | uint64(v)
		}
	}
	if bad&0xf0 != 0 {
		return idKey{}
	}
	k.canon = true
	return k
}

// uuidDigitsAt are the places of the 32 hex digits of a canonical UUID.
var uuidDigitsAt = [32]uint8{0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 14, 15, 16, 17,
	19, 20, 21, 22, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35}

// hexValue is the value of a lower-case hex digit, 0xff for any other byte.
var hexValue = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for c := byte('0'); c <= '9'; c++ {
		t[c] = c - '0'
	}
	for c := byte('a'); c <= 'f'; c++ {
		t[c] = c - 'a' + 10
	}
	return t
}()

// idLess orders rows by ID, as strings.
func idLess(a, b *jobRow) bool {
	if a.id.canon && b.id.canon {
		if a.id.hi != b.id.hi {
			return a.id.hi < b.id.hi
		}
		return a.id.lo < b.id.lo
	}
	return a.ID < b.ID
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

// jobTreeFreeNodes is how many emptied tree nodes a job table keeps for
// reuse (jobTrees): a batch of 1000 jobs moving from the pending indexes
// to the finished ones frees and needs a few hundred.
const jobTreeFreeNodes = 1024

// jobTrees makes the trees of one job table, all drawing their nodes from
// one free list: the nodes the pending indexes free as jobs leave them
// (their item arrays already grown) are the nodes the finished indexes
// grow by, instead of fresh memory taken, zeroed and faulted in under the
// lock.
type jobTrees struct{ free *btree.FreeListG[*jobRow] }

func (f jobTrees) tree(less btree.LessFunc[*jobRow]) *btree.BTreeG[*jobRow] {
	return btree.NewWithFreeListG(btreeDegree, less, f.free)
}

func newJobTable() *jobTable {
	f := jobTrees{btree.NewFreeListG[*jobRow](jobTreeFreeNodes)}
	return &jobTable{
		trees:            f,
		byID:             map[string]*jobRow{},
		byCreated:        f.tree(createdLess),
		byStatus:         map[stores.JobStatus]*btree.BTreeG[*jobRow]{},
		uniqueKeys:       map[string]*jobRow{},
		ticks:            map[tickKey]*jobRow{},
		ready:            f.tree(readyLess),
		readyByQueue:     map[string]*btree.BTreeG[*jobRow]{},
		scheduled:        f.tree(scheduledLess),
		dispatched:       f.tree(dispatchedLess),
		runningDeadlines: f.tree(deadlineLess),
		inFlightByWorker: map[string]map[string]*jobRow{},
		byFollower:       map[string]*btree.BTreeG[*jobRow]{},
		uncleaned:        f.tree(completedLess),
		finished:         f.tree(completedLess),
	}
}

// timeIDLess orders by an instant, then ID.
func timeIDLess(ta, tb time.Time, ida, idb string) bool {
	if c := ta.Compare(tb); c != 0 {
		return c < 0
	}
	return ida < idb
}

// rowTimeLess orders rows by an instant, then ID.
func rowTimeLess(ta, tb time.Time, a, b *jobRow) bool {
	if c := ta.Compare(tb); c != 0 {
		return c < 0
	}
	return idLess(a, b)
}

// createdLess orders by (CreatedAt, ID): the integers computed when the
// rows were stored (as time.Time.Compare orders instants without monotonic
// readings, the form the portable layer stores).
func createdLess(a, b *jobRow) bool {
	if a.createdSec != b.createdSec {
		return a.createdSec < b.createdSec
	}
	if a.createdNs != b.createdNs {
		return a.createdNs < b.createdNs
	}
	return idLess(a, b)
}

// readyLess is Pending order: priority descending, then CreatedAt, then ID.
func readyLess(a, b *jobRow) bool {
	if a.Priority != b.Priority {
		return a.Priority > b.Priority
	}
	return createdLess(a, b)
}

func scheduledLess(a, b *jobRow) bool {
	return rowTimeLess(a.ScheduledAt, b.ScheduledAt, a, b)
}

func dispatchedLess(a, b *jobRow) bool {
	return rowTimeLess(a.DispatchedAt, b.DispatchedAt, a, b)
}

func deadline(j *stores.Job) time.Time { return j.StartedAt.Add(j.Timeout) }

func deadlineLess(a, b *jobRow) bool {
	return rowTimeLess(deadline(&a.Job), deadline(&b.Job), a, b)
}

func completedLess(a, b *jobRow) bool {
	return rowTimeLess(a.CompletedAt, b.CompletedAt, a, b)
}

// dueAt reports whether a pending job belongs in ready at instant t.
func dueAt(j *jobRow, t time.Time) bool {
	return j.ScheduledAt.IsZero() || !j.ScheduledAt.After(t)
}

// subtree returns m[k], creating it from f with less when there is none.
func subtree[K comparable](f jobTrees, m map[K]*btree.BTreeG[*jobRow], k K, less btree.LessFunc[*jobRow]) *btree.BTreeG[*jobRow] {
	t := m[k]
	if t == nil {
		t = f.tree(less)
		m[k] = t
	}
	return t
}

// deleteFrom removes j from m[k] and drops the subtree once empty, so maps
// keyed by queue, worker or follower do not grow without bound.
func deleteFrom[K comparable](m map[K]*btree.BTreeG[*jobRow], k K, j *jobRow) {
	if t := m[k]; t != nil {
		del(t, j)
		if t.Len() == 0 {
			delete(m, k)
		}
	}
}

// inFlightKey files the dispatched and running jobs in one byStatus tree:
// a job that starts running keeps its place, and Query filters that tree by
// status (the in-flight jobs are those the workers hold, a bounded set).
const inFlightKey stores.JobStatus = "in flight"

// statusKey is the byStatus tree of the jobs in status st.
func statusKey(st stores.JobStatus) stores.JobStatus {
	if st.InFlight() {
		return inFlightKey
	}
	return st
}

// del removes j from tr. Jobs mostly leave an index in the order they
// entered it (dispatched in ready order, run and completed in dispatch
// order), so j is often the minimum: then it goes without a search.
func del(tr *btree.BTreeG[*jobRow], j *jobRow) {
	if m, ok := tr.Min(); ok && m == j {
		tr.DeleteMin()
		return
	}
	tr.Delete(j)
}

// inFlightWorker returns the worker whose in-flight set j belongs in, ""
// for none.
func inFlightWorker(j *jobRow) string {
	if j.Status.InFlight() {
		return j.WorkerID
	}
	return ""
}

// addInFlight files j under worker w (none when w is "").
func (t *jobTable) addInFlight(j *jobRow, w string) {
	if w == "" {
		return
	}
	m := t.inFlightByWorker[w]
	if m == nil {
		m, t.spareInFlight = t.spareInFlight, nil
		if m == nil {
			m = map[string]*jobRow{}
		}
		t.inFlightByWorker[w] = m
	}
	m[j.ID] = j
}

// removeInFlight takes j out of worker w's set and drops the set once
// empty, keeping it (emptied) as the spare the next worker's set reuses:
// a worker that empties its set every batch does not grow a new one each
// time.
func (t *jobTable) removeInFlight(j *jobRow, w string) {
	if w == "" {
		return
	}
	if m := t.inFlightByWorker[w]; m != nil {
		delete(m, j.ID)
		if len(m) == 0 {
			delete(t.inFlightByWorker, w)
			t.spareInFlight = m
		}
	}
}

// index adds j to every index its current fields put it in.
func (t *jobTable) index(j *jobRow) {
	t.indexTrees(j, true)
	t.addInFlight(j, inFlightWorker(j))
}

// unindex removes j from every index its current fields put it in; call it
// before changing any of those fields.
func (t *jobTable) unindex(j *jobRow) {
	t.unindexTrees(j, true)
	t.removeInFlight(j, inFlightWorker(j))
}

// indexTrees is index but for inFlightByWorker, and for byStatus unless
// status is set.
func (t *jobTable) indexTrees(j *jobRow, status bool) {
	if status {
		subtree(t.trees, t.byStatus, statusKey(j.Status), createdLess).ReplaceOrInsert(j)
	}
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
			subtree(t.trees, t.readyByQueue, j.Queue, readyLess).ReplaceOrInsert(j)
		}
	case stores.StatusDispatched:
		t.dispatched.ReplaceOrInsert(j)
	case stores.StatusRunning:
		if j.Timeout > 0 {
			t.runningDeadlines.ReplaceOrInsert(j)
		}
	}
	if j.FollowerNodeID != "" {
		subtree(t.trees, t.byFollower, j.FollowerNodeID, createdLess).ReplaceOrInsert(j)
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

// unindexTrees is unindex but for inFlightByWorker, and for byStatus
// unless status is set.
func (t *jobTable) unindexTrees(j *jobRow, status bool) {
	if status {
		deleteFrom(t.byStatus, statusKey(j.Status), j)
	}
	if j.UniqueKey != "" && t.uniqueKeys[j.UniqueKey] == j {
		delete(t.uniqueKeys, j.UniqueKey)
	}
	switch j.Status {
	case stores.StatusPending:
		if !j.ScheduledAt.IsZero() {
			del(t.scheduled, j)
		}
		if dueAt(j, t.watermark) {
			del(t.ready, j)
			deleteFrom(t.readyByQueue, j.Queue, j)
		}
	case stores.StatusDispatched:
		del(t.dispatched, j)
	case stores.StatusRunning:
		if j.Timeout > 0 {
			del(t.runningDeadlines, j)
		}
	}
	if j.FollowerNodeID != "" {
		deleteFrom(t.byFollower, j.FollowerNodeID, j)
	}
	if j.Status.Terminal() {
		del(t.uncleaned, j)
		del(t.finished, j)
	}
}

// update applies change to the stored job j, keeping every index in step.
// change must not change CreatedAt or ID (createdLess reads the integers
// computed from them when j was stored).
// A job that stays in flight on the same worker (dispatched to running)
// keeps its place in inFlightByWorker.
func (t *jobTable) update(j *jobRow, change func(j *stores.Job)) {
	w, k := inFlightWorker(j), statusKey(j.Status)
	t.unindexTrees(j, false)
	change(&j.Job)
	// A job whose byStatus tree stays (dispatched to running) keeps its
	// place: the tree's order, (CreatedAt, ID), does not change.
	if k2 := statusKey(j.Status); k2 != k {
		deleteFrom(t.byStatus, k, j)
		subtree(t.trees, t.byStatus, k2, createdLess).ReplaceOrInsert(j)
	}
	t.indexTrees(j, false)
	if w2 := inFlightWorker(j); w2 != w {
		t.removeInFlight(j, w)
		t.addInFlight(j, w2)
	}
}

// conflictOnInsert returns ErrAlreadyExists when j cannot join the live set:
// its ID is taken, its UniqueKey is held by a non-terminal job, or its
// (ScheduleID, ScheduleTick) by any job (J1, S3).
func (t *jobTable) conflictOnInsert(j *stores.Job) error {
	if _, ok := t.byID[j.ID]; ok {
		return fmt.Errorf("job %s: %w", j.ID, stores.ErrAlreadyExists)
	}
	if j.UniqueKey != "" && !j.Status.Terminal() {
		if holder, ok := t.uniqueKeys[j.UniqueKey]; ok {
			return fmt.Errorf("job %s: unique key %q is held by job %s: %w", j.ID, j.UniqueKey, holder.ID, stores.ErrAlreadyExists)
		}
	}
	if tk, ok := tickOf(j); ok {
		if holder, ok := t.ticks[tk]; ok {
			return fmt.Errorf("job %s: schedule %s tick %s already fired as job %s: %w", j.ID, j.ScheduleID, j.ScheduleTick.Format(time.RFC3339Nano), holder.ID, stores.ErrAlreadyExists)
		}
	}
	return nil
}

// newRows is a batch of jobs made ready to store outside the lock, as
// nothing in it depends on the stored jobs: the rows, and the first job
// that repeats the ID, unique key or schedule tick of an earlier one of the
// batch (dup: its index, -1 for none; dupErr: why). Under the lock insertAll
// only checks the rows against the stored jobs and files them, so the
// allocations (and the page faults of fresh memory) stay out of the lock.
type newRows struct {
	rows   []*jobRow
	dup    int
	dupErr error
}

func stageRows(jobs []*stores.Job) newRows {
	b := newRows{rows: make([]*jobRow, len(jobs)), dup: -1}
	for i, j := range jobs {
		if j != nil { // left for the lock's checks (a closed store) to refuse
			b.rows[i] = rowOf(j)
		}
	}
	if len(jobs) > 1 {
		b.dup, b.dupErr = firstRepeat(jobs)
	}
	return b
}

// firstRepeat returns the index of the first job that repeats an identity
// of an earlier one, and the error that says which; -1 for none.
func firstRepeat(jobs []*stores.Job) (int, error) {
	ids := make(map[string]bool, len(jobs))
	var keys map[string]bool
	var ticks map[tickKey]bool
	for i, j := range jobs {
		if j == nil {
			continue
		}
		if ids[j.ID] {
			return i, fmt.Errorf("job %s appears twice in the batch: %w", j.ID, stores.ErrAlreadyExists)
		}
		ids[j.ID] = true
		if j.UniqueKey != "" && !j.Status.Terminal() {
			if keys[j.UniqueKey] {
				return i, fmt.Errorf("job %s: unique key %q appears twice in the batch: %w", j.ID, j.UniqueKey, stores.ErrAlreadyExists)
			}
			if keys == nil {
				keys = map[string]bool{}
			}
			keys[j.UniqueKey] = true
		}
		if tk, ok := tickOf(j); ok {
			if ticks[tk] {
				return i, fmt.Errorf("job %s: schedule %s tick %s appears twice in the batch: %w", j.ID, j.ScheduleID, j.ScheduleTick.Format(time.RFC3339Nano), stores.ErrAlreadyExists)
			}
			if ticks == nil {
				ticks = map[tickKey]bool{}
			}
			ticks[tk] = true
		}
	}
	return -1, nil
}

// insertAll checks every staged row and then stores them all, or none
// (J1). A job is checked against the stored jobs before against the
// earlier jobs of its batch. The caller holds the lock.
func (t *jobTable) insertAll(b newRows) error {
	for i, r := range b.rows {
		if err := t.conflictOnInsert(&r.Job); err != nil {
			return err
		}
		if i == b.dup {
			return b.dupErr
		}
	}
	for _, r := range b.rows {
		t.insertRow(r)
	}
	return nil
}

// rowOf returns the row that stores a copy of src. Its Args are never
// written after this: Dispatch copies them after letting go of the lock.
func rowOf(src *stores.Job) *jobRow {
	j := newRow(src)
	j.Args = cloneBytes(src.Args)
	return j
}

// insert stores a copy of a job the caller already checked.
func (t *jobTable) insert(src *stores.Job) *jobRow {
	j := rowOf(src)
	t.insertRow(j)
	return j
}

func cloneBytes(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte{}, b...)
}

// insertRow adds a stored job to the live set and every index.
func (t *jobTable) insertRow(j *jobRow) {
	t.byID[j.ID] = j
	t.byCreated.ReplaceOrInsert(j)
	if tk, ok := tickOf(&j.Job); ok {
		t.ticks[tk] = j
	}
	t.index(j)
}

// remove deletes a job from the live set and every index.
func (t *jobTable) remove(j *jobRow) {
	t.unindex(j)
	delete(t.byID, j.ID)
	t.byCreated.Delete(j)
	if tk, ok := tickOf(&j.Job); ok && t.ticks[tk] == j {
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
		var due []*jobRow
		t.scheduled.AscendGreaterOrEqual(pivot(time.Time{}, t.watermark, maxID), func(j *jobRow) bool {
			if j.ScheduledAt.After(now) {
				return false
			}
			due = append(due, j)
			return true
		})
		t.watermark = now
		for _, j := range due {
			t.ready.ReplaceOrInsert(j)
			subtree(t.trees, t.readyByQueue, j.Queue, readyLess).ReplaceOrInsert(j)
		}
	case c < 0:
		var notDue []*jobRow
		t.scheduled.DescendLessOrEqual(pivot(time.Time{}, t.watermark, maxID), func(j *jobRow) bool {
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
func (t *jobTable) firstReady(now time.Time, queues []string, limit int) []*jobRow {
	t.moveWatermark(now)
	collect := func(tr *btree.BTreeG[*jobRow], out []*jobRow) []*jobRow {
		n := 0
		tr.Ascend(func(j *jobRow) bool {
			out = append(out, j)
			n++
			return n < limit
		})
		return out
	}
	if len(queues) == 0 {
		return collect(t.ready, make([]*jobRow, 0, min(limit, t.ready.Len())))
	}
	var out []*jobRow
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
