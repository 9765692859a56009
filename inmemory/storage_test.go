package inmemory

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/orchestrix/persistence/abstractions/stores"
)

// The sorted index agrees with a sorted slice of its keys after every
// insert and delete of a random sequence: mostly ascending keys (as UUIDv7s
// and timestamps come), some anywhere, and deletes from the front and from
// anywhere; verifySorted checks the blocks after each step.
func TestSortedIndexAgainstAReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var x sortedIndex[idEntry]
	var ref []u128
	vals := map[u128]uint32{}
	next := uint64(1 << 20)
	for step := range 20000 {
		var k u128
		switch r := rng.IntN(10); {
		case r < 5: // ascending
			next += uint64(rng.IntN(3))
			k = u128{next, rng.Uint64() % 4}
		case r < 7: // anywhere
			k = u128{rng.Uint64() % (next + 1), rng.Uint64() % 4}
		case r < 8 && len(ref) > 0: // delete the first
			k = ref[0]
		default: // delete anywhere, present or not
			if len(ref) > 0 && rng.IntN(4) > 0 {
				k = ref[rng.IntN(len(ref))]
			} else {
				k = u128{rng.Uint64() % (next + 1), 9}
			}
			i, found := slices.BinarySearchFunc(ref, k, u128.cmp)
			if x.delete(idEntry{u: k}) != found {
				t.Fatalf("step %d: delete(%v) = %v, want %v", step, k, !found, found)
			}
			if found {
				ref = slices.Delete(ref, i, i+1)
				delete(vals, k)
			}
			if err := verifySorted("index", &x); err != nil {
				t.Fatalf("step %d: %v", step, err)
			}
			continue
		}
		i, found := slices.BinarySearchFunc(ref, k, u128.cmp)
		old, added := x.insert(idEntry{k, uint32(step)})
		if added == found || found && old != vals[k] {
			t.Fatalf("step %d: insert(%v) = %d, %v; present %v with %d", step, k, old, added, found, vals[k])
		}
		if added {
			ref = slices.Insert(ref, i, k)
			vals[k] = uint32(step)
		}
		if err := verifySorted("index", &x); err != nil {
			t.Fatalf("step %d: %v", step, err)
		}
	}
	var got []u128
	x.ascend(func(e idEntry) bool {
		k, v := e.u, e.slot
		if vals[k] != v {
			t.Fatalf("key %v has value %d, want %d", k, v, vals[k])
		}
		got = append(got, k)
		return true
	})
	if !slices.Equal(got, ref) || x.len() != len(ref) {
		t.Fatalf("index holds %d keys (len %d), reference %d", len(got), x.len(), len(ref))
	}
	for _, k := range ref[:min(len(ref), 500)] {
		if v, ok := x.get(idEntry{u: k}); !ok || v != vals[k] {
			t.Fatalf("get(%v) = %d, %v", k, v, ok)
		}
	}
	if len(x.blocks) > 2*len(ref)/(sortedBlock/4)+2 {
		t.Fatalf("%d blocks for %d keys: thinned blocks are not merged", len(x.blocks), len(ref))
	}
}

// idKeyOf reads exactly the canonical UUIDs (lower-case hex, dashes at 8,
// 13, 18, 23) and gives their 128 bits.
func TestIDKeyOf(t *testing.T) {
	id := "0190f3a2-7c4e-7d3b-9f01-23456789abcd"
	k := idKeyOf(id)
	if !k.canon || k.hi != 0x0190f3a27c4e7d3b || k.lo != 0x9f0123456789abcd {
		t.Fatalf("idKeyOf(%s) = %+v", id, k)
	}
	if s := (u128{k.hi, k.lo}).String(); s != id {
		t.Fatalf("formatted back as %s", s)
	}
	for i := range len(id) {
		for _, c := range []byte{'-', 'g', 'A', 'F', '0', 'f', ' ', 0} {
			b := []byte(id)
			b[i] = c
			s := string(b)
			want := canonicalRef(s)
			if got := idKeyOf(s).canon; got != want {
				t.Fatalf("idKeyOf(%q).canon = %v, want %v", s, got, want)
			}
		}
	}
	for _, s := range []string{"", "x", id[:35], id + "0", strings.ToUpper(id)} {
		if idKeyOf(s).canon {
			t.Fatalf("idKeyOf(%q) read as canonical", s)
		}
	}
}

