package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/orchestrix/persistence/abstractions/stores"
)

// hostileTests covers E3 with input a caller should never send: each is
// either rejected with ErrInvalidArgument naming the field, or stored and
// read back exactly, and none disturbs another record.
func hostileTests() []testCase {
	return []testCase{
		{"E3_HostileNamesRejectedOrExact", testHostileNamesRejectedOrExact},
		{"E3_LargeValuesRejectedOrExact", testLargeValuesRejectedOrExact},
		{"E3_OutOfRangeLimitsRejected", testOutOfRangeLimitsRejected},
	}
}

// canary is one record of every kind, stored before hostile input arrives
// and compared after.
type canary struct {
	job    *stores.Job
	worker *stores.Worker
	node   *stores.CoordinatorNode
	cron   *stores.CronSchedule
	logs   []*stores.LogEntry
}

func plantCanary(t T, st *stores.Store) canary {
	t.Helper()
	j := newJob(0)
	j.Args = json.RawMessage(`{"canary":true}`)
	j.CorrelationID, j.UniqueKey = "canary", "canary"
	enqueue(t, st, j)
	w := newWorker("canary", 3, "canary")
	w.Metadata = json.RawMessage(`{"canary":1}`)
	beatWorker(t, st, w, at(0))
	beatNode(t, st, newNode("canary"), at(0))
	sched, err := st.Cron().Register(t.Context(), cronKind().make("canary"))
	must(t, err, "Register the canary schedule")
	must(t, st.Logs().Append(t.Context(), []*stores.LogEntry{{JobID: j.ID, Timestamp: at(0), Message: "canary"}}), "Logs Append")
	return canary{job: getJob(t, st, j.ID), worker: getWorker(t, st, "canary"), node: getNode(t, st, "canary"),
		cron: sched, logs: listLogs(t, st, j.ID, 10)}
}

// check reports any change to the canary records.
func (c canary) check(t T, st *stores.Store) {
	t.Helper()
	checkJob(t, "canary job", c.job, getJob(t, st, c.job.ID))
	checkEqual(t, "canary worker", c.worker, getWorker(t, st, "canary"))
	checkEqual(t, "canary node", c.node, getNode(t, st, "canary"))
	got, err := st.Cron().GetByName(t.Context(), "canary")
	must(t, err, "GetByName canary")
	checkEqual(t, "canary schedule", c.cron, got)
	checkEqual(t, "canary log", c.logs, listLogs(t, st, c.job.ID, 10))
}

// wantField reports unless err is ErrInvalidArgument naming field.
func wantField(t T, err error, field, format string, args ...any) bool {
	t.Helper()
	what := fmt.Sprintf(format, args...)
	if !wantErr(t, err, stores.ErrInvalidArgument, "%s", what) {
		return false
	}
	if !strings.Contains(err.Error(), field) {
		t.Errorf("%s: error %q does not name the field %s", what, err, field)
		return false
	}
	return true
}

// acceptable reports whether the portable layer must accept s as a name:
// 1..MaxNameLen bytes of UTF-8 without NUL.
func acceptable(s string) bool {
	return s != "" && len(s) <= stores.MaxNameLen && strings.ToValidUTF8(s, "") == s && !strings.ContainsRune(s, 0)
}

