package ent

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/lib/pq"

	"github.com/orchestrix/persistence/abstractions/stores"
	"github.com/orchestrix/persistence/ent/internal/entgen"
	"github.com/orchestrix/persistence/ent/internal/entgen/jobhistory"
)

// historyStore implements stores.HistoryStore with the ent client (L1).
type historyStore struct{ b *backend }

// Append stores one attempt.
func (s *historyStore) Append(ctx context.Context, h *stores.JobHistory) error {
	c := s.b.client.JobHistory.Create().
		SetID(h.ID).SetJobID(h.JobID).SetAttempt(h.Attempt).SetWorkerID(h.WorkerID).
		SetStatus(string(h.Status)).SetError(h.Error).SetDurationMs(ms(h.Duration))
	if !h.StartedAt.IsZero() {
		c.SetStartedAt(h.StartedAt.UTC())
	}
	if !h.CompletedAt.IsZero() {
		c.SetCompletedAt(h.CompletedAt.UTC())
	}
	return s.b.wrap(ctx, c.Exec(ctx))
}

// AppendMany stores every attempt or none (L1): on PostgreSQL a batch of
// copyMinRows or more by COPY in a transaction, a smaller one with one
// INSERT … SELECT FROM unnest (one array parameter per column); on SQLite
// prepared multi-row INSERTs (insertSQLite). A duplicate id, stored or
// within rows, violates the primary key: ErrAlreadyExists, nothing stored.
func (s *historyStore) AppendMany(ctx context.Context, rows []*stores.JobHistory) error {
	switch {
	case s.b.cfg.Dialect == DialectSQLite:
		return s.b.insertSQLite(ctx, &sqliteHistoryInsert, len(rows), historyRow(rows))
	case len(rows) >= copyMinRows:
		return s.b.copyBatch(ctx, copyHistory, len(rows), historyRow(rows))
	}
	_, err := s.b.db.ExecContext(ctx, insertHistoryUnnest, historyArrays(rows)...)
	return s.b.wrap(ctx, err)
}

// historyRow is the rowFunc of history rows, in copyHistory's and
// insertHistoryRows' column order.
func historyRow(rows []*stores.JobHistory) rowFunc {
	return func(i int, dst []any) []any {
		h := rows[i]
		return append(dst, h.ID, h.JobID, h.Attempt, h.WorkerID, timeArg(h.StartedAt), timeArg(h.CompletedAt),
			string(h.Status), h.Error, ms(h.Duration))
	}
}

// historyArrays are insertHistoryUnnest's parameters: one array per column.
func historyArrays(rows []*stores.JobHistory) []any {
	n := len(rows)
	var (
		ids, jobIDs, workers, statuses, errs = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		attempts, started, completed, durs   = make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
	)
	for i, h := range rows {
		ids[i], jobIDs[i], workers[i], statuses[i], errs[i] = h.ID, h.JobID, h.WorkerID, string(h.Status), h.Error
		attempts[i], started[i], completed[i], durs[i] = int64(h.Attempt), unixMicro(h.StartedAt), unixMicro(h.CompletedAt), ms(h.Duration)
	}
	return []any{pq.StringArray(ids), pq.StringArray(jobIDs), pq.Int64Array(attempts), pq.StringArray(workers),
		pq.Int64Array(started), pq.Int64Array(completed), pq.StringArray(statuses), pq.StringArray(errs), pq.Int64Array(durs)}
}

