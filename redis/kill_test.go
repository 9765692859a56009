package redis

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/orchestrix/persistence/abstractions/stores"
	goredis "github.com/redis/go-redis/v9"
)

// killClients kills the connections named name on every primary, with
// CLIENT KILL ID, so other users of a shared server keep theirs.
func killClients(ctx context.Context, c goredis.UniversalClient, name string) int {
	var n atomic.Int64 // ForEachMaster runs kill on the primaries concurrently
	kill := func(ctx context.Context, node *goredis.Client) error {
		list, err := node.ClientList(ctx).Result()
		if err != nil {
			return err
		}
		for _, line := range strings.Split(list, "\n") {
			if !strings.Contains(line, " name="+name+" ") {
				continue
			}
			for _, f := range strings.Fields(line) {
				if id, ok := strings.CutPrefix(f, "id="); ok {
					if k, err := node.Do(ctx, "CLIENT", "KILL", "ID", id).Int(); err == nil {
						n.Add(int64(k))
					}
				}
			}
		}
		return nil
	}
	if cc, ok := c.(*goredis.ClusterClient); ok {
		_ = cc.ForEachMaster(ctx, kill)
	} else {
		_ = kill(ctx, c.(*goredis.Client))
	}
	return int(n.Load())
}

// TestJ4_DispatchSurvivesKilledConnections drops the store's connections
// (CLIENT KILL) again and again while 8 goroutines dispatch. Calls fail or
// retry; no attempt of a job is handed out twice; a job whose script ran but
// whose reply was lost stays dispatched and Recover's dispatch lease returns
// it, so none is lost; the store works afterwards.
func TestJ4_DispatchSurvivesKilledConnections(t *testing.T) {
	t.Run("standalone", func(t *testing.T) {
		requireServer(t, testAddr())
		testKilledConnections(t, standaloneDSN(), 0)
	})
	t.Run("standalone_with_client_retries", func(t *testing.T) {
		requireServer(t, testAddr())
		testKilledConnections(t, standaloneDSN(), 3)
	})
	t.Run("cluster", func(t *testing.T) { testKilledConnections(t, clusterDSN(t), 0) })
}

func testKilledConnections(t *testing.T, dsn string, retries int) {
	cfg, err := ParseDSN(dsn)
	must(t, err)
	cfg.Prefix = randomPrefix()
	cfg.ClientName = "orx-kill-" + cfg.Prefix
	cfg.MaxRetries = retries
	ctx := ctxT(t)
	b, err := OpenConfig(ctx, cfg)
	must(t, err)
	t.Cleanup(func() { cleanupBackend(t, Config{Mode: cfg.Mode, Addrs: cfg.Addrs, Prefix: cfg.Prefix}) })
	s := stores.Wrap(DriverName, b)
	defer s.Close()

	const total = 3000
	var jobs []*stores.Job
	for i := 0; i < total; i++ {
		jobs = append(jobs, &stores.Job{Type: "t", Queue: fmt.Sprintf("q%d", i%3), CreatedAt: t0, Priority: i % 5})
	}
	for i := 0; i < total; i += 1000 {
		must(t, s.Jobs().EnqueueMany(ctx, jobs[i:i+1000]))
	}

	killerCfg := cfg
	killerCfg.ClientName = ""
	killer, err := OpenConfig(ctx, killerCfg)
	must(t, err)
	defer killer.Close()
	stop := make(chan struct{})
	var kills atomic.Int64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			case <-time.After(3 * time.Millisecond):
				kills.Add(int64(killClients(ctx, killer.c, cfg.ClientName)))
			}
		}
	}()

	var mu sync.Mutex
	got := map[string]int64{} // id -> attempt handed out
	var dup []string
	var errCount atomic.Int64
	now := t0.Add(time.Second)
	record := func(d []*stores.Job) {
		mu.Lock()
		defer mu.Unlock()
		for _, j := range d {
			if _, seen := got[j.ID]; seen {
				dup = append(dup, j.ID)
			}
			got[j.ID] = j.Attempt
		}
	}
	var dwg sync.WaitGroup
	for g := 0; g < 8; g++ {
		dwg.Add(1)
		go func(g int) {
			defer dwg.Done()
			empty := 0
			for empty < 3 {
				p := stores.DispatchParams{Limit: 7, Now: now, WorkerID: fmt.Sprint("w", g)}
				if g%2 == 1 {
					p.Queues = []string{"q0", "q2", "q1"}
				}
				d, err := s.Jobs().Dispatch(ctx, p)
				if err != nil {
					errCount.Add(1)
					continue
				}
				if len(d) == 0 {
					empty++
				}
				record(d)
			}
		}(g)
	}
	dwg.Wait()
	close(stop)
	wg.Wait()
	t.Logf("killed %d connections; %d dispatch calls failed; %d jobs handed out", kills.Load(), errCount.Load(), len(got))
	if kills.Load() == 0 {
		t.Fatal("no connection was killed: the test proved nothing")
	}
	if len(dup) > 0 {
		t.Fatalf("jobs handed out twice: %v", dup)
	}

	// Every job not handed out must be an orphan: dispatched, reply lost.
	orphans := 0
	for _, j := range jobs {
		if _, ok := got[j.ID]; ok {
			continue
		}
		cur, err := s.Jobs().Get(ctx, j.ID)
		must(t, err)
		if cur.Status != stores.StatusDispatched {
			t.Fatalf("job %s neither handed out nor dispatched: %s", j.ID, cur.Status)
		}
		orphans++
	}
	// Workers complete what they were handed; then only orphans are in flight.
	var refs []stores.Ref
	for id, at := range got {
		refs = append(refs, stores.Ref{ID: id, Attempt: at})
	}
	for i := 0; i < len(refs); i += 1000 {
		errs, err := s.Jobs().CompleteMany(ctx, refs[i:min(i+1000, len(refs))], now)
		must(t, err)
		for _, e := range errs {
			must(t, e)
		}
	}
	// The dispatch lease returns orphans; they are handed out once more.
	later := now.Add(time.Hour)
	for {
		r, err := s.Jobs().Recover(ctx, stores.RecoverParams{Now: later, DispatchLease: time.Minute, Limit: 1000})
		must(t, err)
		if len(r.Requeued) == 0 {
			break
		}
		for _, id := range r.Requeued {
			if _, ok := got[id]; ok {
				t.Fatalf("Recover requeued job %s that was handed out and completed", id)
			}
		}
	}
	for {
		d, err := s.Jobs().Dispatch(ctx, stores.DispatchParams{Limit: 500, Now: later})
		must(t, err)
		if len(d) == 0 {
			break
		}
		record(d)
	}
	if len(dup) > 0 {
		t.Fatalf("jobs handed out twice: %v", dup)
	}
	if len(got) != total {
		t.Fatalf("%d of %d jobs handed out after recovery: lost jobs", len(got), total)
	}
	t.Logf("%d orphans recovered through the dispatch lease", orphans)

	// The store works afterwards.
	j := &stores.Job{Type: "t", Queue: "after", CreatedAt: t0}
	must(t, s.Jobs().Enqueue(ctx, j))
	d, err := s.Jobs().Dispatch(ctx, stores.DispatchParams{Queues: []string{"after"}, Limit: 1, Now: now})
	must(t, err)
	if len(d) != 1 || d[0].ID != j.ID {
		t.Fatalf("dispatch after the storm: %v", ids(d))
	}
}
