package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/orchestrix/persistence/abstractions/stores"
	"github.com/orchestrix/persistence/tools/internal/cli"
)

// Timing of the cluster scenario, in real time. Leases and heartbeats are
// short so that a crash is detected within the run.
// The lease TTL (--lease) and the dead timeout (--dead-after) are flags:
// renewals and the leader's safety margin are a fifth of the lease.
const (
	clusterNodes   = 3
	heartbeatEvery = 200 * time.Millisecond
	maxOutage      = 30 * time.Second // a store unreachable this long ends the run
	tickEvery      = 50 * time.Millisecond
	// claimersPerNode is how many claims a node's follower side has in
	// flight at once, as a follower's event stream would. One at a time
	// capped a 3-node cluster on PostgreSQL at about 830 claims a second
	// (a commit each), so a 100k-job run never worked off its claims.
	claimersPerNode  = 8
	intervalSchedule = 250 * time.Millisecond
	cronExpression   = "* * * * * *" // every second (6 fields: seconds first)
	cronPeriod       = time.Second
	jobMaxRetries    = 2
)

// Defaults of --lease and --dead-after: well above a server restart
// (PostgreSQL crash recovery takes about a second) and a scheduling hiccup
// on a loaded machine, so only the planned crash makes a member dead.
const (
	DefaultLease     = 2 * time.Second
	DefaultDeadAfter = 5 * time.Second
)

// jobRetryPolicy keeps retries fast so the run drains quickly.
var jobRetryPolicy = stores.RetryPolicy{InitialDelay: 50 * time.Millisecond, Multiplier: 2, MaxDelay: 400 * time.Millisecond}

// termSpan is one leadership term as its holder saw it: [start, end).
type termSpan struct {
	holder     string
	start, end time.Time
	// granted is when the acquire call returned, resigned whether the term
	// ended by resigning (end is then when the resign call began): the
	// acquirer samples its now before the call, so on a loaded machine a
	// lease taken after a resign can carry an AcquiredAt before it.
	granted  time.Time
	resigned bool
}

// ownership is a claim the run is sure a node holds: no release of the
// node overlapped the claim call, and epoch is the count of the node's
// releases begun before it. A release begun later ends the ownership.
// node is the node's number (nodeID), 0 for no owner; eight bytes, as the
// run keeps one per job.
type ownership struct {
	node, epoch int32
}

// cluster is the shared state of one cluster run.
type cluster struct {
	s     *stores.Store
	cfg   Config
	id    string
	queue string
	lat   collector
	// ids numbers the run's jobs: the producer's 0..cfg.Jobs-1, the
	// schedules' from cfg.Jobs on (nextScheduleSeq).
	ids             jobIDs
	nextScheduleSeq atomic.Int64
	rec             *receipts

	cronID, intervalID string

	// stop ends firing and producing; feeders counts the nodes and the
	// producer that have not yet seen stop (or ended), so the drain starts
	// only once nothing can add a job. halt ends every loop.
	stop, halt chan struct{}
	feeders    sync.WaitGroup

	mu       sync.Mutex
	expected *jobSet
	events   []string
	started  time.Time

	// W3 bookkeeping, under mu.
	spans        map[int64]*termSpan
	maxTerm      int64
	fenceBad     int
	fenceMessage string

	// J6 bookkeeping, under mu. owners holds the current owner of each job
	// the run is sure of (jobsOwned counts the jobs that ever had one);
	// relStarted and relDone count the ReleaseFollower calls begun and ended
	// per node. crashedNod holds the nodes no job is offered to: the one
	// crashed on purpose and those found dead, until they rejoin.
	inboxes               map[string]*inbox
	crashedNod            map[string]bool
	owners                *jobSlots[ownership]
	relStarted, relDone   map[string]int
	claimWins, uncertain  int
	handovers, doubleOwns int
	jobsOwned             int
	claimMessage          string

	crashedWorker, crashedNode string
	workerFound, nodeFound     atomic.Bool
	recovered, released        atomic.Int64
	enqueued, finished         atomic.Int64
	fireConflicts              atomic.Int64
	completeConflicts          atomic.Int64
	lostAttempts               atomic.Int64 // ErrConflict/ErrNotFound on a worker's own attempt
	transient                  atomic.Int64 // store errors that went away on retry
}

// inbox holds the jobs one node is asked to claim; the producer never
// blocks on it.
type inbox struct {
	mu   sync.Mutex
	jobs []string
}

func (b *inbox) push(ids ...string) {
	b.mu.Lock()
	b.jobs = append(b.jobs, ids...)
	b.mu.Unlock()
}

func (b *inbox) take(n int) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	n = min(n, len(b.jobs))
	out := append([]string(nil), b.jobs[:n]...)
	// The taken slots would keep their ids alive as long as the array;
	// an emptied inbox lets go of the array itself.
	clear(b.jobs[:n])
	b.jobs = b.jobs[n:]
	if len(b.jobs) == 0 {
		b.jobs = nil
	}
	return out
}

func (c *cluster) event(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.events = append(c.events, fmt.Sprintf("t=%.1fs ", time.Since(c.started).Seconds())+fmt.Sprintf(format, args...))
}

// transient reports whether err may pass by itself (a connection dropped
// while the server restarts): any error but the contract's sentinels and
// the run's own cancellation.
func transient(ctx context.Context, err error) bool {
	if err == nil || ctx.Err() != nil {
		return false
	}
	for _, s := range []error{stores.ErrConflict, stores.ErrNotFound, stores.ErrInvalidArgument, stores.ErrAlreadyExists,
		stores.ErrClosed, stores.ErrNotSupported, context.Canceled, context.DeadlineExceeded} {
		if errors.Is(err, s) {
			return false
		}
	}
	return true
}

// retry runs f again after a transient error, as a scheduler does when its
// store blips: it counts the error, backs off (50ms doubling to 1s) and
// gives up when the store stays unreachable for maxOutage. again says f
// failed transiently at least once, so a write may have been applied
// although its reply was lost: callers reconcile the sentinel a repeat
// then gets.
func (c *cluster) retry(ctx context.Context, f func() error) (again bool, err error) {
	var first time.Time
	wait := 50 * time.Millisecond
	for {
		err = f()
		if !transient(ctx, err) {
			return again, err
		}
		c.transient.Add(1)
		if !again {
			again, first = true, time.Now()
		} else if time.Since(first) > maxOutage {
			return again, fmt.Errorf("store unreachable for %s: %w", time.Since(first).Round(time.Second), err)
		}
		select {
		case <-ctx.Done():
			return again, ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, time.Second)
	}
}