func testHostileNamesRejectedOrExact(t T, st *stores.Store) {
	ctx := t.Context()
	c := plantCanary(t, st)
	names := append([]string{
		"nul\x00inside", "\x00", "bad\xff\xfeutf8", "\xc3", // invalid: NUL, broken UTF-8
		`{canary}`, `canary:`, `{`, `}`, `:`, `canary*`, `canary%`, `canar_`, "canary ", " canary",
		`"; DELETE FROM jobs; --`, `') OR ('1'='1`, "\\x00", `%00`, `%s%d%n`, "{P}:jobs", "orchestrix:{x}:ready",
		strings.Repeat("x", 10000), strings.Repeat("{", stores.MaxNameLen), strings.Repeat("y", stores.MaxNameLen+1),
	}, hostile...)
	for i, s := range names {
		ok := acceptable(s)
		label := truncate(s)

		j := newJob(i + 1)
		j.Type, j.Queue, j.CorrelationID, j.UniqueKey = s, s, s, s
		err := st.Jobs().Enqueue(ctx, j)
		switch {
		case !ok:
			wantField(t, err, "job.Type", "Enqueue with type/queue %s", label)
			wantGone(t, st, j.ID, "rejected job")
		case err != nil:
			t.Errorf("Enqueue with type/queue %s: %v", label, err)
		default:
			checkJob(t, "job named "+label, j, getJob(t, st, j.ID))
			d, err := st.Jobs().Dispatch(ctx, stores.DispatchParams{Queues: []string{s}, Limit: 10, Now: at(time.Hour), WorkerID: s})
			must(t, err, "Dispatch of queue %s", label)
			if len(d) != 1 || d[0].ID != j.ID {
				t.Errorf("Dispatch of queue %s returned %v, want only %s", label, ids(d), j.ID)
			}
		}

		// Job ids must be UUIDs: anything else is an invalid argument.
		bad := newJob(i + 1)
		bad.ID = s
		wantField(t, st.Jobs().Enqueue(ctx, bad), "job.ID", "Enqueue with id %s", label)
		_, err = st.Jobs().Get(ctx, s)
		wantField(t, err, "id", "Get of id %s", label)

		w := newWorker(s, 1, s)
		w.HostName = "host" // the helper derives it from the id
		_, err = st.Workers().Heartbeat(ctx, w, at(0))
		if !ok {
			wantField(t, err, "worker.ID", "worker Heartbeat with id %s", label)
		} else if err != nil {
			t.Errorf("worker Heartbeat with id %s: %v", label, err)
		} else if got := getWorker(t, st, s); got.ID != s || len(got.Queues) != 1 || got.Queues[0] != s {
			t.Errorf("worker %s came back as id %q queues %q", label, got.ID, got.Queues)
		}

		n := newNode(s)
		n.HostName = "host"
		_, err = st.Nodes().Heartbeat(ctx, n, at(0))
		if !ok {
			wantField(t, err, "ID", "node Heartbeat with id %s", label)
		} else if err != nil {
			t.Errorf("node Heartbeat with id %s: %v", label, err)
		} else if got := getNode(t, st, s); got.ID != s {
			t.Errorf("node %s came back as %q", label, got.ID)
		}

		sched := cronKind().make(s)
		sched.JobType = "hostile.job"
		reg, err := st.Cron().Register(ctx, sched)
		if !ok {
			wantField(t, err, "Name", "Register schedule named %s", label)
		} else if err != nil {
			t.Errorf("Register schedule named %s: %v", label, err)
		} else {
			got, err := st.Cron().GetByName(ctx, s)
			must(t, err, "GetByName(%s)", label)
			checkEqual(t, "schedule named "+label, reg, got)
		}
		if ok {
			continue
		}
		// Rejected names are rejected wherever a name is taken.
		_, err = st.Jobs().Dispatch(ctx, stores.DispatchParams{Queues: []string{s}, Limit: 1, Now: at(time.Hour)})
		wantField(t, err, "Queues[0]", "Dispatch of queue %s", label)
		_, err = st.Workers().Available(ctx, s, 1)
		wantField(t, err, "queue", "Available(%s)", label)
		_, err = st.Jobs().ByFollower(ctx, s, 1)
		wantField(t, err, "nodeID", "ByFollower(%s)", label)
		_, err = st.Nodes().AcquireLeadership(ctx, s, at(0), time.Minute)
		wantField(t, err, "nodeID", "AcquireLeadership by %s", label)
		_, err = st.Jobs().Query(ctx, stores.JobQuery{Types: []string{s}, Limit: 1})
		wantField(t, err, "Types[0]", "Query of type %s", label)
	}
	c.check(t, st)
	// The canary's unique key still holds only for the canary.
	dup := newJob(999)
	dup.UniqueKey = "canary"
	wantErr(t, st.Jobs().Enqueue(ctx, dup), stores.ErrAlreadyExists, "Enqueue reusing the canary's unique key")
}

