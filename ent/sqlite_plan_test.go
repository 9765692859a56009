package ent

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestSQLiteHotQueryPlans: the statements of dispatch → running → complete
// search the index each was written for. Another plan (a scan of jobs,
// jobs_in_flight for a batch of refs, a sort of every pending job) still
// gives the right answer, only one that grows with the table instead of
// the batch.
func TestSQLiteHotQueryPlans(t *testing.T) {
	ctx := t.Context()
	cfg, err := ParseDSN("sqlite://" + filepath.Join(t.TempDir(), "plans.db"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := OpenConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	q := sqliteQueries
	const byID = "SEARCH jobs USING INDEX sqlite_autoindex_jobs_1 (id=?)"
	for _, c := range []struct {
		name, query string
		args        []any
		want        string
	}{
		{"dispatchDue", q.dispatchDue, []any{1, 2}, "SCAN jobs USING INDEX jobs_dispatch"},
		{"dispatchDueQueue", q.dispatchDueQueue, []any{1, 2, "q"}, "SEARCH jobs USING INDEX jobs_dispatch_queue (queue=?)"},
		{"claimDueRows", q.claimDueRows, []any{1, "", "[1]", "dispatched", nil}, "SEARCH jobs USING INTEGER PRIMARY KEY (rowid=?)"},
		{"markJobsRunning", q.markJobsRunning, []any{1, "", `["1:x"]`}, byID},
		{"markJobsRunningAll", q.markJobsRunningAll, []any{1, "", `["1:x"]`}, byID},
		{"completeJobs", q.completeJobs, []any{1, `["1:x"]`}, byID},
		{"completeJobsAll", q.completeJobsAll, []any{1, `["1:x"]`}, byID},
	} {
		rows, err := b.db.QueryContext(ctx, "EXPLAIN QUERY PLAN "+c.query, c.args...)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			plan = append(plan, detail)
		}
		if err := rows.Close(); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		text := strings.Join(plan, "\n")
		if !strings.Contains(text, c.want) || strings.Contains(text, "TEMP B-TREE") || strings.Contains(text, "jobs_in_flight") {
			t.Errorf("%s: plan\n%s\nwant %q, no temporary b-tree, no jobs_in_flight", c.name, text, c.want)
		}
	}
}