// do is retry for calls whose reply needs no reconciling.
func (c *cluster) do(ctx context.Context, f func() error) error {
	_, err := c.retry(ctx, f)
	return err
}

// retrying is do as a caller for the invariant scans.
func (c *cluster) retrying(ctx context.Context) caller {
	return func(f func() error) error { return c.do(ctx, f) }
}

// lost says a worker's attempt is no longer its own: recovered, moved to
// the dead letters by someone else, or purged.
func lost(err error) bool {
	return errors.Is(err, stores.ErrConflict) || errors.Is(err, stores.ErrNotFound)
}

func (c *cluster) nodeID(i int) string   { return fmt.Sprintf("bench-%s-node-%d", c.id, i) }
func (c *cluster) workerID(i int) string { return fmt.Sprintf("bench-%s-worker-%d", c.id, i) }

// newCluster sets up the shared state of a run, its per-job ledgers
// allocated once for cfg.Jobs jobs.
func newCluster(s *stores.Store, cfg Config) *cluster {
	c := &cluster{s: s, cfg: cfg, id: runID(), stop: make(chan struct{}), halt: make(chan struct{}),
		spans: map[int64]*termSpan{}, relStarted: map[string]int{}, relDone: map[string]int{},
		inboxes: map[string]*inbox{}, crashedNod: map[string]bool{}}
	c.queue = "bench-" + c.id
	c.ids = newJobIDs(c.id, cfg.Jobs+scheduleSlots(cfg.Duration))
	c.nextScheduleSeq.Store(int64(cfg.Jobs))
	c.rec, c.expected, c.owners = newReceipts(c.ids), newJobSet(c.ids), newJobSlots[ownership](c.ids)
	for i := 1; i <= clusterNodes; i++ {
		c.inboxes[c.nodeID(i)] = &inbox{}
	}
	return c
}

// scheduleSlots is how many job numbers a run sets aside for the jobs its
// schedules fire: twice the ticks of both schedules over the run (a firing
// lost to another leader spends numbers too), so their bookkeeping is
// allocated up front like the producer's. Beyond it, schedule jobs get
// random ids, kept in the ledgers' maps.
func scheduleSlots(d time.Duration) int {
	return int(2*(d/cronPeriod+d/intervalSchedule)) + 64
}

// misfireLimit is how many missed ticks a late firing fires: every tick
// of the faster schedule over the run.
func (c *cluster) misfireLimit() int { return int(c.cfg.Duration/intervalSchedule) + 1 }

// scheduleJobID returns the id of the next job a schedule fires.
func (c *cluster) scheduleJobID() string {
	if seq := c.nextScheduleSeq.Add(1) - 1; seq < int64(c.ids.n) {
		return c.ids.id(int(seq))
	}
	return stores.NewID()
}

// runCluster runs the cluster scenario for cfg.Duration, drains, and checks
// the invariants.
func runCluster(ctx context.Context, env cli.Env, cfg Config, s *stores.Store) (*Result, error) {
	c := newCluster(s, cfg)
	r := &Result{Scenario: "cluster", Jobs: cfg.Jobs}

	if err := c.registerSchedules(ctx); err != nil {
		return nil, err
	}

	stopMemory := sampleMemory(memoryEvery)
	c.started = time.Now()
	g, gctx := newGroup(ctx)
	nodeCrash := make([]atomic.Bool, clusterNodes+1)
	workerCrash := make([]atomic.Bool, cfg.Workers+1)
	leaders := make([]atomic.Int64, clusterNodes+1) // the term each node holds, 0 when none
	joined := make([]chan struct{}, clusterNodes+1) // closed by each node's first heartbeat
	for i := range joined {
		joined[i] = make(chan struct{})
	}
	c.feeders.Add(clusterNodes + 1)
	for i := 1; i <= clusterNodes; i++ {
		g.go_(func() error { return c.runNode(gctx, i, &nodeCrash[i], &leaders[i], joined[i]) })
		for range claimersPerNode {
			g.go_(func() error { return c.runFollower(gctx, i, &nodeCrash[i], joined[i]) })
		}
	}
	for i := 1; i <= cfg.Workers; i++ {
		g.go_(func() error { return c.runWorker(gctx, i, &workerCrash[i]) })
	}
	var produceTime time.Duration
	g.go_(func() error {
		defer c.feeders.Done()
		start := time.Now()
		err := c.produce(gctx)
		produceTime = time.Since(start)
		return err
	})

	// The conductor: crash the leader and worker 1 at 40% of the run,
	// stop firing and producing at the end, drain, then halt everything.
	bar := newProgress(env.Stderr, cfg.Progress, int(cfg.Duration/(100*time.Millisecond)), "cluster")
	crashAt := time.After(cfg.Duration * 4 / 10)
	end := time.After(cfg.Duration)
	tick := time.NewTicker(100 * time.Millisecond)
	var drainErr error
conduct:
	for {
		select {
		case <-gctx.Done():
			break conduct
		case <-tick.C:
			bar.add(1)
		case <-crashAt:
			crashed := 0
			for i := 1; i <= clusterNodes; i++ {
				if term := leaders[i].Load(); term > 0 {
					crashed = i
					c.event("crash: leader %s (term %d) stops renewing and heartbeating", c.nodeID(i), term)
					break
				}
			}
			if crashed == 0 {
				crashed = 1
				c.event("crash: no leader at crash time; %s stops heartbeating", c.nodeID(1))
			}
			c.mu.Lock()
			c.crashedNode, c.crashedWorker = c.nodeID(crashed), c.workerID(1)
			c.crashedNod[c.crashedNode] = true
			c.mu.Unlock()
			nodeCrash[crashed].Store(true)
			workerCrash[1].Store(true)
		case <-end:
			break conduct
		}
	}
	tick.Stop()
	bar.finish()
	// Shutdown order: stop firing and producing, wait until every node and
	// the producer has seen it (a firing or a batch under way when stop
	// closed is then committed and announced), and only then drain.
	close(c.stop)
	fed := make(chan struct{})
	go func() { c.feeders.Wait(); close(fed) }()
	select {
	case <-fed:
		drainErr = c.drain(gctx)
	case <-gctx.Done():
	}
	close(c.halt)
	err := g.wait()
	total := time.Since(c.started)
	r.Memory = stopMemory()
	if cfg.HeapProfile != nil {
		cfg.HeapProfile()
	}
	if err == nil {
		err = drainErr
	}
	if err != nil {
		return nil, err
	}
	c.shutdown(ctx)

	r.Jobs = int(c.enqueued.Load())
	r.InsertSeconds, r.WorkSeconds, r.Seconds = produceTime.Seconds(), total.Seconds(), total.Seconds()
	if produceTime > 0 {
		r.InsertJobsPerSec = float64(c.enqueued.Load()) / produceTime.Seconds()
	}
	r.WorkJobsPerSec = float64(c.finished.Load()) / total.Seconds()
	r.Ops = c.lat.summary()
	inv, err := c.invariants(ctx)
	if err != nil {
		return nil, err
	}
	r.Invariants = inv
	c.mu.Lock()
	r.Events = append(r.Events, c.events...)
	c.mu.Unlock()
	r.TransientErrors = int(c.transient.Load())
	r.Events = append(r.Events, fmt.Sprintf("fire conflicts (lost races, expected): %d; complete conflicts (recovered jobs): %d; attempts lost to recovery or a dead letter: %d; transient store errors retried: %d",
		c.fireConflicts.Load(), c.completeConflicts.Load(), c.lostAttempts.Load(), c.transient.Load()))
	return r, nil
}

