package inmemory

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/btree"

	"github.com/orchestrix/persistence/abstractions/stores"
)

// nodeTable holds coordinator nodes and the leadership lease (W1–W3).
type nodeTable struct {
	byID map[string]*stores.CoordinatorNode
	// alive orders nodes not offline by (LastHeartbeat, ID): Dead.
	alive *btree.BTreeG[*stores.CoordinatorNode]
	// active orders active nodes by (JobCount, ID): ActiveFollowers.
	active *btree.BTreeG[*stores.CoordinatorNode]

	// lease is the current term; Holder "" means free. lastTerm is the
	// greatest term ever issued: it survives resignation and expiry (W3).
	lease    stores.Lease
	lastTerm int64
}

func newNodeTable() *nodeTable {
	return &nodeTable{
		byID:  map[string]*stores.CoordinatorNode{},
		alive: newTree(heartbeatLess[*stores.CoordinatorNode]),
		active: newTree(func(a, b *stores.CoordinatorNode) bool {
			if a.JobCount != b.JobCount {
				return a.JobCount < b.JobCount
			}
			return a.ID < b.ID
		}),
	}
}

func (t *nodeTable) index(n *stores.CoordinatorNode) {
	if n.Status != stores.MemberOffline {
		t.alive.ReplaceOrInsert(n)
	}
	if n.Status == stores.MemberActive {
		t.active.ReplaceOrInsert(n)
	}
}

func (t *nodeTable) unindex(n *stores.CoordinatorNode) {
	t.alive.Delete(n)
	t.active.Delete(n)
}

func (t *nodeTable) update(n *stores.CoordinatorNode, change func(n *stores.CoordinatorNode)) {
	t.unindex(n)
	change(n)
	t.index(n)
}

// nodeStore implements stores.NodeStore (W1–W3).
type nodeStore struct{ db *db }

var _ stores.NodeStore = nodeStore{}

func (s nodeStore) find(id string) (*stores.CoordinatorNode, error) {
	n, ok := s.db.nodes.byID[id]
	if !ok {
		return nil, notFound("node", id)
	}
	return n, nil
}

// Heartbeat implements stores.NodeStore (W1): it never changes Role or
// JobCount of a known node.
func (s nodeStore) Heartbeat(ctx context.Context, in *stores.CoordinatorNode, now time.Time) (stores.Heartbeat, error) {
	if err := s.db.lock(ctx); err != nil {
		return stores.Heartbeat{}, err
	}
	defer s.db.mu.Unlock()
	t := s.db.nodes
	n, ok := t.byID[in.ID]
	if !ok {
		n = in.Clone()
		n.Role = stores.RoleFollower
		n.JobCount = 0
		n.Status = stores.MemberActive
		n.LastHeartbeat = now
		if n.JoinedAt.IsZero() {
			n.JoinedAt = now
		}
		t.byID[n.ID] = n
		t.index(n)
		return stores.Heartbeat{Registered: true}, nil
	}
	wasOffline := n.Status == stores.MemberOffline
	t.update(n, func(n *stores.CoordinatorNode) {
		n.HostName = in.HostName
		n.ProcessID = in.ProcessID
		n.Metadata = in.Clone().Metadata
		n.LastHeartbeat = now
		if wasOffline {
			n.Status = stores.MemberActive
		}
	})
	return stores.Heartbeat{WasOffline: wasOffline}, nil
}

func (s nodeStore) change(ctx context.Context, id string, change func(n *stores.CoordinatorNode)) error {
	if err := s.db.lock(ctx); err != nil {
		return err
	}
	defer s.db.mu.Unlock()
	n, err := s.find(id)
	if err != nil {
		return err
	}
	s.db.nodes.update(n, change)
	return nil
}

// SetRole implements stores.NodeStore.
func (s nodeStore) SetRole(ctx context.Context, id string, role stores.NodeRole) error {
	return s.change(ctx, id, func(n *stores.CoordinatorNode) { n.Role = role })
}

// MarkDraining implements stores.NodeStore (W1).
func (s nodeStore) MarkDraining(ctx context.Context, id string) error {
	return s.change(ctx, id, func(n *stores.CoordinatorNode) { n.Status = stores.MemberDraining })
}

// MarkOffline implements stores.NodeStore (W1).
func (s nodeStore) MarkOffline(ctx context.Context, id string) error {
	return s.change(ctx, id, func(n *stores.CoordinatorNode) { n.Status = stores.MemberOffline })
}

// Remove implements stores.NodeStore (W1).
func (s nodeStore) Remove(ctx context.Context, id string) error {
	if err := s.db.lock(ctx); err != nil {
		return err
	}
	defer s.db.mu.Unlock()
	n, err := s.find(id)
	if err != nil {
		return err
	}
	s.db.nodes.unindex(n)
	delete(s.db.nodes.byID, id)
	return nil
}

// Get implements stores.NodeStore.
func (s nodeStore) Get(ctx context.Context, id string) (*stores.CoordinatorNode, error) {
	if err := s.db.rlock(ctx); err != nil {
		return nil, err
	}
	defer s.db.mu.RUnlock()
	n, err := s.find(id)
	if err != nil {
		return nil, err
	}
	return n.Clone(), nil
}

