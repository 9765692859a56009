// Package inspect implements `orchestrix-store inspect`: one page of jobs,
// schedules, workers, nodes or dead letters, as an aligned table or JSON.
package inspect

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/orchestrix/persistence/abstractions/stores"
	"github.com/orchestrix/persistence/tools/internal/cli"
)

const usage = `Usage:
  orchestrix-store inspect jobs|schedules|workers|nodes|dead-letters --driver NAME --dsn DSN [flags]

Prints one page of records as an aligned table, or with --json one object
{"<entity>": [...], "next": "<cursor>"}. When more rows follow, the table
ends with the cursor of the next page: pass it back with --cursor.

  jobs          in (created, id) order; filter with --status, --queue, --type
                (each repeatable; values of one flag OR, flags AND)
  schedules     cron then interval schedules, in name order (--kind cron|interval)
  workers       in id order
  nodes         in id order, and the current leadership lease
  dead-letters  newest first

Examples:
  orchestrix-store inspect jobs --driver ent --dsn sqlite:///var/lib/orchestrix/orchestrix.db --status failed --status timed_out
  orchestrix-store inspect jobs --driver redis --dsn redis://127.0.0.1:6379/0 --queue emails --limit 20 --cursor MTcz...
  orchestrix-store inspect schedules --driver ent --dsn 'postgres://app@db/orchestrix?sslmode=disable' --kind cron
  orchestrix-store inspect nodes --driver redis --dsn redis://127.0.0.1:6379/0 --json
  orchestrix-store inspect dead-letters --driver ent --dsn sqlite:///tmp/o.db --limit 10
`

var entities = []string{"jobs", "schedules", "workers", "nodes", "dead-letters"}

// Run is the inspect command.
func Run(ctx context.Context, env cli.Env, args []string) int {
	if len(args) == 0 {
		return cli.Fail(env, "inspect", cli.Usagef("missing what to inspect: one of %s", strings.Join(entities, ", ")))
	}
	what := args[0]
	switch what {
	case "-h", "-help", "--help", "help":
		fmt.Fprint(env.Stdout, usage)
		return cli.ExitOK
	case "jobs", "schedules", "workers", "nodes", "dead-letters":
	default:
		return cli.Fail(env, "inspect", cli.Usagef("unknown entity %q: use one of %s", what, strings.Join(entities, ", ")))
	}
	name := "inspect " + what
	fs := cli.NewFlagSet(env, name, usage)
	driver := fs.String("driver", "", "driver name (required)")
	dsn := fs.String("dsn", "", "data source name")
	limit := fs.Int("limit", 50, "rows per page (1-10000)")
	cursor := fs.String("cursor", "", "cursor of the page to show, as printed by the previous page")
	jsonOut := fs.Bool("json", false, "print JSON instead of a table")
	var statuses, queues, types cli.Strings
	kind := "all"
	if what == "jobs" {
		fs.Var(&statuses, "status", "job status: pending, dispatched, running, completed, failed, timed_out, cancelled (repeatable)")
		fs.Var(&queues, "queue", "queue (repeatable)")
		fs.Var(&types, "type", "job type (repeatable)")
	}
	if what == "schedules" {
		fs.StringVar(&kind, "kind", "all", "cron, interval or all")
	}
	if done, code := fs.Parse(args[1:]); done {
		return code
	}
	if fs.NArg() > 0 {
		return cli.Fail(env, name, cli.Usagef("unexpected argument %q", fs.Arg(0)))
	}
	if *driver == "" {
		return cli.Fail(env, name, cli.Usagef("--driver is required"))
	}
	if *limit < 1 || *limit > stores.MaxLimit {
		return cli.Fail(env, name, cli.Usagef("--limit must be between 1 and %d, got %d", stores.MaxLimit, *limit))
	}
	for _, s := range statuses {
		if !stores.JobStatus(s).Valid() {
			return cli.Fail(env, name, cli.Usagef("--status %q is not a job status (pending, dispatched, running, completed, failed, timed_out, cancelled)", s))
		}
	}
	if kind != "all" && kind != "cron" && kind != "interval" {
		return cli.Fail(env, name, cli.Usagef("--kind must be cron, interval or all, got %q", kind))
	}
	s, err := cli.Open(ctx, *driver, *dsn)
	if err != nil {
		return cli.Fail(env, name, err)
	}
	defer s.Close()

	var p page
	switch what {
	case "jobs":
		q := stores.JobQuery{Queues: queues, Types: types, Cursor: *cursor, Limit: *limit}
		for _, st := range statuses {
			q.Statuses = append(q.Statuses, stores.JobStatus(st))
		}
		p, err = jobs(ctx, s, q)
	case "schedules":
		p, err = schedules(ctx, s, kind, *cursor, *limit)
	case "workers":
		p, err = workers(ctx, s, *cursor, *limit)
	case "nodes":
		p, err = nodes(ctx, s, *cursor, *limit)
	case "dead-letters":
		p, err = deadLetters(ctx, s, *cursor, *limit)
	}
	if err != nil {
		if errors.Is(err, stores.ErrInvalidArgument) {
			return cli.Fail(env, name, cli.Usagef("%v", err))
		}
		return cli.Fail(env, name, errors.New(cli.Redact(err.Error(), *dsn)))
	}
	if *jsonOut {
		obj := map[string]any{p.key: p.records, "next": p.next}
		if p.lease != nil {
			obj["lease"] = p.lease
		}
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(obj); err != nil {
			return cli.Fail(env, name, err)
		}
		return cli.ExitOK
	}
	p.print(env.Stdout)
	return cli.ExitOK
}

