package conformance

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/orchestrix/persistence/abstractions/stores"
)

// nodeTests covers W1–W3 for coordinator nodes and the leadership lease.
func nodeTests() []testCase {
	return []testCase{
		{"W1_NodeHeartbeatKeepsRoleAndJobCount", testNodeHeartbeat},
		{"W1_NodeDrainingOfflineRemove", testNodeLifecycle},
		{"W2_DeadNodesAndActiveFollowers", testDeadNodesAndFollowers},
		{"W2_ConcurrentAdjustJobCountIsExact", testConcurrentJobCount},
		{"W3_LeaseAcquireRenewResign", testLeaseLifecycle},
		{"W3_ExpiredHolderCannotRenew", testExpiredHolderCannotRenew},
		{"W3_OldTermCannotRenewOrResign", testOldTermFenced},
		{"W3_ConcurrentAcquireOneWinnerTermsIncrease", testConcurrentAcquire},
	}
}

func beatNode(t T, st *stores.Store, n *stores.CoordinatorNode, now time.Time) stores.Heartbeat {
	t.Helper()
	hb, err := st.Nodes().Heartbeat(t.Context(), n, now)
	must(t, err, "node Heartbeat %s", n.ID)
	return hb
}

func getNode(t T, st *stores.Store, id string) *stores.CoordinatorNode {
	t.Helper()
	n, err := st.Nodes().Get(t.Context(), id)
	must(t, err, "node Get %s", id)
	return n
}

func newNode(id string) *stores.CoordinatorNode {
	return &stores.CoordinatorNode{ID: id, HostName: "host-" + id, ProcessID: 100}
}

func testNodeHeartbeat(t T, st *stores.Store) {
	ctx := t.Context()
	n := newNode("n1")
	n.Role, n.JobCount, n.Status = stores.RoleLeader, 5, stores.MemberOffline // ignored
	n.Metadata = json.RawMessage(`{"zone": "eu-1",  "v":[1]}`)
	hb := beatNode(t, st, n, at(time.Minute))
	if !hb.Registered || hb.WasOffline {
		t.Errorf("first node Heartbeat: %+v, want Registered only", hb)
	}
	want := &stores.CoordinatorNode{ID: "n1", Role: stores.RoleFollower, Status: stores.MemberActive, LastHeartbeat: at(time.Minute),
		Metadata: n.Metadata, HostName: "host-n1", ProcessID: 100, JoinedAt: at(time.Minute)}
	checkEqual(t, "registered node", want, getNode(t, st, "n1"))

	must(t, st.Nodes().SetRole(ctx, "n1", stores.RoleLeader), "SetRole")
	c, err := st.Nodes().AdjustJobCount(ctx, "n1", 3)
	must(t, err, "AdjustJobCount")
	if c != 3 {
		t.Errorf("AdjustJobCount(+3) = %d, want 3", c)
	}
	u := &stores.CoordinatorNode{ID: "n1", Role: stores.RoleFollower, JobCount: 99, HostName: "host-2", ProcessID: 200,
		Metadata: json.RawMessage(`{"zone":"eu-2"}`), JoinedAt: at(time.Hour)}
	hb = beatNode(t, st, u, at(2*time.Minute))
	if hb.Registered || hb.WasOffline {
		t.Errorf("second node Heartbeat: %+v, want neither Registered nor WasOffline", hb)
	}
	want = &stores.CoordinatorNode{ID: "n1", Role: stores.RoleLeader, JobCount: 3, Status: stores.MemberActive, LastHeartbeat: at(2 * time.Minute),
		Metadata: u.Metadata, HostName: "host-2", ProcessID: 200, JoinedAt: at(time.Minute)}
	checkEqual(t, "node after a heartbeat (role and job count kept)", want, getNode(t, st, "n1"))

	j := newNode("n2")
	j.JoinedAt = at(-time.Hour)
	beatNode(t, st, j, at(time.Minute))
	if got := getNode(t, st, "n2").JoinedAt; !got.Equal(at(-time.Hour)) {
		t.Errorf("JoinedAt %s, want the given %s", fmtTime(got), fmtTime(at(-time.Hour)))
	}
}

