package ent

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/orchestrix/persistence/abstractions/stores"
)

// uniqueRaceRetries bounds how often an upsert that lost an insert race to a
// concurrent caller is retried as an update.
const uniqueRaceRetries = 3

// retryUniqueRace runs f again while it fails with ErrAlreadyExists, which
// for an upsert means a concurrent caller inserted the same key first.
func retryUniqueRace(f func() error) error {
	var err error
	for i := 0; i < uniqueRaceRetries; i++ {
		if err = f(); !errors.Is(err, stores.ErrAlreadyExists) {
			return err
		}
	}
	return err
}

// workerStore implements stores.WorkerStore (W1, W2).
type workerStore struct{ b *backend }

func scanWorker(sc rowScanner) (*stores.Worker, error) {
	var (
		w              stores.Worker
		queues, meta   []byte
		status         string
		beat, register nullTime
	)
	if err := sc.Scan(&w.ID, &w.HostName, &queues, &w.MaxConcurrency, &w.CurrentLoad, &status, &beat, &meta, &register); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(queues, &w.Queues); err != nil {
		return nil, fmt.Errorf("ent: worker %s: corrupt queues: %w", w.ID, err)
	}
	w.Status, w.LastHeartbeat, w.RegisteredAt = stores.MemberStatus(status), beat.Time, register.Time
	w.Metadata = copyBytes(meta)
	return &w, nil
}

// Heartbeat registers or updates a worker in one transaction that reads the
// previous status under the row lock, so it can say whether the worker had
// been marked offline (W1).
func (s *workerStore) Heartbeat(ctx context.Context, w *stores.Worker, now time.Time) (stores.Heartbeat, error) {
	queues := w.Queues
	if queues == nil {
		queues = []string{}
	}
	qs, err := json.Marshal(queues)
	if err != nil {
		return stores.Heartbeat{}, err
	}
	registered := w.RegisteredAt
	if registered.IsZero() {
		registered = now
	}
	if s.b.cfg.Dialect == DialectPostgres {
		return s.b.beat(ctx,
			func() *sql.Row {
				return s.b.db.QueryRowContext(ctx, s.b.q.members.workerBeat, w.ID, w.HostName, string(qs), w.MaxConcurrency,
					w.CurrentLoad, now, bytesArg(w.Metadata))
			},
			func() (int, error) {
				return s.b.execCount(ctx, s.b.db, insertWorkerIfAbsent, w.ID, w.HostName, string(qs), w.MaxConcurrency,
					w.CurrentLoad, now, bytesArg(w.Metadata), registered)
			})
	}
	var hb stores.Heartbeat
	err = retryUniqueRace(func() error {
		return s.b.inTx(ctx, func(tx *sql.Tx) error {
			hb = stores.Heartbeat{}
			var status string
			err := tx.QueryRowContext(ctx, s.b.q.members.workerStatusForUpdate, w.ID).Scan(&status)
			if errors.Is(err, sql.ErrNoRows) {
				hb.Registered = true
				_, err = tx.ExecContext(ctx, insertWorker, w.ID, w.HostName, string(qs), w.MaxConcurrency, w.CurrentLoad,
					now, bytesArg(w.Metadata), registered)
				return err
			}
			if err != nil {
				return err
			}
			hb.WasOffline = status == string(stores.MemberOffline)
			_, err = tx.ExecContext(ctx, updateWorkerBeat, w.ID, w.HostName, string(qs), w.MaxConcurrency, w.CurrentLoad,
				now, bytesArg(w.Metadata))
			return err
		})
	})
	return hb, err
}

