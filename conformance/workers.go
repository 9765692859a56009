package conformance

import (
	"encoding/json"
	"slices"
	"sync/atomic"
	"time"

	"github.com/orchestrix/persistence/abstractions/stores"
)

// workerTests covers W1 and W2 for workers.
func workerTests() []testCase {
	return []testCase{
		{"W1_WorkerHeartbeatRegistersAndUpdates", testWorkerHeartbeat},
		{"W1_WorkerDrainingOfflineRemove", testWorkerLifecycle},
		{"W2_AvailableWorkers", testAvailableWorkers},
		{"W2_DeadWorkers", testDeadWorkers},
		{"W2_ConcurrentAdjustLoadIsExact", testConcurrentAdjustLoad},
	}
}

// beatWorker sends a heartbeat or ends the test.
func beatWorker(t T, st *stores.Store, w *stores.Worker, now time.Time) stores.Heartbeat {
	t.Helper()
	hb, err := st.Workers().Heartbeat(t.Context(), w, now)
	must(t, err, "worker Heartbeat %s", w.ID)
	return hb
}

func getWorker(t T, st *stores.Store, id string) *stores.Worker {
	t.Helper()
	w, err := st.Workers().Get(t.Context(), id)
	must(t, err, "worker Get %s", id)
	return w
}

func newWorker(id string, max int, queues ...string) *stores.Worker {
	return &stores.Worker{ID: id, HostName: "host-" + id, Queues: queues, MaxConcurrency: max}
}

func testWorkerHeartbeat(t T, st *stores.Store) {
	w := newWorker("w1", 4, "q1", "q2")
	w.Metadata = json.RawMessage(`{"version": "1.2", "tags":["a"]}`)
	w.CurrentLoad = 1
	w.Status = stores.MemberDraining // ignored on registration
	hb := beatWorker(t, st, w, at(time.Minute))
	if !hb.Registered || hb.WasOffline {
		t.Errorf("first Heartbeat: %+v, want Registered and not WasOffline", hb)
	}
	want := &stores.Worker{ID: "w1", HostName: "host-w1", Queues: []string{"q1", "q2"}, MaxConcurrency: 4, CurrentLoad: 1,
		Status: stores.MemberActive, LastHeartbeat: at(time.Minute), Metadata: w.Metadata, RegisteredAt: at(time.Minute)}
	checkEqual(t, "registered worker", want, getWorker(t, st, "w1"))

	// An update changes host, queues, capacity, load and metadata.
	u := &stores.Worker{ID: "w1", HostName: "host-2", Queues: []string{"q3"}, MaxConcurrency: 8, CurrentLoad: 3,
		Metadata: json.RawMessage(`{"version":"1.3"}`), RegisteredAt: at(time.Hour)}
	hb = beatWorker(t, st, u, at(2*time.Minute))
	if hb.Registered || hb.WasOffline {
		t.Errorf("second Heartbeat: %+v, want neither Registered nor WasOffline", hb)
	}
	want = &stores.Worker{ID: "w1", HostName: "host-2", Queues: []string{"q3"}, MaxConcurrency: 8, CurrentLoad: 3,
		Status: stores.MemberActive, LastHeartbeat: at(2 * time.Minute), Metadata: u.Metadata, RegisteredAt: at(time.Minute)}
	checkEqual(t, "updated worker", want, getWorker(t, st, "w1"))

	// An explicit RegisteredAt is kept on registration.
	r := newWorker("w2", 1, "q1")
	r.RegisteredAt = at(-time.Hour)
	beatWorker(t, st, r, at(time.Minute))
	if got := getWorker(t, st, "w2").RegisteredAt; !got.Equal(at(-time.Hour)) {
		t.Errorf("RegisteredAt %s, want the given %s", fmtTime(got), fmtTime(at(-time.Hour)))
	}
	// Returned values are copies.
	got := getWorker(t, st, "w1")
	got.Queues[0], got.Metadata[2] = "changed", 'X'
	checkEqual(t, "worker after the caller modified its copy", want, getWorker(t, st, "w1"))
}

