package redis

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/orchestrix/persistence/abstractions/stores"
	goredis "github.com/redis/go-redis/v9"
)

// memberOps are the calls workers and nodes share; key is their hash.
type memberOps struct {
	b    *Backend
	key  string
	kind string
}

func (m memberOps) heartbeat(ctx context.Context, rec any, id, fields string, now time.Time) (stores.Heartbeat, error) {
	v, err := m.b.run(ctx, scriptMemberHeartbeat, []string{m.key}, marshal(rec), fields, tT(now))
	if err != nil {
		return stores.Heartbeat{}, err
	}
	r, _ := v.([]any)
	if len(r) != 2 {
		return stores.Heartbeat{}, errUnexpected
	}
	return stores.Heartbeat{Registered: r[0] == int64(1), WasOffline: r[1] == int64(1)}, nil
}

func (m memberOps) update(ctx context.Context, id, op, field, value string) (string, error) {
	v, err := m.b.run(ctx, scriptMemberUpdate, []string{m.key}, id, op, field, value)
	if err != nil {
		if errors.Is(err, stores.ErrNotFound) {
			return "", fmt.Errorf("%w: %s %s", stores.ErrNotFound, m.kind, id)
		}
		return "", err
	}
	s, _ := v.(string)
	return s, nil
}

func (m memberOps) adjust(ctx context.Context, id, field string, delta int) (int, error) {
	s, err := m.update(ctx, id, "add", field, strconv.Itoa(delta))
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(s)
}

func (m memberOps) remove(ctx context.Context, id string) error {
	n, err := m.b.c.HDel(ctx, m.key, id).Result()
	if err != nil {
		return m.b.wrap(err, "remove "+m.kind)
	}
	if n == 0 {
		return fmt.Errorf("%w: %s %s", stores.ErrNotFound, m.kind, id)
	}
	return nil
}

func (m memberOps) get(ctx context.Context, id string) (string, error) {
	raw, err := m.b.c.HGet(ctx, m.key, id).Result()
	if errors.Is(err, goredis.Nil) {
		return "", fmt.Errorf("%w: %s %s", stores.ErrNotFound, m.kind, id)
	}
	return raw, m.b.wrap(err, "get "+m.kind)
}

// all returns every record, ordered by id.
func (m memberOps) all(ctx context.Context) ([]any, error) {
	kv, err := m.b.c.HGetAll(ctx, m.key).Result()
	if err != nil {
		return nil, m.b.wrap(err, "list "+m.kind+"s")
	}
	ids := make([]string, 0, len(kv))
	for id := range kv {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = kv[id]
	}
	return out, nil
}

func (m memberOps) scan(ctx context.Context, args ...any) ([]any, error) {
	v, err := m.b.run(ctx, scriptMemberScan, []string{m.key}, args...)
	if err != nil {
		return nil, err
	}
	return replyList(v)
}

// deadCutoff is now-timeout as a T, clamped at the epoch.
func deadCutoff(now time.Time, timeout time.Duration) string {
	c := now.Add(-timeout)
	if !c.After(time.Unix(0, 0)) {
		return zeroT
	}
	return tT(c)
}

// workerStore implements stores.WorkerStore (W1, W2).
type workerStore struct{ b *Backend }

var _ stores.WorkerStore = (*workerStore)(nil)

func (s *workerStore) ops() memberOps { return memberOps{s.b, s.b.k.workers, "worker"} }

func (s *workerStore) Heartbeat(ctx context.Context, w *stores.Worker, now time.Time) (stores.Heartbeat, error) {
	reg := w.RegisteredAt
	if reg.IsZero() {
		reg = now
	}
	rec := workerRec{ID: w.ID, HostName: w.HostName, Queues: strings.Join(w.Queues, "\x00"),
		MaxConcurrency: strconv.Itoa(w.MaxConcurrency), CurrentLoad: itoa(int64(w.CurrentLoad)),
		Status: string(stores.MemberActive), LastHeartbeat: tT(now), Metadata: string(w.Metadata), RegisteredAt: tT(reg)}
	return s.ops().heartbeat(ctx, rec, w.ID, workerUpdate, now)
}

func (s *workerStore) MarkDraining(ctx context.Context, id string) error {
	_, err := s.ops().update(ctx, id, "set", "st", string(stores.MemberDraining))
	return err
}

func (s *workerStore) MarkOffline(ctx context.Context, id string) error {
	_, err := s.ops().update(ctx, id, "set", "st", string(stores.MemberOffline))
	return err
}

func (s *workerStore) Remove(ctx context.Context, id string) error { return s.ops().remove(ctx, id) }

func (s *workerStore) Get(ctx context.Context, id string) (*stores.Worker, error) {
	raw, err := s.ops().get(ctx, id)
	if err != nil {
		return nil, err
	}
	return decodeWorker(raw)
}

func decodeWorkers(raws []any, err error) ([]*stores.Worker, error) {
	if err != nil {
		return nil, err
	}
	out := make([]*stores.Worker, 0, len(raws))
	for _, raw := range raws {
		w, err := decodeWorker(raw)
		if err != nil {
			return nil, err
		}
		out = append(out, w)
	}
	return out, nil
}

func (s *workerStore) List(ctx context.Context) ([]*stores.Worker, error) {
	return decodeWorkers(s.ops().all(ctx))
}

func (s *workerStore) Available(ctx context.Context, queue string, limit int) ([]*stores.Worker, error) {
	return decodeWorkers(s.ops().scan(ctx, "available", queue, limit))
}

func (s *workerStore) Dead(ctx context.Context, now time.Time, timeout time.Duration) ([]*stores.Worker, error) {
	return decodeWorkers(s.ops().scan(ctx, "dead", deadCutoff(now, timeout)))
}