// registerSchedules creates the run's cron and interval schedules. fire_all
// makes a failover fire every tick it missed, so ticks have no gap. Its
// bound is every tick of the run: the default (100) drops the older ticks
// of a stall longer than 25s of the interval schedule, as S5 allows, and a
// 1M-job Redis soak on an overloaded machine had a 78s stretch of
// leadership changes without a firing.
func (c *cluster) registerSchedules(ctx context.Context) error {
	limit := c.misfireLimit()
	cron, err := c.s.Cron().Register(ctx, &stores.CronSchedule{
		ScheduleFields: stores.ScheduleFields{Name: "bench-" + c.id + "-cron", JobType: "bench.cron", Queue: c.queue,
			Enabled: true, Misfire: stores.MisfireFireAll, MisfireLimit: limit},
		Expression: cronExpression, TimeZone: "UTC"})
	if err != nil {
		return fmt.Errorf("register the cron schedule: %w", err)
	}
	iv, err := c.s.Intervals().Register(ctx, &stores.IntervalSchedule{
		ScheduleFields: stores.ScheduleFields{Name: "bench-" + c.id + "-interval", JobType: "bench.interval", Queue: c.queue,
			Enabled: true, Misfire: stores.MisfireFireAll, MisfireLimit: limit},
		Interval: intervalSchedule})
	if err != nil {
		return fmt.Errorf("register the interval schedule: %w", err)
	}
	c.cronID, c.intervalID = cron.ID, iv.ID
	return nil
}

// announce records enqueued jobs as expected and asks every live node to
// race for them (J6).
func (c *cluster) announce(ids []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, id := range ids {
		c.expected.add(id)
	}
	c.offerLocked(ids)
}

// offerLocked asks every node that has not crashed to race for the jobs.
// c.mu must be held.
func (c *cluster) offerLocked(ids []string) {
	for node, in := range c.inboxes {
		if !c.crashedNod[node] {
			in.push(ids...)
		}
	}
}

// produce enqueues cfg.Jobs jobs spread over the first 80% of the run.
func (c *cluster) produce(ctx context.Context) error {
	l := latencies{}
	defer c.lat.merge(l)
	batch := min(c.cfg.Batch, 50)
	batches := (c.cfg.Jobs + batch - 1) / batch
	every := c.cfg.Duration * 8 / 10 / time.Duration(batches)
	next := time.Now()
	for n := 0; n < c.cfg.Jobs; n += batch {
		select {
		case <-ctx.Done():
			return nil
		case <-c.stop:
			return nil
		case <-time.After(time.Until(next)):
		}
		next = next.Add(every)
		jobs := make([]*stores.Job, 0, batch)
		ids := make([]string, 0, batch)
		for i := n; i < min(n+batch, c.cfg.Jobs); i++ {
			j := &stores.Job{ID: c.ids.id(i), Type: "bench.cluster", Queue: c.queue, Args: []byte(`{"n":` + strconv.Itoa(i) + `}`),
				MaxRetries: jobMaxRetries, RetryPolicy: jobRetryPolicy}
			jobs = append(jobs, j)
			ids = append(ids, j.ID)
		}
		again, err := c.retry(ctx, func() error { return l.time(opEnqueueBatch, func() error { return c.s.Jobs().EnqueueMany(ctx, jobs) }) })
		if err != nil && !(again && errors.Is(err, stores.ErrAlreadyExists)) {
			// ErrAlreadyExists after a lost reply: the ids are the run's
			// own, so the batch (all or nothing) is the one this call
			// stored.
			return fmt.Errorf("enqueue a batch of %d jobs: %w", len(jobs), err)
		}
		c.enqueued.Add(int64(len(jobs)))
		c.announce(ids)
	}
	return nil
}