func testNodeLifecycle(t T, st *stores.Store) {
	ctx := t.Context()
	for _, id := range []string{"n-c", "n-a", "n-b"} {
		beatNode(t, st, newNode(id), at(0))
	}
	list, err := st.Nodes().List(ctx)
	must(t, err, "List")
	var got []string
	for _, n := range list {
		got = append(got, n.ID)
	}
	checkIDs(t, "nodes in ID order", []string{"n-a", "n-b", "n-c"}, got)

	must(t, st.Nodes().MarkDraining(ctx, "n-a"), "MarkDraining")
	if hb := beatNode(t, st, newNode("n-a"), at(time.Minute)); hb.WasOffline || getNode(t, st, "n-a").Status != stores.MemberDraining {
		t.Errorf("draining node after a heartbeat: WasOffline %v status %s, want false and draining", hb.WasOffline, getNode(t, st, "n-a").Status)
	}
	must(t, st.Nodes().MarkOffline(ctx, "n-b"), "MarkOffline")
	if s := getNode(t, st, "n-b").Status; s != stores.MemberOffline {
		t.Errorf("node after MarkOffline: %s", s)
	}
	if hb := beatNode(t, st, newNode("n-b"), at(time.Minute)); !hb.WasOffline {
		t.Errorf("heartbeat of a node marked offline: WasOffline false")
	}
	if s := getNode(t, st, "n-b").Status; s != stores.MemberActive {
		t.Errorf("node back from offline: %s, want active", s)
	}
	if hb := beatNode(t, st, newNode("n-b"), at(2*time.Minute)); hb.WasOffline {
		t.Errorf("the heartbeat after the one that reported WasOffline reports it again")
	}

	must(t, st.Nodes().Remove(ctx, "n-c"), "Remove")
	_, err = st.Nodes().Get(ctx, "n-c")
	wantErr(t, err, stores.ErrNotFound, "Get of a removed node")
	wantErr(t, st.Nodes().Remove(ctx, "n-c"), stores.ErrNotFound, "second Remove")
	wantErr(t, st.Nodes().SetRole(ctx, "nope", stores.RoleLeader), stores.ErrNotFound, "SetRole of a missing node")
	wantErr(t, st.Nodes().MarkDraining(ctx, "nope"), stores.ErrNotFound, "MarkDraining of a missing node")
	wantErr(t, st.Nodes().MarkOffline(ctx, "nope"), stores.ErrNotFound, "MarkOffline of a missing node")
	_, err = st.Nodes().AdjustJobCount(ctx, "nope", 1)
	wantErr(t, err, stores.ErrNotFound, "AdjustJobCount of a missing node")
}

func testDeadNodesAndFollowers(t T, st *stores.Store) {
	ctx := t.Context()
	now := at(time.Hour)
	add := func(id string, ago time.Duration, jobs int, status stores.MemberStatus, role stores.NodeRole) {
		beatNode(t, st, newNode(id), now.Add(-ago))
		if jobs > 0 {
			_, err := st.Nodes().AdjustJobCount(ctx, id, jobs)
			must(t, err, "AdjustJobCount")
		}
		must(t, st.Nodes().SetRole(ctx, id, role), "SetRole")
		switch status {
		case stores.MemberDraining:
			must(t, st.Nodes().MarkDraining(ctx, id), "MarkDraining")
		case stores.MemberOffline:
			must(t, st.Nodes().MarkOffline(ctx, id), "MarkOffline")
		}
	}
	add("n1", 10*time.Minute, 3, stores.MemberActive, stores.RoleFollower)
	add("n2", time.Minute, 1, stores.MemberActive, stores.RoleFollower)
	add("n3", 5*time.Minute, 1, stores.MemberActive, stores.RoleFollower) // at the boundary: alive
	add("n4", 20*time.Minute, 0, stores.MemberDraining, stores.RoleFollower)
	add("n5", time.Hour, 0, stores.MemberOffline, stores.RoleFollower)
	add("n6", 0, 2, stores.MemberActive, stores.RoleLeader)

	dead, err := st.Nodes().Dead(ctx, now, 5*time.Minute)
	must(t, err, "Dead")
	var got []string
	for _, n := range dead {
		got = append(got, n.ID)
	}
	checkIDs(t, "Dead nodes", []string{"n1", "n4"}, sorted(got))

	followers := func(limit int) []string {
		t.Helper()
		ns, err := st.Nodes().ActiveFollowers(ctx, limit)
		must(t, err, "ActiveFollowers")
		var out []string
		for _, n := range ns {
			out = append(out, n.ID)
		}
		return out
	}
	checkIDs(t, "ActiveFollowers by job count, then ID", []string{"n2", "n3", "n6", "n1"}, followers(10))
	checkIDs(t, "ActiveFollowers limit 2", []string{"n2", "n3"}, followers(2))
}

