// Package copy implements `orchestrix-store copy`: every record of one
// store into another, in batches, resumably, verified at the end.
package copy

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/orchestrix/persistence/abstractions/stores"
	"github.com/orchestrix/persistence/tools/internal/cli"
)

const usage = `Usage:
  orchestrix-store copy --from-driver A --from DSN --to-driver B --to DSN [--batch N]

Copies every record from one store to another, in batches:
  cron and interval schedules  Register, with ID, next and last run kept
  workers and nodes            Heartbeat (last heartbeat kept), then
                               MarkDraining/MarkOffline, SetRole and
                               AdjustJobCount to reproduce status, role and job count
  jobs, in every status        EnqueueMany (any status is accepted as is)
  history and log lines        of every job and every dead letter's job
  dead letters                 Add
The leadership lease is not copied: a lease is a claim of a running
process on one store, and the target's coordinators elect their own
leader (the target's fencing terms continue from its own counter).

Resumable: a re-run skips what already exists in the target (a duplicate
is not an error), so an interrupted copy is finished by running it again.
At the end every source record is looked up in the target; a missing one
makes the exit code 1. Copy a stopped (or drained) cluster's store: records
that change during the copy are copied as they were when read.

Examples:
  orchestrix-store copy --from-driver ent --from sqlite:///var/lib/orchestrix/orchestrix.db \
      --to-driver ent --to 'postgres://app@db:5432/orchestrix?sslmode=disable'
  orchestrix-store copy --from-driver ent --from 'postgres://app@db/orchestrix' \
      --to-driver redis --to 'redis://cache:6379/0?prefix=orchestrix'
`

// Run is the copy command.
func Run(ctx context.Context, env cli.Env, args []string) int {
	fs := cli.NewFlagSet(env, "copy", usage)
	fromDriver := fs.String("from-driver", "", "driver of the source store (required)")
	from := fs.String("from", "", "DSN of the source store")
	toDriver := fs.String("to-driver", "", "driver of the target store (required)")
	to := fs.String("to", "", "DSN of the target store")
	batch := fs.Int("batch", 500, "records per read and per write (1-10000)")
	if done, code := fs.Parse(args); done {
		return code
	}
	switch {
	case fs.NArg() > 0:
		return cli.Fail(env, "copy", cli.Usagef("unexpected argument %q", fs.Arg(0)))
	case *fromDriver == "" || *toDriver == "":
		return cli.Fail(env, "copy", cli.Usagef("--from-driver and --to-driver are required"))
	case *batch < 1 || *batch > stores.MaxBatch:
		return cli.Fail(env, "copy", cli.Usagef("--batch must be between 1 and %d, got %d", stores.MaxBatch, *batch))
	case *fromDriver == *toDriver && *from == *to && *fromDriver != "inmemory":
		return cli.Fail(env, "copy", cli.Usagef("source and target are the same store"))
	}
	src, err := cli.Open(ctx, *fromDriver, *from)
	if err != nil {
		return cli.Fail(env, "copy", fmt.Errorf("source: %w", err))
	}
	defer src.Close()
	dst, err := cli.Open(ctx, *toDriver, *to)
	if err != nil {
		return cli.Fail(env, "copy", fmt.Errorf("target: %w", err))
	}
	defer dst.Close()

	c := &copier{src: src, dst: dst, batch: *batch, out: env.Stdout}
	fmt.Fprintf(env.Stdout, "copy %s %s -> %s %s\n", *fromDriver, stores.RedactDSN(*from), *toDriver, stores.RedactDSN(*to))
	if err := c.run(ctx); err != nil {
		return cli.Fail(env, "copy", errors.New(cli.Redact(cli.Redact(err.Error(), *from), *to)))
	}
	fmt.Fprintln(env.Stdout, "leadership lease: not copied (the target's coordinators elect their own leader)")
	if c.problems > 0 {
		fmt.Fprintf(env.Stderr, "%s copy: %d records could not be copied or verified (see above)\n", cli.Program, c.problems)
		return cli.ExitFailure
	}
	fmt.Fprintln(env.Stdout, "verified: every source record is in the target")
	return cli.ExitOK
}

// tally counts what happened to one kind of record.
type tally struct{ copied, existing int }

func (t tally) String() string {
	return fmt.Sprintf("%d copied, %d already there", t.copied, t.existing)
}