// runNode is one coordinator: heartbeat, leadership lease and leader
// duties while it holds a valid lease (its follower side is runFollower).
func (c *cluster) runNode(ctx context.Context, i int, crashed *atomic.Bool, holding *atomic.Int64, joined chan struct{}) error {
	l := latencies{}
	defer c.lat.merge(l)
	id := c.nodeID(i)
	node := &stores.CoordinatorNode{ID: id, HostName: "bench", ProcessID: i, Metadata: json.RawMessage(`{"bench":true}`)}
	leaseTTL, renewEvery := c.cfg.Lease, c.cfg.Lease/5
	leaderMargin := c.cfg.Lease / 5 // a leader stops acting this long before its lease ends
	var term int64
	var expires, lastBeat, lastRenew time.Time
	// firing is true until this node has seen stop: from then on it never
	// fires again, and the drain may start once every node got there.
	firing := true
	defer func() {
		if firing {
			c.feeders.Done()
		}
	}()
	t := time.NewTicker(tickEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-c.halt:
			if term > 0 {
				c.resign(ctx, id, term)
				holding.Store(0)
			}
			return nil
		case <-t.C:
		}
		if crashed.Load() {
			return nil // a crashed node does nothing more: no renew, no resign
		}
		if firing {
			select {
			case <-c.stop:
				firing = false
				c.feeders.Done()
			default:
			}
		}
		now := time.Now()
		if now.Sub(lastBeat) >= heartbeatEvery {
			var hb stores.Heartbeat
			if err := c.do(ctx, func() error {
				return l.time(opHeartbeat, func() (err error) { hb, err = c.s.Nodes().Heartbeat(ctx, node, time.Now()); return err })
			}); err != nil {
				return fmt.Errorf("node %s heartbeat: %w", id, err)
			}
			if hb.WasOffline {
				c.event("%s learned from its heartbeat that it had been declared dead; it rejoins", id)
				c.rejoin(id)
			}
			if lastBeat.IsZero() {
				close(joined)
			}
			lastBeat = now
		}

		// Leadership (W3).
		switch {
		case term > 0 && now.Sub(lastRenew) >= renewEvery:
			var lease stores.Lease
			err := c.do(ctx, func() error {
				return l.time(opLease, func() (err error) {
					now = time.Now()
					lease, err = c.s.Nodes().RenewLeadership(ctx, id, term, now, leaseTTL)
					return err
				})
			})
			switch {
			case err == nil:
				expires, lastRenew = lease.ExpiresAt, now
				c.extendSpan(term, lease.ExpiresAt)
			case errors.Is(err, stores.ErrConflict):
				c.event("%s lost term %d (renewal refused)", id, term)
				term = 0
				holding.Store(0)
				_ = c.do(ctx, func() error { return c.s.Nodes().SetRole(ctx, id, stores.RoleFollower) })
			default:
				return fmt.Errorf("node %s renew term %d: %w", id, term, err)
			}
		case term == 0:
			var lease stores.Lease
			// A repeat after a lost reply is safe: acquiring is idempotent
			// for the holder (W3).
			err := c.do(ctx, func() error {
				return l.time(opLease, func() (err error) {
					now = time.Now()
					lease, err = c.s.Nodes().AcquireLeadership(ctx, id, now, leaseTTL)
					return err
				})
			})
			switch {
			case err == nil && lease.Holder == id:
				term, expires, lastRenew = lease.Term, lease.ExpiresAt, now
				holding.Store(term)
				c.acquired(id, lease)
				if err := c.do(ctx, func() error { return c.s.Nodes().SetRole(ctx, id, stores.RoleLeader) }); err != nil {
					return fmt.Errorf("node %s set role: %w", id, err)
				}
			case err == nil:
				return fmt.Errorf("node %s acquired a lease held by %s", id, lease.Holder)
			case errors.Is(err, stores.ErrConflict):
			default:
				return fmt.Errorf("node %s acquire leadership: %w", id, err)
			}
		}
		if term > 0 && time.Now().Before(expires.Add(-leaderMargin)) {
			if err := c.lead(ctx, l, id, firing); err != nil {
				return err
			}
		}
	}
}

// runFollower is a node's follower side: it races for the jobs offered to
// the node (J6). It runs apart from the node's heartbeat and lease loop, as
// a scheduler's follower stream does, so a long run of claims never holds
// up a lease renewal (W3): on 2 busy cores 200 claims in a row outlasted
// the 2s lease and leadership changed hands every few seconds.
func (c *cluster) runFollower(ctx context.Context, i int, crashed *atomic.Bool, joined chan struct{}) error {
	l := latencies{}
	defer c.lat.merge(l)
	select { // the node's job count exists once it has registered
	case <-joined:
	case <-ctx.Done():
		return nil
	case <-c.halt:
		return nil
	}
	for {
		if crashed.Load() {
			return nil // a crashed node claims no more
		}
		n, err := c.follow(ctx, l, i)
		if err != nil {
			return err
		}
		wait := tickEvery
		if n > 0 {
			wait = 0 // more may be queued
		}
		select {
		case <-ctx.Done():
			return nil
		case <-c.halt:
			return nil
		case <-time.After(wait):
		}
	}
}

// rejoin takes a live node that was declared dead back into the claim
// races: its heartbeat made it active again (W1). Without it, a run whose
// live nodes were all once declared dead offered no job to anyone again
// (a 1M-job soak on PostgreSQL stopped exercising J6 at 47%).
func (c *cluster) rejoin(node string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if node != c.crashedNode { // the planned crash may land during its last heartbeat
		delete(c.crashedNod, node)
	}
}

// acquired records a new term: it must exceed every term seen before (the
// fencing token only grows), and its span starts.
func (c *cluster) acquired(node string, lease stores.Lease) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, again := c.spans[lease.Term]; again {
		return // the holder got its own lease back (W3)
	}
	if lease.Term <= c.maxTerm {
		c.fenceBad++
		if c.fenceMessage == "" {
			c.fenceMessage = fmt.Sprintf("%s acquired term %d after term %d had been issued", node, lease.Term, c.maxTerm)
		}
	}
	c.maxTerm = max(c.maxTerm, lease.Term)
	c.spans[lease.Term] = &termSpan{holder: node, start: lease.AcquiredAt, end: lease.ExpiresAt, granted: time.Now()}
	c.events = append(c.events, fmt.Sprintf("t=%.1fs %s leads, term %d", time.Since(c.started).Seconds(), node, lease.Term))
}

func (c *cluster) extendSpan(term int64, end time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if sp := c.spans[term]; sp != nil && end.After(sp.end) {
		sp.end = end
	}
}

// resign ends a term; its span ends now, before the lease is freed.
func (c *cluster) resign(ctx context.Context, node string, term int64) {
	now := time.Now()
	c.mu.Lock()
	if sp := c.spans[term]; sp != nil && now.Before(sp.end) {
		sp.end, sp.resigned = now, true
	}
	c.mu.Unlock()
	ctx = context.WithoutCancel(ctx)
	_ = c.do(ctx, func() error { return c.s.Nodes().ResignLeadership(ctx, node, term) })
	_ = c.do(ctx, func() error { return c.s.Nodes().SetRole(ctx, node, stores.RoleFollower) })
}

