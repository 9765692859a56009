package stores

import (
	"context"
	"time"
)

// historyStore validates every HistoryStore call once for all drivers.
type historyStore struct {
	s *Store
	d HistoryStore
}

func (h *historyStore) Append(ctx context.Context, r *JobHistory) error {
	if err := h.s.check(ctx); err != nil {
		return err
	}
	if r == nil {
		return InvalidField("history", "must not be nil")
	}
	var c checker
	c.history(plain("history"), r)
	if c.err != nil {
		return c.err
	}
	return h.d.Append(ctx, r)
}

func (h *historyStore) AppendMany(ctx context.Context, rows []*JobHistory) error {
	if err := h.s.check(ctx); err != nil {
		return err
	}
	var c checker
	checkBatch(&c, "rows", len(rows))
	if c.err == nil {
		c.reserveIDs(emptyIDs(rows, func(r *JobHistory) string { return r.ID }))
	}
	c.historyRows("rows", rows)
	if c.err != nil {
		return c.err
	}
	return h.d.AppendMany(ctx, rows)
}

// historyRows checks and normalises a batch of attempt rows (L1).
func (c *checker) historyRows(field string, rows []*JobHistory) {
	for i, r := range rows {
		if r == nil {
			c.fail(indexed(field, i), "must not be nil")
			continue
		}
		c.history(at(field, i), r)
	}
}

// history checks and normalises one attempt row (L1).
func (c *checker) history(field fieldName, r *JobHistory) {
	defer c.leave(c.enter(field))
	c.newID("ID", &r.ID)
	c.id("JobID", &r.JobID)
	if r.Attempt < 1 {
		c.fail("Attempt", "must be at least 1, got %d", r.Attempt)
	}
	c.optName("WorkerID", r.WorkerID)
	c.time("StartedAt", &r.StartedAt)
	c.time("CompletedAt", &r.CompletedAt)
	if r.Status != "" && !r.Status.Valid() {
		c.fail("Status", "unknown status %q", truncateForError(string(r.Status)))
	}
	c.text("Error", r.Error, MaxTextLen)
	c.duration("Duration", &r.Duration)
}

func (h *historyStore) ListByJob(ctx context.Context, jobID string) ([]*JobHistory, error) {
	if err := h.s.check(ctx); err != nil {
		return nil, err
	}
	var c checker
	c.id("jobID", &jobID)
	if c.err != nil {
		return nil, c.err
	}
	return h.d.ListByJob(ctx, jobID)
}

func (h *historyStore) Purge(ctx context.Context, before time.Time, limit int) (int, error) {
	return purge(ctx, h.s, h.d.Purge, before, limit)
}

func purge(ctx context.Context, s *Store, f func(context.Context, time.Time, int) (int, error), before time.Time, limit int) (int, error) {
	if err := s.check(ctx); err != nil {
		return 0, err
	}
	var c checker
	c.now("before", &before)
	c.limit("limit", limit)
	if c.err != nil {
		return 0, c.err
	}
	return f(ctx, before, limit)
}

// logStore validates every LogStore call once for all drivers.
type logStore struct {
	s *Store
	d LogStore
}

func (l *logStore) Append(ctx context.Context, entries []*LogEntry) error {
	if err := l.s.check(ctx); err != nil {
		return err
	}
	var c checker
	checkBatch(&c, "entries", len(entries))
	if c.err == nil {
		c.reserveIDs(emptyIDs(entries, func(e *LogEntry) string { return e.ID }))
	}
	c.logEntries("entries", entries, l.s.now())
	if c.err != nil {
		return c.err
	}
	return l.d.Append(ctx, entries)
}

// logEntries checks and normalises a batch of log lines (L1); an empty
// Timestamp becomes now.
func (c *checker) logEntries(field string, entries []*LogEntry, now time.Time) {
	for i, e := range entries {
		if e == nil {
			c.fail(indexed(field, i), "must not be nil")
			continue
		}
		saved := c.enter(at(field, i))
		c.newID("ID", &e.ID)
		c.id("JobID", &e.JobID)
		if e.Timestamp.IsZero() {
			e.Timestamp = now
		}
		c.time("Timestamp", &e.Timestamp)
		c.text("Level", e.Level, MaxNameLen)
		c.text("Message", e.Message, MaxTextLen)
		c.text("Exception", e.Exception, MaxTextLen)
		c.leave(saved)
	}
}

func (l *logStore) List(ctx context.Context, jobID, cursor string, limit int) (LogPage, error) {
	if err := l.s.check(ctx); err != nil {
		return LogPage{}, err
	}
	var c checker
	c.id("jobID", &jobID)
	c.opaqueCursor("cursor", cursor)
	c.limit("limit", limit)
	if c.err != nil {
		return LogPage{}, c.err
	}
	return l.d.List(ctx, jobID, cursor, limit)
}

func (l *logStore) Purge(ctx context.Context, before time.Time, limit int) (int, error) {
	return purge(ctx, l.s, l.d.Purge, before, limit)
}

// deadLetterStore validates every DeadLetterStore call once for all drivers.
type deadLetterStore struct {
	s *Store
	d DeadLetterStore
}

func (d *deadLetterStore) Add(ctx context.Context, dl *DeadLetter) error {
	if err := d.s.check(ctx); err != nil {
		return err
	}
	if dl == nil {
		return InvalidField("deadLetter", "must not be nil")
	}
	var c checker
	now := d.s.now()
	c.newID("deadLetter.ID", &dl.ID)
	if dl.Job.ID == "" {
		c.fail("deadLetter.Job.ID", "must not be empty")
	}
	c.job(plain("deadLetter.Job"), &dl.Job, now)
	c.text("deadLetter.LastError", dl.LastError, MaxTextLen)
	c.nonNegative("deadLetter.TotalAttempts", dl.TotalAttempts)
	if dl.FailedAt.IsZero() {
		dl.FailedAt = now
	}
	c.time("deadLetter.FailedAt", &dl.FailedAt)
	if c.err != nil {
		return c.err
	}
	return d.d.Add(ctx, dl)
}

func (d *deadLetterStore) Get(ctx context.Context, id string) (*DeadLetter, error) {
	if err := d.s.check(ctx); err != nil {
		return nil, err
	}
	var c checker
	c.id("id", &id)
	if c.err != nil {
		return nil, c.err
	}
	return d.d.Get(ctx, id)
}

func (d *deadLetterStore) List(ctx context.Context, cursor string, limit int) (DeadLetterPage, error) {
	if err := d.s.check(ctx); err != nil {
		return DeadLetterPage{}, err
	}
	var c checker
	c.cursor("cursor", cursor)
	c.limit("limit", limit)
	if c.err != nil {
		return DeadLetterPage{}, c.err
	}
	return d.d.List(ctx, cursor, limit)
}

func (d *deadLetterStore) Remove(ctx context.Context, id string) error {
	if err := d.s.check(ctx); err != nil {
		return err
	}
	var c checker
	c.id("id", &id)
	if c.err != nil {
		return c.err
	}
	return d.d.Remove(ctx, id)
}

func (d *deadLetterStore) Requeue(ctx context.Context, id string, now time.Time) (*Job, error) {
	if err := d.s.check(ctx); err != nil {
		return nil, err
	}
	var c checker
	c.id("id", &id)
	c.now("now", &now)
	if c.err != nil {
		return nil, c.err
	}
	return d.d.Requeue(ctx, id, now)
}
