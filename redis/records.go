package redis

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
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

// AppendMany stores every attempt or none (L1). The rows travel as the
// members that are stored (records_lib.lua), so nothing on the server builds
// a string per row; the completed ones are filed under one batch. Where the
// server lets this client RENAME (canHold) they go in with native commands
// (appendNative), else with history_append_many.lua.
func (s *historyStore) AppendMany(ctx context.Context, rows []*stores.JobHistory) error {
	if len(rows) == 0 {
		return nil
	}
	a, err := newHistoryArgs(rows)
	if err != nil {
		return err
	}
	ok, err := s.b.canHold(ctx)
	if err != nil {
		return err
	}
	if ok {
		return s.appendNative(ctx, a)
	}
	_, err = s.b.run(ctx, scriptHistoryAppendMany, s.b.k.job, a.script()...)
	return err
}

// historyArgs are a batch of history rows as the scripts and the native
// commands take them: a fresh batch, the completed rows' locators, and each
// row's id and member.
type historyArgs struct {
	batch, list  []byte
	ids, members []any
}

func newHistoryArgs(rows []*stores.JobHistory) (historyArgs, error) {
	batch, err := uuidBytes(stores.NewID())
	if err != nil {
		return historyArgs{}, err
	}
	a := historyArgs{batch: batch, ids: make([]any, len(rows)), members: make([]any, len(rows))}
	locs := locators{size: 56, buf: make([]byte, 0, 56*len(rows))}
	size := 0
	for _, h := range rows {
		size += historySize(h)
	}
	buf := make([]byte, 0, size)
	for i, h := range rows {
		start := len(buf)
		buf, err = historyMember(buf, h, batch)
		if err != nil {
			return historyArgs{}, err
		}
		m := buf[start:len(buf):len(buf)]
		a.ids[i], a.members[i] = m[32:48], m
		if !h.CompletedAt.IsZero() {
			locs.add(m[48:56], m[:48])
		}
	}
	a.list = locs.list()
	return a, nil
}

// script is the arguments of history_append_many.lua: batch, locators,
// ids, members.
func (a historyArgs) script() []any {
	args := make([]any, 0, 2+2*len(a.ids))
	args = append(append(args, a.batch, a.list), a.ids...)
	return append(args, a.members...)
}

// repeatedID returns ErrAlreadyExists when a row's id is given twice: the
// native commands would store it once, so it is rejected before them.
func (a historyArgs) repeatedID() error {
	seen := make([]string, len(a.ids))
	for i, id := range a.ids {
		seen[i] = string(id.([]byte))
	}
	if id, ok := repeated(seen); ok {
		return fmt.Errorf("%w: history id %x given twice", stores.ErrAlreadyExists, id)
	}
	return nil
}

// appendNative stores history rows, all or none (L1), in one MULTI/EXEC of
// native commands: history_check.lua (no id stored, the batch not filed;
// else it holds the keys so that the writes fail), the rows' writes
// (queueWrites), hold_release.lua. The script it replaces spent about 3k
// server instructions a row turning the row's member into a Lua string and
// back into a command argument. Ids given twice are rejected here.
func (s *historyStore) appendNative(ctx context.Context, a historyArgs) error {
	if err := a.repeatedID(); err != nil {
		return err
	}
	k := s.b.k.hist
	filed := any("")
	if len(a.list) > 0 {
		filed = a.batch
	}
	pipe := s.b.c.TxPipeline()
	check := scriptHistoryCheck.Eval(ctx, pipe, k, append([]any{filed}, a.ids...)...)
	a.queueWrites(ctx, pipe, k)
	scriptHoldRelease.Eval(ctx, pipe, k)
	return s.b.execHeld(ctx, pipe, check, "append history", "history id")
}

// queueWrites queues the native commands that store the rows on pipe: SADD
// of the ids, ZADD of the members and, with completed rows, HSET of the
// batch's locators list and ZADD of its histbt member (k: keys.go, hist).
func (a historyArgs) queueWrites(ctx context.Context, pipe goredis.Pipeliner, k []string) {
	zadd := make([]any, 2, 2+2*len(a.members))
	zadd[0], zadd[1] = "zadd", k[kHeldHistR]
	for _, m := range a.members {
		zadd = append(zadd, "0", m)
	}
	pipe.SAdd(ctx, k[kHeldHistID], a.ids...)
	pipe.Do(ctx, zadd...)
	if len(a.list) > 0 {
		pipe.HSet(ctx, k[kHeldHistBL], a.batch, a.list)
		pipe.ZAdd(ctx, k[kHeldHistBT], goredis.Z{Member: append(a.list[:8:8], a.batch...)})
	}
}