// lead is one round of leader duties: fire due schedules (S3), reap dead
// workers and nodes and recover their jobs (J8, J6).
// Firing stops once the node has seen stop; reaping goes on while draining.
func (c *cluster) lead(ctx context.Context, l latencies, node string, firing bool) error {
	deadAfter := c.cfg.DeadAfter
	if firing {
		if err := fireDue(ctx, c, l, c.s.Cron(), c.cronID); err != nil {
			return err
		}
		if err := fireDue(ctx, c, l, c.s.Intervals(), c.intervalID); err != nil {
			return err
		}
	}
	now := time.Now()
	var deadWorkers []*stores.Worker
	if err := c.do(ctx, func() (err error) { deadWorkers, err = c.s.Workers().Dead(ctx, now, deadAfter); return err }); err != nil {
		return fmt.Errorf("leader %s: dead workers: %w", node, err)
	}
	var ours []string
	for _, w := range deadWorkers {
		if strings.HasPrefix(w.ID, "bench-"+c.id+"-") {
			ours = append(ours, w.ID)
		}
	}
	var res stores.RecoverResult
	// DispatchLease also requeues a dispatch whose reply a worker lost in
	// a store outage: no worker knows of it, so it would stay dispatched.
	if err := c.do(ctx, func() error {
		return l.time(opRecover, func() (err error) {
			res, err = c.s.Jobs().Recover(ctx, stores.RecoverParams{Now: now, DeadWorkers: ours, DispatchLease: deadAfter, Limit: 1000})
			return err
		})
	}); err != nil {
		return fmt.Errorf("leader %s: recover: %w", node, err)
	}
	n := len(res.Requeued) + len(res.TimedOut)
	c.recovered.Add(int64(n))
	c.finished.Add(int64(len(res.TimedOut)))
	for _, w := range ours {
		if err := c.do(ctx, func() error { return c.s.Workers().MarkOffline(ctx, w) }); err != nil && !errors.Is(err, stores.ErrNotFound) {
			return fmt.Errorf("leader %s: mark worker %s offline: %w", node, w, err)
		}
		c.mu.Lock()
		crashed := w == c.crashedWorker
		c.mu.Unlock()
		if crashed {
			c.workerFound.Store(true)
		}
		c.event("leader %s found worker %s dead, recovered %d jobs (%d requeued, %d timed out)", node, w, n, len(res.Requeued), len(res.TimedOut))
	}

	var deadNodes []*stores.CoordinatorNode
	if err := c.do(ctx, func() (err error) { deadNodes, err = c.s.Nodes().Dead(ctx, now, deadAfter); return err }); err != nil {
		return fmt.Errorf("leader %s: dead nodes: %w", node, err)
	}
	for _, d := range deadNodes {
		if !strings.HasPrefix(d.ID, "bench-"+c.id+"-") {
			continue
		}
		var owned []*stores.Job
		if err := c.do(ctx, func() (err error) { owned, err = c.s.Jobs().ByFollower(ctx, d.ID, stores.MaxLimit); return err }); err != nil {
			return fmt.Errorf("leader %s: jobs of node %s: %w", node, d.ID, err)
		}
		// The release is a new ownership epoch for d's jobs: claims of d
		// that overlap it are no longer sure, later claims by others are
		// handovers, not second owners (J6).
		c.mu.Lock()
		c.relStarted[d.ID]++
		c.mu.Unlock()
		var released int
		err := c.do(ctx, func() (err error) { released, err = c.s.Jobs().ReleaseFollower(ctx, d.ID); return err })
		c.mu.Lock()
		c.relDone[d.ID]++
		c.mu.Unlock()
		if err != nil {
			return fmt.Errorf("leader %s: release node %s: %w", node, d.ID, err)
		}
		if err := c.do(ctx, func() error { return c.s.Nodes().MarkOffline(ctx, d.ID) }); err != nil {
			return fmt.Errorf("leader %s: mark node %s offline: %w", node, d.ID, err)
		}
		if err := c.do(ctx, func() error { return c.s.Nodes().SetRole(ctx, d.ID, stores.RoleFollower) }); err != nil {
			return fmt.Errorf("leader %s: demote node %s: %w", node, d.ID, err)
		}
		c.released.Add(int64(released))
		ids := make([]string, len(owned))
		for i, j := range owned {
			ids[i] = j.ID
		}
		c.mu.Lock()
		if d.ID == c.crashedNode {
			c.nodeFound.Store(true)
		}
		c.crashedNod[d.ID] = true
		c.offerLocked(ids)
		c.mu.Unlock()
		c.event("leader %s found node %s dead, released %d follower jobs to the survivors", node, d.ID, released)
	}
	return nil
}

// fireDue fires the run's schedule when due: NewFiring plans the ticks
// under the misfire policy, Fire enqueues and advances atomically (S3).
func fireDue[S stores.Schedule](ctx context.Context, c *cluster, l latencies, st stores.ScheduleStore[S], id string) error {
	now := time.Now()
	var sch S
	if err := c.do(ctx, func() (err error) { sch, err = st.Get(ctx, id); return err }); err != nil {
		return fmt.Errorf("get schedule %s: %w", id, err)
	}
	f := sch.Fields()
	if !f.Enabled || f.NextRun.After(now) {
		return nil
	}
	firing, err := stores.NewFiring(sch, now)
	if err != nil {
		return fmt.Errorf("plan firing of schedule %s: %w", f.Name, err)
	}
	ids := make([]string, len(firing.Jobs))
	for i, j := range firing.Jobs {
		j.ID = c.scheduleJobID()
		j.MaxRetries, j.RetryPolicy = jobMaxRetries, jobRetryPolicy
		ids[i] = j.ID
	}
	again, err := c.retry(ctx, func() error { return l.time(opFire, func() error { return st.Fire(ctx, firing) }) })
	if again && errors.Is(err, stores.ErrConflict) {
		// The reply was lost: the firing may be ours. Fire is all or
		// nothing, and its job ids are used once, so one of them tells.
		var j *stores.Job
		gerr := c.do(ctx, func() (err error) { j, err = c.s.Jobs().Get(ctx, ids[0]); return err })
		switch {
		case gerr == nil && j.ScheduleID == id:
			err = nil
		case gerr != nil && !errors.Is(gerr, stores.ErrNotFound):
			return fmt.Errorf("fire schedule %s: look up job %s after a lost reply: %w", f.Name, ids[0], gerr)
		}
	}
	switch {
	case err == nil:
		c.enqueued.Add(int64(len(ids)))
		c.announce(ids)
	case errors.Is(err, stores.ErrConflict):
		c.fireConflicts.Add(1)
	default:
		return fmt.Errorf("fire schedule %s: %w", f.Name, err)
	}
	return nil
}

