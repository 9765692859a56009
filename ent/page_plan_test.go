package ent_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/orchestrix/persistence/abstractions/stores"
	"github.com/orchestrix/persistence/ent"
)

// pagePlanFixture stores 200 jobs of queue "q" and returns the cursor after
// the first of them.
func pagePlanFixture(t *testing.T, b *ent.Backend) string {
	t.Helper()
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	jobs := make([]*stores.Job, 200)
	for i := range jobs {
		jobs[i] = &stores.Job{ID: stores.NewID(), Type: "t", Queue: "q", CreatedAt: base.Add(time.Duration(i) * time.Millisecond)}
	}
	if err := stores.Wrap("ent", b).Jobs().EnqueueMany(t.Context(), jobs); err != nil {
		t.Fatal(err)
	}
	return stores.Cursor{Time: jobs[0].CreatedAt, ID: jobs[0].ID}.Encode()
}

// explain returns the plan of query on db, each line of it joined by "\n".
func explain(t *testing.T, db *sql.DB, setup []string, prefix, query string, args ...any) string {
	t.Helper()
	ctx := t.Context()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	for _, s := range setup {
		if _, err := tx.ExecContext(ctx, s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	rows, err := tx.QueryContext(ctx, prefix+query, args...)
	if err != nil {
		t.Fatalf("explain: %v\n%s", err, query)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var lines []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, fmt.Sprint(vals[len(vals)-1]))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(lines, "\n")
}

// TestJ10_PagesStartAtTheCursor: a page after a cursor starts its index
// walk at the cursor, in jobs_query for Query and dead_letters_by_failed_at
// for dead letters. The form "t > c OR (t = c AND id > i)" answered the same
// but read and sorted every row after the cursor on each page: paging
// through a million jobs took minutes (the 1M-job soak's final check).
func TestJ10_PagesStartAtTheCursor(t *testing.T) {
	t.Run("SQLite", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "plans.db")
		cfg, err := ent.ParseDSN("sqlite://" + path)
		if err != nil {
			t.Fatal(err)
		}
		b, err := ent.OpenConfig(t.Context(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		cursor := pagePlanFixture(t, b)
		db, err := sql.Open("sqlite", "file:"+path)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		query, args, err := ent.JobPageQuery(b, stores.JobQuery{Queues: []string{"q"}, Cursor: cursor, Limit: 50})
		if err != nil {
			t.Fatal(err)
		}
		checkPlan(t, "jobs", explain(t, db, nil, "EXPLAIN QUERY PLAN ", query, args...), "jobs_query (created_at>?)", "TEMP B-TREE")
		dl := explain(t, db, nil, "EXPLAIN QUERY PLAN ", ent.DeadLetterPageAfter, 50, time.Now(), stores.NewID())
		checkPlan(t, "dead letters", dl, "dead_letters_by_failed_at (failed_at<?)", "TEMP B-TREE")
	})
	t.Run("PostgreSQL", func(t *testing.T) {
		ctx := context.Background()
		b, err := openPostgresSchema(ctx, t, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		cursor := pagePlanFixture(t, b.Backend)
		query, args, err := ent.JobPageQuery(b.Backend, stores.JobQuery{Queues: []string{"q"}, Cursor: cursor, Limit: 50})
		if err != nil {
			t.Fatal(err)
		}
		// With 200 rows a sequential scan is cheapest; these settings make
		// the planner show the index walk it would take on a large table.
		setup := []string{"SET LOCAL search_path TO " + b.schema, "SET LOCAL enable_seqscan = off",
			"SET LOCAL enable_bitmapscan = off", "SET LOCAL enable_sort = off"}
		checkPlan(t, "jobs", explain(t, b.admin, setup, "EXPLAIN ", query, args...), "Index Cond: (created_at >= ", "Sort")
		dl := explain(t, b.admin, setup, "EXPLAIN ", ent.DeadLetterPageAfter, 50, time.Now(), stores.NewID())
		checkPlan(t, "dead letters", dl, "Index Cond: (failed_at <= ", "Sort")
	})
}

func checkPlan(t *testing.T, name, plan, want, unwanted string) {
	t.Helper()
	if !strings.Contains(plan, want) || strings.Contains(plan, unwanted) {
		t.Errorf("%s: plan\n%s\nwant %q and no %q", name, plan, want, unwanted)
	}
}
