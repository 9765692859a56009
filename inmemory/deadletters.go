package inmemory

import (
	"context"
	"fmt"
	"time"

	"github.com/google/btree"

	"github.com/orchestrix/persistence/abstractions/stores"
)

// deadLetterTable holds dead letters by id and newest first (D1).
type deadLetterTable struct {
	byID map[string]*stores.DeadLetter
	// newest orders by FailedAt descending, then ID descending: List order.
	newest *btree.BTreeG[*stores.DeadLetter]
}

func newDeadLetterTable() *deadLetterTable {
	return &deadLetterTable{byID: map[string]*stores.DeadLetter{}, newest: newTree(newestLess)}
}

func newestLess(a, b *stores.DeadLetter) bool {
	return timeIDLess(b.FailedAt, a.FailedAt, b.ID, a.ID)
}

// insert stores d, which the caller copied and checked for a free ID.
func (t *deadLetterTable) insert(d *stores.DeadLetter) {
	t.byID[d.ID] = d
	t.newest.ReplaceOrInsert(d)
}

func (t *deadLetterTable) remove(d *stores.DeadLetter) {
	delete(t.byID, d.ID)
	t.newest.Delete(d)
}

// deadLetterStore implements stores.DeadLetterStore (D1).
type deadLetterStore struct{ db *db }

var _ stores.DeadLetterStore = deadLetterStore{}

// Add implements stores.DeadLetterStore.
func (s deadLetterStore) Add(ctx context.Context, d *stores.DeadLetter) error {
	if err := s.db.lock(ctx); err != nil {
		return err
	}
	defer s.db.mu.Unlock()
	if _, ok := s.db.deadLetters.byID[d.ID]; ok {
		return fmt.Errorf("dead letter %s: %w", d.ID, stores.ErrAlreadyExists)
	}
	s.db.deadLetters.insert(d.Clone())
	return nil
}

// Get implements stores.DeadLetterStore.
func (s deadLetterStore) Get(ctx context.Context, id string) (*stores.DeadLetter, error) {
	if err := s.db.rlock(ctx); err != nil {
		return nil, err
	}
	defer s.db.mu.RUnlock()
	d, ok := s.db.deadLetters.byID[id]
	if !ok {
		return nil, notFound("dead letter", id)
	}
	return d.Clone(), nil
}

// List implements stores.DeadLetterStore: keyset paging newest first.
func (s deadLetterStore) List(ctx context.Context, cursor string, limit int) (stores.DeadLetterPage, error) {
	var after *stores.DeadLetter
	if cursor != "" {
		c, err := stores.DecodeCursor(cursor)
		if err != nil {
			return stores.DeadLetterPage{}, err
		}
		after = &stores.DeadLetter{ID: c.ID, FailedAt: c.Time}
	}
	if err := s.db.rlock(ctx); err != nil {
		return stores.DeadLetterPage{}, err
	}
	defer s.db.mu.RUnlock()
	var rows []*stores.DeadLetter
	visit := func(d *stores.DeadLetter) bool {
		if after != nil && !newestLess(after, d) {
			return true // the cursor row itself
		}
		rows = append(rows, d)
		return len(rows) <= limit
	}
	if after == nil {
		s.db.deadLetters.newest.Ascend(visit)
	} else {
		s.db.deadLetters.newest.AscendGreaterOrEqual(after, visit)
	}
	var page stores.DeadLetterPage
	if len(rows) > limit {
		rows = rows[:limit]
		last := rows[len(rows)-1]
		page.Next = stores.Cursor{Time: last.FailedAt, ID: last.ID}.Encode()
	}
	page.DeadLetters = make([]*stores.DeadLetter, len(rows))
	for i, d := range rows {
		page.DeadLetters[i] = d.Clone()
	}
	return page, nil
}

// Remove implements stores.DeadLetterStore.
func (s deadLetterStore) Remove(ctx context.Context, id string) error {
	if err := s.db.lock(ctx); err != nil {
		return err
	}
	defer s.db.mu.Unlock()
	d, ok := s.db.deadLetters.byID[id]
	if !ok {
		return notFound("dead letter", id)
	}
	s.db.deadLetters.remove(d)
	return nil
}

// Requeue implements stores.DeadLetterStore: the dead letter leaves and the
// job returns under its original ID in one step, or nothing changes.
func (s deadLetterStore) Requeue(ctx context.Context, id string, now time.Time) (*stores.Job, error) {
	if err := s.db.lock(ctx); err != nil {
		return nil, err
	}
	defer s.db.mu.Unlock()
	d, ok := s.db.deadLetters.byID[id]
	if !ok {
		return nil, notFound("dead letter", id)
	}
	j := d.Job.Clone()
	j.Status = stores.StatusPending
	j.RetryCount = 0
	j.LastError = ""
	j.WorkerID = ""
	j.FollowerNodeID = ""
	j.ScheduledAt = time.Time{}
	j.DispatchedAt = time.Time{}
	j.StartedAt = time.Time{}
	j.CompletedAt = time.Time{}
	j.ChannelsCleaned = false
	if err := s.db.jobs.conflictOnInsert(j); err != nil {
		return nil, fmt.Errorf("requeue dead letter %s: %w", id, err)
	}
	s.db.jobs.insert(j)
	s.db.deadLetters.remove(d)
	return j.Clone(), nil
}
