package redis

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/orchestrix/persistence/abstractions/stores"
	goredis "github.com/redis/go-redis/v9"
)

// historyStore implements stores.HistoryStore (L1).
type historyStore struct{ b *Backend }

var _ stores.HistoryStore = (*historyStore)(nil)

func (s *historyStore) Append(ctx context.Context, h *stores.JobHistory) error {
	return s.AppendMany(ctx, []*stores.JobHistory{h})
}

// AppendMany stores every attempt or none with one script run (L1). Each
// row travels with its index members, so the script never decodes JSON.
func (s *historyStore) AppendMany(ctx context.Context, rows []*stores.JobHistory) error {
	args := make([]any, 0, 3*len(rows))
	for _, h := range rows {
		r := encodeHistory(h)
		done := ""
		if r.CompletedAt != "" {
			done = r.CompletedAt + r.ID
		}
		started := r.StartedAt
		if started == "" {
			started = zeroT
		}
		args = append(args, r.JobID+r.Attempt+started+r.ID, done, marshal(r))
	}
	_, err := s.b.run(ctx, scriptHistoryAppendMany, s.b.k.job, args...)
	return err
}

func (s *historyStore) ListByJob(ctx context.Context, jobID string) ([]*stores.JobHistory, error) {
	k := s.b.k.job
	var out []*stores.JobHistory
	min := "[" + jobID
	for {
		list, err := s.b.rangeGet(ctx, k[kHistJ], k[kHist], min, "("+jobID+maxSuffix, stores.MaxLimit, false)
		if err != nil {
			return nil, err
		}
		for _, raw := range list {
			h, err := decodeHistory(raw)
			if err != nil {
				return nil, err
			}
			out = append(out, h)
		}
		if len(list) < stores.MaxLimit {
			return out, nil
		}
		last := out[len(out)-1]
		min = "(" + jobID + pad19(int64(last.Attempt)) + tT(last.StartedAt) + last.ID
	}
}

func (s *historyStore) Purge(ctx context.Context, before time.Time, limit int) (int, error) {
	v, err := s.b.run(ctx, scriptHistoryPurge, s.b.k.job, tT(before), limit)
	n, _ := v.(int64)
	return int(n), err
}

// logStore implements stores.LogStore (L1).
type logStore struct{ b *Backend }

var _ stores.LogStore = (*logStore)(nil)

// Append stores the entries in order with one script run (L1); each travels
// with the parts of its index members, so the script never decodes JSON.
func (s *logStore) Append(ctx context.Context, entries []*stores.LogEntry) error {
	args := make([]any, 0, 3*len(entries))
	for _, e := range entries {
		ts := tT(e.Timestamp)
		args = append(args, e.JobID, ts+e.ID, marshal(logRec{ID: e.ID, JobID: e.JobID, Timestamp: ts, Level: e.Level,
			Message: e.Message, Exception: e.Exception}))
	}
	_, err := s.b.run(ctx, scriptLogAppend, s.b.k.job, args...)
	return err
}

// List pages a job's log in written order. The cursor is the sequence
// number of the last entry returned.
func (s *logStore) List(ctx context.Context, jobID, cursor string, limit int) (stores.LogPage, error) {
	k := s.b.k.job
	min := "[" + jobID
	if cursor != "" {
		seq, err := strconv.ParseInt(cursor, 10, 64)
		if err != nil || seq < 0 {
			return stores.LogPage{}, stores.InvalidField("cursor", "is not a cursor returned by this store")
		}
		min = "[" + jobID + pad19(seq+1)
	}
	list, err := s.b.rangeGet(ctx, k[kLogJ], k[kLogs], min, "("+jobID+maxSuffix, limit+1, false)
	if err != nil {
		return stores.LogPage{}, err
	}
	var page stores.LogPage
	var seqs []string
	for _, raw := range list {
		e, seq, err := decodeLog(raw)
		if err != nil {
			return stores.LogPage{}, err
		}
		page.Entries = append(page.Entries, e)
		seqs = append(seqs, seq)
	}
	if len(page.Entries) > limit {
		page.Entries = page.Entries[:limit]
		n, err := strconv.ParseInt(seqs[limit-1], 10, 64)
		if err != nil {
			return stores.LogPage{}, fmt.Errorf("orchestrix/redis: bad stored log sequence %q", seqs[limit-1])
		}
		page.Next = strconv.FormatInt(n, 10)
	}
	return page, nil
}

func (s *logStore) Purge(ctx context.Context, before time.Time, limit int) (int, error) {
	v, err := s.b.run(ctx, scriptLogPurge, s.b.k.job, tT(before), limit)
	n, _ := v.(int64)
	return int(n), err
}

// deadLetterStore implements stores.DeadLetterStore (D1).
type deadLetterStore struct{ b *Backend }

var _ stores.DeadLetterStore = (*deadLetterStore)(nil)

func (s *deadLetterStore) Add(ctx context.Context, d *stores.DeadLetter) error {
	_, err := s.b.run(ctx, scriptDLAdd, s.b.k.job, marshal(encodeDeadLetter(d)))
	return err
}

func (s *deadLetterStore) Get(ctx context.Context, id string) (*stores.DeadLetter, error) {
	raw, err := s.b.c.HGet(ctx, s.b.k.job[kDL], id).Result()
	if errors.Is(err, goredis.Nil) {
		return nil, fmt.Errorf("%w: dead letter %s", stores.ErrNotFound, id)
	}
	if err != nil {
		return nil, s.b.wrap(err, "get dead letter")
	}
	return decodeDeadLetter(raw)
}

func (s *deadLetterStore) List(ctx context.Context, cursor string, limit int) (stores.DeadLetterPage, error) {
	k := s.b.k.job
	max := "+"
	if cursor != "" {
		c, err := stores.DecodeCursor(cursor)
		if err != nil {
			return stores.DeadLetterPage{}, err
		}
		max = "(" + tT(c.Time) + c.ID
	}
	list, err := s.b.rangeGet(ctx, k[kDLIdx], k[kDL], max, "-", limit+1, true)
	if err != nil {
		return stores.DeadLetterPage{}, err
	}
	var page stores.DeadLetterPage
	for _, raw := range list {
		d, err := decodeDeadLetter(raw)
		if err != nil {
			return stores.DeadLetterPage{}, err
		}
		page.DeadLetters = append(page.DeadLetters, d)
	}
	if len(page.DeadLetters) > limit {
		last := page.DeadLetters[limit-1]
		page.DeadLetters = page.DeadLetters[:limit]
		page.Next = stores.Cursor{Time: last.FailedAt, ID: last.ID}.Encode()
	}
	return page, nil
}

func (s *deadLetterStore) Remove(ctx context.Context, id string) error {
	_, err := s.b.run(ctx, scriptDLRemove, s.b.k.job, id)
	return err
}

func (s *deadLetterStore) Requeue(ctx context.Context, id string, now time.Time) (*stores.Job, error) {
	v, err := s.b.run(ctx, scriptDLRequeue, s.b.k.job, id)
	if err != nil {
		return nil, err
	}
	return decodeJob(v)
}