// canonicalRef is the plain definition idKeyOf must agree with.
func canonicalRef(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := range 36 {
		c := s[i]
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if c != '-' {
				return false
			}
		} else if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// Purging log lines out of written order leaves arena chunks partly used;
// the arena compacts once it holds more than twice the live text, and every
// line keeps its text through compaction.
func TestLogTextArenaCompactsAndKeepsText(t *testing.T) {
	ctx := context.Background()
	s, b := open(t)
	rng := rand.New(rand.NewPCG(3, 4))
	text := func(i int) string { return fmt.Sprintf("line %d %s", i, strings.Repeat("x", i%300)) }
	jobs := make([]string, 50)
	for i := range jobs {
		jobs[i] = stores.NewID()
	}
	const n = 20000
	for i := 0; i < n; i += 500 {
		batch := make([]*stores.LogEntry, 500)
		for k := range batch {
			// Timestamps at random: Purge then takes lines from all over
			// the written order.
			batch[k] = &stores.LogEntry{JobID: jobs[(i+k)%len(jobs)], Timestamp: at(time.Duration(rng.IntN(n)) * time.Second),
				Level: "info", Message: text(i + k), Exception: strings.Repeat("e", (i+k)%3)}
		}
		must(t, s.Logs().Append(ctx, batch))
	}
	peak := b.db.logs.text.held
	for cut := n / 10; cut <= n*9/10; cut += n / 10 {
		_, err := s.Logs().Purge(ctx, at(time.Duration(cut)*time.Second), 10000)
		must(t, err)
		b.db.recMu.Lock()
		err = verifyLogs(b.db.logs)
		arena := b.db.logs.text
		b.db.recMu.Unlock()
		must(t, err)
		if arena.held > 2*arena.total+4*textArenaChunk+textArenaChunk {
			t.Fatalf("after purging to %ds the arena holds %d bytes for %d live", cut, arena.held, arena.total)
		}
	}
	if b.db.logs.text.held >= peak {
		t.Fatalf("arena still holds %d bytes (peak %d) after purging 90%% of the text", b.db.logs.text.held, peak)
	}
	left := 0
	for _, job := range jobs {
		cursor := ""
		for {
			p, err := s.Logs().List(ctx, job, cursor, 37)
			must(t, err)
			for _, e := range p.Entries {
				var i int
				if _, err := fmt.Sscanf(e.Message, "line %d", &i); err != nil || e.Message != text(i) ||
					e.Exception != strings.Repeat("e", i%3) || e.Level != "info" || e.JobID != job {
					t.Fatalf("entry %s came back as %+v", e.ID, e)
				}
				left++
			}
			if p.Next == "" {
				break
			}
			cursor = p.Next
		}
	}
	if left != b.db.logs.rows.live() {
		t.Fatalf("listed %d lines, %d stored", left, b.db.logs.rows.live())
	}
}

// A cursor keeps its place when the entry it names is purged (its slot
// hint no longer matches) or when its hint is wrong.
func TestL1_LogCursorAfterItsEntryIsPurged(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t)
	job := stores.NewID()
	for i := range 6 {
		// Written order 0..5, timestamps put entry 1 first for Purge.
		ts := at(time.Duration(10+i) * time.Second)
		if i == 1 {
			ts = at(0)
		}
		e := &stores.LogEntry{JobID: job, Timestamp: ts, Message: fmt.Sprint(i)}
		must(t, s.Logs().Append(ctx, []*stores.LogEntry{e}))
	}
	p, err := s.Logs().List(ctx, job, "", 2)
	must(t, err)
	if len(p.Entries) != 2 || p.Next == "" {
		t.Fatalf("first page: %d entries, next %q", len(p.Entries), p.Next)
	}
	n, err := s.Logs().Purge(ctx, at(time.Second), 10)
	must(t, err)
	// Reuse the freed slot, so the hint names another entry.
	must(t, s.Logs().Append(ctx, []*stores.LogEntry{{JobID: job, Timestamp: at(time.Hour), Message: "6"}}))
	if n != 1 {
		t.Fatalf("Purge = %d", n)
	}
	seq, _, _ := strings.Cut(p.Next, ".")
	for _, cursor := range []string{p.Next, seq + ".999999", seq + ".0"} {
		q, err := s.Logs().List(ctx, job, cursor, 10)
		must(t, err)
		var got []string
		for _, e := range q.Entries {
			got = append(got, e.Message)
		}
		if strings.Join(got, ",") != "2,3,4,5,6" {
			t.Fatalf("page after cursor %q: %v", cursor, got)
		}
	}
	for _, bad := range []string{"0.1", "x", "1.x", "-1.2"} {
		_, err := s.Logs().List(ctx, job, bad, 10)
		wantErr(t, err, stores.ErrInvalidArgument)
	}
}