func testConcurrentJobCount(t T, st *stores.Store) {
	beatNode(t, st, newNode("counted"), at(0))
	adjust := func(delta int) (int, error) { return st.Nodes().AdjustJobCount(t.Context(), "counted", delta) }
	checkCounter(t, "node job count", adjust, func() int { return getNode(t, st, "counted").JobCount })
}

// acquire takes the lease or ends the test.
func acquire(t T, st *stores.Store, node string, now time.Time, ttl time.Duration) stores.Lease {
	t.Helper()
	l, err := st.Nodes().AcquireLeadership(t.Context(), node, now, ttl)
	must(t, err, "AcquireLeadership by %s at %s", node, fmtTime(now))
	return l
}

// checkLeader reports unless the lease valid at now is want (or none, when
// want is the zero Lease).
func checkLeader(t T, st *stores.Store, now time.Time, want stores.Lease) {
	t.Helper()
	got, err := st.Nodes().CurrentLeader(t.Context(), now)
	if want.Holder == "" {
		wantErr(t, err, stores.ErrNotFound, "CurrentLeader at %s", fmtTime(now))
		return
	}
	must(t, err, "CurrentLeader at %s", fmtTime(now))
	checkEqual(t, "current lease at "+fmtTime(now), want, got)
}

func testLeaseLifecycle(t T, st *stores.Store) {
	ctx := t.Context()
	ttl := 15 * time.Second
	t0 := at(time.Hour)
	checkLeader(t, st, t0, stores.Lease{})
	l := acquire(t, st, "n1", t0, ttl)
	want := stores.Lease{Holder: "n1", Term: l.Term, AcquiredAt: t0, ExpiresAt: t0.Add(ttl)}
	checkEqual(t, "acquired lease", want, l)
	if l.Term < 1 {
		t.Errorf("first term %d, want at least 1", l.Term)
	}
	checkLeader(t, st, t0.Add(time.Second), want)

	// Another node cannot take a valid lease; the holder gets it back as is.
	_, err := st.Nodes().AcquireLeadership(ctx, "n2", t0.Add(time.Second), ttl)
	wantErr(t, err, stores.ErrConflict, "AcquireLeadership of a held lease")
	again := acquire(t, st, "n1", t0.Add(2*time.Second), ttl)
	checkEqual(t, "lease acquired again by its holder", want, again)

	// Renew extends it.
	r, err := st.Nodes().RenewLeadership(ctx, "n1", l.Term, t0.Add(10*time.Second), ttl)
	must(t, err, "RenewLeadership")
	want.ExpiresAt = t0.Add(10*time.Second + ttl)
	if r.Holder != "n1" || r.Term != l.Term || !r.ExpiresAt.Equal(want.ExpiresAt) {
		t.Errorf("renewed lease %+v, want holder n1, term %d, expiring %s", r, l.Term, fmtTime(want.ExpiresAt))
	}
	checkLeader(t, st, want.ExpiresAt.Add(-time.Microsecond), r)
	_, err = st.Nodes().RenewLeadership(ctx, "n2", l.Term, t0.Add(11*time.Second), ttl)
	wantErr(t, err, stores.ErrConflict, "RenewLeadership by a node that does not hold the lease")
	wantErr(t, st.Nodes().ResignLeadership(ctx, "n2", l.Term), stores.ErrConflict, "ResignLeadership by a node that does not hold the lease")
	checkLeader(t, st, t0.Add(11*time.Second), r)

	// Resign frees it; the next term is greater.
	must(t, st.Nodes().ResignLeadership(ctx, "n1", l.Term), "ResignLeadership")
	checkLeader(t, st, t0.Add(12*time.Second), stores.Lease{})
	wantErr(t, st.Nodes().ResignLeadership(ctx, "n1", l.Term), stores.ErrConflict, "second ResignLeadership")
	l2 := acquire(t, st, "n2", t0.Add(12*time.Second), ttl)
	if l2.Term <= l.Term {
		t.Errorf("term after resignation %d, want greater than %d", l2.Term, l.Term)
	}
	// At ExpiresAt the lease is no longer valid.
	checkLeader(t, st, l2.ExpiresAt, stores.Lease{})
	// A holder may resign its expired lease; the term counter stays.
	must(t, st.Nodes().ResignLeadership(ctx, "n2", l2.Term), "ResignLeadership of an expired lease")
	l3 := acquire(t, st, "n1", l2.ExpiresAt.Add(time.Hour), ttl)
	if l3.Term <= l2.Term {
		t.Errorf("term after expiry and resignation %d, want greater than %d", l3.Term, l2.Term)
	}
}

