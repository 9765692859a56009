package inmemory

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/orchestrix/persistence/abstractions/stores"
)

func TestW1_WorkerHeartbeatLifecycle(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t)
	w := &stores.Worker{ID: "w1", HostName: "h", Queues: []string{"a"}, MaxConcurrency: 2, Metadata: json.RawMessage(`{}`), Status: stores.MemberOffline}
	hb, err := s.Workers().Heartbeat(ctx, w, at(0))
	must(t, err)
	if !hb.Registered || hb.WasOffline {
		t.Fatalf("first beat = %+v", hb)
	}
	got, _ := s.Workers().Get(ctx, "w1")
	if got.Status != stores.MemberActive || !got.RegisteredAt.Equal(at(0)) || !got.LastHeartbeat.Equal(at(0)) {
		t.Fatalf("registered worker = %+v", got)
	}
	must(t, s.Workers().MarkDraining(ctx, "w1"))
	hb, _ = s.Workers().Heartbeat(ctx, w, at(time.Second))
	got, _ = s.Workers().Get(ctx, "w1")
	if hb.Registered || hb.WasOffline || got.Status != stores.MemberDraining {
		t.Fatalf("beat while draining = %+v, status %s", hb, got.Status)
	}
	must(t, s.Workers().MarkOffline(ctx, "w1"))
	hb, _ = s.Workers().Heartbeat(ctx, w, at(2*time.Second))
	got, _ = s.Workers().Get(ctx, "w1")
	if !hb.WasOffline || got.Status != stores.MemberActive {
		t.Fatalf("beat after offline = %+v, status %s", hb, got.Status)
	}
	hb, _ = s.Workers().Heartbeat(ctx, w, at(3*time.Second))
	if hb.WasOffline {
		t.Fatal("WasOffline reported twice")
	}
	must(t, s.Workers().Remove(ctx, "w1"))
	wantErr(t, s.Workers().Remove(ctx, "w1"), stores.ErrNotFound)
	wantErr(t, s.Workers().MarkOffline(ctx, "w1"), stores.ErrNotFound)
}

func TestW2_WorkerAvailableDeadAndLoad(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t)
	beat := func(id string, queues []string, max, load int, now time.Time) {
		_, err := s.Workers().Heartbeat(ctx, &stores.Worker{ID: id, Queues: queues, MaxConcurrency: max, CurrentLoad: load}, now)
		must(t, err)
	}
	beat("w1", []string{"a", "b"}, 4, 2, at(0))
	beat("w2", []string{"a"}, 4, 1, at(time.Second))
	beat("w3", []string{"a"}, 1, 1, at(2*time.Second)) // full
	beat("w4", []string{"a", "a"}, 4, 0, at(3*time.Second))
	must(t, s.Workers().MarkDraining(ctx, "w4"))
	avail, err := s.Workers().Available(ctx, "a", 10)
	must(t, err)
	if got := workerIDs(avail); !slices.Equal(got, []string{"w2", "w1"}) {
		t.Fatalf("Available(a) = %v", got)
	}
	n, err := s.Workers().AdjustLoad(ctx, "w1", -5)
	must(t, err)
	if n != 0 {
		t.Fatalf("AdjustLoad below zero = %d", n)
	}
	avail, _ = s.Workers().Available(ctx, "a", 1)
	if got := workerIDs(avail); !slices.Equal(got, []string{"w1"}) {
		t.Fatalf("Available(a, 1) after load change = %v", got)
	}
	_, err = s.Workers().AdjustLoad(ctx, "nope", 1)
	wantErr(t, err, stores.ErrNotFound)

	must(t, s.Workers().MarkOffline(ctx, "w2"))
	dead, err := s.Workers().Dead(ctx, at(time.Minute+2*time.Second), time.Minute)
	must(t, err)
	if got := workerIDs(dead); !slices.Equal(got, []string{"w1"}) {
		t.Fatalf("Dead = %v, want [w1] (w2 offline, w3 exactly at the cut-off)", got)
	}
	list, _ := s.Workers().List(ctx)
	if got := workerIDs(list); !slices.Equal(got, []string{"w1", "w2", "w3", "w4"}) {
		t.Fatalf("List = %v", got)
	}
}

func workerIDs(ws []*stores.Worker) []string {
	out := make([]string, len(ws))
	for i, w := range ws {
		out[i] = w.ID
	}
	return out
}

