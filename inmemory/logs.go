package inmemory

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/google/btree"

	"github.com/orchestrix/persistence/abstractions/stores"
)

// logRow is a stored log entry with its place in the written order and its
// Timestamp as integers (the byTime order compares them).
type logRow struct {
	seq  uint64
	sec  int64
	nsec int32
	e    stores.LogEntry
}

// logTable holds log lines (L1).
type logTable struct {
	byID map[string]*logRow
	// byJob holds each job's entries in written order (seq ascending): an
	// append-only slice per job (jobRecords.logs), searched by seq for the
	// cursor. The map is shared with the history table.
	byJob recordsByJob
	// byTime orders every entry by (Timestamp, seq): Purge.
	byTime *btree.BTreeG[*logRow]
	seq    uint64
}

func newLogTable(byJob recordsByJob) *logTable {
	return &logTable{
		byID:  map[string]*logRow{},
		byJob: byJob,
		byTime: newTree(func(a, b *logRow) bool {
			if a.sec != b.sec {
				return a.sec < b.sec
			}
			if a.nsec != b.nsec {
				return a.nsec < b.nsec
			}
			return a.seq < b.seq
		}),
	}
}

func cmpSeq(r *logRow, seq uint64) int { return cmp.Compare(r.seq, seq) }

func (t *logTable) remove(r *logRow) {
	delete(t.byID, r.e.ID)
	if m, ok := t.byTime.Min(); ok && m == r {
		t.byTime.DeleteMin()
	} else {
		t.byTime.Delete(r)
	}
	if rec := t.byJob[r.e.JobID]; rec != nil {
		if i, ok := slices.BinarySearchFunc(rec.logs, r.seq, cmpSeq); ok {
			rec.logs = slices.Delete(rec.logs, i, i+1)
		}
		t.byJob.dropIfEmpty(r.e.JobID, rec)
	}
}

// removeJob deletes every entry of a job (J9 Purge).
func (t *logTable) removeJob(jobID string) {
	rec := t.byJob[jobID]
	if rec == nil {
		return
	}
	for _, r := range rec.logs {
		delete(t.byID, r.e.ID)
		t.byTime.Delete(r)
	}
	rec.logs = nil
	t.byJob.dropIfEmpty(jobID, rec)
}

// logStore implements stores.LogStore (L1).
type logStore struct{ db *db }

var _ stores.LogStore = logStore{}

// Append implements stores.LogStore: all entries or none. Entries are
// stored as they come; an ID already stored (before or earlier in this
// batch) takes the batch's entries back out and fails it, leaving the
// written-order counter where it was.
func (s logStore) Append(ctx context.Context, entries []*stores.LogEntry) error {
	if err := s.db.lock(ctx); err != nil {
		return err
	}
	defer s.db.mu.Unlock()
	t := s.db.logs
	seq0 := t.seq
	for i, e := range entries {
		if _, ok := t.byID[e.ID]; ok {
			for _, back := range entries[:i] {
				t.remove(t.byID[back.ID])
			}
			t.seq = seq0
			return fmt.Errorf("log entry %s: %w", e.ID, stores.ErrAlreadyExists)
		}
		t.seq++
		r := &logRow{seq: t.seq, sec: e.Timestamp.Unix(), nsec: int32(e.Timestamp.Nanosecond()), e: *e}
		t.byID[e.ID] = r
		t.byTime.ReplaceOrInsert(r)
		rec := t.byJob.add(e.JobID)
		rec.logs = append(rec.logs, r)
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
	var all []*logRow
	if rec := s.db.logs.byJob[jobID]; rec != nil {
		all = rec.logs
	}
	i, _ := slices.BinarySearchFunc(all, after+1, cmpSeq)
	rows := all[i:min(len(all), i+limit+1)]
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