// follow races for up to 200 jobs offered to node number i (J6) and adds
// the ones it won to the node's job count (W2) in one call. It returns how
// many jobs it tried.
func (c *cluster) follow(ctx context.Context, l latencies, i int) (int, error) {
	node := c.nodeID(i)
	jobs := c.inboxes[node].take(200)
	won := 0
	for _, job := range jobs {
		c.mu.Lock()
		epoch, clean := c.relStarted[node], c.relStarted[node] == c.relDone[node]
		c.mu.Unlock()
		// A repeat after a lost reply is safe: claiming a job the node
		// owns succeeds (J6).
		err := c.do(ctx, func() error {
			return l.time(opClaim, func() error { return c.s.Jobs().ClaimForFollower(ctx, job, node) })
		})
		switch {
		case err == nil:
			c.claimed(job, i, epoch, clean)
			won++
		case errors.Is(err, stores.ErrConflict), errors.Is(err, stores.ErrNotFound):
			// Another node won, or the job left the live set.
		default:
			return 0, fmt.Errorf("node %s claim job %s: %w", node, job, err)
		}
	}
	if won > 0 {
		if err := c.do(ctx, func() error { _, err := c.s.Nodes().AdjustJobCount(ctx, node, won); return err }); err != nil {
			return 0, fmt.Errorf("node %s adjust job count: %w", node, err)
		}
	}
	return len(jobs), nil
}

// claimed records a successful claim of job by node number i, begun when
// epoch releases of the node had begun and (clean) all had ended. At most
// one node may own a job at a time (J6): the claim is a second owner when
// the job's recorded owner is another node none of whose releases began
// since its claim. A claim overlapping a release of its own node may
// already be gone, so it is counted but never recorded as an owner.
func (c *cluster) claimed(job string, i, epoch int, clean bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	node := c.nodeID(i)
	c.claimWins++
	if !clean || c.relStarted[node] != epoch {
		c.uncertain++
		return
	}
	switch o := c.owners.get(job); {
	case o.node == 0:
		c.jobsOwned++
	case int(o.node) != i:
		owner := c.nodeID(int(o.node))
		if c.relStarted[owner] != int(o.epoch) {
			c.handovers++ // the owner was released: a new ownership epoch
		} else {
			c.doubleOwns++
			if c.claimMessage == "" {
				c.claimMessage = fmt.Sprintf("%s claimed job %s while %s owned it (no release of %s in between)", node, job, owner, owner)
			}
		}
	}
	c.owners.set(job, ownership{node: int32(i), epoch: int32(epoch)})
}

// errCrashed ends a worker that crashed on purpose.
var errCrashed = errors.New("crashed")

// planned says how a job behaves: poison jobs fail every attempt and end as
// dead letters; flaky ones fail their first attempt only.
func planned(j *stores.Job) (fail bool) {
	var a struct{ N *int }
	if json.Unmarshal(j.Args, &a) != nil || a.N == nil {
		return false // schedule jobs always succeed
	}
	switch *a.N % 20 {
	case 0:
		return true
	case 1, 2, 3:
		return j.RetryCount == 0
	}
	return false
}

// runWorker is one worker: heartbeat, dispatch, run, fail or complete.
func (c *cluster) runWorker(ctx context.Context, i int, crashed *atomic.Bool) error {
	l := latencies{}
	defer c.lat.merge(l)
	id := c.workerID(i)
	w := &stores.Worker{ID: id, HostName: "bench", Queues: []string{c.queue}, MaxConcurrency: c.cfg.Batch}
	var lastBeat, crashSeen time.Time
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-c.halt:
			return nil
		default:
		}
		now := time.Now()
		if crashed.Load() {
			// A crashed worker beats no more. It crashes for good with its
			// next batch running (so the leader has jobs to recover), or
			// without one after a window that ends well before the leader
			// can find it dead: a batch started after the leader's Recover
			// would be left running with nobody to recover it.
			if crashSeen.IsZero() {
				crashSeen = now
			}
			window := min(500*time.Millisecond, (c.cfg.DeadAfter-heartbeatEvery)/2)
			if now.Sub(crashSeen) > window || c.workerFound.Load() {
				c.event("crash: %s stopped while idle", id)
				return nil
			}
		} else if now.Sub(lastBeat) >= heartbeatEvery {
			var hb stores.Heartbeat
			if err := c.do(ctx, func() error {
				return l.time(opHeartbeat, func() (err error) { hb, err = c.s.Workers().Heartbeat(ctx, w, time.Now()); return err })
			}); err != nil {
				return fmt.Errorf("worker %s heartbeat: %w", id, err)
			}
			if hb.WasOffline {
				c.event("%s learned from its heartbeat that it had been declared dead", id)
			}
			lastBeat = now
		}
		var got []*stores.Job
		// A dispatch whose reply was lost stays dispatched to this worker
		// until the leader's DispatchLease requeues it.
		if err := c.do(ctx, func() error {
			return l.time(opDispatch, func() (err error) {
				got, err = c.s.Jobs().Dispatch(ctx, stores.DispatchParams{Queues: []string{c.queue}, Limit: min(c.cfg.Batch, 20), Now: time.Now(), WorkerID: id})
				return err
			})
		}); err != nil {
			return fmt.Errorf("worker %s dispatch: %w", id, err)
		}
		if len(got) == 0 {
			select {
			case <-time.After(20 * time.Millisecond):
			case <-c.halt:
			}
			continue
		}
		c.rec.record(got)
		if err := c.work(ctx, l, id, got, crashed); errors.Is(err, errCrashed) {
			return nil
		} else if err != nil {
			return err
		}
	}
}

