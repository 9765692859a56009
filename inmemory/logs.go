package inmemory

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/orchestrix/persistence/abstractions/stores"
)

// logRec is a stored log entry: integers only (slab.go). Its text is
// Level, Message and Exception back to back in the table's arena; seq is
// its place in the written order.
type logRec struct {
	recordHead // at: Timestamp
}

func (r *logRec) head() *recordHead { return &r.recordHead }

// logTable holds log lines (L1): each job's in written order, and all by
// (Timestamp, seq) for Purge.
type logTable = recordTable[logRec, *logRec]

func newLogTable(byJob *jobRecords, res *reserve) *logTable {
	t := newRecordTable[logRec]("log entry", byJob, res, res.logRows,
		func(j *jobRec) (*uint32, *uint32) { return &j.logHead, &j.logTail },
		func(r *logRec) (instant, bool) { return r.at(), true })
	return &t
}

// logStore implements stores.LogStore (L1).
type logStore struct{ db *db }

var _ stores.LogStore = logStore{}

// Append implements stores.LogStore: all entries or none (appendStaged).
// The entries are read into records before the lock (appendRecords).
func (s logStore) Append(ctx context.Context, entries []*stores.LogEntry) error {
	return appendRecords(ctx, s.db, &s.db.reserve.logStages, func(d *db) *logTable { return d.logs },
		entries, logEntryID, logEntryJobID, fillLog, placeLog)
}

// fillLog stages an entry's record; placeLog links it last in its job's
// list (written order).
func fillLog(e *stores.LogEntry, r *logRec, text []byte) []byte {
	r.setAt(instantOf(e.Timestamp))
	return r.stageText(text, e.Level, e.Message, e.Exception)
}

func placeLog(_ *logTable, l list[logRec, *logRec], slot uint32) { l.insertAfter(*l.tail, slot) }

func logEntryID(e *stores.LogEntry) string    { return e.ID }
func logEntryJobID(e *stores.LogEntry) string { return e.JobID }

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
	if err := s.db.rlockRecords(ctx); err != nil {
		return stores.LogPage{}, err
	}
	defer s.db.recMu.RUnlock()
	t := s.db.logs
	js := t.byJob.lookup(jobID)
	if js == 0 {
		return stores.LogPage{}, nil
	}
	next := t.byJob.at(js).logHead
	if after > 0 {
		if hint > 0 && hint < t.rows.next && t.at(hint).seq == after && t.at(hint).job == js {
			next = t.at(hint).links.next
		} else {
			for next != 0 && t.at(next).seq <= after {
				next = t.at(next).links.next
			}
		}
	}
	slots := t.jobSlots(next, limit+1)
	var page stores.LogPage
	if len(slots) > limit {
		slots = slots[:limit]
		last := slots[limit-1]
		page.Next = strconv.FormatUint(t.at(last).seq, 10) + "." + strconv.FormatUint(uint64(last), 10)
	}
	text := t.pageText(slots)
	entries := make([]stores.LogEntry, len(slots))
	page.Entries = make([]*stores.LogEntry, len(slots))
	for i, slot := range slots {
		e := &entries[i]
		e.ID, e.Level, e.Message, e.Exception = t.fields(&text, slot)
		e.JobID, e.Timestamp = jobID, t.at(slot).at().time()
		page.Entries[i] = e
	}
	return page, nil
}

// Purge implements stores.LogStore: the oldest entries by Timestamp first.
func (s logStore) Purge(ctx context.Context, before time.Time, limit int) (int, error) {
	if err := s.db.lockRecords(ctx); err != nil {
		return 0, err
	}
	defer s.db.recMu.Unlock()
	return s.db.logs.purge(before, limit), nil
}