func testLargeValuesRejectedOrExact(t T, st *stores.Store) {
	ctx := t.Context()
	c := plantCanary(t, st)

	// 8 MiB of JSON arguments is within MaxJSONLen: stored exactly.
	big := bigJSON(8 << 20)
	j := newJob(1)
	j.Args, j.Queue = big, "big" // not the canary's queue: Dispatch below must not take the canary
	must(t, st.Jobs().Enqueue(ctx, j), "Enqueue with 8 MiB of arguments")
	if got := getJob(t, st, j.ID); !bytes.Equal(got.Args, big) {
		t.Errorf("8 MiB arguments came back as %d bytes, changed", len(got.Args))
	}
	// One byte past the limit is rejected, for jobs, schedules and
	// worker metadata alike.
	over := bigJSON(stores.MaxJSONLen + 1)
	tooBig := newJob(2)
	tooBig.Args = over
	wantField(t, st.Jobs().Enqueue(ctx, tooBig), "job.Args", "Enqueue with MaxJSONLen+1 bytes of arguments")
	wantGone(t, st, tooBig.ID, "rejected job")
	w := newWorker("big", 1, "q")
	w.Metadata = over
	_, err := st.Workers().Heartbeat(ctx, w, at(0))
	wantField(t, err, "worker.Metadata", "worker Heartbeat with MaxJSONLen+1 bytes of metadata")
	sched := cronKind().make("big")
	sched.Args = over
	_, err = st.Cron().Register(ctx, sched)
	wantField(t, err, "Args", "Register with MaxJSONLen+1 bytes of arguments")

	// Text: exactly MaxTextLen is stored, one more byte is rejected.
	text := strings.Repeat("é", stores.MaxTextLen/2)
	e := &stores.LogEntry{JobID: j.ID, Timestamp: at(0), Message: text, Exception: text}
	must(t, st.Logs().Append(ctx, []*stores.LogEntry{e}), "Logs Append of MaxTextLen bytes")
	if got := listLogs(t, st, j.ID, 10); len(got) != 1 || got[0].Message != text || got[0].Exception != text {
		t.Errorf("MaxTextLen log line did not come back exactly")
	}
	err = st.Logs().Append(ctx, []*stores.LogEntry{{JobID: j.ID, Timestamp: at(0), Message: text + "x"}})
	wantField(t, err, "Message", "Logs Append of MaxTextLen+1 bytes")
	d := dispatch(t, st, at(time.Hour), 1, "", j.Queue)
	if len(d) == 1 {
		wantField(t, st.Jobs().Fail(ctx, d[0].Ref(), text+"x", at(time.Hour)), "errMsg", "Fail with MaxTextLen+1 bytes")
		must(t, st.Jobs().Fail(ctx, d[0].Ref(), text, at(time.Hour)), "Fail with MaxTextLen bytes")
		if got := getJob(t, st, j.ID); got.LastError != text {
			t.Errorf("MaxTextLen error came back as %d bytes, changed", len(got.LastError))
		}
	}
	// A batch one past MaxBatch is rejected whole.
	many := make([]*stores.Job, stores.MaxBatch+1)
	for i := range many {
		many[i] = newJob(10 + i)
	}
	wantField(t, st.Jobs().EnqueueMany(ctx, many), "jobs", "EnqueueMany of MaxBatch+1 jobs")
	wantGone(t, st, many[0].ID, "job of a rejected batch")
	c.check(t, st)
}

// bigJSON returns a JSON document of exactly n bytes.
func bigJSON(n int) json.RawMessage {
	b := make([]byte, 0, n)
	b = append(b, `{"s":"`...)
	b = append(b, bytes.Repeat([]byte("a"), n-len(b)-2)...)
	return append(b, `"}`...)
}