func testWorkerLifecycle(t T, st *stores.Store) {
	ctx := t.Context()
	for _, id := range []string{"w-c", "w-a", "w-b"} {
		beatWorker(t, st, newWorker(id, 2, "q"), at(0))
	}
	list, err := st.Workers().List(ctx)
	must(t, err, "List")
	var got []string
	for _, w := range list {
		got = append(got, w.ID)
	}
	checkIDs(t, "workers in ID order", []string{"w-a", "w-b", "w-c"}, got)

	must(t, st.Workers().MarkDraining(ctx, "w-a"), "MarkDraining")
	hb := beatWorker(t, st, newWorker("w-a", 2, "q"), at(time.Minute))
	if w := getWorker(t, st, "w-a"); w.Status != stores.MemberDraining || hb.WasOffline {
		t.Errorf("draining worker after a heartbeat: status %s WasOffline %v, want draining and false", w.Status, hb.WasOffline)
	}

	must(t, st.Workers().MarkOffline(ctx, "w-b"), "MarkOffline")
	if w := getWorker(t, st, "w-b"); w.Status != stores.MemberOffline {
		t.Errorf("worker after MarkOffline: %s", w.Status)
	}
	hb = beatWorker(t, st, newWorker("w-b", 2, "q"), at(time.Minute))
	if !hb.WasOffline || hb.Registered {
		t.Errorf("heartbeat of a worker marked offline: %+v, want WasOffline", hb)
	}
	if w := getWorker(t, st, "w-b"); w.Status != stores.MemberActive || !w.LastHeartbeat.Equal(at(time.Minute)) {
		t.Errorf("worker back from offline: status %s LastHeartbeat %s, want active at %s", w.Status, fmtTime(w.LastHeartbeat), fmtTime(at(time.Minute)))
	}
	if hb = beatWorker(t, st, newWorker("w-b", 2, "q"), at(2*time.Minute)); hb.WasOffline {
		t.Errorf("the heartbeat after the one that reported WasOffline reports it again")
	}
	// A draining worker marked offline comes back active.
	must(t, st.Workers().MarkOffline(ctx, "w-a"), "MarkOffline of a draining worker")
	if hb = beatWorker(t, st, newWorker("w-a", 2, "q"), at(3*time.Minute)); !hb.WasOffline {
		t.Errorf("heartbeat of a draining worker marked offline: WasOffline false")
	}

	must(t, st.Workers().Remove(ctx, "w-c"), "Remove")
	_, err = st.Workers().Get(ctx, "w-c")
	wantErr(t, err, stores.ErrNotFound, "Get of a removed worker")
	wantErr(t, st.Workers().Remove(ctx, "w-c"), stores.ErrNotFound, "second Remove")
	wantErr(t, st.Workers().MarkDraining(ctx, "nope"), stores.ErrNotFound, "MarkDraining of a missing worker")
	wantErr(t, st.Workers().MarkOffline(ctx, "nope"), stores.ErrNotFound, "MarkOffline of a missing worker")
	_, err = st.Workers().AdjustLoad(ctx, "nope", 1)
	wantErr(t, err, stores.ErrNotFound, "AdjustLoad of a missing worker")
	// Heartbeat after Remove registers anew.
	if hb = beatWorker(t, st, newWorker("w-c", 2, "q"), at(4*time.Minute)); !hb.Registered {
		t.Errorf("heartbeat of a removed worker: Registered false")
	}
}

func testAvailableWorkers(t T, st *stores.Store) {
	ctx := t.Context()
	add := func(id string, max, load int, status stores.MemberStatus, queues ...string) {
		w := newWorker(id, max, queues...)
		w.CurrentLoad = load
		beatWorker(t, st, w, at(0))
		switch status {
		case stores.MemberDraining:
			must(t, st.Workers().MarkDraining(ctx, id), "MarkDraining")
		case stores.MemberOffline:
			must(t, st.Workers().MarkOffline(ctx, id), "MarkOffline")
		}
	}
	add("w-g", 3, 2, stores.MemberActive, "q1")
	add("w-a", 4, 2, stores.MemberActive, "q1")
	add("w-b", 4, 0, stores.MemberActive, "q2", "q1")
	add("w-c", 2, 2, stores.MemberActive, "q1") // full
	add("w-d", 5, 0, stores.MemberDraining, "q1")
	add("w-e", 5, 0, stores.MemberOffline, "q1")
	add("w-f", 5, 0, stores.MemberActive, "q2")
	add("w-h", 5, 0, stores.MemberActive, "q1x", "xq1")
	avail := func(queue string, limit int) []string {
		t.Helper()
		ws, err := st.Workers().Available(ctx, queue, limit)
		must(t, err, "Available(%s)", queue)
		var out []string
		for _, w := range ws {
			out = append(out, w.ID)
		}
		return out
	}
	checkIDs(t, "Available(q1)", []string{"w-b", "w-a", "w-g"}, avail("q1", 10))
	checkIDs(t, "Available(q1) limit 2", []string{"w-b", "w-a"}, avail("q1", 2))
	checkIDs(t, "Available(q2)", []string{"w-b", "w-f"}, avail("q2", 10))
	checkIDs(t, "Available(q)", nil, avail("q", 10))

	n, err := st.Workers().AdjustLoad(ctx, "w-b", 4)
	must(t, err, "AdjustLoad")
	if n != 4 {
		t.Errorf("AdjustLoad(w-b, +4) = %d, want 4", n)
	}
	checkIDs(t, "Available(q1) with w-b full", []string{"w-a", "w-g"}, avail("q1", 10))
	_, err = st.Workers().AdjustLoad(ctx, "w-c", -1)
	must(t, err, "AdjustLoad")
	checkIDs(t, "Available(q1) after w-c freed a slot", []string{"w-c", "w-a", "w-g"}, avail("q1", 10))
}