type copier struct {
	src, dst *stores.Store
	batch    int
	out      io.Writer
	problems int

	jobIDs    []string // every job id copied, live or dead-lettered
	deadIDs   []string
	cronNames []string
	ivNames   []string
	workerIDs []string
	nodeIDs   []string
	historyN  map[string]int // source history rows per job
	logN      map[string]int // source log lines per job
}

func (c *copier) problem(format string, args ...any) {
	c.problems++
	fmt.Fprintf(c.out, "  problem: %s\n", fmt.Sprintf(format, args...))
}

func (c *copier) run(ctx context.Context) error {
	c.historyN, c.logN = map[string]int{}, map[string]int{}
	steps := []struct {
		name string
		f    func(context.Context) (tally, error)
	}{
		{"cron schedules", c.cron},
		{"interval schedules", c.intervals},
		{"workers", c.workers},
		{"nodes", c.nodes},
		{"jobs", c.jobs},
		{"dead letters", c.deadLetters},
		{"history rows", c.history},
		{"log lines", c.logs},
	}
	for _, s := range steps {
		t, err := s.f(ctx)
		if err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		fmt.Fprintf(c.out, "%-19s %s\n", s.name+":", t)
	}
	return c.verify(ctx)
}

func (c *copier) cron(ctx context.Context) (tally, error) {
	return copySchedules(ctx, c, c.src.Cron(), c.dst.Cron(), &c.cronNames)
}

func (c *copier) intervals(ctx context.Context) (tally, error) {
	return copySchedules(ctx, c, c.src.Intervals(), c.dst.Intervals(), &c.ivNames)
}

// copySchedules registers every schedule under its own ID. A schedule of
// the same name and ID is already there; the same name with another ID is
// a conflict the user must resolve (jobs name schedules by ID).
func copySchedules[S stores.Schedule](ctx context.Context, c *copier, src, dst stores.ScheduleStore[S], names *[]string) (tally, error) {
	var t tally
	cursor := ""
	for {
		list, err := src.List(ctx, stores.ScheduleList{Cursor: cursor, Limit: c.batch})
		if err != nil {
			return t, err
		}
		for _, s := range list {
			f := s.Fields()
			*names = append(*names, f.Name)
			have, err := dst.GetByName(ctx, f.Name)
			switch {
			case err == nil && have.Fields().ID == f.ID:
				t.existing++
				continue
			case err == nil:
				c.problem("schedule %q exists in the target with another id (%s, source %s); not copied", f.Name, have.Fields().ID, f.ID)
				continue
			case !errors.Is(err, stores.ErrNotFound):
				return t, err
			}
			if _, err := dst.Register(ctx, s); err != nil {
				return t, fmt.Errorf("register %q: %w", f.Name, err)
			}
			t.copied++
		}
		if len(list) < c.batch {
			return t, nil
		}
		cursor = list[len(list)-1].Fields().Name
	}
}

func (c *copier) workers(ctx context.Context) (tally, error) {
	var t tally
	list, err := c.src.Workers().List(ctx)
	if err != nil {
		return t, err
	}
	for _, w := range list {
		c.workerIDs = append(c.workerIDs, w.ID)
		hb, err := c.dst.Workers().Heartbeat(ctx, w.Clone(), w.LastHeartbeat)
		if err != nil {
			return t, fmt.Errorf("worker %s: %w", w.ID, err)
		}
		if hb.Registered {
			t.copied++
		} else {
			t.existing++
		}
		switch w.Status {
		case stores.MemberDraining:
			err = c.dst.Workers().MarkDraining(ctx, w.ID)
		case stores.MemberOffline:
			err = c.dst.Workers().MarkOffline(ctx, w.ID)
		}
		if err != nil {
			return t, fmt.Errorf("worker %s status: %w", w.ID, err)
		}
	}
	return t, nil
}