func testOutOfRangeLimitsRejected(t T, st *stores.Store) {
	c := plantCanary(t, st)
	for _, n := range []int{0, -1, stores.MaxLimit + 1, 1 << 31} {
		calls := []struct {
			name, field string
			call        func(ctx context.Context) error
		}{
			{"Pending", "limit", func(ctx context.Context) error { _, err := st.Jobs().Pending(ctx, at(0), n); return err }},
			{"DueScheduled", "limit", func(ctx context.Context) error { _, err := st.Jobs().DueScheduled(ctx, at(0), n); return err }},
			{"Dispatch", "Limit", func(ctx context.Context) error {
				_, err := st.Jobs().Dispatch(ctx, stores.DispatchParams{Limit: n, Now: at(time.Hour)})
				return err
			}},
			{"Recover", "Limit", func(ctx context.Context) error {
				_, err := st.Jobs().Recover(ctx, stores.RecoverParams{Now: at(time.Hour), DispatchLease: time.Second, Limit: n})
				return err
			}},
			{"Query", "Limit", func(ctx context.Context) error { _, err := st.Jobs().Query(ctx, stores.JobQuery{Limit: n}); return err }},
			{"ByFollower", "limit", func(ctx context.Context) error { _, err := st.Jobs().ByFollower(ctx, "canary", n); return err }},
			{"Uncleaned", "limit", func(ctx context.Context) error { _, err := st.Jobs().Uncleaned(ctx, n); return err }},
			{"Jobs Purge", "limit", func(ctx context.Context) error { _, err := st.Jobs().Purge(ctx, at(time.Hour), n); return err }},
			{"History Purge", "limit", func(ctx context.Context) error { _, err := st.History().Purge(ctx, at(time.Hour), n); return err }},
			{"Logs List", "limit", func(ctx context.Context) error { _, err := st.Logs().List(ctx, c.job.ID, "", n); return err }},
			{"Logs Purge", "limit", func(ctx context.Context) error { _, err := st.Logs().Purge(ctx, at(time.Hour), n); return err }},
			{"DeadLetters List", "limit", func(ctx context.Context) error { _, err := st.DeadLetters().List(ctx, "", n); return err }},
			{"Cron List", "Limit", func(ctx context.Context) error {
				_, err := st.Cron().List(ctx, stores.ScheduleList{Limit: n})
				return err
			}},
			{"Cron Due", "limit", func(ctx context.Context) error { _, err := st.Cron().Due(ctx, at(time.Hour), n); return err }},
			{"Intervals Due", "limit", func(ctx context.Context) error { _, err := st.Intervals().Due(ctx, at(time.Hour), n); return err }},
			{"Available", "limit", func(ctx context.Context) error { _, err := st.Workers().Available(ctx, "canary", n); return err }},
			{"ActiveFollowers", "limit", func(ctx context.Context) error { _, err := st.Nodes().ActiveFollowers(ctx, n); return err }},
		}
		for _, call := range calls {
			err := call.call(t.Context())
			if errors.Is(err, stores.ErrInvalidArgument) && !strings.Contains(err.Error(), call.field) {
				t.Errorf("%s with limit %d: error %q does not name %s", call.name, n, err, call.field)
			} else {
				wantErr(t, err, stores.ErrInvalidArgument, "%s with limit %d", call.name, n)
			}
		}
	}
	// Limits at the bounds are accepted.
	for _, n := range []int{1, stores.MaxLimit} {
		_, err := st.Jobs().Dispatch(t.Context(), stores.DispatchParams{Queues: []string{"none"}, Limit: n, Now: at(time.Hour)})
		must(t, err, "Dispatch with limit %d", n)
		_, err = st.Jobs().Query(t.Context(), stores.JobQuery{Limit: n})
		must(t, err, "Query with limit %d", n)
	}
	c.check(t, st)
}

// truncate quotes s for a message, shortened.
func truncate(s string) string {
	if len(s) > 40 {
		return fmt.Sprintf("%q… (%d bytes)", s[:40], len(s))
	}
	return fmt.Sprintf("%q", s)
}