func testExpiredHolderCannotRenew(t T, st *stores.Store) {
	ctx := t.Context()
	ttl := 10 * time.Second
	l := acquire(t, st, "n1", at(0), ttl)
	_, err := st.Nodes().RenewLeadership(ctx, "n1", l.Term, l.ExpiresAt, ttl)
	wantErr(t, err, stores.ErrConflict, "RenewLeadership at ExpiresAt")
	_, err = st.Nodes().RenewLeadership(ctx, "n1", l.Term, l.ExpiresAt.Add(time.Minute), ttl)
	wantErr(t, err, stores.ErrConflict, "RenewLeadership a minute after expiry")
	checkLeader(t, st, l.ExpiresAt, stores.Lease{})
	// Still expired: another node takes it with a greater term.
	l2 := acquire(t, st, "n2", l.ExpiresAt.Add(time.Minute), ttl)
	if l2.Term <= l.Term {
		t.Errorf("term of the next holder %d, want greater than %d", l2.Term, l.Term)
	}
	_, err = st.Nodes().RenewLeadership(ctx, "n1", l.Term, l.ExpiresAt.Add(time.Minute), ttl)
	wantErr(t, err, stores.ErrConflict, "RenewLeadership by the expired holder after another node took over")
	checkLeader(t, st, l2.AcquiredAt, l2)
}

func testOldTermFenced(t T, st *stores.Store) {
	ctx := t.Context()
	ttl := 10 * time.Second
	old := acquire(t, st, "n1", at(0), ttl)
	// n1 stalls past its lease; it acquires again under a new term.
	cur := acquire(t, st, "n1", old.ExpiresAt.Add(time.Second), ttl)
	if cur.Term <= old.Term {
		t.Fatalf("re-acquired term %d, want greater than %d", cur.Term, old.Term)
	}
	now := cur.AcquiredAt.Add(time.Second)
	_, err := st.Nodes().RenewLeadership(ctx, "n1", old.Term, now, ttl)
	wantErr(t, err, stores.ErrConflict, "RenewLeadership with an old term")
	wantErr(t, st.Nodes().ResignLeadership(ctx, "n1", old.Term), stores.ErrConflict, "ResignLeadership with an old term")
	_, err = st.Nodes().RenewLeadership(ctx, "n1", cur.Term+1, now, ttl)
	wantErr(t, err, stores.ErrConflict, "RenewLeadership with a term never issued")
	checkLeader(t, st, now, cur)

	// Another node's newer term is safe from the old holder too.
	must(t, st.Nodes().ResignLeadership(ctx, "n1", cur.Term), "ResignLeadership")
	other := acquire(t, st, "n2", now, ttl)
	_, err = st.Nodes().RenewLeadership(ctx, "n1", cur.Term, now.Add(time.Second), ttl)
	wantErr(t, err, stores.ErrConflict, "RenewLeadership by the previous holder")
	wantErr(t, st.Nodes().ResignLeadership(ctx, "n1", cur.Term), stores.ErrConflict, "ResignLeadership by the previous holder")
	checkLeader(t, st, now.Add(time.Second), other)
}

func testConcurrentAcquire(t T, st *stores.Store) {
	const racers = 16
	ttl := 30 * time.Second
	now := at(time.Hour)
	var last int64
	for cycle := range 6 {
		var fails failures
		leases := make([]stores.Lease, racers)
		won := make([]bool, racers)
		race(racers, &fails, func(i int) {
			l, err := st.Nodes().AcquireLeadership(t.Context(), fmt.Sprintf("node-%02d", i), now, ttl)
			switch {
			case err == nil:
				won[i], leases[i] = true, l
			case !errorsIsConflict(err):
				fails.add("cycle %d: node %d: AcquireLeadership: %v, want nil or ErrConflict", cycle, i, err)
			}
		})
		fails.report(t)
		if n := count(won); n != 1 {
			t.Fatalf("cycle %d: %d nodes acquired a free lease, want exactly 1", cycle, n)
		}
		var l stores.Lease
		for i := range won {
			if won[i] {
				l = leases[i]
			}
		}
		if l.Term <= last {
			t.Errorf("cycle %d: term %d, want greater than the previous %d", cycle, l.Term, last)
		}
		last = l.Term
		checkLeader(t, st, now, l)
		// Alternate how the lease ends: resignation or expiry.
		if cycle%2 == 0 {
			must(t, st.Nodes().ResignLeadership(t.Context(), l.Holder, l.Term), "ResignLeadership")
		} else {
			now = l.ExpiresAt
		}
		now = now.Add(time.Second)
	}
}
