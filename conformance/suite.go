package conformance

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/orchestrix/persistence/abstractions/stores"
)

// base is the instant every test offsets from. The suite never reads the
// clock: every call gets an explicit now, so every run sees the same times.
var base = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

// at returns base+d.
func at(d time.Duration) time.Time { return base.Add(d) }

// testCase is one leaf test: its name starts with the guarantee id and "_".
type testCase struct {
	name string
	run  func(t T, st *stores.Store)
}

// suite carries the harness and the declared features to every test.
type suite struct {
	h Harness
	f Features
}

// runAll runs every guarantee family as a subtest of t.
func runAll(t T, h Harness, f Features) {
	s := suite{h: h, f: f}
	t.Run("Jobs", func(t T) { s.run(t, jobTests()) })
	t.Run("Schedules", func(t T) {
		t.Run("Cron", func(t T) { s.run(t, scheduleTests(cronKind())) })
		t.Run("Interval", func(t T) { s.run(t, scheduleTests(intervalKind())) })
	})
	t.Run("Workers", func(t T) { s.run(t, workerTests()) })
	t.Run("Nodes", func(t T) { s.run(t, nodeTests()) })
	t.Run("Logs", func(t T) { s.run(t, logTests()) })
	t.Run("DeadLetters", func(t T) { s.run(t, deadLetterTests()) })
	t.Run("Errors", func(t T) { s.run(t, append(errorTests(), hostileTests()...)) })
}

// run runs each case as a subtest on a store of its own.
func (s suite) run(t T, cases []testCase) {
	for _, c := range cases {
		t.Run(c.name, func(t T) {
			s.skipUnsupported(t, c.name)
			c.run(t, open(t, s.h))
		})
	}
}

// skipUnsupported skips a test whose name or guarantee id the driver
// declared unsupported.
func (s suite) skipUnsupported(t T, name string) {
	id, _, _ := strings.Cut(name, "_")
	for _, key := range []string{name, id} {
		if reason, ok := s.f.Unsupported[key]; ok {
			t.Skipf("%s is declared unsupported by the driver: %s", key, reason)
		}
	}
}

// open opens a fresh store for t and closes it when t ends.
func open(t T, h Harness) *stores.Store {
	t.Helper()
	st, err := h.Open(t.Context())
	if err != nil {
		t.Fatalf("Harness.Open: %v", err)
	}
	if st == nil {
		t.Fatalf("Harness.Open returned a nil store and no error")
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return st
}

// must ends the test when err is not nil.
func must(t T, err error, format string, args ...any) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", fmt.Sprintf(format, args...), err)
	}
}

// wantErr reports an error unless errors.Is(err, target).
func wantErr(t T, err, target error, format string, args ...any) bool {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: got error %v, want %v", fmt.Sprintf(format, args...), err, target)
		return false
	}
	return true
}

// wantInvalidField reports an error unless err is ErrInvalidArgument and
// names field (a *stores.FieldError whose Field is field).
func wantInvalidField(t T, err error, field, format string, args ...any) bool {
	t.Helper()
	var fe *stores.FieldError
	if !errors.As(err, &fe) || fe.Field != field {
		t.Errorf("%s: got error %v, want ErrInvalidArgument naming %s", fmt.Sprintf(format, args...), err, field)
		return false
	}
	return true
}

// checkEqual reports every field in which got differs from want.
func checkEqual(t T, what string, want, got any) bool {
	t.Helper()
	if d := diff(want, got); len(d) > 0 {
		t.Errorf("%s differs from what was expected:\n\t%s", what, strings.Join(d, "\n\t"))
		return false
	}
	return true
}

// checkJob reports every field in which the job got differs from want.
func checkJob(t T, what string, want, got *stores.Job) bool {
	t.Helper()
	return checkEqual(t, what, want, got)
}

// diff compares two values field by field and describes each difference.
// Times must be equal instants and, when set, in UTC; byte slices (JSON)
// must be equal byte for byte; a nil slice equals an empty one.
func diff(want, got any) []string {
	var out []string
	diffValue("", reflect.ValueOf(want), reflect.ValueOf(got), &out)
	return out
}

var timeType = reflect.TypeOf(time.Time{})

func diffValue(path string, w, g reflect.Value, out *[]string) {
	label := path
	if label == "" {
		label = "value"
	}
	if !w.IsValid() || !g.IsValid() {
		if w.IsValid() != g.IsValid() {
			*out = append(*out, fmt.Sprintf("%s: want %v, got %v", label, w, g))
		}
		return
	}
	switch {
	case w.Type() == timeType:
		wt, gt := w.Interface().(time.Time), g.Interface().(time.Time)
		switch {
		case !wt.Equal(gt):
			*out = append(*out, fmt.Sprintf("%s: want %s, got %s", label, fmtTime(wt), fmtTime(gt)))
		case !gt.IsZero() && gt.Location() != time.UTC:
			*out = append(*out, fmt.Sprintf("%s: %s is not in UTC", label, gt))
		}
	case w.Kind() == reflect.Pointer:
		if w.IsNil() || g.IsNil() {
			if w.IsNil() != g.IsNil() {
				*out = append(*out, fmt.Sprintf("%s: want nil=%v, got nil=%v", label, w.IsNil(), g.IsNil()))
			}
			return
		}
		diffValue(path, w.Elem(), g.Elem(), out)
	case w.Kind() == reflect.Struct:
		for i := range w.NumField() {
			f := w.Type().Field(i)
			if !f.IsExported() {
				continue
			}
			diffValue(join(path, f.Name), w.Field(i), g.Field(i), out)
		}
	case w.Kind() == reflect.Slice && w.Type().Elem().Kind() == reflect.Uint8:
		if !bytes.Equal(w.Bytes(), g.Bytes()) {
			*out = append(*out, fmt.Sprintf("%s: want %q, got %q", label, w.Bytes(), g.Bytes()))
		}
	case w.Kind() == reflect.Slice:
		if w.Len() != g.Len() {
			*out = append(*out, fmt.Sprintf("%s: want %d elements %v, got %d %v", label, w.Len(), w.Interface(), g.Len(), g.Interface()))
			return
		}
		for i := range w.Len() {
			diffValue(fmt.Sprintf("%s[%d]", label, i), w.Index(i), g.Index(i), out)
		}
	default:
		if !reflect.DeepEqual(w.Interface(), g.Interface()) {
			*out = append(*out, fmt.Sprintf("%s: want %#v, got %#v", label, w.Interface(), g.Interface()))
		}
	}
}

