// Package faulty wraps a correct store backend and plants one bug in it, so
// that the conformance suite can prove it catches that bug. Each Variant is
// a mistake a real driver could make.
package faulty

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/orchestrix/persistence/abstractions/stores"
)

// Variant names a planted bug.
type Variant string

const (
	// DoubleDispatch makes Dispatch also hand the previous caller's jobs to
	// the next caller, as a lock-free read-then-write would (breaks J4).
	DoubleDispatch Variant = "double-dispatch"
	// RenewIgnoresTerm makes RenewLeadership answer a rejected renewal
	// with a made-up lease, as a renew that does not check the term or the
	// expiry would (breaks W3).
	RenewIgnoresTerm Variant = "renew-ignores-term"
	// StaleComplete makes Complete report success for a stale attempt, as
	// an unconditional update would (breaks J5).
	StaleComplete Variant = "stale-complete"
	// FreshOneByOne makes EnqueueFresh store the jobs one at a time, as a
	// driver that drops its transaction together with its duplicate-id
	// check would (breaks J1: a rejected batch leaves its first jobs).
	FreshOneByOne Variant = "fresh-one-by-one"
	// KeepsLogEntries makes the log store hand back the caller's own
	// entries, as a driver that stores the pointers it is given would
	// (breaks L1: a caller reusing its structs rewrites the stored log).
	KeepsLogEntries Variant = "keeps-log-entries"
	// RecordedInSteps makes CompleteRecorded three writes, completion
	// first, as a driver that runs them outside one transaction would
	// (breaks L1 and J5: a failed call leaves completions and log lines).
	RecordedInSteps Variant = "recorded-in-steps"
)

// Variants lists every planted bug.
var Variants = []Variant{DoubleDispatch, RenewIgnoresTerm, StaleComplete, FreshOneByOne, KeepsLogEntries, RecordedInSteps}

// Wrap returns b with the bug v planted. The result owns b: closing it
// closes b.
func Wrap(b stores.Backend, v Variant) stores.Backend {
	fb := &backend{Backend: b, jobs: &jobs{JobStore: b.Jobs(), b: b, v: v}, nodes: &nodes{NodeStore: b.Nodes(), v: v}}
	if v == KeepsLogEntries {
		fb.logs = &logs{LogStore: b.Logs(), kept: map[string]*stores.LogEntry{}}
	}
	return fb
}

// WithoutStart returns b as a driver written before DispatchParams.Start
// sees it: its Dispatch never gets Start, so it leaves the jobs dispatched.
// The portable layer must make up for it.
func WithoutStart(b stores.Backend) stores.Backend {
	return &backend{Backend: b, jobs: &jobs{JobStore: b.Jobs(), b: b, dropStart: true}, nodes: &nodes{NodeStore: b.Nodes()}}
}

type backend struct {
	stores.Backend
	jobs  *jobs
	nodes *nodes
	logs  *logs // KeepsLogEntries only
}

func (b *backend) Jobs() stores.JobStore   { return b.jobs }
func (b *backend) Nodes() stores.NodeStore { return b.nodes }

func (b *backend) Logs() stores.LogStore {
	if b.logs == nil {
		return b.Backend.Logs()
	}
	return b.logs
}

// logs is KeepsLogEntries: List returns the entries Append was given.
type logs struct {
	stores.LogStore
	mu   sync.Mutex
	kept map[string]*stores.LogEntry // by ID
}

func (l *logs) Append(ctx context.Context, entries []*stores.LogEntry) error {
	if err := l.LogStore.Append(ctx, entries); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, e := range entries {
		l.kept[e.ID] = e
	}
	return nil
}

func (l *logs) List(ctx context.Context, jobID, cursor string, limit int) (stores.LogPage, error) {
	page, err := l.LogStore.List(ctx, jobID, cursor, limit)
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, e := range page.Entries {
		if k := l.kept[e.ID]; k != nil {
			page.Entries[i] = k
		}
	}
	return page, err
}

type jobs struct {
	stores.JobStore
	b         stores.Backend // the wrapped one, for RecordedInSteps
	v         Variant
	dropStart bool // WithoutStart
	mu        sync.Mutex
	prev      []*stores.Job // the jobs the previous Dispatch returned
}

func (j *jobs) Dispatch(ctx context.Context, p stores.DispatchParams) ([]*stores.Job, error) {
	if j.dropStart {
		p.Start = false
	}
	got, err := j.JobStore.Dispatch(ctx, p)
	if err != nil || j.v != DoubleDispatch {
		return got, err
	}
	j.mu.Lock()
	prev := j.prev
	j.prev = make([]*stores.Job, len(got))
	for i, job := range got {
		j.prev[i] = job.Clone()
	}
	j.mu.Unlock()
	return append(got, prev...), nil
}

// EnqueueFresh makes every wrapped store a stores.FreshEnqueuer: correct
// (EnqueueMany) but for FreshOneByOne.
func (j *jobs) EnqueueFresh(ctx context.Context, batch []*stores.Job) error {
	if j.v != FreshOneByOne {
		return j.JobStore.EnqueueMany(ctx, batch)
	}
	for _, job := range batch {
		if err := j.JobStore.Enqueue(ctx, job); err != nil {
			return err
		}
	}
	return nil
}

// CompleteRecorded passes the call on to a wrapped stores.RecordedCompleter
// (the tests wrap inmemory, which is one); RecordedInSteps runs it as three
// writes instead.
func (j *jobs) CompleteRecorded(ctx context.Context, b stores.CompletedBatch) ([]error, error) {
	if rc, ok := j.JobStore.(stores.RecordedCompleter); ok && j.v != RecordedInSteps {
		return rc.CompleteRecorded(ctx, b)
	}
	res, err := j.JobStore.CompleteMany(ctx, b.Refs, b.Now)
	if err != nil {
		return nil, err
	}
	if err := j.b.Logs().Append(ctx, b.Logs); err != nil {
		return nil, err
	}
	return res, j.b.History().AppendMany(ctx, b.History)
}

func (j *jobs) Complete(ctx context.Context, ref stores.Ref, now time.Time) error {
	err := j.JobStore.Complete(ctx, ref, now)
	if j.v == StaleComplete && errors.Is(err, stores.ErrConflict) {
		return nil
	}
	return err
}

type nodes struct {
	stores.NodeStore
	v Variant
}

func (n *nodes) RenewLeadership(ctx context.Context, nodeID string, term int64, now time.Time, ttl time.Duration) (stores.Lease, error) {
	l, err := n.NodeStore.RenewLeadership(ctx, nodeID, term, now, ttl)
	if n.v == RenewIgnoresTerm && errors.Is(err, stores.ErrConflict) {
		return stores.Lease{Holder: nodeID, Term: term, AcquiredAt: now, ExpiresAt: now.Add(ttl)}, nil
	}
	return l, err
}
