package inmemory

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/orchestrix/persistence/abstractions/stores"
)

// logRec is a stored log entry: integers only (slab.go). Its text is
// Level, Message and Exception back to back in the table's arena.
type logRec struct {
	seq uint64 // place in the written order, from 1; 0: a free slot
	recordText
	job   uint32 // its jobRecords entry
	at    instant
	links links // the job's previous and next entries, in written order
}

func logText(r *logRec) *recordText { return &r.recordText }

// logTable holds log lines (L1).
type logTable struct {
	rows slab[logRec]
	ids  idIndex
	// byJob lists each job's entries in written order; shared with the
	// history table.
	byJob *jobRecords
	// byTime orders every entry by (Timestamp, seq): Purge.
	byTime sortedIndex[timeKey]
	text   textArena
	seq    uint64
}

func newLogTable(byJob *jobRecords) *logTable {
	return &logTable{ids: newIDIndex(), byJob: byJob, text: newTextArena()}
}

func logLinks(r *logRec) *links { return &r.links }

// jobList is the written-order list of the job entry at slot.
func (t *logTable) jobList(slot uint32) list[logRec] {
	jr := t.byJob.at(slot)
	return list[logRec]{&t.rows, logLinks, &jr.logHead, &jr.logTail}
}

// remove deletes the entry at slot from the table and every index.
func (t *logTable) remove(slot uint32) {
	r := t.rows.at(slot)
	t.jobList(r.job).unlink(slot)
	t.byJob.dropIfEmpty(r.job)
	t.ids.remove(r.id, slot)
	t.byTime.delete(r.at.key(r.seq))
	text := r.recordText
	t.rows.release(slot)
	freeText(&t.text, &text, &t.rows, logText)
}

// removeJob deletes every entry of a job (J9 Purge).
func (t *logTable) removeJob(jobID string) {
	js := t.byJob.lookup(jobID)
	if js == 0 {
		return
	}
	// The job's entry is dropped (zeroed) with its last record.
	for s := t.byJob.at(js).logHead; s != 0; s = t.byJob.at(js).logHead {
		t.remove(s)
	}
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
		slot := t.rows.alloc()
		id, ok := t.ids.add(e.ID, slot)
		if !ok {
			t.rows.release(slot)
			for _, back := range entries[:i] {
				s, _ := t.ids.get(back.ID)
				t.remove(s)
			}
			t.seq = seq0
			return fmt.Errorf("log entry %s: %w", e.ID, stores.ErrAlreadyExists)
		}
		t.seq++
		r := t.rows.at(slot)
		r.seq, r.id, r.at = t.seq, id, instantOf(e.Timestamp)
		r.putText(&t.text, e.Level, e.Message, e.Exception)
		r.job = t.byJob.add(e.JobID)
		l := t.jobList(r.job)
		l.insertAfter(*l.tail, slot)
		t.byTime.insert(r.at.key(r.seq), slot)
	}
	return nil
}

// List implements stores.LogStore. The cursor is the written-order
// position of the last entry returned and, as a hint, its slot: while that
// entry is stored the next page starts after it without a search.
func (s logStore) List(ctx context.Context, jobID, cursor string, limit int) (stores.LogPage, error) {
	var after uint64
	var hint uint32
	if cursor != "" {
		seq, slot, _ := strings.Cut(cursor, ".")
		n, err := strconv.ParseUint(seq, 10, 64)
		h, err2 := strconv.ParseUint(slot, 10, 32)
		if err != nil || err2 != nil || n == 0 {
			return stores.LogPage{}, stores.InvalidField("cursor", "is not a cursor returned by this store")
		}
		after, hint = n, uint32(h)
	}
	if err := s.db.rlock(ctx); err != nil {
		return stores.LogPage{}, err
	}
	defer s.db.mu.RUnlock()
	t := s.db.logs
	js := t.byJob.lookup(jobID)
	if js == 0 {
		return stores.LogPage{}, nil
	}
	next := t.byJob.at(js).logHead
	if after > 0 {
		if hint > 0 && hint < t.rows.next && t.rows.at(hint).seq == after && t.rows.at(hint).job == js {
			next = t.rows.at(hint).links.next
		} else {
			for next != 0 && t.rows.at(next).seq <= after {
				next = t.rows.at(next).links.next
			}
		}
	}
	var slots []uint32
	for ; next != 0 && len(slots) <= limit; next = t.rows.at(next).links.next {
		slots = append(slots, next)
	}
	var page stores.LogPage
	if len(slots) > limit {
		slots = slots[:limit]
		last := slots[limit-1]
		page.Next = strconv.FormatUint(t.rows.at(last).seq, 10) + "." + strconv.FormatUint(uint64(last), 10)
	}
	text := pageText(&t.ids, &t.text, &t.rows, slots, logText)
	entries := make([]stores.LogEntry, len(slots))
	page.Entries = make([]*stores.LogEntry, len(slots))
	for i, slot := range slots {
		r := t.rows.at(slot)
		e := &entries[i]
		e.ID, e.Level, e.Message, e.Exception = text.fields(&t.ids, &r.recordText, slot)
		e.JobID, e.Timestamp = jobID, r.at.time()
		page.Entries[i] = e
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
	return purgeBefore(&t.byTime, before, limit, t.remove), nil
}