// work runs one dispatched batch.
func (c *cluster) work(ctx context.Context, l latencies, worker string, got []*stores.Job, crashed *atomic.Bool) error {
	started := time.Now()
	refs := make([]stores.Ref, len(got))
	for i, j := range got {
		refs[i] = j.Ref()
	}
	var marked []error
	again, err := c.retry(ctx, func() error {
		return l.time(opMarkRunning, func() (err error) { marked, err = c.s.Jobs().MarkRunningMany(ctx, refs, worker, started); return err })
	})
	if err != nil {
		return fmt.Errorf("worker %s mark %d jobs running: %w", worker, len(refs), err)
	}
	running := got[:0:0]
	for i, e := range marked {
		if again && errors.Is(e, stores.ErrConflict) {
			// The reply was lost: the job may be running by this very call.
			// Only this worker marks its own attempt running, so running
			// with this worker and attempt means this call did it (stores
			// may round StartedAt, so it is not compared).
			var j *stores.Job
			if gerr := c.do(ctx, func() (err error) { j, err = c.s.Jobs().Get(ctx, refs[i].ID); return err }); gerr == nil &&
				j.Status == stores.StatusRunning && j.WorkerID == worker && j.Attempt == refs[i].Attempt {
				e = nil
			} else if gerr != nil && !errors.Is(gerr, stores.ErrNotFound) {
				return fmt.Errorf("worker %s look up job %s after a lost reply: %w", worker, refs[i].ID, gerr)
			}
		}
		switch {
		case e == nil:
			running = append(running, got[i])
		case lost(e):
			// Recovered while it waited, dead-lettered or purged: the
			// attempt is no longer ours.
			c.lostAttempts.Add(1)
		default:
			return fmt.Errorf("worker %s mark job %s running: %w", worker, got[i].ID, e)
		}
	}
	if crashed.Load() {
		c.event("crash: %s stops with %d jobs running", worker, len(running))
		return errCrashed // the leader must recover the batch
	}
	finished := time.Now()
	refs = refs[:0]
	var entries []*stores.LogEntry
	var rows []*stores.JobHistory
	for _, j := range running {
		status, errMsg := stores.StatusCompleted, ""
		if planned(j) {
			status, errMsg = stores.StatusFailed, "bench: planned failure"
			var retried bool
			// After a lost reply a repeat gets ErrConflict: the job was
			// retried or failed by this call, or recovered; either way it is
			// no longer this worker's.
			err := c.do(ctx, func() error {
				return l.time(opRetry, func() (err error) { _, retried, err = c.s.Jobs().Retry(ctx, j.Ref(), errMsg, finished); return err })
			})
			switch {
			case lost(err):
				c.lostAttempts.Add(1)
				continue
			case err != nil:
				return fmt.Errorf("worker %s retry job %s: %w", worker, j.ID, err)
			case !retried:
				err := c.do(ctx, func() error {
					return l.time(opDeadLetter, func() error {
						_, err := c.s.Jobs().MoveToDeadLetter(ctx, j.Ref(), "bench: no retries left", finished)
						return err
					})
				})
				switch {
				case lost(err):
					c.lostAttempts.Add(1)
					continue
				case err != nil:
					return fmt.Errorf("worker %s dead-letter job %s: %w", worker, j.ID, err)
				}
				c.finished.Add(1)
			}
		} else {
			refs = append(refs, j.Ref())
		}
		if !c.cfg.Lean {
			entries = append(entries, &stores.LogEntry{JobID: j.ID, Timestamp: finished, Level: "info", Message: "bench job ran on " + worker, Exception: errMsg})
			rows = append(rows, &stores.JobHistory{JobID: j.ID, Attempt: int(j.Attempt), WorkerID: worker, StartedAt: started,
				CompletedAt: finished, Status: status, Error: errMsg, Duration: finished.Sub(started)})
		}
	}
	if len(rows) > 0 {
		again, err := c.retry(ctx, func() error {
			return l.time(opHistoryAppend, func() error { return c.s.History().AppendMany(ctx, rows) })
		})
		if err != nil && !(again && errors.Is(err, stores.ErrAlreadyExists)) { // stored by the call whose reply was lost
			return fmt.Errorf("worker %s append %d history rows: %w", worker, len(rows), err)
		}
	}
	if len(entries) > 0 {
		again, err := c.retry(ctx, func() error { return l.time(opLogAppend, func() error { return c.s.Logs().Append(ctx, entries) }) })
		if err != nil && !(again && errors.Is(err, stores.ErrAlreadyExists)) {
			return fmt.Errorf("worker %s append %d log lines: %w", worker, len(entries), err)
		}
	}
	if len(refs) > 0 {
		var results []error
		// After a lost reply a repeat gets ErrConflict for jobs that call
		// completed: counted as conflicts, the store holds them completed.
		if err := c.do(ctx, func() error {
			return l.time(opCompleteBatch, func() (err error) { results, err = c.s.Jobs().CompleteMany(ctx, refs, time.Now()); return err })
		}); err != nil {
			return fmt.Errorf("worker %s complete %d jobs: %w", worker, len(refs), err)
		}
		for i, e := range results {
			switch {
			case e == nil:
				c.finished.Add(1)
			case lost(e):
				c.completeConflicts.Add(1)
			default:
				return fmt.Errorf("worker %s complete job %s: %w", worker, refs[i].ID, e)
			}
		}
	}
	return nil
}

