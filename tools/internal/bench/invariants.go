package bench

import (
	"context"
	"fmt"

	"github.com/orchestrix/persistence/abstractions/stores"
)

// pageSize is the page size of the invariant scans.
const pageSize = 1000

// caller runs one store call: directly, or repeated after transient errors
// (cluster.do). The scans below repeat a page, never a whole scan, so a
// retried call cannot feed a row to the check twice.
type caller func(f func() error) error

func direct(f func() error) error { return f() }

// scanQueueJobs calls f with every live job of queue, one page at a time,
// paging with Query (J10: the cursor never skips or repeats a row).
func scanQueueJobs(ctx context.Context, s *stores.Store, call caller, queue string, f func(*stores.Job)) error {
	q := stores.JobQuery{Queues: []string{queue}, Limit: pageSize}
	for {
		var page stores.JobPage
		if err := call(func() (err error) { page, err = s.Jobs().Query(ctx, q); return err }); err != nil {
			return fmt.Errorf("query jobs of queue %s: %w", queue, err)
		}
		for _, j := range page.Jobs {
			f(j)
		}
		if page.Next == "" {
			return nil
		}
		q.Cursor = page.Next
	}
}

// scanQueueDeadLetters calls f with every dead letter whose job was on
// queue.
func scanQueueDeadLetters(ctx context.Context, s *stores.Store, call caller, queue string, f func(*stores.DeadLetter)) error {
	cursor := ""
	for {
		var page stores.DeadLetterPage
		if err := call(func() (err error) { page, err = s.DeadLetters().List(ctx, cursor, pageSize); return err }); err != nil {
			return fmt.Errorf("list dead letters: %w", err)
		}
		for _, d := range page.DeadLetters {
			if d.Job.Queue == queue {
				f(d)
			}
		}
		if page.Next == "" {
			return nil
		}
		cursor = page.Next
	}
}
