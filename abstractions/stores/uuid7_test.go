package stores

import (
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
)

// NewID and the batches of newIDs are RFC 9562 UUIDv7s: canonical text,
// version 7, variant 10, the current Unix millisecond, and strictly
// increasing in the order they were made, within a batch and across
// batches.
func TestNewIDsAreOrderedUUIDv7s(t *testing.T) {
	before := time.Now().UnixMilli()
	var all []string
	for _, n := range []int{1, 3, 1000, 5000, 1} {
		b := idBatch{newIDs(n)}
		for range n {
			id, ok := b.next()
			if !ok {
				t.Fatalf("batch of %d ran out after %d", n, len(all))
			}
			all = append(all, id)
		}
		if _, ok := b.next(); ok {
			t.Fatalf("batch of %d has more IDs", n)
		}
		all = append(all, NewID())
	}
	after := time.Now().UnixMilli()
	for i, id := range all {
		u, err := uuid.Parse(id)
		if err != nil || u.String() != id || !canonicalUUID(id) {
			t.Fatalf("id %d %q is not a canonical UUID: %v", i, id, err)
		}
		if u.Version() != 7 || u.Variant() != uuid.RFC4122 {
			t.Fatalf("id %s: version %d variant %v", id, u.Version(), u.Variant())
		}
		ms := u.Time() // google/uuid reads a v7's unix_ts_ms
		sec, nsec := ms.UnixTime()
		got := sec*1000 + nsec/1e6
		// Over 4096 IDs per millisecond run the clock ahead; 12,000 IDs
		// move it at most 3 ms.
		if got < before || got > after+4 {
			t.Fatalf("id %s: time %d ms, made between %d and %d", id, got, before, after)
		}
		if i > 0 && all[i-1] >= id {
			t.Fatalf("ids %d and %d out of order: %s, %s", i-1, i, all[i-1], id)
		}
	}
}

// Concurrent batches never hand out the same ID (E4).
func TestNewIDsUniqueAcrossGoroutines(t *testing.T) {
	const workers, batches, n = 4, 50, 200
	got := make([][]string, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for range batches {
				b := idBatch{newIDs(n)}
				for id, ok := b.next(); ok; id, ok = b.next() {
					got[w] = append(got[w], id)
				}
			}
		})
	}
	wg.Wait()
	seen := map[string]bool{}
	for _, ids := range got {
		for _, id := range ids {
			if seen[id] {
				t.Fatalf("id %s made twice", id)
			}
			seen[id] = true
		}
	}
	if len(seen) != workers*batches*n {
		t.Fatalf("%d ids, want %d", len(seen), workers*batches*n)
	}
}

// The clock values a reservation returns are strictly after every earlier
// one, also when the wall clock goes back.
func TestReserveV7MonotonicWhenTheClockGoesBack(t *testing.T) {
	now := time.Now()
	a := reserveV7(now, 10)
	b := reserveV7(now.Add(-time.Hour), 1)
	c := reserveV7(now, 1)
	if b != a+10 || c != b+1 {
		t.Fatalf("reservations %d, %d, %d: want consecutive after the first batch", a, b, c)
	}
}

// Every empty ID of a batch is filled, nothing else is changed, and a
// batch that fails validation stores nothing (the IDs it filled are new).
func TestBatchFillsEmptyIDs(t *testing.T) {
	given := NewID()
	rows := []*JobHistory{{JobID: NewID(), Attempt: 1}, {ID: given, JobID: NewID(), Attempt: 1}, {JobID: NewID(), Attempt: 2}}
	var c checker
	c.reserveIDs(emptyIDs(rows, func(r *JobHistory) string { return r.ID }))
	for i, r := range rows {
		c.history(at("rows", i), r)
	}
	if c.err != nil {
		t.Fatal(c.err)
	}
	if rows[1].ID != given || rows[0].ID == "" || rows[2].ID == "" || rows[0].ID >= rows[2].ID {
		t.Fatalf("ids after the batch: %s %s %s", rows[0].ID, rows[1].ID, rows[2].ID)
	}
}

func BenchmarkNewIDs(b *testing.B) {
	b.Run("batch1000", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			ids := idBatch{newIDs(1000)}
			for _, ok := ids.next(); ok; _, ok = ids.next() {
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*1000), "ns/id")
	})
	b.Run("one", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = NewID()
		}
	})
	b.Run("google-uuid", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = uuid.Must(uuid.NewV7()).String()
		}
	})
}