// unixMicro is the microsecond parameter of an optional time: 0 for the
// zero time (the portable layer accepts no instant at or before the epoch).
func unixMicro(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

// ListByJob returns a job's attempts in attempt order.
func (s *historyStore) ListByJob(ctx context.Context, jobID string) ([]*stores.JobHistory, error) {
	rows, err := s.b.client.JobHistory.Query().Where(jobhistory.JobID(jobID)).
		Order(jobhistory.ByAttempt(), jobhistory.ByStartedAt(), jobhistory.ByID()).All(ctx)
	if err != nil {
		return nil, s.b.wrap(ctx, err)
	}
	out := make([]*stores.JobHistory, len(rows))
	for i, r := range rows {
		out[i] = historyFromEnt(r)
	}
	return out, nil
}

func historyFromEnt(r *entgen.JobHistory) *stores.JobHistory {
	return &stores.JobHistory{ID: r.ID, JobID: r.JobID, Attempt: r.Attempt, WorkerID: r.WorkerID,
		StartedAt: derefTime(r.StartedAt), CompletedAt: derefTime(r.CompletedAt),
		Status: stores.JobStatus(r.Status), Error: r.Error, Duration: fromMS(r.DurationMs)}
}

// derefTime returns the UTC time of an optional ent time, zero for nil.
func derefTime(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

// Purge deletes up to limit attempts completed before the cut-off.
func (s *historyStore) Purge(ctx context.Context, before time.Time, limit int) (int, error) {
	return s.b.execCount(ctx, s.b.db, purgeHistory, before, limit)
}

// logStore implements stores.LogStore (L1).
type logStore struct{ b *backend }

// Append stores the entries in order, all or none; seq numbers them in
// written order. On PostgreSQL a batch of copyMinRows or more goes by COPY
// in a transaction (COPY takes the identity's next value row by row, in
// stream order), a smaller one with one multi-row INSERT; on SQLite
// prepared multi-row INSERTs (insertSQLite).
func (s *logStore) Append(ctx context.Context, entries []*stores.LogEntry) error {
	switch {
	case s.b.cfg.Dialect == DialectSQLite:
		return s.b.insertSQLite(ctx, &sqliteLogInsert, len(entries), logRow(entries))
	case len(entries) >= copyMinRows:
		return s.b.copyBatch(ctx, copyLogEntries, len(entries), logRow(entries))
	}
	return s.b.wrap(ctx, insertLogsPostgres(ctx, s.b.db, entries))
}

// logRow is the rowFunc of log entries, in copyLogEntries' and
// insertLogEntries' column order.
func logRow(entries []*stores.LogEntry) rowFunc {
	return func(i int, dst []any) []any {
		e := entries[i]
		return append(dst, e.ID, e.JobID, e.Timestamp.UTC(), e.Level, e.Message, e.Exception)
	}
}

// insertLogsPostgres stores entries with one multi-row INSERT, which
// numbers them (seq) in the order of its VALUES.
func insertLogsPostgres(ctx context.Context, ex execer, entries []*stores.LogEntry) error {
	row := logRow(entries)
	args := make([]any, 0, logEntryColumnCount*len(entries))
	for i := range entries {
		args = row(i, args)
	}
	_, err := ex.ExecContext(ctx, multiRowInsert(insertLogEntries, DialectPostgres, len(entries), logEntryColumnCount), args...)
	return err
}

// List pages a job's entries in written order; the cursor is the last seq.
func (s *logStore) List(ctx context.Context, jobID, cursor string, limit int) (stores.LogPage, error) {
	var after int64
	if cursor != "" {
		v, err := strconv.ParseInt(cursor, 10, 64)
		if err != nil || v < 0 {
			return stores.LogPage{}, stores.InvalidField("cursor", "is not a cursor returned by this store")
		}
		after = v
	}
	rows, err := s.b.rdb.QueryContext(ctx, selectLogPage, jobID, after, limit+1)
	if err != nil {
		return stores.LogPage{}, s.b.wrap(ctx, err)
	}
	defer rows.Close()
	var (
		page stores.LogPage
		seqs []int64
	)
	for rows.Next() {
		var (
			e   stores.LogEntry
			seq int64
			ts  nullTime
		)
		if err := rows.Scan(&seq, &e.ID, &e.JobID, &ts, &e.Level, &e.Message, &e.Exception); err != nil {
			return stores.LogPage{}, s.b.wrap(ctx, err)
		}
		e.Timestamp = ts.Time
		page.Entries = append(page.Entries, &e)
		seqs = append(seqs, seq)
	}
	if err := rows.Err(); err != nil {
		return stores.LogPage{}, s.b.wrap(ctx, err)
	}
	if len(page.Entries) > limit {
		page.Entries = page.Entries[:limit]
		page.Next = strconv.FormatInt(seqs[limit-1], 10)
	}
	return page, nil
}

// Purge deletes up to limit entries written before the cut-off.
func (s *logStore) Purge(ctx context.Context, before time.Time, limit int) (int, error) {
	return s.b.execCount(ctx, s.b.db, purgeLogEntries, before, limit)
}

// deadLetterStore implements stores.DeadLetterStore (D1).
type deadLetterStore struct{ b *backend }

// jobSnapshot is the stored form of a dead letter's job: every field of
// stores.Job but the arguments, which have their own column so they keep
// their exact bytes (encoding/json would compact them).
func jobSnapshot(j *stores.Job) ([]byte, error) {
	c := *j
	c.Args = nil
	return json.Marshal(&c)
}

func insertDeadLetter(ctx context.Context, ex execer, d *stores.DeadLetter) error {
	snap, err := jobSnapshot(&d.Job)
	if err != nil {
		return err
	}
	_, err = ex.ExecContext(ctx, insertDeadLetterSQL, d.ID, d.Job.ID, d.Job.Type, d.Job.Queue, bytesArg(d.Job.Args),
		d.LastError, d.TotalAttempts, d.FailedAt.UTC(), snap)
	return err
}

func scanDeadLetter(sc rowScanner) (*stores.DeadLetter, error) {
	var (
		d                 stores.DeadLetter
		jobID, typ, queue string
		args, snap        []byte
		failed            nullTime
	)
	if err := sc.Scan(&d.ID, &jobID, &typ, &queue, &args, &d.LastError, &d.TotalAttempts, &failed, &snap); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(snap, &d.Job); err != nil {
		return nil, fmt.Errorf("ent: dead letter %s: corrupt job snapshot: %w", d.ID, err)
	}
	d.Job.ID, d.Job.Type, d.Job.Queue, d.Job.Args = jobID, typ, queue, copyBytes(args)
	d.FailedAt = failed.Time
	return &d, nil
}

// Add stores a dead letter.
func (s *deadLetterStore) Add(ctx context.Context, d *stores.DeadLetter) error {
	return s.b.wrap(ctx, insertDeadLetter(ctx, s.b.db, d))
}

// Get returns a dead letter by id.
func (s *deadLetterStore) Get(ctx context.Context, id string) (*stores.DeadLetter, error) {
	d, err := scanDeadLetter(s.b.rdb.QueryRowContext(ctx, selectDeadLetter, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("dead letter %s: %w", id, stores.ErrNotFound)
	}
	return d, s.b.wrap(ctx, err)
}

// List pages dead letters newest first.
func (s *deadLetterStore) List(ctx context.Context, cursor string, limit int) (stores.DeadLetterPage, error) {
	query, args := selectDeadLetterPage, []any{limit + 1}
	if cursor != "" {
		c, err := stores.DecodeCursor(cursor)
		if err != nil {
			return stores.DeadLetterPage{}, err
		}
		query, args = selectDeadLetterPageAfter, append(args, c.Time, c.ID)
	}
	rows, err := s.b.rdb.QueryContext(ctx, query, args...)
	if err != nil {
		return stores.DeadLetterPage{}, s.b.wrap(ctx, err)
	}
	defer rows.Close()
	var page stores.DeadLetterPage
	for rows.Next() {
		d, err := scanDeadLetter(rows)
		if err != nil {
			return stores.DeadLetterPage{}, s.b.wrap(ctx, err)
		}
		page.DeadLetters = append(page.DeadLetters, d)
	}
	if err := rows.Err(); err != nil {
		return stores.DeadLetterPage{}, s.b.wrap(ctx, err)
	}
	if len(page.DeadLetters) > limit {
		page.DeadLetters = page.DeadLetters[:limit]
		last := page.DeadLetters[limit-1]
		page.Next = stores.Cursor{Time: last.FailedAt, ID: last.ID}.Encode()
	}
	return page, nil
}

// Remove deletes a dead letter.
func (s *deadLetterStore) Remove(ctx context.Context, id string) error {
	n, err := s.b.execCount(ctx, s.b.db, deleteDeadLetter, id)
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("dead letter %s: %w", id, stores.ErrNotFound)
	}
	return nil
}

// Requeue removes a dead letter and enqueues its job again, in one
// transaction: a conflicting live job rolls both back (D1).
func (s *deadLetterStore) Requeue(ctx context.Context, id string, now time.Time) (*stores.Job, error) {
	var job *stores.Job
	err := s.b.inTx(ctx, func(tx *sql.Tx) error {
		d, err := scanDeadLetter(tx.QueryRowContext(ctx, deleteDeadLetterReturning, id))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("dead letter %s: %w", id, stores.ErrNotFound)
		}
		if err != nil {
			return err
		}
		j := d.Job
		j.Status, j.RetryCount, j.LastError, j.WorkerID, j.FollowerNodeID = stores.StatusPending, 0, "", "", ""
		j.ScheduledAt, j.DispatchedAt, j.StartedAt, j.CompletedAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
		j.ChannelsCleaned = false
		if err := s.b.insertJobs(ctx, tx, []*stores.Job{&j}); err != nil {
			return err
		}
		job = &j
		return nil
	})
	return job, err
}