func TestW1_NodeHeartbeatKeepsRoleAndJobCount(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t)
	n := &stores.CoordinatorNode{ID: "n1", Role: stores.RoleLeader, JobCount: 7, HostName: "h", ProcessID: 1}
	hb, err := s.Nodes().Heartbeat(ctx, n, at(0))
	must(t, err)
	got, _ := s.Nodes().Get(ctx, "n1")
	if !hb.Registered || got.Role != stores.RoleFollower || got.JobCount != 0 || got.Status != stores.MemberActive {
		t.Fatalf("registered node = %+v", got)
	}
	must(t, s.Nodes().SetRole(ctx, "n1", stores.RoleLeader))
	c, err := s.Nodes().AdjustJobCount(ctx, "n1", 3)
	must(t, err)
	if c != 3 {
		t.Fatalf("AdjustJobCount = %d", c)
	}
	n.Role, n.JobCount, n.ProcessID = stores.RoleFollower, 0, 2
	_, err = s.Nodes().Heartbeat(ctx, n, at(time.Second))
	must(t, err)
	got, _ = s.Nodes().Get(ctx, "n1")
	if got.Role != stores.RoleLeader || got.JobCount != 3 || got.ProcessID != 2 {
		t.Fatalf("node after beat = %+v", got)
	}
	_, _ = s.Nodes().Heartbeat(ctx, &stores.CoordinatorNode{ID: "n2"}, at(time.Second))
	_, _ = s.Nodes().Heartbeat(ctx, &stores.CoordinatorNode{ID: "n3"}, at(time.Second))
	must(t, s.Nodes().MarkDraining(ctx, "n3"))
	f, err := s.Nodes().ActiveFollowers(ctx, 10)
	must(t, err)
	if len(f) != 2 || f[0].ID != "n2" || f[1].ID != "n1" {
		t.Fatalf("ActiveFollowers = %+v", f)
	}
	must(t, s.Nodes().MarkOffline(ctx, "n2"))
	hb, _ = s.Nodes().Heartbeat(ctx, &stores.CoordinatorNode{ID: "n2"}, at(2*time.Second))
	if !hb.WasOffline {
		t.Fatal("node beat after offline did not report WasOffline")
	}
	dead, _ := s.Nodes().Dead(ctx, at(time.Minute+time.Second+time.Millisecond), time.Minute)
	if len(dead) != 2 || dead[0].ID != "n1" || dead[1].ID != "n3" {
		t.Fatalf("Dead nodes = %+v", dead)
	}
	wantErr(t, s.Nodes().SetRole(ctx, "nope", stores.RoleLeader), stores.ErrNotFound)
}

// W3: fencing terms strictly increase across resignation and expiry.
func TestW3_LeaseTerms(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t)
	nodes := s.Nodes()
	l1, err := nodes.AcquireLeadership(ctx, "a", at(0), time.Minute)
	must(t, err)
	if l1.Term != 1 || l1.Holder != "a" || !l1.ExpiresAt.Equal(at(time.Minute)) {
		t.Fatalf("first lease = %+v", l1)
	}
	again, err := nodes.AcquireLeadership(ctx, "a", at(time.Second), time.Minute)
	must(t, err)
	if again != l1 {
		t.Fatalf("re-acquire by the holder = %+v, want %+v", again, l1)
	}
	_, err = nodes.AcquireLeadership(ctx, "b", at(time.Second), time.Minute)
	wantErr(t, err, stores.ErrConflict)
	r, err := nodes.RenewLeadership(ctx, "a", 1, at(30*time.Second), time.Minute)
	must(t, err)
	if !r.ExpiresAt.Equal(at(90 * time.Second)) {
		t.Fatalf("renewed lease = %+v", r)
	}
	_, err = nodes.RenewLeadership(ctx, "a", 1, at(90*time.Second), time.Minute)
	wantErr(t, err, stores.ErrConflict) // expired exactly now
	l2, err := nodes.AcquireLeadership(ctx, "b", at(90*time.Second), time.Minute)
	must(t, err)
	if l2.Term != 2 {
		t.Fatalf("term after expiry = %d", l2.Term)
	}
	wantErr(t, nodes.ResignLeadership(ctx, "a", 1), stores.ErrConflict)
	must(t, nodes.ResignLeadership(ctx, "b", 2))
	_, err = nodes.CurrentLeader(ctx, at(91*time.Second))
	wantErr(t, err, stores.ErrNotFound)
	l3, err := nodes.AcquireLeadership(ctx, "a", at(92*time.Second), time.Minute)
	must(t, err)
	if l3.Term != 3 {
		t.Fatalf("term after resignation = %d", l3.Term)
	}
	cur, err := nodes.CurrentLeader(ctx, at(100*time.Second))
	must(t, err)
	if cur != l3 {
		t.Fatalf("CurrentLeader = %+v", cur)
	}

	// Of N racing nodes exactly one wins a free lease.
	must(t, nodes.ResignLeadership(ctx, "a", 3))
	var wg sync.WaitGroup
	var mu sync.Mutex
	var won []stores.Lease
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l, err := nodes.AcquireLeadership(ctx, fmt.Sprintf("r%d", i), at(time.Hour), time.Minute)
			if err == nil {
				mu.Lock()
				won = append(won, l)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(won) != 1 || won[0].Term != 4 {
		t.Fatalf("racing acquire: %+v", won)
	}
}
