package stores

import (
	"context"
	"time"
)

// workerStore validates every WorkerStore call once for all drivers.
type workerStore struct {
	s *Store
	d WorkerStore
}

// memberCall runs the shared gate and id check of the single-id calls.
func memberCall(ctx context.Context, s *Store, id string) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	var c checker
	c.name("id", id)
	return c.err
}

func (w *workerStore) Heartbeat(ctx context.Context, wk *Worker, now time.Time) (Heartbeat, error) {
	if err := w.s.check(ctx); err != nil {
		return Heartbeat{}, err
	}
	if wk == nil {
		return Heartbeat{}, InvalidField("worker", "must not be nil")
	}
	var c checker
	c.name("worker.ID", wk.ID)
	c.optName("worker.HostName", wk.HostName)
	c.names("worker.Queues", wk.Queues)
	if wk.MaxConcurrency < 1 {
		c.fail("worker.MaxConcurrency", "must be at least 1, got %d", wk.MaxConcurrency)
	}
	c.nonNegative("worker.CurrentLoad", wk.CurrentLoad)
	c.json("worker.Metadata", wk.Metadata)
	c.time("worker.RegisteredAt", &wk.RegisteredAt)
	c.now("now", &now)
	if c.err != nil {
		return Heartbeat{}, c.err
	}
	return w.d.Heartbeat(ctx, wk, now)
}

func (w *workerStore) MarkDraining(ctx context.Context, id string) error {
	if err := memberCall(ctx, w.s, id); err != nil {
		return err
	}
	return w.d.MarkDraining(ctx, id)
}

func (w *workerStore) MarkOffline(ctx context.Context, id string) error {
	if err := memberCall(ctx, w.s, id); err != nil {
		return err
	}
	return w.d.MarkOffline(ctx, id)
}

func (w *workerStore) Remove(ctx context.Context, id string) error {
	if err := memberCall(ctx, w.s, id); err != nil {
		return err
	}
	return w.d.Remove(ctx, id)
}

func (w *workerStore) Get(ctx context.Context, id string) (*Worker, error) {
	if err := memberCall(ctx, w.s, id); err != nil {
		return nil, err
	}
	return w.d.Get(ctx, id)
}

func (w *workerStore) List(ctx context.Context) ([]*Worker, error) {
	if err := w.s.check(ctx); err != nil {
		return nil, err
	}
	return w.d.List(ctx)
}

func (w *workerStore) Available(ctx context.Context, queue string, limit int) ([]*Worker, error) {
	if err := w.s.check(ctx); err != nil {
		return nil, err
	}
	var c checker
	c.name("queue", queue)
	c.limit("limit", limit)
	if c.err != nil {
		return nil, c.err
	}
	return w.d.Available(ctx, queue, limit)
}

func (w *workerStore) Dead(ctx context.Context, now time.Time, timeout time.Duration) ([]*Worker, error) {
	if err := deadCall(ctx, w.s, &now, &timeout); err != nil {
		return nil, err
	}
	return w.d.Dead(ctx, now, timeout)
}

func deadCall(ctx context.Context, s *Store, now *time.Time, timeout *time.Duration) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	var c checker
	c.now("now", now)
	c.duration("timeout", timeout)
	return c.err
}

func (w *workerStore) AdjustLoad(ctx context.Context, id string, delta int) (int, error) {
	if err := memberCall(ctx, w.s, id); err != nil {
		return 0, err
	}
	return w.d.AdjustLoad(ctx, id, delta)
}

// nodeStore validates every NodeStore call once for all drivers.
type nodeStore struct {
	s *Store
	d NodeStore
}

func (n *nodeStore) Heartbeat(ctx context.Context, node *CoordinatorNode, now time.Time) (Heartbeat, error) {
	if err := n.s.check(ctx); err != nil {
		return Heartbeat{}, err
	}
	if node == nil {
		return Heartbeat{}, InvalidField("node", "must not be nil")
	}
	var c checker
	c.name("node.ID", node.ID)
	c.optName("node.HostName", node.HostName)
	c.nonNegative("node.ProcessID", node.ProcessID)
	c.json("node.Metadata", node.Metadata)
	c.time("node.JoinedAt", &node.JoinedAt)
	c.now("now", &now)
	if c.err != nil {
		return Heartbeat{}, c.err
	}
	return n.d.Heartbeat(ctx, node, now)
}