// List implements stores.NodeStore.
func (s nodeStore) List(ctx context.Context) ([]*stores.CoordinatorNode, error) {
	if err := s.db.rlock(ctx); err != nil {
		return nil, err
	}
	defer s.db.mu.RUnlock()
	out := make([]*stores.CoordinatorNode, 0, len(s.db.nodes.byID))
	for _, n := range s.db.nodes.byID {
		out = append(out, n.Clone())
	}
	slices.SortFunc(out, func(a, b *stores.CoordinatorNode) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// Dead implements stores.NodeStore (W2).
func (s nodeStore) Dead(ctx context.Context, now time.Time, timeout time.Duration) ([]*stores.CoordinatorNode, error) {
	if err := s.db.rlock(ctx); err != nil {
		return nil, err
	}
	defer s.db.mu.RUnlock()
	dead := deadPrefix(s.db.nodes.alive, now, timeout)
	for i, n := range dead {
		dead[i] = n.Clone()
	}
	return dead, nil
}

// ActiveFollowers implements stores.NodeStore (W2).
func (s nodeStore) ActiveFollowers(ctx context.Context, limit int) ([]*stores.CoordinatorNode, error) {
	if err := s.db.rlock(ctx); err != nil {
		return nil, err
	}
	defer s.db.mu.RUnlock()
	var out []*stores.CoordinatorNode
	s.db.nodes.active.Ascend(func(n *stores.CoordinatorNode) bool {
		out = append(out, n.Clone())
		return len(out) < limit
	})
	return out, nil
}

// AdjustJobCount implements stores.NodeStore (W2).
func (s nodeStore) AdjustJobCount(ctx context.Context, id string, delta int) (int, error) {
	if err := s.db.lock(ctx); err != nil {
		return 0, err
	}
	defer s.db.mu.Unlock()
	n, err := s.find(id)
	if err != nil {
		return 0, err
	}
	s.db.nodes.update(n, func(n *stores.CoordinatorNode) { n.JobCount = clampAdd(n.JobCount, delta) })
	return n.JobCount, nil
}

// AcquireLeadership implements stores.NodeStore (W3).
func (s nodeStore) AcquireLeadership(ctx context.Context, nodeID string, now time.Time, ttl time.Duration) (stores.Lease, error) {
	if err := s.db.lock(ctx); err != nil {
		return stores.Lease{}, err
	}
	defer s.db.mu.Unlock()
	t := s.db.nodes
	if t.lease.ValidAt(now) {
		if t.lease.Holder == nodeID {
			return t.lease, nil
		}
		return stores.Lease{}, fmt.Errorf("leadership is held by %q (term %d) until %s: %w",
			t.lease.Holder, t.lease.Term, t.lease.ExpiresAt.Format(time.RFC3339Nano), stores.ErrConflict)
	}
	t.lastTerm++
	t.lease = stores.Lease{Holder: nodeID, Term: t.lastTerm, AcquiredAt: now, ExpiresAt: stores.NormalizeTime(now.Add(ttl))}
	return t.lease, nil
}

// holds reports whether nodeID holds term (expired or not).
func (t *nodeTable) holds(nodeID string, term int64) error {
	if t.lease.Holder != nodeID || t.lease.Term != term {
		return fmt.Errorf("node %q does not hold leadership term %d: %w", nodeID, term, stores.ErrConflict)
	}
	return nil
}

// RenewLeadership implements stores.NodeStore (W3).
func (s nodeStore) RenewLeadership(ctx context.Context, nodeID string, term int64, now time.Time, ttl time.Duration) (stores.Lease, error) {
	if err := s.db.lock(ctx); err != nil {
		return stores.Lease{}, err
	}
	defer s.db.mu.Unlock()
	t := s.db.nodes
	if err := t.holds(nodeID, term); err != nil {
		return stores.Lease{}, err
	}
	if !t.lease.ValidAt(now) {
		return stores.Lease{}, fmt.Errorf("leadership term %d expired at %s: %w", term, t.lease.ExpiresAt.Format(time.RFC3339Nano), stores.ErrConflict)
	}
	t.lease.ExpiresAt = stores.NormalizeTime(now.Add(ttl))
	return t.lease, nil
}

// ResignLeadership implements stores.NodeStore (W3).
func (s nodeStore) ResignLeadership(ctx context.Context, nodeID string, term int64) error {
	if err := s.db.lock(ctx); err != nil {
		return err
	}
	defer s.db.mu.Unlock()
	t := s.db.nodes
	if err := t.holds(nodeID, term); err != nil {
		return err
	}
	t.lease = stores.Lease{}
	return nil
}

// CurrentLeader implements stores.NodeStore (W3).
func (s nodeStore) CurrentLeader(ctx context.Context, now time.Time) (stores.Lease, error) {
	if err := s.db.rlock(ctx); err != nil {
		return stores.Lease{}, err
	}
	defer s.db.mu.RUnlock()
	if !s.db.nodes.lease.ValidAt(now) {
		return stores.Lease{}, fmt.Errorf("no leader at %s: %w", now.Format(time.RFC3339Nano), stores.ErrNotFound)
	}
	return s.db.nodes.lease, nil
}
