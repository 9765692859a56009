package redis

import (
	"fmt"
	"testing"
	"time"

	"github.com/orchestrix/persistence/abstractions/stores"
)

// BenchmarkQueryPending pages through the first 1,000 of 20,000 pending
// jobs in pages of 100, with the jobs spread over 1 to 1,000 (queue,
// priority) groups: Query reads a pending job without a ScheduledAt from
// readyq, one range per group (J10; docs/PERFORMANCE.md, item 19).
func BenchmarkQueryPending(b *testing.B) {
	for _, groups := range []int{1, 10, 100, 1000} {
		b.Run(fmt.Sprintf("groups=%d", groups), func(b *testing.B) {
			s, _ := openStore(b)
			ctx := ctxT(b)
			jobs := make([]*stores.Job, 20000)
			for i := range jobs {
				jobs[i] = &stores.Job{Type: "t", Queue: fmt.Sprintf("q%d", i%groups%10),
					Priority: i % groups / 10, CreatedAt: t0.Add(time.Duration(i) * time.Millisecond)}
			}
			for i := 0; i < len(jobs); i += 5000 {
				must(b, s.Jobs().EnqueueMany(ctx, jobs[i:i+5000]))
			}
			q := stores.JobQuery{Statuses: []stores.JobStatus{stores.StatusPending}, Limit: 100}
			b.ResetTimer()
			for range b.N {
				q.Cursor = ""
				for range 10 {
					page, err := s.Jobs().Query(ctx, q)
					must(b, err)
					if len(page.Jobs) != 100 {
						b.Fatalf("page of %d jobs, want 100", len(page.Jobs))
					}
					q.Cursor = page.Next
				}
			}
		})
	}
}