func (s *historyStore) ListByJob(ctx context.Context, jobID string) ([]*stores.JobHistory, error) {
	jid, err := uuidBytes(jobID)
	if err != nil {
		return nil, err
	}
	var out []*stores.JobHistory
	min, max := "["+string(jid), "("+string(jid)+maxSuffix
	for {
		list, err := s.b.c.ZRangeArgs(ctx, goredis.ZRangeArgs{Key: s.b.k.job[kHistR], Start: min, Stop: max,
			ByLex: true, Count: stores.MaxLimit}).Result()
		if err != nil {
			return nil, s.b.wrap(err, "list history")
		}
		for _, m := range list {
			h, err := decodeHistoryMember(m)
			if err != nil {
				return nil, err
			}
			out = append(out, h)
		}
		if len(list) < stores.MaxLimit {
			return out, nil
		}
		min = "(" + list[len(list)-1]
	}
}

func (s *historyStore) Purge(ctx context.Context, before time.Time, limit int) (int, error) {
	v, err := s.b.run(ctx, scriptHistoryPurge, s.b.k.job, t8(before), limit)
	n, _ := v.(int64)
	return int(n), err
}

// logStore implements stores.LogStore (L1).
type logStore struct{ b *Backend }

var _ stores.LogStore = (*logStore)(nil)

// Append stores the entries in order with one script run (L1). Each line
// travels as its id, its job id and the rest of its member, so the script
// builds one string per line (job id, batch, rest); the batch's locators go
// as one string.
func (s *logStore) Append(ctx context.Context, entries []*stores.LogEntry) error {
	args, err := logArgs(entries)
	if err != nil {
		return err
	}
	_, err = s.b.run(ctx, scriptLogAppend, s.b.k.job, args...)
	return err
}

// logArgs are the arguments of log_append.lua: the locators, then each
// line's id, job id and rest of its member.
func logArgs(entries []*stores.LogEntry) ([]any, error) {
	if len(entries) > 1<<16 {
		return nil, stores.InvalidField("entries", "has %d entries, the limit is %d", len(entries), 1<<16)
	}
	n := len(entries)
	args := make([]any, 1+3*n)
	locs := locators{size: 42, buf: make([]byte, 0, 42*n)}
	size := 0
	for _, e := range entries {
		size += logRestSize(e)
	}
	buf := make([]byte, 0, size)
	for i, e := range entries {
		jid, err := uuidBytes(e.JobID)
		if err != nil {
			return nil, err
		}
		start := len(buf)
		if buf, err = logRest(buf, e, i); err != nil {
			return nil, err
		}
		rest := buf[start:len(buf):len(buf)]
		args[1+i], args[1+n+i], args[1+2*n+i] = rest[2:18], jid, rest
		locs.add(rest[18:26], jid, rest[:18])
	}
	args[0] = locs.list()
	return args, nil
}

// List pages a job's log in written order. The cursor is the position of
// the last entry returned: its batch and index, as one number.
func (s *logStore) List(ctx context.Context, jobID, cursor string, limit int) (stores.LogPage, error) {
	jid, err := uuidBytes(jobID)
	if err != nil {
		return stores.LogPage{}, err
	}
	min := "[" + string(jid)
	if cursor != "" {
		pos, err := strconv.ParseUint(cursor, 10, 64)
		if err != nil || pos == math.MaxUint64 {
			return stores.LogPage{}, stores.InvalidField("cursor", "is not a cursor returned by this store")
		}
		min = "[" + string(binary.BigEndian.AppendUint64(jid, pos+1))
	}
	list, err := s.b.c.ZRangeArgs(ctx, goredis.ZRangeArgs{Key: s.b.k.job[kLogR], Start: min, Stop: "(" + string(jid) + maxSuffix,
		ByLex: true, Count: int64(limit) + 1}).Result()
	if err != nil {
		return stores.LogPage{}, s.b.wrap(err, "list log")
	}
	var page stores.LogPage
	for _, m := range list {
		e, err := decodeLogMember(m)
		if err != nil {
			return stores.LogPage{}, err
		}
		page.Entries = append(page.Entries, e)
	}
	if len(page.Entries) > limit {
		page.Entries = page.Entries[:limit]
		page.Next = strconv.FormatUint(binary.BigEndian.Uint64([]byte(list[limit-1][16:24])), 10)
	}
	return page, nil
}

func (s *logStore) Purge(ctx context.Context, before time.Time, limit int) (int, error) {
	v, err := s.b.run(ctx, scriptLogPurge, s.b.k.job, t8(before), limit)
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
