package inmemory

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/google/btree"

	"github.com/orchestrix/persistence/abstractions/stores"
)

// logRow is a stored log entry with its place in the written order.
type logRow struct {
	seq uint64
	e   stores.LogEntry
}

// logTable holds log lines (L1).
type logTable struct {
	byID map[string]*logRow
	// byJob orders each job's entries by seq: written order, and the cursor.
	byJob map[string]*btree.BTreeG[*logRow]
	// byTime orders every entry by (Timestamp, seq): Purge.
	byTime *btree.BTreeG[*logRow]
	seq    uint64
	// free is shared by the byJob trees: a tree of its own would allocate
	// a free list per job.
	free *btree.FreeListG[*logRow]
}

func newLogTable() *logTable {
	return &logTable{
		byID:  map[string]*logRow{},
		byJob: map[string]*btree.BTreeG[*logRow]{},
		free:  btree.NewFreeListG[*logRow](btree.DefaultFreeListSize),
		byTime: newTree(func(a, b *logRow) bool {
			if c := a.e.Timestamp.Compare(b.e.Timestamp); c != 0 {
				return c < 0
			}
			return a.seq < b.seq
		}),
	}
}

func seqLess(a, b *logRow) bool { return a.seq < b.seq }

func (t *logTable) remove(r *logRow) {
	delete(t.byID, r.e.ID)
	t.byTime.Delete(r)
	if tr := t.byJob[r.e.JobID]; tr != nil {
		tr.Delete(r)
		if tr.Len() == 0 {
			delete(t.byJob, r.e.JobID)
		}
	}
}

// removeJob deletes every entry of a job (J9 Purge).
func (t *logTable) removeJob(jobID string) {
	tr := t.byJob[jobID]
	if tr == nil {
		return
	}
	tr.Ascend(func(r *logRow) bool {
		delete(t.byID, r.e.ID)
		t.byTime.Delete(r)
		return true
	})
	delete(t.byJob, jobID)
}

// logStore implements stores.LogStore (L1).
type logStore struct{ db *db }

var _ stores.LogStore = logStore{}

// Append implements stores.LogStore: all entries or none.
func (s logStore) Append(ctx context.Context, entries []*stores.LogEntry) error {
	if err := s.db.lock(ctx); err != nil {
		return err
	}
	defer s.db.mu.Unlock()
	t := s.db.logs
	batch := make(map[string]bool, len(entries))
	for _, e := range entries {
		if _, ok := t.byID[e.ID]; ok || batch[e.ID] {
			return fmt.Errorf("log entry %s: %w", e.ID, stores.ErrAlreadyExists)
		}
		batch[e.ID] = true
	}
	for _, e := range entries {
		t.seq++
		r := &logRow{seq: t.seq, e: *e}
		t.byID[e.ID] = r
		t.byTime.ReplaceOrInsert(r)
		tr := t.byJob[e.JobID]
		if tr == nil {
			tr = btree.NewWithFreeListG(btreeDegree, seqLess, t.free)
			t.byJob[e.JobID] = tr
		}
		tr.ReplaceOrInsert(r)
	}
	return nil
}

// List implements stores.LogStore. The cursor is the written-order
// position of the last entry returned.
func (s logStore) List(ctx context.Context, jobID, cursor string, limit int) (stores.LogPage, error) {
	var after uint64
	if cursor != "" {
		n, err := strconv.ParseUint(cursor, 10, 64)
		if err != nil || n == 0 {
			return stores.LogPage{}, stores.InvalidField("cursor", "is not a cursor returned by this store")
		}
		after = n
	}
	if err := s.db.rlock(ctx); err != nil {
		return stores.LogPage{}, err
	}
	defer s.db.mu.RUnlock()
	var rows []*logRow
	if tr := s.db.logs.byJob[jobID]; tr != nil {
		tr.AscendGreaterOrEqual(&logRow{seq: after + 1}, func(r *logRow) bool {
			rows = append(rows, r)
			return len(rows) <= limit
		})
	}
	var page stores.LogPage
	if len(rows) > limit {
		rows = rows[:limit]
		page.Next = strconv.FormatUint(rows[len(rows)-1].seq, 10)
	}
	page.Entries = make([]*stores.LogEntry, len(rows))
	for i, r := range rows {
		e := r.e
		page.Entries[i] = &e
	}
	return page, nil
}

// Purge implements stores.LogStore: the oldest entries by Timestamp first.
func (s logStore) Purge(ctx context.Context, before time.Time, limit int) (int, error) {
	if err := s.db.lock(ctx); err != nil {
		return 0, err
	}
	defer s.db.mu.Unlock()
	t := s.db.logs
	var old []*logRow
	t.byTime.Ascend(func(r *logRow) bool {
		if !r.e.Timestamp.Before(before) {
			return false
		}
		old = append(old, r)
		return len(old) < limit
	})
	for _, r := range old {
		t.remove(r)
	}
	return len(old), nil
}
