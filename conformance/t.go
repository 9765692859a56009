package conformance

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// T is the part of *testing.T the suite uses, so that the suite can also run
// outside go test (RunSuite). Its methods mean what they mean on *testing.T.
type T interface {
	Helper()
	Name() string
	Context() context.Context
	Logf(format string, args ...any)
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
	Skipf(format string, args ...any)
	Failed() bool
	Cleanup(f func())
	Run(name string, f func(t T)) bool
}

// goT adapts *testing.T to T.
type goT struct{ *testing.T }

func wrapT(t *testing.T) T { return goT{t} }

func (g goT) Run(name string, f func(T)) bool {
	return g.T.Run(name, func(t *testing.T) { f(goT{t}) })
}

// Result is the outcome of one test of a standalone run.
type Result struct {
	Name     string // full name, "Jobs/J4_ConcurrentDispatchNeverDuplicates"
	Status   string // "pass", "fail" or "skip"
	Message  string // failure or skip messages, one per line
	Duration time.Duration
}

// RunSuite runs the suite outside go test and calls report once per test
// that has no subtests, in order. It returns false if any test failed.
func RunSuite(ctx context.Context, h Harness, f Features, report func(Result)) bool {
	root := &standaloneT{name: "", ctx: ctx, report: report}
	root.runBody(func(t T) { runAll(t, h, f) })
	return !root.Failed()
}

// standaloneT implements T without the testing package: Fatalf and Skipf end
// the test's goroutine with runtime.Goexit, as testing does.
type standaloneT struct {
	name     string
	ctx      context.Context
	report   func(Result)
	parent   *standaloneT
	mu       sync.Mutex
	failed   bool
	skipped  bool
	hasSubs  bool
	msgs     []string
	cleanups []func()
}

func (s *standaloneT) Helper()      {}
func (s *standaloneT) Name() string { return s.name }

func (s *standaloneT) Context() context.Context { return s.ctx }

func (s *standaloneT) log(msg string) {
	s.mu.Lock()
	s.msgs = append(s.msgs, msg)
	s.mu.Unlock()
}

func (s *standaloneT) Logf(format string, args ...any) { s.log(fmt.Sprintf(format, args...)) }

func (s *standaloneT) Errorf(format string, args ...any) {
	s.log(fmt.Sprintf(format, args...))
	s.fail()
}

func (s *standaloneT) fail() {
	for t := s; t != nil; t = t.parent {
		t.mu.Lock()
		t.failed = true
		t.mu.Unlock()
	}
}

func (s *standaloneT) Fatalf(format string, args ...any) {
	s.Errorf(format, args...)
	runtime.Goexit()
}

func (s *standaloneT) Skipf(format string, args ...any) {
	s.log(fmt.Sprintf(format, args...))
	s.mu.Lock()
	s.skipped = true
	s.mu.Unlock()
	runtime.Goexit()
}

func (s *standaloneT) Failed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.failed
}

func (s *standaloneT) Cleanup(f func()) {
	s.mu.Lock()
	s.cleanups = append(s.cleanups, f)
	s.mu.Unlock()
}

func (s *standaloneT) Run(name string, f func(T)) bool {
	s.mu.Lock()
	s.hasSubs = true
	s.mu.Unlock()
	full := name
	if s.name != "" {
		full = s.name + "/" + name
	}
	child := &standaloneT{name: full, report: s.report, parent: s}
	start := time.Now()
	child.runBody(f)
	child.mu.Lock()
	defer child.mu.Unlock()
	if !child.hasSubs && child.report != nil {
		status := "pass"
		switch {
		case child.failed:
			status = "fail"
		case child.skipped:
			status = "skip"
		}
		child.report(Result{Name: full, Status: status, Message: strings.Join(child.msgs, "\n"), Duration: time.Since(start)})
	}
	return !child.failed
}

// runBody runs f in its own goroutine, recovers a panic as a failure, and
// then runs the cleanups last-in first-out with the test's context done.
func (s *standaloneT) runBody(f func(T)) {
	parent := context.Background()
	if s.parent != nil {
		parent = s.parent.ctx
	} else if s.ctx != nil {
		parent = s.ctx
	}
	ctx, cancel := context.WithCancel(parent)
	s.ctx = ctx
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() {
			if r := recover(); r != nil {
				s.Errorf("panic: %v", r)
			}
		}()
		f(s)
	}()
	<-done
	cancel()
	s.mu.Lock()
	cleanups := s.cleanups
	s.cleanups = nil
	s.mu.Unlock()
	for i := len(cleanups) - 1; i >= 0; i-- {
		cleanups[i]()
	}
}
