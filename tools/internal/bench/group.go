package bench

import (
	"context"
	"runtime"
	"runtime/pprof"
	"sync"
)

// group runs goroutines that share a context: the first error cancels it,
// and wait returns that error (errgroup in a dozen lines, no dependency).
type group struct {
	wg     sync.WaitGroup
	cancel context.CancelFunc
	once   sync.Once
	err    error
}

func newGroup(ctx context.Context) (*group, context.Context) {
	ctx, cancel := context.WithCancel(ctx)
	return &group{cancel: cancel}, ctx
}

func (g *group) go_(f func() error) {
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		if err := f(); err != nil {
			g.once.Do(func() {
				g.err = err
				g.cancel()
			})
		}
	}()
}

func (g *group) wait() error {
	g.wg.Wait()
	g.cancel()
	return g.err
}

// startPhase collects the garbage of the untimed set-up before a timed
// phase starts, as testing.B does before each run, so a phase is not
// charged a GC cycle of the work before it. Every workload gets it:
// peerbench does the same for River and asynq.
func startPhase() { runtime.GC() }

// labelPhase labels the calling goroutine's CPU profile samples with the
// timed phase it runs (go tool pprof -tagfocus phase=work).
func labelPhase(ctx context.Context, phase string) {
	pprof.SetGoroutineLabels(pprof.WithLabels(ctx, pprof.Labels("phase", phase)))
}
