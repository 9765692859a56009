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
	byID map[string]*stores.JobHistory
	// byJob keeps each job's attempts sorted by (Attempt, StartedAt, ID).
	byJob map[string][]*stores.JobHistory
	// finished orders rows with a CompletedAt by (CompletedAt, ID): Purge.
	finished *btree.BTreeG[*stores.JobHistory]
}

func newHistoryTable() *historyTable {
	return &historyTable{
		byID:  map[string]*stores.JobHistory{},
		byJob: map[string][]*stores.JobHistory{},
		finished: newTree(func(a, b *stores.JobHistory) bool {
			return timeIDLess(a.CompletedAt, b.CompletedAt, a.ID, b.ID)
		}),
	}
}

func attemptCmp(a, b *stores.JobHistory) int {
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

func cloneHistory(h *stores.JobHistory) *stores.JobHistory { c := *h; return &c }

func (t *historyTable) remove(h *stores.JobHistory) {
	delete(t.byID, h.ID)
	t.finished.Delete(h)
	rows := t.byJob[h.JobID]
	if i, ok := slices.BinarySearchFunc(rows, h, attemptCmp); ok {
		rows = slices.Delete(rows, i, i+1)
	}
	if len(rows) == 0 {
		delete(t.byJob, h.JobID)
	} else {
		t.byJob[h.JobID] = rows
	}
}

// removeJob deletes every attempt of a job (J9 Purge).
func (t *historyTable) removeJob(jobID string) {
	for _, h := range t.byJob[jobID] {
		delete(t.byID, h.ID)
		t.finished.Delete(h)
	}
	delete(t.byJob, jobID)
}

// historyStore implements stores.HistoryStore (L1).
type historyStore struct{ db *db }

var _ stores.HistoryStore = historyStore{}

// Append implements stores.HistoryStore.
func (s historyStore) Append(ctx context.Context, h *stores.JobHistory) error {
	return s.AppendMany(ctx, []*stores.JobHistory{h})
}

// AppendMany implements stores.HistoryStore: every row or none.
func (s historyStore) AppendMany(ctx context.Context, rows []*stores.JobHistory) error {
	if err := s.db.lock(ctx); err != nil {
		return err
	}
	defer s.db.mu.Unlock()
	t := s.db.history
	batch := make(map[string]bool, len(rows))
	for _, h := range rows {
		if _, ok := t.byID[h.ID]; ok || batch[h.ID] {
			return fmt.Errorf("history %s: %w", h.ID, stores.ErrAlreadyExists)
		}
		batch[h.ID] = true
	}
	for _, h := range rows {
		t.insert(cloneHistory(h))
	}
	return nil
}

func (t *historyTable) insert(h *stores.JobHistory) {
	t.byID[h.ID] = h
	rows := t.byJob[h.JobID]
	i, _ := slices.BinarySearchFunc(rows, h, attemptCmp)
	t.byJob[h.JobID] = slices.Insert(rows, i, h)
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
	rows := s.db.history.byJob[jobID]
	out := make([]*stores.JobHistory, len(rows))
	for i, h := range rows {
		out[i] = cloneHistory(h)
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
	var old []*stores.JobHistory
	t.finished.Ascend(func(h *stores.JobHistory) bool {
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