func (c *copier) nodes(ctx context.Context) (tally, error) {
	var t tally
	list, err := c.src.Nodes().List(ctx)
	if err != nil {
		return t, err
	}
	for _, n := range list {
		c.nodeIDs = append(c.nodeIDs, n.ID)
		hb, err := c.dst.Nodes().Heartbeat(ctx, n.Clone(), n.LastHeartbeat)
		if err != nil {
			return t, fmt.Errorf("node %s: %w", n.ID, err)
		}
		if hb.Registered {
			t.copied++
		} else {
			t.existing++
		}
		if n.Role != "" {
			if err := c.dst.Nodes().SetRole(ctx, n.ID, n.Role); err != nil {
				return t, fmt.Errorf("node %s role: %w", n.ID, err)
			}
		}
		have, err := c.dst.Nodes().Get(ctx, n.ID)
		if err != nil {
			return t, fmt.Errorf("node %s: %w", n.ID, err)
		}
		if d := n.JobCount - have.JobCount; d != 0 {
			if _, err := c.dst.Nodes().AdjustJobCount(ctx, n.ID, d); err != nil {
				return t, fmt.Errorf("node %s job count: %w", n.ID, err)
			}
		}
		switch n.Status {
		case stores.MemberDraining:
			err = c.dst.Nodes().MarkDraining(ctx, n.ID)
		case stores.MemberOffline:
			err = c.dst.Nodes().MarkOffline(ctx, n.ID)
		}
		if err != nil {
			return t, fmt.Errorf("node %s status: %w", n.ID, err)
		}
	}
	return t, nil
}

// jobs copies every live job, a batch at a time. A batch that hits a
// duplicate (a re-run) falls back to one job at a time, skipping the ones
// already there.
func (c *copier) jobs(ctx context.Context) (tally, error) {
	var t tally
	q := stores.JobQuery{Limit: c.batch}
	for {
		page, err := c.src.Jobs().Query(ctx, q)
		if err != nil {
			return t, err
		}
		batch := make([]*stores.Job, len(page.Jobs))
		for i, j := range page.Jobs {
			c.jobIDs = append(c.jobIDs, j.ID)
			batch[i] = j.Clone()
		}
		if len(batch) > 0 {
			err := c.dst.Jobs().EnqueueMany(ctx, batch)
			switch {
			case err == nil:
				t.copied += len(batch)
			case errors.Is(err, stores.ErrAlreadyExists):
				for _, j := range page.Jobs {
					if err := c.oneJob(ctx, j.Clone(), &t); err != nil {
						return t, err
					}
				}
			default:
				return t, err
			}
		}
		if page.Next == "" {
			return t, nil
		}
		q.Cursor = page.Next
	}
}

func (c *copier) oneJob(ctx context.Context, j *stores.Job, t *tally) error {
	err := c.dst.Jobs().Enqueue(ctx, j)
	if err == nil {
		t.copied++
		return nil
	}
	if !errors.Is(err, stores.ErrAlreadyExists) {
		return fmt.Errorf("job %s: %w", j.ID, err)
	}
	if _, gerr := c.dst.Jobs().Get(ctx, j.ID); gerr == nil {
		t.existing++
		return nil
	}
	// Not there under its id: another target job holds its unique key or
	// schedule tick.
	c.problem("job %s: %v (another job in the target holds its unique key or schedule tick)", j.ID, err)
	return nil
}

func (c *copier) deadLetters(ctx context.Context) (tally, error) {
	var t tally
	cursor := ""
	for {
		page, err := c.src.DeadLetters().List(ctx, cursor, c.batch)
		if err != nil {
			return t, err
		}
		for _, d := range page.DeadLetters {
			c.deadIDs = append(c.deadIDs, d.ID)
			c.jobIDs = append(c.jobIDs, d.Job.ID)
			err := c.dst.DeadLetters().Add(ctx, d.Clone())
			switch {
			case err == nil:
				t.copied++
			case errors.Is(err, stores.ErrAlreadyExists):
				t.existing++
			default:
				return t, fmt.Errorf("dead letter %s: %w", d.ID, err)
			}
		}
		if page.Next == "" {
			return t, nil
		}
		cursor = page.Next
	}
}

func (c *copier) history(ctx context.Context) (tally, error) {
	var t tally
	for _, id := range c.jobIDs {
		rows, err := c.src.History().ListByJob(ctx, id)
		if err != nil {
			return t, fmt.Errorf("job %s: %w", id, err)
		}
		c.historyN[id] = len(rows)
		for _, h := range rows {
			hc := *h
			err := c.dst.History().Append(ctx, &hc)
			switch {
			case err == nil:
				t.copied++
			case errors.Is(err, stores.ErrAlreadyExists):
				t.existing++
			default:
				return t, fmt.Errorf("history %s of job %s: %w", h.ID, id, err)
			}
		}
	}
	return t, nil
}