// page is one page ready to print: JSON records and table rows.
type page struct {
	key     string
	records any
	header  []string
	rows    [][]string
	next    string
	lease   *stores.Lease
	footer  string
}

func (p page) print(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(p.header, "\t"))
	for _, r := range p.rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	tw.Flush()
	if p.footer != "" {
		fmt.Fprintln(w, p.footer)
	}
	if len(p.rows) == 0 {
		fmt.Fprintln(w, "(none)")
	}
	if p.next != "" {
		fmt.Fprintf(w, "next cursor: %s\n", p.next)
	}
}

func ts(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// clip keeps table cells on one line and short.
func clip(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len([]rune(s)) > n {
		return string([]rune(s)[:n-1]) + "…"
	}
	return dash(s)
}

func jobs(ctx context.Context, s *stores.Store, q stores.JobQuery) (page, error) {
	res, err := s.Jobs().Query(ctx, q)
	if err != nil {
		return page{}, err
	}
	p := page{key: "jobs", records: nonNil(res.Jobs), next: res.Next,
		header: []string{"ID", "TYPE", "QUEUE", "STATUS", "PRIO", "ATTEMPT", "RETRIES", "CREATED", "SCHEDULED", "WORKER", "FOLLOWER", "LAST ERROR"}}
	for _, j := range res.Jobs {
		p.rows = append(p.rows, []string{j.ID, j.Type, j.Queue, string(j.Status), strconv.Itoa(j.Priority),
			strconv.FormatInt(j.Attempt, 10), fmt.Sprintf("%d/%d", j.RetryCount, j.MaxRetries), ts(j.CreatedAt), ts(j.ScheduledAt),
			dash(j.WorkerID), dash(j.FollowerNodeID), clip(j.LastError, 50)})
	}
	return p, nil
}

func schedules(ctx context.Context, s *stores.Store, kind, cursor string, limit int) (page, error) {
	p := page{key: "schedules", header: []string{"KIND", "NAME", "SPEC", "JOB TYPE", "QUEUE", "ENABLED", "NEXT RUN", "LAST RUN", "MISFIRE", "ID"}}
	startKind, name := "cron", ""
	if kind == "interval" {
		startKind = "interval"
	}
	if cursor != "" {
		k, n, ok := strings.Cut(cursor, ":")
		if !ok || (k != "cron" && k != "interval") || n == "" {
			return page{}, stores.InvalidField("--cursor", "is not a schedules cursor (KIND:NAME)")
		}
		startKind, name = k, n
	}
	var records []any
	last := ""
	lastKind := ""
	if startKind == "cron" && kind != "interval" {
		list, err := s.Cron().List(ctx, stores.ScheduleList{Cursor: name, Limit: limit})
		if err != nil {
			return page{}, err
		}
		for _, c := range list {
			records = append(records, map[string]any{"kind": "cron", "schedule": c})
			p.rows = append(p.rows, []string{"cron", c.Name, c.Expression + " " + c.TimeZone, c.JobType, c.Queue, strconv.FormatBool(c.Enabled),
				ts(c.NextRun), ts(c.LastRun), string(c.Misfire), c.ID})
			last, lastKind = c.Name, "cron"
		}
		name = ""
	}
	if kind != "cron" && len(p.rows) < limit {
		list, err := s.Intervals().List(ctx, stores.ScheduleList{Cursor: name, Limit: limit - len(p.rows)})
		if err != nil {
			return page{}, err
		}
		for _, iv := range list {
			records = append(records, map[string]any{"kind": "interval", "schedule": iv})
			p.rows = append(p.rows, []string{"interval", iv.Name, "every " + iv.Interval.String(), iv.JobType, iv.Queue, strconv.FormatBool(iv.Enabled),
				ts(iv.NextRun), ts(iv.LastRun), string(iv.Misfire), iv.ID})
			last, lastKind = iv.Name, "interval"
		}
	}
	if len(p.rows) == limit {
		// A full page: there may be more. The next page starts after the
		// last row; an empty next page is the end.
		p.next = lastKind + ":" + last
	}
	if records == nil {
		records = []any{}
	}
	p.records = records
	return p, nil
}

// afterID pages a list sorted by ID on the client: the stores return every
// worker and node at once.
func afterID[T any](all []T, id func(T) string, cursor string, limit int) ([]T, string) {
	sort.Slice(all, func(i, j int) bool { return id(all[i]) < id(all[j]) })
	start := sort.Search(len(all), func(i int) bool { return id(all[i]) > cursor })
	all = all[start:]
	if len(all) > limit {
		return all[:limit], id(all[limit-1])
	}
	return all, ""
}

func workers(ctx context.Context, s *stores.Store, cursor string, limit int) (page, error) {
	all, err := s.Workers().List(ctx)
	if err != nil {
		return page{}, err
	}
	list, next := afterID(all, func(w *stores.Worker) string { return w.ID }, cursor, limit)
	p := page{key: "workers", records: nonNil(list), next: next,
		header: []string{"ID", "STATUS", "HOST", "QUEUES", "LOAD", "LAST HEARTBEAT", "REGISTERED"}}
	for _, w := range list {
		p.rows = append(p.rows, []string{w.ID, string(w.Status), dash(w.HostName), clip(strings.Join(w.Queues, ","), 40),
			fmt.Sprintf("%d/%d", w.CurrentLoad, w.MaxConcurrency), ts(w.LastHeartbeat), ts(w.RegisteredAt)})
	}
	return p, nil
}

func nodes(ctx context.Context, s *stores.Store, cursor string, limit int) (page, error) {
	all, err := s.Nodes().List(ctx)
	if err != nil {
		return page{}, err
	}
	list, next := afterID(all, func(n *stores.CoordinatorNode) string { return n.ID }, cursor, limit)
	p := page{key: "nodes", records: nonNil(list), next: next,
		header: []string{"ID", "ROLE", "STATUS", "JOBS", "HOST", "PID", "LAST HEARTBEAT", "JOINED"}}
	for _, n := range list {
		p.rows = append(p.rows, []string{n.ID, dash(string(n.Role)), string(n.Status), strconv.Itoa(n.JobCount), dash(n.HostName),
			strconv.Itoa(n.ProcessID), ts(n.LastHeartbeat), ts(n.JoinedAt)})
	}
	lease, err := s.Nodes().CurrentLeader(ctx, time.Now())
	switch {
	case err == nil:
		p.lease = &lease
		p.footer = fmt.Sprintf("leader: %s, term %d, acquired %s, expires %s", lease.Holder, lease.Term, ts(lease.AcquiredAt), ts(lease.ExpiresAt))
	case errors.Is(err, stores.ErrNotFound):
		p.footer = "leader: none (no valid lease now)"
	default:
		return page{}, err
	}
	return p, nil
}

func deadLetters(ctx context.Context, s *stores.Store, cursor string, limit int) (page, error) {
	res, err := s.DeadLetters().List(ctx, cursor, limit)
	if err != nil {
		return page{}, err
	}
	p := page{key: "dead_letters", records: nonNil(res.DeadLetters), next: res.Next,
		header: []string{"ID", "JOB ID", "TYPE", "QUEUE", "ATTEMPTS", "FAILED AT", "LAST ERROR"}}
	for _, d := range res.DeadLetters {
		p.rows = append(p.rows, []string{d.ID, d.Job.ID, d.Job.Type, d.Job.Queue, strconv.Itoa(d.TotalAttempts), ts(d.FailedAt), clip(d.LastError, 60)})
	}
	return p, nil
}

// nonNil makes an empty page print as [] in JSON.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
