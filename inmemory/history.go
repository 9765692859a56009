package inmemory

import (
	"cmp"
	"context"
	"fmt"
	"time"

	"github.com/orchestrix/persistence/abstractions/stores"
)

// histRec is a stored attempt: integers only (slab.go). Its text is
// WorkerID, Status and Error back to back in the table's arena.
type histRec struct {
	seq uint64 // insertion order, from 1; 0: a free slot
	recordText
	job                uint32 // its jobRecords entry
	attempt            int
	started, completed instant
	duration           time.Duration
	links              links // the job's previous and next attempts, in attemptCmp order
}

func histText(r *histRec) *recordText { return &r.recordText }

func histLinks(r *histRec) *links { return &r.links }

// historyTable holds job attempts (L1).
type historyTable struct {
	rows slab[histRec]
	ids  idIndex
	// byJob lists each job's attempts in (Attempt, StartedAt, ID) order;
	// shared with the log table.
	byJob *jobRecords
	// finished orders the rows with a CompletedAt by (CompletedAt, seq):
	// Purge.
	finished sortedIndex[timeKey]
	text     textArena
	seq      uint64
}

func newHistoryTable(byJob *jobRecords) *historyTable {
	return &historyTable{ids: newIDIndex(), byJob: byJob, text: newTextArena()}
}

// jobList is the attempt list of the job entry at slot.
func (t *historyTable) jobList(slot uint32) list[histRec] {
	jr := t.byJob.at(slot)
	return list[histRec]{&t.rows, histLinks, &jr.histHead, &jr.histTail}
}

// attemptCmp orders the rows at slots a and b by (Attempt, StartedAt, ID).
func (t *historyTable) attemptCmp(a, b uint32) int {
	ra, rb := t.rows.at(a), t.rows.at(b)
	if c := cmp.Compare(ra.attempt, rb.attempt); c != 0 {
		return c
	}
	if c := ra.started.key(0).cmp(rb.started.key(0)); c != 0 {
		return c
	}
	return t.ids.compareNames(ra.id, a, rb.id, b)
}

// remove deletes the row at slot from the table and every index.
func (t *historyTable) remove(slot uint32) {
	r := t.rows.at(slot)
	t.jobList(r.job).unlink(slot)
	t.byJob.dropIfEmpty(r.job)
	t.ids.remove(r.id, slot)
	if !r.completed.isZero() {
		t.finished.delete(r.completed.key(r.seq))
	}
	text := r.recordText
	t.rows.release(slot)
	freeText(&t.text, &text, &t.rows, histText)
}

// removeJob deletes every attempt of a job (J9 Purge).
func (t *historyTable) removeJob(jobID string) {
	js := t.byJob.lookup(jobID)
	if js == 0 {
		return
	}
	// The job's entry is dropped (zeroed) with its last record.
	for s := t.byJob.at(js).histHead; s != 0; s = t.byJob.at(js).histHead {
		t.remove(s)
	}
}

// historyStore implements stores.HistoryStore (L1).
type historyStore struct{ db *db }

var _ stores.HistoryStore = historyStore{}

// Append implements stores.HistoryStore.
func (s historyStore) Append(ctx context.Context, h *stores.JobHistory) error {
	return s.AppendMany(ctx, []*stores.JobHistory{h})
}

// AppendMany implements stores.HistoryStore: every row or none. Rows are
// stored as they come; an ID already stored (before or earlier in this
// batch) takes the batch's rows back out and fails it.
func (s historyStore) AppendMany(ctx context.Context, rows []*stores.JobHistory) error {
	if err := s.db.lock(ctx); err != nil {
		return err
	}
	defer s.db.mu.Unlock()
	t := s.db.history
	seq0 := t.seq
	for i, h := range rows {
		slot := t.rows.alloc()
		id, ok := t.ids.add(h.ID, slot)
		if !ok {
			t.rows.release(slot)
			for _, back := range rows[:i] {
				s, _ := t.ids.get(back.ID)
				t.remove(s)
			}
			t.seq = seq0
			return fmt.Errorf("history %s: %w", h.ID, stores.ErrAlreadyExists)
		}
		t.seq++
		r := t.rows.at(slot)
		r.seq, r.id, r.attempt, r.duration = t.seq, id, h.Attempt, h.Duration
		r.started, r.completed = instantOf(h.StartedAt), instantOf(h.CompletedAt)
		r.putText(&t.text, h.WorkerID, string(h.Status), h.Error)
		r.job = t.byJob.add(h.JobID)
		// Attempts mostly come in order: search from the last.
		l := t.jobList(r.job)
		at := *l.tail
		for at != 0 && t.attemptCmp(slot, at) < 0 {
			at = t.rows.at(at).links.prev
		}
		l.insertAfter(at, slot)
		if !r.completed.isZero() {
			t.finished.insert(r.completed.key(r.seq), slot)
		}
	}
	return nil
}

// ListByJob implements stores.HistoryStore.
func (s historyStore) ListByJob(ctx context.Context, jobID string) ([]*stores.JobHistory, error) {
	if err := s.db.rlock(ctx); err != nil {
		return nil, err
	}
	defer s.db.mu.RUnlock()
	t := s.db.history
	var slots []uint32
	if js := t.byJob.lookup(jobID); js != 0 {
		for s := t.byJob.at(js).histHead; s != 0; s = t.rows.at(s).links.next {
			slots = append(slots, s)
		}
	}
	text := pageText(&t.ids, &t.text, &t.rows, slots, histText)
	rows := make([]stores.JobHistory, len(slots))
	out := make([]*stores.JobHistory, len(slots))
	for i, slot := range slots {
		r := t.rows.at(slot)
		h := &rows[i]
		var status string
		h.ID, h.WorkerID, status, h.Error = text.fields(&t.ids, &r.recordText, slot)
		h.JobID, h.Attempt, h.Status = jobID, r.attempt, stores.JobStatus(status)
		h.StartedAt, h.CompletedAt, h.Duration = r.started.time(), r.completed.time(), r.duration
		out[i] = h
	}
	return out, nil
}

// Purge implements stores.HistoryStore: rows still in progress (no
// CompletedAt) stay.
func (s historyStore) Purge(ctx context.Context, before time.Time, limit int) (int, error) {
	if err := s.db.lock(ctx); err != nil {
		return 0, err
	}
	defer s.db.mu.Unlock()
	t := s.db.history
	return purgeBefore(&t.finished, before, limit, t.remove), nil
}

// purgeBefore removes the first records of a time order, at most limit,
// whose instant is before the cut-off, and returns how many.
func purgeBefore(order *sortedIndex[timeKey], before time.Time, limit int, remove func(slot uint32)) int {
	cut := instantOf(before)
	var old []uint32
	order.ascend(func(k timeKey, slot uint32) bool {
		if !(instant{k.sec, k.nsec}).before(cut) {
			return false
		}
		old = append(old, slot)
		return len(old) < limit
	})
	for _, slot := range old {
		remove(slot)
	}
	return len(old)
}
