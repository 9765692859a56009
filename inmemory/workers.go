package inmemory

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/google/btree"

	"github.com/orchestrix/persistence/abstractions/stores"
)

// workerTable holds workers (W1, W2).
type workerTable struct {
	byID map[string]*stores.Worker
	// alive orders workers not offline by (LastHeartbeat, ID): Dead reads
	// its prefix.
	alive *btree.BTreeG[*stores.Worker]
	// available orders, per queue, the active workers below their max
	// concurrency by (CurrentLoad, ID): Available reads its prefix.
	available map[string]*btree.BTreeG[*stores.Worker]
}

func newWorkerTable() *workerTable {
	return &workerTable{
		byID:      map[string]*stores.Worker{},
		alive:     newTree(heartbeatLess[*stores.Worker]),
		available: map[string]*btree.BTreeG[*stores.Worker]{},
	}
}

// member is what the liveness index needs of a worker or node.
type member interface {
	*stores.Worker | *stores.CoordinatorNode
}

func heartbeatOf[M member](m M) (time.Time, string) {
	switch v := any(m).(type) {
	case *stores.Worker:
		return v.LastHeartbeat, v.ID
	case *stores.CoordinatorNode:
		return v.LastHeartbeat, v.ID
	}
	return time.Time{}, ""
}

func heartbeatLess[M member](a, b M) bool {
	ta, ida := heartbeatOf(a)
	tb, idb := heartbeatOf(b)
	return timeIDLess(ta, tb, ida, idb)
}

// deadPrefix returns the members of alive whose last heartbeat is before
// now-timeout, oldest first.
func deadPrefix[M member](alive *btree.BTreeG[M], now time.Time, timeout time.Duration) []M {
	cutoff := now.Add(-timeout)
	var out []M
	alive.Ascend(func(m M) bool {
		if hb, _ := heartbeatOf(m); !hb.Before(cutoff) {
			return false
		}
		out = append(out, m)
		return true
	})
	return out
}

func loadLess(a, b *stores.Worker) bool {
	if a.CurrentLoad != b.CurrentLoad {
		return a.CurrentLoad < b.CurrentLoad
	}
	return a.ID < b.ID
}

func (t *workerTable) index(w *stores.Worker) {
	if w.Status != stores.MemberOffline {
		t.alive.ReplaceOrInsert(w)
	}
	if w.Status == stores.MemberActive && w.CurrentLoad < w.MaxConcurrency {
		for _, q := range w.Queues {
			tr := t.available[q]
			if tr == nil {
				tr = newTree(loadLess)
				t.available[q] = tr
			}
			tr.ReplaceOrInsert(w)
		}
	}
}

func (t *workerTable) unindex(w *stores.Worker) {
	t.alive.Delete(w)
	for _, q := range w.Queues {
		if tr := t.available[q]; tr != nil {
			tr.Delete(w)
			if tr.Len() == 0 {
				delete(t.available, q)
			}
		}
	}
}

func (t *workerTable) update(w *stores.Worker, change func(w *stores.Worker)) {
	t.unindex(w)
	change(w)
	t.index(w)
}

// workerStore implements stores.WorkerStore (W1, W2).
type workerStore struct{ db *db }

var _ stores.WorkerStore = workerStore{}

func (s workerStore) find(id string) (*stores.Worker, error) {
	w, ok := s.db.workers.byID[id]
	if !ok {
		return nil, notFound("worker", id)
	}
	return w, nil
}

// Heartbeat implements stores.WorkerStore (W1).
func (s workerStore) Heartbeat(ctx context.Context, in *stores.Worker, now time.Time) (stores.Heartbeat, error) {
	if err := s.db.lock(ctx); err != nil {
		return stores.Heartbeat{}, err
	}
	defer s.db.mu.Unlock()
	t := s.db.workers
	in = in.Clone()
	w, ok := t.byID[in.ID]
	if !ok {
		in.Status = stores.MemberActive
		in.LastHeartbeat = now
		if in.RegisteredAt.IsZero() {
			in.RegisteredAt = now
		}
		t.byID[in.ID] = in
		t.index(in)
		return stores.Heartbeat{Registered: true}, nil
	}
	wasOffline := w.Status == stores.MemberOffline
	t.update(w, func(w *stores.Worker) {
		w.HostName = in.HostName
		w.Queues = in.Queues
		w.MaxConcurrency = in.MaxConcurrency
		w.CurrentLoad = in.CurrentLoad
		w.Metadata = in.Metadata
		w.LastHeartbeat = now
		if wasOffline {
			w.Status = stores.MemberActive
		}
	})
	return stores.Heartbeat{WasOffline: wasOffline}, nil
}

