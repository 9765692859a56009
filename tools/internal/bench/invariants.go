package bench

import (
	"context"
	"fmt"
	"sync"

	"github.com/orchestrix/persistence/abstractions/stores"
)

// pageSize is the page size of the invariant scans.
const pageSize = 1000

// queueJobs returns every live job of queue, paging with Query (J10).
func queueJobs(ctx context.Context, s *stores.Store, queue string) ([]*stores.Job, error) {
	var all []*stores.Job
	q := stores.JobQuery{Queues: []string{queue}, Limit: pageSize}
	for {
		page, err := s.Jobs().Query(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("query jobs of queue %s: %w", queue, err)
		}
		all = append(all, page.Jobs...)
		if page.Next == "" {
			return all, nil
		}
		q.Cursor = page.Next
	}
}

// queueDeadLetters returns every dead letter whose job was on queue.
func queueDeadLetters(ctx context.Context, s *stores.Store, queue string) ([]*stores.DeadLetter, error) {
	var all []*stores.DeadLetter
	cursor := ""
	for {
		page, err := s.DeadLetters().List(ctx, cursor, pageSize)
		if err != nil {
			return nil, fmt.Errorf("list dead letters: %w", err)
		}
		for _, d := range page.DeadLetters {
			if d.Job.Queue == queue {
				all = append(all, d)
			}
		}
		if page.Next == "" {
			return all, nil
		}
		cursor = page.Next
	}
}

// checkTerminalOnce checks that every expected job is, exactly once, either
// a terminal live job or a dead letter, and that nothing else is there. With
// allCompleted every live job must be completed and no dead letter may exist
// (burndown fails no job).
func checkTerminalOnce(expected map[string]bool, jobs []*stores.Job, dls []*stores.DeadLetter, allCompleted bool) Invariant {
	c := map[string]int{"expected": len(expected), "jobs": len(jobs), "dead_letters": len(dls)}
	seen := make(map[string]int, len(jobs)+len(dls))
	var first string
	note := func(format string, args ...any) {
		if first == "" {
			first = fmt.Sprintf(format, args...)
		}
	}
	for _, j := range jobs {
		seen[j.ID]++
		c[string(j.Status)]++
		if !j.Status.Terminal() {
			c["not_terminal"]++
			note("job %s is %s", j.ID, j.Status)
		} else if allCompleted && j.Status != stores.StatusCompleted {
			c["not_completed"]++
			note("job %s is %s, expected completed", j.ID, j.Status)
		}
	}
	for _, d := range dls {
		seen[d.Job.ID]++
		if allCompleted {
			c["not_completed"]++
			note("job %s is a dead letter, expected completed", d.Job.ID)
		}
	}
	for id, n := range seen {
		if n > 1 {
			c["duplicates"]++
			note("job %s is stored %d times (live and/or dead letter)", id, n)
		}
		if !expected[id] {
			c["extra"]++
			note("job %s was never enqueued by this run", id)
		}
	}
	for id := range expected {
		if seen[id] == 0 {
			c["missing"]++
			note("job %s was lost: neither a live job nor a dead letter", id)
		}
	}
	ok := c["not_terminal"] == 0 && c["not_completed"] == 0 && c["duplicates"] == 0 && c["extra"] == 0 && c["missing"] == 0
	return Invariant{OK: ok, Counts: c, Message: first}
}

// receipts records every (job, attempt) a dispatcher received (J4): a
// second receipt of the same pair means two workers run one attempt.
type receipts struct {
	mu         sync.Mutex
	m          map[stores.Ref]int
	duplicates int
	first      string
}

func newReceipts() *receipts { return &receipts{m: map[stores.Ref]int{}} }

func (r *receipts) record(jobs []*stores.Job) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, j := range jobs {
		ref := j.Ref()
		r.m[ref]++
		if r.m[ref] == 2 {
			r.duplicates++
			if r.first == "" {
				r.first = fmt.Sprintf("job %s attempt %d was dispatched twice", j.ID, j.Attempt)
			}
		}
	}
}

func (r *receipts) invariant() Invariant {
	r.mu.Lock()
	defer r.mu.Unlock()
	total := 0
	for _, n := range r.m {
		total += n
	}
	return Invariant{OK: r.duplicates == 0, Counts: map[string]int{"dispatches": total, "duplicates": r.duplicates}, Message: r.first}
}