func (s *workerStore) AdjustLoad(ctx context.Context, id string, delta int) (int, error) {
	return s.ops().adjust(ctx, id, "cl", delta)
}

// nodeStore implements stores.NodeStore (W1–W3).
type nodeStore struct{ b *Backend }

var _ stores.NodeStore = (*nodeStore)(nil)

func (s *nodeStore) ops() memberOps { return memberOps{s.b, s.b.k.nodes, "node"} }

func (s *nodeStore) Heartbeat(ctx context.Context, n *stores.CoordinatorNode, now time.Time) (stores.Heartbeat, error) {
	joined := n.JoinedAt
	if joined.IsZero() {
		joined = now
	}
	rec := nodeRec{ID: n.ID, Role: string(stores.RoleFollower), Status: string(stores.MemberActive),
		LastHeartbeat: tT(now), Metadata: string(n.Metadata), HostName: n.HostName,
		ProcessID: itoa(int64(n.ProcessID)), JoinedAt: tT(joined)}
	return s.ops().heartbeat(ctx, rec, n.ID, nodeUpdate, now)
}

func (s *nodeStore) SetRole(ctx context.Context, id string, role stores.NodeRole) error {
	_, err := s.ops().update(ctx, id, "set", "r", string(role))
	return err
}

func (s *nodeStore) MarkDraining(ctx context.Context, id string) error {
	_, err := s.ops().update(ctx, id, "set", "st", string(stores.MemberDraining))
	return err
}

func (s *nodeStore) MarkOffline(ctx context.Context, id string) error {
	_, err := s.ops().update(ctx, id, "set", "st", string(stores.MemberOffline))
	return err
}

func (s *nodeStore) Remove(ctx context.Context, id string) error { return s.ops().remove(ctx, id) }

func (s *nodeStore) Get(ctx context.Context, id string) (*stores.CoordinatorNode, error) {
	raw, err := s.ops().get(ctx, id)
	if err != nil {
		return nil, err
	}
	return decodeNode(raw)
}

func decodeNodes(raws []any, err error) ([]*stores.CoordinatorNode, error) {
	if err != nil {
		return nil, err
	}
	out := make([]*stores.CoordinatorNode, 0, len(raws))
	for _, raw := range raws {
		n, err := decodeNode(raw)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, nil
}

func (s *nodeStore) List(ctx context.Context) ([]*stores.CoordinatorNode, error) {
	return decodeNodes(s.ops().all(ctx))
}

func (s *nodeStore) Dead(ctx context.Context, now time.Time, timeout time.Duration) ([]*stores.CoordinatorNode, error) {
	return decodeNodes(s.ops().scan(ctx, "dead", deadCutoff(now, timeout)))
}

func (s *nodeStore) ActiveFollowers(ctx context.Context, limit int) ([]*stores.CoordinatorNode, error) {
	return decodeNodes(s.ops().scan(ctx, "followers", "", limit))
}

func (s *nodeStore) AdjustJobCount(ctx context.Context, id string, delta int) (int, error) {
	return s.ops().adjust(ctx, id, "jc", delta)
}

// lease runs lease.lua.
func (s *nodeStore) lease(ctx context.Context, op, nodeID string, term int64, now time.Time, ttl time.Duration) (stores.Lease, error) {
	v, err := s.b.run(ctx, scriptLease, []string{s.b.k.lease}, op, nodeID, strconv.FormatInt(term, 10), tT(now), tT(now.Add(ttl)))
	if err != nil {
		return stores.Lease{}, err
	}
	r, _ := v.([]any)
	if len(r) != 4 {
		return stores.Lease{}, errUnexpected
	}
	return decodeLease(r[0], r[1], r[2], r[3])
}

func decodeLease(h, t, a, e any) (stores.Lease, error) {
	var d decoder
	hs, _ := h.(string)
	ts, _ := t.(string)
	as, _ := a.(string)
	es, _ := e.(string)
	l := stores.Lease{Holder: hs, Term: d.i64(ts), AcquiredAt: d.t(as), ExpiresAt: d.t(es)}
	if d.err != nil {
		return stores.Lease{}, fmt.Errorf("orchestrix/redis: lease: %w", d.err)
	}
	return l, nil
}

func (s *nodeStore) AcquireLeadership(ctx context.Context, nodeID string, now time.Time, ttl time.Duration) (stores.Lease, error) {
	return s.lease(ctx, "acquire", nodeID, 0, now, ttl)
}

func (s *nodeStore) RenewLeadership(ctx context.Context, nodeID string, term int64, now time.Time, ttl time.Duration) (stores.Lease, error) {
	return s.lease(ctx, "renew", nodeID, term, now, ttl)
}

func (s *nodeStore) ResignLeadership(ctx context.Context, nodeID string, term int64) error {
	_, err := s.b.run(ctx, scriptLease, []string{s.b.k.lease}, "resign", nodeID, strconv.FormatInt(term, 10), zeroT, zeroT)
	return err
}

func (s *nodeStore) CurrentLeader(ctx context.Context, now time.Time) (stores.Lease, error) {
	kv, err := s.b.c.HGetAll(ctx, s.b.k.lease).Result()
	if err != nil {
		return stores.Lease{}, s.b.wrap(err, "current leader")
	}
	if kv["h"] == "" || kv["e"] <= tT(now) {
		return stores.Lease{}, fmt.Errorf("%w: no valid leadership lease", stores.ErrNotFound)
	}
	return decodeLease(kv["h"], kv["t"], kv["a"], kv["e"])
}