// drain waits until no job of the run is pending or in flight, bounded by
// the larger of 30s and the run's duration.
func (c *cluster) drain(ctx context.Context) error {
	start := time.Now()
	deadline := start.Add(max(30*time.Second, c.cfg.Duration))
	// queuedAtEnd is the claim backlog when the run ended: with the drain's
	// length it says whether the cluster kept up with the producer.
	queuedAtEnd := -1
	for time.Now().Before(deadline) {
		var page stores.JobPage
		if err := c.do(ctx, func() (err error) {
			page, err = c.s.Jobs().Query(ctx, stores.JobQuery{Queues: []string{c.queue},
				Statuses: []stores.JobStatus{stores.StatusPending, stores.StatusDispatched, stores.StatusRunning}, Limit: 1})
			return err
		}); err != nil {
			return fmt.Errorf("drain: %w", err)
		}
		c.mu.Lock()
		pendingClaims := 0
		for node, in := range c.inboxes {
			if !c.crashedNod[node] {
				in.mu.Lock()
				pendingClaims += len(in.jobs)
				in.mu.Unlock()
			}
		}
		c.mu.Unlock()
		if queuedAtEnd < 0 {
			queuedAtEnd = pendingClaims
		}
		if len(page.Jobs) == 0 && pendingClaims == 0 && c.workerFound.Load() && c.nodeFound.Load() {
			c.event("drain: done in %.1fs (claim requests queued when the run ended: %d)", time.Since(start).Seconds(), queuedAtEnd)
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	c.event("drain: gave up after %.0fs (claim requests queued when the run ended: %d); the invariants below show what was left",
		time.Since(start).Seconds(), queuedAtEnd)
	return nil
}

// shutdown marks the run's members offline and disables its schedules, so
// a real cluster on the same store never waits for them.
func (c *cluster) shutdown(ctx context.Context) {
	for i := 1; i <= clusterNodes; i++ {
		_ = c.s.Nodes().MarkOffline(ctx, c.nodeID(i))
	}
	for i := 1; i <= c.cfg.Workers; i++ {
		_ = c.s.Workers().MarkOffline(ctx, c.workerID(i))
	}
	_ = c.s.Cron().SetEnabled(ctx, c.cronID, false)
	_ = c.s.Intervals().SetEnabled(ctx, c.intervalID, false)
}

// invariants checks what the store holds and what the run observed. It
// reads the store a page at a time: the run's jobs and dead letters are
// never all in memory.
func (c *cluster) invariants(ctx context.Context) (map[string]Invariant, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	terminal := newTerminalCheck(c.expected, false)
	ticks := map[string][]time.Time{}
	tick := func(j *stores.Job) {
		if j.ScheduleID == c.cronID || j.ScheduleID == c.intervalID {
			ticks[j.ScheduleID] = append(ticks[j.ScheduleID], j.ScheduleTick)
		}
	}
	stale := 0
	if err := scanQueueJobs(ctx, c.s, c.retrying(ctx), c.queue, func(j *stores.Job) {
		terminal.job(j)
		tick(j)
		if c.crashedNode != "" && j.FollowerNodeID == c.crashedNode {
			stale++
		}
	}); err != nil {
		return nil, err
	}
	if err := scanQueueDeadLetters(ctx, c.s, c.retrying(ctx), c.queue, func(d *stores.DeadLetter) {
		terminal.deadLetter(d)
		tick(&d.Job)
	}); err != nil {
		return nil, err
	}
	inv := map[string]Invariant{
		"terminal_once":     terminal.result(),
		"dispatch_once":     c.rec.invariant(),
		"schedule_ticks":    c.checkTicks(ticks),
		"fencing_monotonic": {OK: c.fenceBad == 0 && len(c.spans) > 0, Counts: map[string]int{"terms": len(c.spans), "violations": c.fenceBad}, Message: c.fenceMessage},
		"leases_disjoint":   c.checkSpans(),
		"claim_exclusive":   c.checkClaims(),
	}
	if len(c.spans) == 0 {
		inv["fencing_monotonic"] = Invariant{Counts: map[string]int{"terms": 0}, Message: "no node ever acquired the lease"}
	}
	cr := Invariant{Counts: map[string]int{"worker_found_dead": b2i(c.workerFound.Load()), "node_found_dead": b2i(c.nodeFound.Load()),
		"jobs_recovered": int(c.recovered.Load()), "follower_jobs_released": int(c.released.Load()), "jobs_still_on_dead_node": stale}}
	cr.OK = c.workerFound.Load() && c.nodeFound.Load() && stale == 0
	switch {
	case !c.workerFound.Load():
		cr.Message = "the crashed worker " + c.crashedWorker + " was never found dead"
	case !c.nodeFound.Load():
		cr.Message = "the crashed node " + c.crashedNode + " was never found dead"
	case stale > 0:
		cr.Message = fmt.Sprintf("%d jobs still name the dead node %s as follower", stale, c.crashedNode)
	}
	inv["crash_recovered"] = cr
	return inv, nil
}

// checkTicks checks, from the ticks of the jobs each schedule made, that
// every tick fired once and that no tick between the first and the last is
// missing.
func (c *cluster) checkTicks(ticks map[string][]time.Time) Invariant {
	inv := Invariant{OK: true, Counts: map[string]int{"cron_ticks": len(ticks[c.cronID]), "interval_ticks": len(ticks[c.intervalID])}}
	fail := func(format string, args ...any) {
		inv.OK = false
		if inv.Message == "" {
			inv.Message = fmt.Sprintf(format, args...)
		}
	}
	for sid, period := range map[string]time.Duration{c.cronID: cronPeriod, c.intervalID: intervalSchedule} {
		ts := ticks[sid]
		if len(ts) == 0 {
			fail("schedule %s never fired", sid)
			continue
		}
		sort.Slice(ts, func(i, j int) bool { return ts[i].Before(ts[j]) })
		for i := 1; i < len(ts); i++ {
			switch d := ts[i].Sub(ts[i-1]); {
			case d == 0:
				inv.Counts["duplicates"]++
				fail("schedule %s fired tick %s twice", sid, ts[i].Format(time.RFC3339Nano))
			case d != period:
				inv.Counts["gaps"]++
				fail("schedule %s: %s between ticks %s and %s, expected %s", sid, d, ts[i-1].Format(time.RFC3339Nano), ts[i].Format(time.RFC3339Nano), period)
			}
		}
	}
	inv.Counts["duplicates"] += 0
	inv.Counts["gaps"] += 0
	return inv
}

// checkSpans checks that the [acquired, expires) spans of distinct terms
// never overlap (W3). After a resign the next term overlaps only when its
// acquire returned before the resign began: the store may grant it as soon
// as the resign lands, dated by the acquirer's earlier now.
func (c *cluster) checkSpans() Invariant {
	terms := make([]int64, 0, len(c.spans))
	for t := range c.spans {
		terms = append(terms, t)
	}
	sort.Slice(terms, func(i, j int) bool { return c.spans[terms[i]].start.Before(c.spans[terms[j]].start) })
	inv := Invariant{OK: len(terms) > 0, Counts: map[string]int{"terms": len(terms), "overlaps": 0}}
	for i := 1; i < len(terms); i++ {
		prev, cur := c.spans[terms[i-1]], c.spans[terms[i]]
		start := cur.start
		if prev.resigned {
			start = cur.granted
		}
		if start.Before(prev.end) {
			inv.OK = false
			inv.Counts["overlaps"]++
			if inv.Message == "" {
				inv.Message = fmt.Sprintf("term %d (%s) started at %s before term %d (%s) ended at %s",
					terms[i], cur.holder, cur.start.Format(time.RFC3339Nano), terms[i-1], prev.holder, prev.end.Format(time.RFC3339Nano))
			}
		}
	}
	if len(terms) == 0 {
		inv.Message = "no node ever acquired the lease"
	}
	return inv
}

// checkClaims checks that no job ever had two owners at a time (J6); see
// claimed. A claim after a release of the owner (a dead node, or a live
// one wrongly declared dead) is a handover, not a second owner.
func (c *cluster) checkClaims() Invariant {
	return Invariant{OK: c.doubleOwns == 0 && c.claimWins > 0, Counts: map[string]int{"claims_won": c.claimWins,
		"jobs_owned": c.jobsOwned, "handovers": c.handovers, "uncertain_during_release": c.uncertain, "double_owners": c.doubleOwns},
		Message: c.claimMessage}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