// beat is the PostgreSQL heartbeat: one statement that updates an existing
// member and returns its previous status, else an insert that does nothing
// if a concurrent beat inserted first, in which case the update runs again.
func (b *backend) beat(ctx context.Context, update func() *sql.Row, insert func() (int, error)) (stores.Heartbeat, error) {
	for range uniqueRaceRetries {
		var old string
		err := update().Scan(&old)
		if err == nil {
			return stores.Heartbeat{WasOffline: old == string(stores.MemberOffline)}, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return stores.Heartbeat{}, b.wrap(ctx, err)
		}
		n, err := insert()
		if err != nil {
			return stores.Heartbeat{}, err
		}
		if n == 1 {
			return stores.Heartbeat{Registered: true}, nil
		}
	}
	return stores.Heartbeat{}, fmt.Errorf("heartbeat kept racing with concurrent registrations: %w", stores.ErrConflict)
}

// setStatus updates a member's status; a missing member is ErrNotFound.
func (b *backend) setStatus(ctx context.Context, query, kind, id string, v any) error {
	n, err := b.execCount(ctx, b.db, query, id, v)
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("%s %q: %w", kind, id, stores.ErrNotFound)
	}
	return nil
}

// MarkDraining marks a worker draining.
func (s *workerStore) MarkDraining(ctx context.Context, id string) error {
	return s.b.setStatus(ctx, setWorkerStatus, "worker", id, string(stores.MemberDraining))
}

// MarkOffline marks a worker offline.
func (s *workerStore) MarkOffline(ctx context.Context, id string) error {
	return s.b.setStatus(ctx, setWorkerStatus, "worker", id, string(stores.MemberOffline))
}

// Remove deletes a worker.
func (s *workerStore) Remove(ctx context.Context, id string) error {
	n, err := s.b.execCount(ctx, s.b.db, deleteWorker, id)
	if err == nil && n == 0 {
		err = fmt.Errorf("worker %q: %w", id, stores.ErrNotFound)
	}
	return err
}

// Get returns a worker.
func (s *workerStore) Get(ctx context.Context, id string) (*stores.Worker, error) {
	w, err := scanWorker(s.b.rdb.QueryRowContext(ctx, selectWorker, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("worker %q: %w", id, stores.ErrNotFound)
	}
	return w, s.b.wrap(ctx, err)
}

func (b *backend) queryWorkers(ctx context.Context, query string, args ...any) ([]*stores.Worker, error) {
	rows, err := b.rdb.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, b.wrap(ctx, err)
	}
	defer rows.Close()
	var out []*stores.Worker
	for rows.Next() {
		w, err := scanWorker(rows)
		if err != nil {
			return nil, b.wrap(ctx, err)
		}
		out = append(out, w)
	}
	return out, b.wrap(ctx, rows.Err())
}

// List returns every worker in id order.
func (s *workerStore) List(ctx context.Context) ([]*stores.Worker, error) {
	return s.b.queryWorkers(ctx, selectWorkers)
}

// Available returns active workers of a queue with spare capacity, least
// loaded first, filtered in SQL (W2).
func (s *workerStore) Available(ctx context.Context, queue string, limit int) ([]*stores.Worker, error) {
	return s.b.queryWorkers(ctx, s.b.q.members.availableWorkers, queue, limit)
}

// Dead returns workers whose heartbeat is older than now-timeout (W2).
func (s *workerStore) Dead(ctx context.Context, now time.Time, timeout time.Duration) ([]*stores.Worker, error) {
	return s.b.queryWorkers(ctx, selectDeadWorkers, now.Add(-timeout))
}

// AdjustLoad adds delta to a worker's load in one statement, never below
// zero (W2), never re-run by database/sql (see execOnce).
func (s *workerStore) AdjustLoad(ctx context.Context, id string, delta int) (int, error) {
	return s.b.adjust(ctx, s.b.q.members.adjustWorkerLoad, "worker", id, delta)
}

func (b *backend) adjust(ctx context.Context, query, kind, id string, delta int) (int, error) {
	var n int
	err := queryRowOnce(ctx, b.db, query, []any{id, delta}, &n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("%s %q: %w", kind, id, stores.ErrNotFound)
	}
	return n, b.wrap(ctx, err)
}

// nodeStore implements stores.NodeStore (W1–W3).
type nodeStore struct{ b *backend }