func testDeadWorkers(t T, st *stores.Store) {
	ctx := t.Context()
	now := at(time.Hour)
	beat := func(id string, ago time.Duration) { beatWorker(t, st, newWorker(id, 1, "q"), now.Add(-ago)) }
	beat("dead-b", 10*time.Minute)
	beat("dead-a", 7*time.Minute)
	beat("boundary", 5*time.Minute) // exactly now-timeout: not older
	beat("fresh", time.Minute)
	beat("offline", time.Hour)
	must(t, st.Workers().MarkOffline(ctx, "offline"), "MarkOffline")
	beat("draining", 20*time.Minute)
	must(t, st.Workers().MarkDraining(ctx, "draining"), "MarkDraining")
	dead, err := st.Workers().Dead(ctx, now, 5*time.Minute)
	must(t, err, "Dead")
	var got []string
	for _, w := range dead {
		got = append(got, w.ID)
	}
	checkIDs(t, "Dead workers, oldest heartbeat first", []string{"draining", "dead-b", "dead-a"}, got)
}

func testConcurrentAdjustLoad(t T, st *stores.Store) {
	beatWorker(t, st, newWorker("busy", 1000, "q"), at(0))
	adjust := func(delta int) (int, error) { return st.Workers().AdjustLoad(t.Context(), "busy", delta) }
	checkCounter(t, "worker load", adjust, func() int { return getWorker(t, st, "busy").CurrentLoad })
}

// checkCounter hammers an atomic counter that starts at zero (W2): 16
// goroutines each add and remove one 50 times, then add one each (the
// results must be exactly 1..16), then remove two each (never below zero).
func checkCounter(t T, what string, adjust func(int) (int, error), stored func() int) {
	t.Helper()
	const racers = 16
	var fails failures
	race(racers, &fails, func(i int) {
		for range 50 {
			for _, d := range []int{1, -1} {
				n, err := adjust(d)
				if err != nil {
					fails.add("%s: adjust %+d: %v", what, d, err)
					return
				}
				if n < 0 || n > racers {
					fails.add("%s: adjust %+d returned %d, outside 0..%d", what, d, n, racers)
				}
			}
		}
	})
	fails.report(t)
	if n := stored(); n != 0 {
		t.Errorf("%s after balanced concurrent +1/-1: %d, want 0", what, n)
	}
	results := make([]int, racers)
	race(racers, &fails, func(i int) {
		n, err := adjust(1)
		if err != nil {
			fails.add("%s: adjust +1: %v", what, err)
		}
		results[i] = n
	})
	fails.report(t)
	slices.Sort(results)
	for i, n := range results {
		if n != i+1 {
			t.Errorf("%s: 16 concurrent +1 returned %v, want each of 1..16 once", what, results)
			break
		}
	}
	if n := stored(); n != racers {
		t.Errorf("%s after 16 concurrent +1: %d, want 16", what, n)
	}
	var zeros atomic.Int32
	race(2*racers, &fails, func(i int) {
		n, err := adjust(-1)
		switch {
		case err != nil:
			fails.add("%s: adjust -1: %v", what, err)
		case n < 0:
			fails.add("%s: adjust -1 returned %d, below zero", what, n)
		}
		if err == nil && n == 0 {
			zeros.Add(1)
		}
	})
	fails.report(t)
	if n := stored(); n != 0 {
		t.Errorf("%s after 32 concurrent -1 from 16: %d, want 0 (never below zero)", what, n)
	}
	if zeros.Load() != racers+1 {
		t.Errorf("%s: %d of 32 concurrent -1 from 16 returned 0, want %d", what, zeros.Load(), racers+1)
	}
	if n, err := adjust(-5); err != nil || n != 0 {
		t.Errorf("%s: adjust -5 at zero = %d, %v; want 0, nil", what, n, err)
	}
	if n, err := adjust(3); err != nil || n != 3 {
		t.Errorf("%s: adjust +3 at zero = %d, %v; want 3, nil", what, n, err)
	}
}