func join(path, field string) string {
	if path == "" {
		return field
	}
	return path + "." + field
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "zero time"
	}
	return t.Format(time.RFC3339Nano)
}

// failures collects failures seen on goroutines, which must not call
// Fatalf; the test goroutine reports them.
type failures struct {
	mu   sync.Mutex
	msgs []string
}

// add records one failure.
func (f *failures) add(format string, args ...any) {
	f.mu.Lock()
	f.msgs = append(f.msgs, fmt.Sprintf(format, args...))
	f.mu.Unlock()
}

// report fails t with the first failures collected.
func (f *failures) report(t T) {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	const show = 20
	for i, m := range f.msgs {
		if i == show {
			t.Errorf("… and %d more failures", len(f.msgs)-show)
			break
		}
		t.Errorf("%s", m)
	}
}

// race runs fn(0) … fn(n-1) on n goroutines released at the same moment and
// waits for all of them. A panic becomes a failure.
func race(n int, fails *failures, fn func(i int)) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				if r := recover(); r != nil {
					fails.add("goroutine %d panicked: %v", i, r)
				}
			}()
			<-start
			fn(i)
		}()
	}
	close(start)
	wg.Wait()
}

// newJob returns a valid pending job in queue "default", created at
// base+seq milliseconds, with an explicit ID.
func newJob(seq int) *stores.Job {
	return &stores.Job{
		ID:        stores.NewID(),
		Type:      "conformance.task",
		Queue:     "default",
		CreatedAt: at(time.Duration(seq) * time.Millisecond),
	}
}

// enqueue stores jobs in one EnqueueMany call or ends the test.
func enqueue(t T, st *stores.Store, jobs ...*stores.Job) {
	t.Helper()
	must(t, st.Jobs().EnqueueMany(t.Context(), jobs), "EnqueueMany of %d jobs", len(jobs))
}

// getJob returns a stored job or ends the test.
func getJob(t T, st *stores.Store, id string) *stores.Job {
	t.Helper()
	j, err := st.Jobs().Get(t.Context(), id)
	must(t, err, "Get job %s", id)
	return j
}

// wantGone reports a job that Get still finds.
func wantGone(t T, st *stores.Store, id, why string) {
	t.Helper()
	_, err := st.Jobs().Get(t.Context(), id)
	wantErr(t, err, stores.ErrNotFound, "Get job %s (%s)", id, why)
}

// dispatch moves up to limit due jobs at now, or ends the test.
func dispatch(t T, st *stores.Store, now time.Time, limit int, worker string, queues ...string) []*stores.Job {
	t.Helper()
	got, err := st.Jobs().Dispatch(t.Context(), stores.DispatchParams{Queues: queues, Limit: limit, Now: now, WorkerID: worker})
	must(t, err, "Dispatch at %s", fmtTime(now))
	return got
}

// dispatchJob enqueues j and dispatches it alone (through its own queue) at
// now, returning the dispatched job.
func dispatchJob(t T, st *stores.Store, j *stores.Job, now time.Time, worker string) *stores.Job {
	t.Helper()
	if j.Queue == "default" {
		j.Queue = "solo-" + j.ID
	}
	enqueue(t, st, j)
	got := dispatch(t, st, now, 10, worker, j.Queue)
	if len(got) != 1 || got[0].ID != j.ID {
		t.Fatalf("Dispatch of queue %q returned %d jobs, want exactly job %s", j.Queue, len(got), j.ID)
	}
	return got[0]
}

// ids returns the IDs of jobs, in order.
func ids(jobs []*stores.Job) []string {
	out := make([]string, len(jobs))
	for i, j := range jobs {
		out[i] = j.ID
	}
	return out
}

// checkIDs reports when got is not exactly want, in order.
func checkIDs(t T, what string, want, got []string) bool {
	t.Helper()
	if strings.Join(want, ",") != strings.Join(got, ",") {
		t.Errorf("%s: got ids\n\t%v\nwant\n\t%v", what, got, want)
		return false
	}
	return true
}

// errorsIsConflict reports whether err is ErrConflict, the expected answer
// of every loser of a race.
func errorsIsConflict(err error) bool { return errors.Is(err, stores.ErrConflict) }
