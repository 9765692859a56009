package inmemory

import (
	"cmp"
	"context"
	"time"

	"github.com/orchestrix/persistence/abstractions/stores"
)

// histRec is a stored attempt: integers only (slab.go). Its text is
// WorkerID, Status and Error back to back in the table's arena.
type histRec struct {
	recordHead // at: CompletedAt
	attempt    int
	started    instant
	duration   time.Duration
}

func (r *histRec) head() *recordHead { return &r.recordHead }

// historyTable holds job attempts (L1): each job's in (Attempt, StartedAt,
// ID) order, and the finished ones (with a CompletedAt) by (CompletedAt,
// seq) for Purge.
type historyTable = recordTable[histRec, *histRec]

func newHistoryTable(byJob *jobRecords, res *reserve) *historyTable {
	t := newRecordTable[histRec]("history", byJob, res, res.histRows,
		func(j *jobRec) (*uint32, *uint32) { return &j.histHead, &j.histTail },
		func(r *histRec) (instant, bool) { return r.at(), !r.at().isZero() })
	return &t
}

// attemptCmp orders the rows at slots a and b of t by (Attempt, StartedAt,
// ID).
func attemptCmp(t *historyTable, a, b uint32) int {
	ra, rb := t.at(a), t.at(b)
	if c := cmp.Compare(ra.attempt, rb.attempt); c != 0 {
		return c
	}
	if c := ra.started.entry(0, 0).cmp(rb.started.entry(0, 0)); c != 0 {
		return c
	}
	return t.ids.compareNames(ra.id(), a, rb.id(), b)
}

// historyStore implements stores.HistoryStore (L1).
type historyStore struct{ db *db }

var _ stores.HistoryStore = historyStore{}

// Append implements stores.HistoryStore.
func (s historyStore) Append(ctx context.Context, h *stores.JobHistory) error {
	return s.AppendMany(ctx, []*stores.JobHistory{h})
}

// AppendMany implements stores.HistoryStore: every row or none
// (appendStaged). The rows are read into records before the lock
// (appendRecords).
func (s historyStore) AppendMany(ctx context.Context, rows []*stores.JobHistory) error {
	return appendRecords(ctx, s.db, &s.db.reserve.histStages, func(d *db) *historyTable { return d.history },
		rows, historyID, historyJobID, fillHistory, placeHistory)
}

// fillHistory stages a row's record; placeHistory links it into its job's
// list in attempt order.
func fillHistory(h *stores.JobHistory, r *histRec, text []byte) []byte {
	r.attempt, r.duration = h.Attempt, h.Duration
	r.started = instantOf(h.StartedAt)
	r.setAt(instantOf(h.CompletedAt))
	return r.stageText(text, h.WorkerID, string(h.Status), h.Error)
}

func placeHistory(t *historyTable, l list[histRec, *histRec], slot uint32) {
	// Attempts mostly come in order: search from the last.
	at := *l.tail
	for at != 0 && attemptCmp(t, slot, at) < 0 {
		at = t.at(at).links.prev
	}
	l.insertAfter(at, slot)
}

func historyID(h *stores.JobHistory) string    { return h.ID }
func historyJobID(h *stores.JobHistory) string { return h.JobID }

// ListByJob implements stores.HistoryStore.
func (s historyStore) ListByJob(ctx context.Context, jobID string) ([]*stores.JobHistory, error) {
	if err := s.db.rlockRecords(ctx); err != nil {
		return nil, err
	}
	defer s.db.recMu.RUnlock()
	t := s.db.history
	var slots []uint32
	if js := t.byJob.lookup(jobID); js != 0 {
		slots = t.jobSlots(t.byJob.at(js).histHead, -1)
	}
	text := t.pageText(slots)
	rows := make([]stores.JobHistory, len(slots))
	out := make([]*stores.JobHistory, len(slots))
	for i, slot := range slots {
		r, h := t.at(slot), &rows[i]
		var status string
		h.ID, h.WorkerID, status, h.Error = t.fields(&text, slot)
		h.JobID, h.Attempt, h.Status = jobID, r.attempt, stores.JobStatus(status)
		h.StartedAt, h.CompletedAt, h.Duration = r.started.time(), r.at().time(), r.duration
		out[i] = h
	}
	return out, nil
}

// Purge implements stores.HistoryStore: rows still in progress (no
// CompletedAt) stay.
func (s historyStore) Purge(ctx context.Context, before time.Time, limit int) (int, error) {
	if err := s.db.lockRecords(ctx); err != nil {
		return 0, err
	}
	defer s.db.recMu.Unlock()
	return s.db.history.purge(before, limit), nil
}
