// Package faultydriver registers store drivers with planted bugs, for the
// tests of orchestrix-store: a bench or conformance run against them must
// fail. Each wraps a fresh inmemory backend per Open. Only tests import it.
package faultydriver

import (
	"context"
	"sync"

	"github.com/orchestrix/persistence/abstractions/stores"
	"github.com/orchestrix/persistence/inmemory"
)

// Bug names a planted bug.
type Bug int

// Planted bugs.
const (
	// DoubleDispatch hands the first job of each Dispatch result to the next
	// Dispatch call as well: two workers run one attempt (breaks J4).
	DoubleDispatch Bug = iota + 1
	// LostEnqueue makes EnqueueMany drop the last job of every batch while
	// reporting success (breaks J1).
	LostEnqueue
)

var (
	mu         sync.Mutex
	registered = map[string]bool{}
)

// Register registers name (once; later calls are no-ops) as a driver with
// the bug planted.
func Register(name string, bug Bug) {
	mu.Lock()
	defer mu.Unlock()
	if registered[name] {
		return
	}
	registered[name] = true
	stores.Register(name, driver{bug})
}

type driver struct{ bug Bug }

func (d driver) Open(ctx context.Context, dsn string) (stores.Backend, error) {
	b, err := inmemory.Driver{}.Open(ctx, "")
	if err != nil {
		return nil, err
	}
	return &backend{Backend: b, jobs: &jobs{JobStore: b.Jobs(), bug: d.bug}}, nil
}

type backend struct {
	stores.Backend
	jobs *jobs
}

func (b *backend) Jobs() stores.JobStore { return b.jobs }

type jobs struct {
	stores.JobStore
	bug  Bug
	mu   sync.Mutex
	last *stores.Job
}

func (j *jobs) Dispatch(ctx context.Context, p stores.DispatchParams) ([]*stores.Job, error) {
	got, err := j.JobStore.Dispatch(ctx, p)
	if err != nil || j.bug != DoubleDispatch {
		return got, err
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.last != nil && len(got) < p.Limit {
		got = append(got, j.last.Clone())
		j.last = nil
	} else if len(got) > 0 {
		j.last = got[0].Clone()
	}
	return got, nil
}

func (j *jobs) EnqueueMany(ctx context.Context, batch []*stores.Job) error {
	if j.bug == LostEnqueue && len(batch) > 1 {
		batch = batch[:len(batch)-1]
	}
	return j.JobStore.EnqueueMany(ctx, batch)
}