func (n *nodeStore) SetRole(ctx context.Context, id string, role NodeRole) error {
	if err := memberCall(ctx, n.s, id); err != nil {
		return err
	}
	if !role.Valid() {
		return InvalidField("role", "unknown role %q", truncateForError(string(role)))
	}
	return n.d.SetRole(ctx, id, role)
}

func (n *nodeStore) MarkDraining(ctx context.Context, id string) error {
	if err := memberCall(ctx, n.s, id); err != nil {
		return err
	}
	return n.d.MarkDraining(ctx, id)
}

func (n *nodeStore) MarkOffline(ctx context.Context, id string) error {
	if err := memberCall(ctx, n.s, id); err != nil {
		return err
	}
	return n.d.MarkOffline(ctx, id)
}

func (n *nodeStore) Remove(ctx context.Context, id string) error {
	if err := memberCall(ctx, n.s, id); err != nil {
		return err
	}
	return n.d.Remove(ctx, id)
}

func (n *nodeStore) Get(ctx context.Context, id string) (*CoordinatorNode, error) {
	if err := memberCall(ctx, n.s, id); err != nil {
		return nil, err
	}
	return n.d.Get(ctx, id)
}

func (n *nodeStore) List(ctx context.Context) ([]*CoordinatorNode, error) {
	if err := n.s.check(ctx); err != nil {
		return nil, err
	}
	return n.d.List(ctx)
}

func (n *nodeStore) Dead(ctx context.Context, now time.Time, timeout time.Duration) ([]*CoordinatorNode, error) {
	if err := deadCall(ctx, n.s, &now, &timeout); err != nil {
		return nil, err
	}
	return n.d.Dead(ctx, now, timeout)
}

func (n *nodeStore) ActiveFollowers(ctx context.Context, limit int) ([]*CoordinatorNode, error) {
	if err := n.s.check(ctx); err != nil {
		return nil, err
	}
	var c checker
	c.limit("limit", limit)
	if c.err != nil {
		return nil, c.err
	}
	return n.d.ActiveFollowers(ctx, limit)
}

func (n *nodeStore) AdjustJobCount(ctx context.Context, id string, delta int) (int, error) {
	if err := memberCall(ctx, n.s, id); err != nil {
		return 0, err
	}
	return n.d.AdjustJobCount(ctx, id, delta)
}

func (n *nodeStore) AcquireLeadership(ctx context.Context, nodeID string, now time.Time, ttl time.Duration) (Lease, error) {
	if err := leaseCall(ctx, n.s, nodeID, 1, &now, &ttl); err != nil {
		return Lease{}, err
	}
	return n.d.AcquireLeadership(ctx, nodeID, now, ttl)
}

func (n *nodeStore) RenewLeadership(ctx context.Context, nodeID string, term int64, now time.Time, ttl time.Duration) (Lease, error) {
	if err := leaseCall(ctx, n.s, nodeID, term, &now, &ttl); err != nil {
		return Lease{}, err
	}
	return n.d.RenewLeadership(ctx, nodeID, term, now, ttl)
}

func leaseCall(ctx context.Context, s *Store, nodeID string, term int64, now *time.Time, ttl *time.Duration) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	var c checker
	c.name("nodeID", nodeID)
	if term < 1 {
		c.fail("term", "must be at least 1, got %d", term)
	}
	c.now("now", now)
	c.positive("ttl", ttl)
	return c.err
}

func (n *nodeStore) ResignLeadership(ctx context.Context, nodeID string, term int64) error {
	if err := n.s.check(ctx); err != nil {
		return err
	}
	var c checker
	c.name("nodeID", nodeID)
	if term < 1 {
		c.fail("term", "must be at least 1, got %d", term)
	}
	if c.err != nil {
		return c.err
	}
	return n.d.ResignLeadership(ctx, nodeID, term)
}

func (n *nodeStore) CurrentLeader(ctx context.Context, now time.Time) (Lease, error) {
	if err := n.s.check(ctx); err != nil {
		return Lease{}, err
	}
	var c checker
	c.now("now", &now)
	if c.err != nil {
		return Lease{}, c.err
	}
	return n.d.CurrentLeader(ctx, now)
}
