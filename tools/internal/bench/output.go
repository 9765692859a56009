package bench

import (
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
)

// printTable prints runs side by side: one column per store, one row per
// metric, then the invariants and events of each run.
func printTable(w io.Writer, rs []*Result) {
	tw := tabwriter.NewWriter(w, 0, 4, 3, ' ', 0)
	row := func(name string, cell func(r *Result) string) {
		fmt.Fprint(tw, name)
		for _, r := range rs {
			fmt.Fprint(tw, "\t", cell(r))
		}
		fmt.Fprintln(tw)
	}
	row("", func(r *Result) string { return r.Driver })
	row("store", func(r *Result) string { return shorten(r.DSN, 80) })
	row("scenario", func(r *Result) string {
		var notes []string
		if r.Lean {
			notes = append(notes, "lean")
		}
		if r.MarkRunning {
			notes = append(notes, "mark running")
		}
		if r.CallerIDs {
			notes = append(notes, "caller ids")
		}
		if len(notes) == 0 {
			return r.Scenario
		}
		return r.Scenario + " (" + strings.Join(notes, ", ") + ")"
	})
	row("jobs / workers / batch", func(r *Result) string {
		if r.InsertBatch > 0 && r.InsertBatch != r.Batch {
			return fmt.Sprintf("%d / %d / %d (insert %d)", r.Jobs, r.Workers, r.Batch, r.InsertBatch)
		}
		return fmt.Sprintf("%d / %d / %d", r.Jobs, r.Workers, r.Batch)
	})
	if slices.ContainsFunc(rs, func(r *Result) bool { return r.Backlog > 0 }) {
		row("backlog (pending, other queue)", func(r *Result) string { return strconv.Itoa(r.Backlog) })
	}
	row("total seconds", func(r *Result) string { return fmt.Sprintf("%.2f", r.Seconds) })
	insertLabel, workLabel := "insert jobs/s", "work jobs/s"
	if len(rs) > 0 && rs[0].Scenario == "cluster" {
		insertLabel, workLabel = "enqueue jobs/s", "terminal jobs/s"
	}
	row(insertLabel, func(r *Result) string { return fmt.Sprintf("%.0f", r.InsertJobsPerSec) })
	row(workLabel, func(r *Result) string { return fmt.Sprintf("%.0f", r.WorkJobsPerSec) })
	row("live heap MiB start / peak / end", func(r *Result) string {
		if r.Memory == nil {
			return "-"
		}
		return fmt.Sprintf("%.1f / %.1f / %.1f", r.Memory.StartMiB, r.Memory.PeakMiB, r.Memory.EndMiB)
	})
	seen := map[string]bool{}
	for _, r := range rs {
		for op := range r.Ops {
			seen[op] = true
		}
	}
	// Section headers carry an empty cell per run: a line with fewer cells
	// would end tabwriter's column block and misalign the rows below it.
	none := func(*Result) string { return "" }
	row("latency p50 / p99 ms (count)", none)
	for _, op := range opOrder {
		if !seen[op] {
			continue
		}
		row("  "+op, func(r *Result) string {
			s, ok := r.Ops[op]
			if !ok {
				return "-"
			}
			return fmt.Sprintf("%.2f / %.2f (%d)", s.P50Ms, s.P99Ms, s.Count)
		})
	}
	row("invariants", none)
	var names []string
	seen = map[string]bool{}
	for _, r := range rs {
		for n := range r.Invariants {
			if !seen[n] {
				seen[n] = true
				names = append(names, n)
			}
		}
	}
	sort.Strings(names)
	for _, n := range names {
		row("  "+n, func(r *Result) string {
			inv, ok := r.Invariants[n]
			switch {
			case !ok:
				return "-"
			case inv.OK:
				return "ok " + counts(inv.Counts)
			default:
				return "VIOLATED " + counts(inv.Counts)
			}
		})
	}
	row("result", func(r *Result) string {
		switch {
		case r.Error != "":
			return "ERROR"
		case r.OK:
			return "ok"
		}
		return "FAILED"
	})
	tw.Flush()
	for _, r := range rs {
		for n, inv := range r.Invariants {
			if !inv.OK && inv.Message != "" {
				fmt.Fprintf(w, "%s: %s violated: %s\n", r.Driver, n, inv.Message)
			}
		}
		if r.Error != "" {
			fmt.Fprintf(w, "%s: error: %s\n", r.Driver, r.Error)
		}
		for _, e := range r.Events {
			fmt.Fprintf(w, "%s: %s\n", r.Driver, e)
		}
	}
}

// counts formats invariant counts compactly, keys sorted.
func counts(m map[string]int) string {
	if len(m) == 0 {
		return ""
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%d", k, m[k])
	}
	return "(" + strings.Join(parts, " ") + ")"
}

func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n+1:]
}