func scanNode(sc rowScanner) (*stores.CoordinatorNode, error) {
	var (
		n            stores.CoordinatorNode
		role, status string
		meta         []byte
		beat, joined nullTime
	)
	if err := sc.Scan(&n.ID, &role, &n.JobCount, &status, &beat, &meta, &n.HostName, &n.ProcessID, &joined); err != nil {
		return nil, err
	}
	n.Role, n.Status = stores.NodeRole(role), stores.MemberStatus(status)
	n.LastHeartbeat, n.JoinedAt, n.Metadata = beat.Time, joined.Time, copyBytes(meta)
	return &n, nil
}

// Heartbeat registers or updates a node, never its role or job count (W1).
func (s *nodeStore) Heartbeat(ctx context.Context, n *stores.CoordinatorNode, now time.Time) (stores.Heartbeat, error) {
	joined := n.JoinedAt
	if joined.IsZero() {
		joined = now
	}
	if s.b.cfg.Dialect == DialectPostgres {
		return s.b.beat(ctx,
			func() *sql.Row {
				return s.b.db.QueryRowContext(ctx, s.b.q.members.nodeBeat, n.ID, now, bytesArg(n.Metadata), n.HostName, n.ProcessID)
			},
			func() (int, error) {
				return s.b.execCount(ctx, s.b.db, insertNodeIfAbsent, n.ID, now, bytesArg(n.Metadata), n.HostName, n.ProcessID, joined)
			})
	}
	var hb stores.Heartbeat
	err := retryUniqueRace(func() error {
		return s.b.inTx(ctx, func(tx *sql.Tx) error {
			hb = stores.Heartbeat{}
			var status string
			err := tx.QueryRowContext(ctx, s.b.q.members.nodeStatusForUpdate, n.ID).Scan(&status)
			if errors.Is(err, sql.ErrNoRows) {
				hb.Registered = true
				_, err = tx.ExecContext(ctx, insertNode, n.ID, now, bytesArg(n.Metadata), n.HostName, n.ProcessID, joined)
				return err
			}
			if err != nil {
				return err
			}
			hb.WasOffline = status == string(stores.MemberOffline)
			_, err = tx.ExecContext(ctx, updateNodeBeat, n.ID, now, bytesArg(n.Metadata), n.HostName, n.ProcessID)
			return err
		})
	})
	return hb, err
}

// SetRole records a node's role.
func (s *nodeStore) SetRole(ctx context.Context, id string, role stores.NodeRole) error {
	return s.b.setStatus(ctx, setNodeRole, "node", id, string(role))
}

// MarkDraining marks a node draining.
func (s *nodeStore) MarkDraining(ctx context.Context, id string) error {
	return s.b.setStatus(ctx, setNodeStatus, "node", id, string(stores.MemberDraining))
}

// MarkOffline marks a node offline.
func (s *nodeStore) MarkOffline(ctx context.Context, id string) error {
	return s.b.setStatus(ctx, setNodeStatus, "node", id, string(stores.MemberOffline))
}

// Remove deletes a node.
func (s *nodeStore) Remove(ctx context.Context, id string) error {
	n, err := s.b.execCount(ctx, s.b.db, deleteNode, id)
	if err == nil && n == 0 {
		err = fmt.Errorf("node %q: %w", id, stores.ErrNotFound)
	}
	return err
}

// Get returns a node.
func (s *nodeStore) Get(ctx context.Context, id string) (*stores.CoordinatorNode, error) {
	n, err := scanNode(s.b.rdb.QueryRowContext(ctx, selectNode, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("node %q: %w", id, stores.ErrNotFound)
	}
	return n, s.b.wrap(ctx, err)
}

func (b *backend) queryNodes(ctx context.Context, query string, args ...any) ([]*stores.CoordinatorNode, error) {
	rows, err := b.rdb.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, b.wrap(ctx, err)
	}
	defer rows.Close()
	var out []*stores.CoordinatorNode
	for rows.Next() {
		n, err := scanNode(rows)
		if err != nil {
			return nil, b.wrap(ctx, err)
		}
		out = append(out, n)
	}
	return out, b.wrap(ctx, rows.Err())
}

