package inmemory

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/orchestrix/persistence/abstractions/stores"
)

// everyMethod calls every method of every store of b with ctx and zero
// values for the other arguments, and hands each call's error to check.
func everyMethod(t *testing.T, b *Backend, ctx context.Context, check func(name string, err error)) {
	t.Helper()
	storesOf := map[string]any{
		"Jobs": b.Jobs(), "History": b.History(), "Cron": b.Cron(), "Intervals": b.Intervals(),
		"Workers": b.Workers(), "Nodes": b.Nodes(), "Logs": b.Logs(), "DeadLetters": b.DeadLetters(),
	}
	errType := reflect.TypeFor[error]()
	calls := 0
	for family, st := range storesOf {
		v := reflect.ValueOf(st)
		for i := range v.NumMethod() {
			m, name := v.Method(i), family+"."+v.Type().Method(i).Name
			args := []reflect.Value{reflect.ValueOf(ctx)}
			for a := 1; a < m.Type().NumIn(); a++ {
				args = append(args, reflect.Zero(m.Type().In(a)))
			}
			out := m.Call(args)
			last := out[len(out)-1]
			if !last.Type().Implements(errType) {
				t.Fatalf("%s: last result is not an error", name)
			}
			err, _ := last.Interface().(error)
			check(name, err)
			calls++
		}
	}
	if calls < 60 {
		t.Fatalf("called only %d methods", calls)
	}
}

// E2: every method of the backend itself checks ctx before any work, so
// a driver caller bypassing the portable layer is covered too.
func TestE2_EveryBackendMethodHonoursContext(t *testing.T) {
	b := New()
	defer b.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	everyMethod(t, b, ctx, func(name string, err error) {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a cancelled context = %v, want context.Canceled", name, err)
		}
	})
	dctx, dcancel := context.WithDeadline(context.Background(), time.Unix(1, 0))
	defer dcancel()
	everyMethod(t, b, dctx, func(name string, err error) {
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s past its deadline = %v, want context.DeadlineExceeded", name, err)
		}
	})
}

func TestEveryBackendMethodAfterCloseIsErrClosed(t *testing.T) {
	b := New()
	must(t, b.Close())
	everyMethod(t, b, context.Background(), func(name string, err error) {
		if !errors.Is(err, stores.ErrClosed) {
			t.Errorf("%s after Close = %v, want ErrClosed", name, err)
		}
	})
}

// The store keeps private copies of what it is given and hands out copies.
func TestNoAliasingOfMembersSchedulesAndDeadLetters(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t)

	w := &stores.Worker{ID: "w", Queues: []string{"a"}, MaxConcurrency: 1, Metadata: json.RawMessage(`{"k":1}`)}
	_, err := s.Workers().Heartbeat(ctx, w, t0)
	must(t, err)
	w.Queues[0], w.Metadata[2] = "z", 'X'
	got, _ := s.Workers().Get(ctx, "w")
	if got.Queues[0] != "a" || string(got.Metadata) != `{"k":1}` {
		t.Fatalf("worker aliases the caller's value: %+v", got)
	}
	got.Queues[0], got.Metadata[2] = "z", 'X'
	if avail, _ := s.Workers().Available(ctx, "a", 1); len(avail) != 1 || string(avail[0].Metadata) != `{"k":1}` {
		t.Fatalf("worker aliases a returned value: %+v", avail)
	}

	n := &stores.CoordinatorNode{ID: "n", Metadata: json.RawMessage(`{"k":1}`)}
	_, err = s.Nodes().Heartbeat(ctx, n, t0)
	must(t, err)
	n.Metadata[2] = 'X'
	gn, _ := s.Nodes().Get(ctx, "n")
	if string(gn.Metadata) != `{"k":1}` {
		t.Fatalf("node aliases the caller's value: %s", gn.Metadata)
	}

	sc := cronSched("c", "* * * * *")
	sc.Args = json.RawMessage(`{"k":1}`)
	reg, err := s.Cron().Register(ctx, sc)
	must(t, err)
	sc.Args[2], reg.Args[2] = 'X', 'Y'
	gs, _ := s.Cron().Get(ctx, sc.ID)
	if string(gs.Args) != `{"k":1}` {
		t.Fatalf("schedule aliases caller memory: %s", gs.Args)
	}

	d := &stores.DeadLetter{Job: stores.Job{ID: stores.NewID(), Type: "t", Queue: "q", Args: json.RawMessage(`{"k":1}`)}}
	must(t, s.DeadLetters().Add(ctx, d))
	d.Job.Args[2] = 'X'
	gd, _ := s.DeadLetters().Get(ctx, d.ID)
	gd.Job.Args[3] = 'Y'
	gd, _ = s.DeadLetters().Get(ctx, d.ID)
	if string(gd.Job.Args) != `{"k":1}` {
		t.Fatalf("dead letter aliases caller memory: %s", gd.Job.Args)
	}
}
