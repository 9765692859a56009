package inmemory

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/google/btree"

	"github.com/orchestrix/persistence/abstractions/stores"
)

// historyTable holds job attempts (L1).
type historyTable struct {
	byID map[string]*histRow
	// byJob keeps each job's attempts sorted by (Attempt, StartedAt, ID).
	// The map is shared with the log table (jobRecords.hist).
	byJob recordsByJob
	// finished orders rows with a CompletedAt by (CompletedAt, ID): Purge.
	finished *btree.BTreeG[*histRow]
}

// histRow is a stored attempt with what the finished order compares,
// computed once: CompletedAt as integers and the ID as 128 bits when it is
// a canonical UUID.
type histRow struct {
	stores.JobHistory
	id   idKey
	sec  int64
	nsec int32
}

func newHistoryTable(byJob recordsByJob) *historyTable {
	return &historyTable{
		byID:  map[string]*histRow{},
		byJob: byJob,
		finished: newTree(func(a, b *histRow) bool {
			if a.sec != b.sec {
				return a.sec < b.sec
			}
			if a.nsec != b.nsec {
				return a.nsec < b.nsec
			}
			if a.id.canon && b.id.canon {
				if a.id.hi != b.id.hi {
					return a.id.hi < b.id.hi
				}
				return a.id.lo < b.id.lo
			}
			return a.ID < b.ID
		}),
	}
}

func attemptCmp(a, b *histRow) int {
	if a.Attempt != b.Attempt {
		return a.Attempt - b.Attempt
	}
	if c := a.StartedAt.Compare(b.StartedAt); c != 0 {
		return c
	}
	switch {
	case a.ID < b.ID:
		return -1
	case a.ID > b.ID:
		return 1
	}
	return 0
}

func (t *historyTable) remove(h *histRow) {
	delete(t.byID, h.ID)
	if m, ok := t.finished.Min(); ok && m == h {
		t.finished.DeleteMin()
	} else {
		t.finished.Delete(h)
	}
	if rec := t.byJob[h.JobID]; rec != nil {
		if i, ok := slices.BinarySearchFunc(rec.hist, h, attemptCmp); ok {
			rec.hist = slices.Delete(rec.hist, i, i+1)
		}
		t.byJob.dropIfEmpty(h.JobID, rec)
	}
}

// removeJob deletes every attempt of a job (J9 Purge).
func (t *historyTable) removeJob(jobID string) {
	rec := t.byJob[jobID]
	if rec == nil {
		return
	}
	for _, h := range rec.hist {
		delete(t.byID, h.ID)
		t.finished.Delete(h)
	}
	rec.hist = nil
	t.byJob.dropIfEmpty(jobID, rec)
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
	for i, h := range rows {
		if _, ok := t.byID[h.ID]; ok {
			for _, back := range rows[:i] {
				t.remove(t.byID[back.ID])
			}
			return fmt.Errorf("history %s: %w", h.ID, stores.ErrAlreadyExists)
		}
		t.insert(&histRow{JobHistory: *h, id: idKeyOf(h.ID), sec: h.CompletedAt.Unix(), nsec: int32(h.CompletedAt.Nanosecond())})
	}
	return nil
}

func (t *historyTable) insert(h *histRow) {
	t.byID[h.ID] = h
	rec := t.byJob.add(h.JobID)
	i, _ := slices.BinarySearchFunc(rec.hist, h, attemptCmp)
	rec.hist = slices.Insert(rec.hist, i, h)
	if !h.CompletedAt.IsZero() {
		t.finished.ReplaceOrInsert(h)
	}
}

// ListByJob implements stores.HistoryStore.
func (s historyStore) ListByJob(ctx context.Context, jobID string) ([]*stores.JobHistory, error) {
	if err := s.db.rlock(ctx); err != nil {
		return nil, err
	}
	defer s.db.mu.RUnlock()
	var rows []*histRow
	if rec := s.db.history.byJob[jobID]; rec != nil {
		rows = rec.hist
	}
	out := make([]*stores.JobHistory, len(rows))
	for i, h := range rows {
		c := h.JobHistory
		out[i] = &c
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
	var old []*histRow
	t.finished.Ascend(func(h *histRow) bool {
		if !h.CompletedAt.Before(before) {
			return false
		}
		old = append(old, h)
		return len(old) < limit
	})
	for _, h := range old {
		t.remove(h)
	}
	return len(old), nil
}