func (s workerStore) setStatus(ctx context.Context, id string, status stores.MemberStatus) error {
	if err := s.db.lock(ctx); err != nil {
		return err
	}
	defer s.db.mu.Unlock()
	w, err := s.find(id)
	if err != nil {
		return err
	}
	s.db.workers.update(w, func(w *stores.Worker) { w.Status = status })
	return nil
}

// MarkDraining implements stores.WorkerStore (W1).
func (s workerStore) MarkDraining(ctx context.Context, id string) error {
	return s.setStatus(ctx, id, stores.MemberDraining)
}

// MarkOffline implements stores.WorkerStore (W1).
func (s workerStore) MarkOffline(ctx context.Context, id string) error {
	return s.setStatus(ctx, id, stores.MemberOffline)
}

// Remove implements stores.WorkerStore (W1).
func (s workerStore) Remove(ctx context.Context, id string) error {
	if err := s.db.lock(ctx); err != nil {
		return err
	}
	defer s.db.mu.Unlock()
	w, err := s.find(id)
	if err != nil {
		return err
	}
	s.db.workers.unindex(w)
	delete(s.db.workers.byID, id)
	return nil
}

// Get implements stores.WorkerStore (W1).
func (s workerStore) Get(ctx context.Context, id string) (*stores.Worker, error) {
	if err := s.db.rlock(ctx); err != nil {
		return nil, err
	}
	defer s.db.mu.RUnlock()
	w, err := s.find(id)
	if err != nil {
		return nil, err
	}
	return w.Clone(), nil
}

// List implements stores.WorkerStore.
func (s workerStore) List(ctx context.Context) ([]*stores.Worker, error) {
	if err := s.db.rlock(ctx); err != nil {
		return nil, err
	}
	defer s.db.mu.RUnlock()
	out := make([]*stores.Worker, 0, len(s.db.workers.byID))
	for _, w := range s.db.workers.byID {
		out = append(out, w.Clone())
	}
	slices.SortFunc(out, func(a, b *stores.Worker) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// Available implements stores.WorkerStore (W2).
func (s workerStore) Available(ctx context.Context, queue string, limit int) ([]*stores.Worker, error) {
	if err := s.db.rlock(ctx); err != nil {
		return nil, err
	}
	defer s.db.mu.RUnlock()
	var out []*stores.Worker
	if tr := s.db.workers.available[queue]; tr != nil {
		tr.Ascend(func(w *stores.Worker) bool {
			out = append(out, w.Clone())
			return len(out) < limit
		})
	}
	return out, nil
}

// Dead implements stores.WorkerStore (W2).
func (s workerStore) Dead(ctx context.Context, now time.Time, timeout time.Duration) ([]*stores.Worker, error) {
	if err := s.db.rlock(ctx); err != nil {
		return nil, err
	}
	defer s.db.mu.RUnlock()
	dead := deadPrefix(s.db.workers.alive, now, timeout)
	for i, w := range dead {
		dead[i] = w.Clone()
	}
	return dead, nil
}

// AdjustLoad implements stores.WorkerStore (W2).
func (s workerStore) AdjustLoad(ctx context.Context, id string, delta int) (int, error) {
	if err := s.db.lock(ctx); err != nil {
		return 0, err
	}
	defer s.db.mu.Unlock()
	w, err := s.find(id)
	if err != nil {
		return 0, err
	}
	s.db.workers.update(w, func(w *stores.Worker) { w.CurrentLoad = clampAdd(w.CurrentLoad, delta) })
	return w.CurrentLoad, nil
}

// clampAdd returns n+delta, never below zero and without overflow.
func clampAdd(n, delta int) int {
	r := n + delta
	switch {
	case delta > 0 && r < n:
		return int(^uint(0) >> 1)
	case r < 0:
		return 0
	}
	return r
}
