package faults

import (
	"context"
	"testing"
	"time"

	"github.com/orchestrix/persistence/abstractions/stores"
	_ "github.com/orchestrix/persistence/ent"
	_ "github.com/orchestrix/persistence/redis"
)

// TestPrivateServersKeepDataAcrossRestart: what a private server stored
// before Stop, Kill or Crash is there after Start.
func TestPrivateServersKeepDataAcrossRestart(t *testing.T) {
	ctx := context.Background()
	t.Run("Redis", func(t *testing.T) {
		r := StartRedis(t)
		roundTrip(t, ctx, "redis", r.DSN(0, "faults"), func(kill bool) {
			if kill {
				r.Kill()
			} else {
				r.Stop()
			}
			if err := r.Start(); err != nil {
				t.Fatal(err)
			}
		})
	})
	t.Run("Postgres", func(t *testing.T) {
		p := StartPostgres(t)
		roundTrip(t, ctx, "ent", p.DSN("postgres"), func(kill bool) {
			stop := p.Stop
			if kill {
				stop = p.Crash
			}
			if err := stop(); err != nil {
				t.Fatal(err)
			}
			if err := p.Start(); err != nil {
				t.Fatal(err)
			}
		})
	})
}

func roundTrip(t *testing.T, ctx context.Context, driver, dsn string, restart func(kill bool)) {
	t.Helper()
	s, err := stores.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, kill := range []bool{false, true} {
		j := &stores.Job{Type: "t", Queue: "q", Args: []byte(`{"a":1}`)}
		if err := s.Jobs().Enqueue(ctx, j); err != nil {
			t.Fatal(err)
		}
		restart(kill)
		var got *stores.Job
		deadline := time.Now().Add(10 * time.Second)
		for {
			// The first call after a restart may fail on a dead pooled
			// connection; the pool replaces it.
			if got, err = s.Jobs().Get(ctx, j.ID); err == nil || time.Now().After(deadline) {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if err != nil || string(got.Args) != `{"a":1}` {
			t.Fatalf("after restart (kill=%v): %v %+v", kill, err, got)
		}
	}
}