// Records return the instants they were given, in UTC, and the zero time
// as the zero time.
func TestL1_RecordTimesComeBackAsStored(t *testing.T) {
	ctx := context.Background()
	b := New()
	job := stores.NewID()
	zone := time.FixedZone("x", 3600)
	started := time.Date(2026, 3, 1, 12, 0, 0, 123456789, zone)
	must(t, b.History().Append(ctx, &stores.JobHistory{ID: stores.NewID(), JobID: job, Attempt: 1, StartedAt: started, Duration: 1500 * time.Millisecond}))
	rows, err := b.History().ListByJob(ctx, job)
	must(t, err)
	h := rows[0]
	if h.StartedAt != started.UTC() || !h.CompletedAt.IsZero() || h.CompletedAt != (time.Time{}) || h.Duration != 1500*time.Millisecond {
		t.Fatalf("history row came back as %+v", h)
	}
	old := time.Date(1900, 1, 1, 0, 0, 0, 1, time.UTC)
	must(t, b.Logs().Append(ctx, []*stores.LogEntry{{ID: stores.NewID(), JobID: job, Timestamp: old}, {ID: stores.NewID(), JobID: job}}))
	p, err := b.Logs().List(ctx, job, "", 10)
	must(t, err)
	if p.Entries[0].Timestamp != old || p.Entries[1].Timestamp != (time.Time{}) {
		t.Fatalf("log times came back as %v, %v", p.Entries[0].Timestamp, p.Entries[1].Timestamp)
	}
	// The zero time sorts first, as the times do.
	n, err := b.Logs().Purge(ctx, old, 10)
	must(t, err)
	if n != 1 {
		t.Fatalf("Purge before 1900 removed %d lines, want the zero-time one", n)
	}
}

// Concurrent appenders grow the tables from spares made outside the lock
// (run with -race): once a structure has taken a spare, the next is ready
// after the call, and every index still agrees with the rows.
func TestL1_TablesGrowFromSpares(t *testing.T) {
	ctx := context.Background()
	s, b := open(t)
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Go(func() {
			for range 6 {
				entries := make([]*stores.LogEntry, 1000)
				rows := make([]*stores.JobHistory, 1000)
				for i := range entries {
					job := stores.NewID()
					entries[i] = &stores.LogEntry{JobID: job, Timestamp: at(time.Second), Message: fmt.Sprint(w)}
					rows[i] = &stores.JobHistory{JobID: job, Attempt: 1, CompletedAt: at(time.Second)}
				}
				if err := s.Logs().Append(ctx, entries); err != nil {
					t.Error(err)
				}
				if err := s.History().AppendMany(ctx, rows); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	res := b.db.reserve
	for name, ready := range map[string]bool{"log rows": res.logRows.p.Load() != nil, "history rows": res.histRows.p.Load() != nil,
		"job records": res.jobRecs.p.Load() != nil, "ID blocks": res.idBlocks.p.Load() != nil, "time blocks": res.timeBlocks.p.Load() != nil} {
		if !ready {
			t.Errorf("no spare %s after 12,000 records", name)
		}
	}
	b.db.recMu.Lock()
	defer b.db.recMu.Unlock()
	must(t, errors.Join(verifyLogs(b.db.logs), verifyHistory(b.db.history)))
	if n := b.db.logs.rows.live(); n != 12000 {
		t.Fatalf("%d log lines stored", n)
	}
}

// A batch whose text is long brings its staged text in as a chunk of its
// own; a failed batch gives all of its text back, and so does Purge.
func TestL1_LongBatchTextAndRollBack(t *testing.T) {
	ctx := context.Background()
	s, b := open(t)
	job := stores.NewID()
	batch := func(n int) []*stores.LogEntry {
		es := make([]*stores.LogEntry, n)
		for i := range es {
			es[i] = &stores.LogEntry{JobID: job, Timestamp: at(time.Second), Message: strings.Repeat(fmt.Sprint(i%10), 1000)}
		}
		return es
	}
	check := func(when string) {
		t.Helper()
		b.db.recMu.Lock()
		defer b.db.recMu.Unlock()
		if err := verifyLogs(b.db.logs); err != nil {
			t.Fatalf("%s: %v", when, err)
		}
	}
	long := batch(100) // 100 KB of text: more than a quarter chunk
	must(t, s.Logs().Append(ctx, long))
	check("after a long batch")
	if b.db.logs.text.total != 100*1000 {
		t.Fatalf("arena holds %d live bytes", b.db.logs.text.total)
	}
	for _, n := range []int{100, 3} { // adopted and copied text
		failed := batch(n)
		failed[n-1].ID = long[0].ID
		wantErr(t, s.Logs().Append(ctx, failed), stores.ErrAlreadyExists)
		check(fmt.Sprintf("after a failed batch of %d", n))
		if b.db.logs.text.total != 100*1000 || b.db.logs.rows.live() != 100 {
			t.Fatalf("a failed batch of %d left %d bytes, %d rows", n, b.db.logs.text.total, b.db.logs.rows.live())
		}
	}
	p, err := s.Logs().List(ctx, job, "", 1000)
	must(t, err)
	for i, e := range p.Entries {
		if e.Message != long[i].Message || e.ID != long[i].ID {
			t.Fatalf("entry %d came back as %.20q", i, e.Message)
		}
	}
	n, err := s.Logs().Purge(ctx, at(time.Hour), 1000)
	must(t, err)
	check("after Purge")
	if n != 100 || b.db.logs.text.held != 0 {
		t.Fatalf("Purge = %d, arena still holds %d bytes", n, b.db.logs.text.held)
	}
}
