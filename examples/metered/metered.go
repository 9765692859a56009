// Package metered is an example third-party driver, kept small on purpose:
// copy its pattern to write your own. It decorates any registered driver and
// counts the hot-path calls (dispatch and batch completion), the way a
// metrics or tracing middleware would.
//
// It registers itself as "metered" when imported; its DSN names the inner
// driver and that driver's DSN, separated by the first colon:
//
//	s, err := stores.Open("metered", "inmemory:")
//	s, err := stores.Open("metered", "ent:sqlite:///tmp/o.db")
//
// Its conformance test (metered_test.go) shows how a driver author runs the
// shared suite from a _test.go file.
package metered

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"time"

	"github.com/orchestrix/persistence/abstractions/stores"
)

func init() { stores.Register("metered", Driver{}) }

// Driver opens metered backends.
type Driver struct{}

// Open opens the inner driver named before the first colon of dsn.
func (Driver) Open(ctx context.Context, dsn string) (stores.Backend, error) {
	inner, innerDSN, ok := strings.Cut(dsn, ":")
	if !ok || inner == "" {
		return nil, errors.New(`metered: DSN must be "<driver>:<dsn>", e.g. "inmemory:"`)
	}
	s, err := stores.OpenContext(ctx, inner, innerDSN)
	if err != nil {
		return nil, err
	}
	b := &Backend{Backend: s.Backend(), store: s}
	b.jobs = jobs{JobStore: b.Backend.Jobs(), counts: &b.Counts}
	return b, nil
}

// Counts are the calls a metered backend has seen.
type Counts struct {
	Dispatches  atomic.Int64 // Dispatch calls
	Dispatched  atomic.Int64 // jobs they returned
	Completions atomic.Int64 // CompleteMany calls
}

// Backend passes every call to the inner backend and counts the hot ones.
// Embedding the inner stores.Backend forwards everything it does not
// override: a decorator needs only the methods it changes.
type Backend struct {
	stores.Backend
	Counts Counts
	store  *stores.Store
	jobs   jobs
}

// Jobs returns the counting job store.
func (b *Backend) Jobs() stores.JobStore { return b.jobs }

// Close closes the inner store.
func (b *Backend) Close() error { return b.store.Close() }

type jobs struct {
	stores.JobStore
	counts *Counts
}

func (j jobs) Dispatch(ctx context.Context, p stores.DispatchParams) ([]*stores.Job, error) {
	out, err := j.JobStore.Dispatch(ctx, p)
	j.counts.Dispatches.Add(1)
	j.counts.Dispatched.Add(int64(len(out)))
	return out, err
}

func (j jobs) CompleteMany(ctx context.Context, refs []stores.Ref, now time.Time) ([]error, error) {
	j.counts.Completions.Add(1)
	return j.JobStore.CompleteMany(ctx, refs, now)
}