// logs copies each job's log in pages; a page that hits a duplicate falls
// back to one line at a time. Lines keep their ids and order.
func (c *copier) logs(ctx context.Context) (tally, error) {
	var t tally
	for _, id := range c.jobIDs {
		cursor := ""
		for {
			page, err := c.src.Logs().List(ctx, id, cursor, c.batch)
			if err != nil {
				return t, fmt.Errorf("logs of job %s: %w", id, err)
			}
			c.logN[id] += len(page.Entries)
			if len(page.Entries) > 0 {
				err := c.dst.Logs().Append(ctx, cloneEntries(page.Entries))
				switch {
				case err == nil:
					t.copied += len(page.Entries)
				case errors.Is(err, stores.ErrAlreadyExists):
					for _, e := range page.Entries {
						err := c.dst.Logs().Append(ctx, cloneEntries([]*stores.LogEntry{e}))
						switch {
						case err == nil:
							t.copied++
						case errors.Is(err, stores.ErrAlreadyExists):
							t.existing++
						default:
							return t, fmt.Errorf("log %s of job %s: %w", e.ID, id, err)
						}
					}
				default:
					return t, fmt.Errorf("logs of job %s: %w", id, err)
				}
			}
			if page.Next == "" {
				break
			}
			cursor = page.Next
		}
	}
	return t, nil
}

func cloneEntries(es []*stores.LogEntry) []*stores.LogEntry {
	out := make([]*stores.LogEntry, len(es))
	for i, e := range es {
		ec := *e
		out[i] = &ec
	}
	return out
}

// verify looks every source record up in the target.
func (c *copier) verify(ctx context.Context) error {
	missing := func(what string, n int) {
		if n > 0 {
			c.problem("%d %s missing in the target", n, what)
		}
	}
	dead := map[string]bool{}
	for _, id := range c.deadIDs {
		if _, err := c.dst.DeadLetters().Get(ctx, id); err != nil {
			if !errors.Is(err, stores.ErrNotFound) {
				return err
			}
			dead[id] = true
		}
	}
	missing("dead letters", len(dead))
	liveJobs := len(c.jobIDs) - len(c.deadIDs)
	n := 0
	for _, id := range c.jobIDs[:liveJobs] {
		if _, err := c.dst.Jobs().Get(ctx, id); err != nil {
			if !errors.Is(err, stores.ErrNotFound) {
				return err
			}
			n++
		}
	}
	missing("jobs", n)
	hist, logs := 0, 0
	for _, id := range c.jobIDs {
		rows, err := c.dst.History().ListByJob(ctx, id)
		if err != nil {
			return err
		}
		if len(rows) < c.historyN[id] {
			hist += c.historyN[id] - len(rows)
		}
		got, cursor := 0, ""
		for {
			page, err := c.dst.Logs().List(ctx, id, cursor, stores.MaxLimit)
			if err != nil {
				return err
			}
			got += len(page.Entries)
			if page.Next == "" {
				break
			}
			cursor = page.Next
		}
		if got < c.logN[id] {
			logs += c.logN[id] - got
		}
	}
	missing("history rows", hist)
	missing("log lines", logs)
	n = 0
	for _, name := range c.cronNames {
		if _, err := c.dst.Cron().GetByName(ctx, name); err != nil {
			n++
		}
	}
	for _, name := range c.ivNames {
		if _, err := c.dst.Intervals().GetByName(ctx, name); err != nil {
			n++
		}
	}
	missing("schedules", n)
	n = 0
	for _, id := range c.workerIDs {
		if _, err := c.dst.Workers().Get(ctx, id); err != nil {
			n++
		}
	}
	for _, id := range c.nodeIDs {
		if _, err := c.dst.Nodes().Get(ctx, id); err != nil {
			n++
		}
	}
	missing("workers and nodes", n)
	fmt.Fprintf(c.out, "checked in the target: %d jobs, %d dead letters, %d schedules, %d workers, %d nodes, history and logs of %d jobs\n",
		liveJobs, len(c.deadIDs), len(c.cronNames)+len(c.ivNames), len(c.workerIDs), len(c.nodeIDs), len(c.jobIDs))
	return nil
}
