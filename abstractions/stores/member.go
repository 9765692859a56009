package stores

import (
	"encoding/json"
	"time"
)

// MemberStatus is the liveness of a worker or coordinator node.
type MemberStatus string

// Member statuses.
const (
	MemberActive   MemberStatus = "active"
	MemberDraining MemberStatus = "draining"
	MemberOffline  MemberStatus = "offline"
)

// Valid reports whether s is one of the defined statuses.
func (s MemberStatus) Valid() bool {
	return s == MemberActive || s == MemberDraining || s == MemberOffline
}

// Worker is a process that runs jobs.
type Worker struct {
	ID             string // chosen by the caller
	HostName       string
	Queues         []string
	MaxConcurrency int
	CurrentLoad    int
	Status         MemberStatus
	LastHeartbeat  time.Time
	Metadata       json.RawMessage
	RegisteredAt   time.Time
}

// Clone returns a deep copy of w.
func (w *Worker) Clone() *Worker {
	c := *w
	c.Queues = append([]string(nil), w.Queues...)
	c.Metadata = cloneBytes(w.Metadata)
	return &c
}

// NodeRole is a coordinator node's role.
type NodeRole string

// Node roles.
const (
	RoleFollower NodeRole = "follower"
	RoleLeader   NodeRole = "leader"
)

// Valid reports whether r is one of the defined roles.
func (r NodeRole) Valid() bool { return r == RoleFollower || r == RoleLeader }

// CoordinatorNode is one coordinator process. Every node is a follower; one
// holds the leadership lease.
type CoordinatorNode struct {
	ID            string // chosen by the caller
	Role          NodeRole
	JobCount      int
	Status        MemberStatus
	LastHeartbeat time.Time
	Metadata      json.RawMessage
	HostName      string
	ProcessID     int
	JoinedAt      time.Time
}

// Clone returns a deep copy of n.
func (n *CoordinatorNode) Clone() *CoordinatorNode {
	c := *n
	c.Metadata = cloneBytes(n.Metadata)
	return &c
}

// Heartbeat is what a heartbeat call tells its caller (W1).
type Heartbeat struct {
	// Registered: this beat created the record.
	Registered bool
	// WasOffline: the store had marked the member offline since its last
	// beat. The process was declared dead and must stop work it no longer
	// owns; the beat makes it active again.
	WasOffline bool
}

// Lease is the leadership lease (W3). Term is the fencing token: it strictly
// increases across terms, forever.
type Lease struct {
	Holder     string
	Term       int64
	AcquiredAt time.Time
	ExpiresAt  time.Time
}

// ValidAt reports whether the lease is held at now.
func (l Lease) ValidAt(now time.Time) bool { return l.Holder != "" && now.Before(l.ExpiresAt) }
