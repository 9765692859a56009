package inmemory

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/orchestrix/persistence/abstractions/stores"
	"github.com/orchestrix/persistence/conformance"
)

// TestConformance runs the shared suite; the in-memory driver declares no
// unsupported guarantee, so every test must run and pass.
func TestConformance(t *testing.T) {
	h := conformance.HarnessFunc(func(ctx context.Context) (*stores.Store, error) {
		return stores.OpenContext(ctx, DriverName, "")
	})
	conformance.Run(t, h, conformance.Features{})
}

// t0 is the explicit clock of the focused tests.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func at(d time.Duration) time.Time { return t0.Add(d) }

// open returns a fresh portable store over a new backend and the backend,
// whose tables the tests inspect.
func open(t *testing.T) (*stores.Store, *Backend) {
	t.Helper()
	b := New()
	s := stores.Wrap(DriverName, b)
	t.Cleanup(func() { s.Close() })
	return s, b
}

// verifyIndexes fails the test when any job index disagrees with the jobs.
func verifyIndexes(t *testing.T, b *Backend) {
	t.Helper()
	b.db.mu.Lock()
	defer b.db.mu.Unlock()
	if err := b.db.jobs.verify(); err != nil {
		t.Fatalf("job indexes out of step: %v", err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantErr(t *testing.T, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("got error %v, want %v", err, target)
	}
}

func TestRegisteredAndOpen(t *testing.T) {
	if !slices.Contains(stores.Drivers(), DriverName) {
		t.Fatalf("driver %q not registered: %v", DriverName, stores.Drivers())
	}
	for _, dsn := range []string{"", "memory://"} {
		s, err := stores.Open(DriverName, dsn)
		if err != nil {
			t.Fatalf("Open(%q): %v", dsn, err)
		}
		must(t, s.Ping(context.Background()))
		must(t, s.Close())
	}
}

func TestOpenRejectsOtherDSNWithoutPassword(t *testing.T) {
	for _, dsn := range []string{"postgres://u:s3cret@h/db", "memory://x", "file.db", "redis://:s3cret@h:6379/0"} {
		_, err := stores.Open(DriverName, dsn)
		if !errors.Is(err, stores.ErrInvalidArgument) {
			t.Fatalf("Open(%q) = %v, want ErrInvalidArgument", dsn, err)
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Fatalf("error echoes the password: %v", err)
		}
		if !strings.Contains(err.Error(), "memory://") {
			t.Fatalf("error does not say which DSN is accepted: %v", err)
		}
	}
}

func TestOpenReturnsIndependentStores(t *testing.T) {
	ctx := context.Background()
	a, _ := open(t)
	b, _ := open(t)
	j := &stores.Job{Type: "t", Queue: "q"}
	must(t, a.Jobs().Enqueue(ctx, j))
	_, err := b.Jobs().Get(ctx, j.ID)
	wantErr(t, err, stores.ErrNotFound)
}

// E2: a done context fails before any work, on the backend itself too.
func TestE2_DoneContext(t *testing.T) {
	s, b := open(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	wantErr(t, s.Jobs().Enqueue(ctx, &stores.Job{Type: "t", Queue: "q"}), context.Canceled)
	_, err := b.Jobs().Dispatch(ctx, stores.DispatchParams{Limit: 1, Now: t0})
	wantErr(t, err, context.Canceled)
	_, err = b.Nodes().CurrentLeader(ctx, t0)
	wantErr(t, err, context.Canceled)
}

func TestCloseThenErrClosed(t *testing.T) {
	b := New()
	must(t, b.Close())
	must(t, b.Close())
	_, err := b.Jobs().Get(context.Background(), stores.NewID())
	wantErr(t, err, stores.ErrClosed)
	wantErr(t, b.Ping(context.Background()), stores.ErrClosed)
}

func errorsIs(err, target error) bool { return errors.Is(err, target) }