// List returns every node in id order.
func (s *nodeStore) List(ctx context.Context) ([]*stores.CoordinatorNode, error) {
	return s.b.queryNodes(ctx, selectNodes)
}

// Dead returns nodes whose heartbeat is older than now-timeout (W2).
func (s *nodeStore) Dead(ctx context.Context, now time.Time, timeout time.Duration) ([]*stores.CoordinatorNode, error) {
	return s.b.queryNodes(ctx, selectDeadNodes, now.Add(-timeout))
}

// ActiveFollowers returns active nodes by job count (W2).
func (s *nodeStore) ActiveFollowers(ctx context.Context, limit int) ([]*stores.CoordinatorNode, error) {
	return s.b.queryNodes(ctx, selectActiveFollowers, limit)
}

// AdjustJobCount adds delta to a node's job count, never below zero (W2).
func (s *nodeStore) AdjustJobCount(ctx context.Context, id string, delta int) (int, error) {
	return s.b.adjust(ctx, s.b.q.members.adjustNodeJobCount, "node", id, delta)
}

func scanLease(sc rowScanner) (stores.Lease, error) {
	var (
		l                 stores.Lease
		holder            sql.NullString
		acquired, expires nullTime
	)
	if err := sc.Scan(&holder, &l.Term, &acquired, &expires); err != nil {
		return stores.Lease{}, err
	}
	l.Holder, l.AcquiredAt, l.ExpiresAt = holder.String, acquired.Time, expires.Time
	return l, nil
}

// AcquireLeadership takes a free or expired lease with one conditional
// upsert that issues the next term (W3).
func (s *nodeStore) AcquireLeadership(ctx context.Context, nodeID string, now time.Time, ttl time.Duration) (stores.Lease, error) {
	l, err := scanLease(s.b.db.QueryRowContext(ctx, acquireLease, nodeID, now, now.Add(ttl)))
	if err == nil || !errors.Is(err, sql.ErrNoRows) {
		return l, s.b.wrap(ctx, err)
	}
	// Held and valid: by the caller (its lease, unchanged) or by another.
	cur, err := scanLease(s.b.rdb.QueryRowContext(ctx, selectLease))
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return stores.Lease{}, s.b.wrap(ctx, err)
	}
	if err == nil && cur.Holder == nodeID && cur.ValidAt(now) {
		return cur, nil
	}
	return stores.Lease{}, fmt.Errorf("leadership held by another node: %w", stores.ErrConflict)
}

// RenewLeadership extends the caller's unexpired term (W3).
func (s *nodeStore) RenewLeadership(ctx context.Context, nodeID string, term int64, now time.Time, ttl time.Duration) (stores.Lease, error) {
	l, err := scanLease(s.b.db.QueryRowContext(ctx, renewLease, nodeID, term, now, now.Add(ttl)))
	if errors.Is(err, sql.ErrNoRows) {
		return stores.Lease{}, fmt.Errorf("node %q does not hold an unexpired term %d: %w", nodeID, term, stores.ErrConflict)
	}
	return l, s.b.wrap(ctx, err)
}

// ResignLeadership frees the caller's term, keeping the term counter (W3).
func (s *nodeStore) ResignLeadership(ctx context.Context, nodeID string, term int64) error {
	n, err := s.b.execCount(ctx, s.b.db, resignLease, nodeID, term)
	if err == nil && n == 0 {
		err = fmt.Errorf("node %q does not hold term %d: %w", nodeID, term, stores.ErrConflict)
	}
	return err
}

// CurrentLeader returns the lease valid at now (W3).
func (s *nodeStore) CurrentLeader(ctx context.Context, now time.Time) (stores.Lease, error) {
	l, err := scanLease(s.b.rdb.QueryRowContext(ctx, selectValidLease, now))
	if errors.Is(err, sql.ErrNoRows) {
		return stores.Lease{}, fmt.Errorf("no leader: %w", stores.ErrNotFound)
	}
	return l, s.b.wrap(ctx, err)
}
