package bench

import (
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/orchestrix/persistence/abstractions/stores"
)

// The ledgers below keep the bench's per-job bookkeeping in memory that is
// allocated once, at the start of a run: a soak of a million jobs must show
// the client's memory flat, so nothing may grow with the jobs done.

// jobIDs numbers the jobs a run enqueues itself: job seq (0 <= seq < n) has
// the UUID prefix+seq (version 8, RFC 9562 variant, the run id in the
// first 48 bits), so an id maps back to its sequence number and per-job
// state lives in slices indexed by it. Other ids (the jobs schedules fire,
// or anything a broken store invents) map to nothing.
//
// A burn-down lets the store generate its jobs' IDs (unless --caller-ids),
// as most callers do; they are numbered afterwards (assignedJobIDs).
type jobIDs struct {
	prefix string
	n      int
	// assigned, when set, are the IDs a store generated, by seq, and index
	// maps them back.
	assigned []string
	index    map[string]int32
}

// assignedJobIDs numbers the IDs a store gave jobs, in their order.
func assignedJobIDs(jobs []*stores.Job) jobIDs {
	p := jobIDs{n: len(jobs), assigned: make([]string, len(jobs)), index: make(map[string]int32, len(jobs))}
	for i, j := range jobs {
		p.assigned[i] = j.ID
		p.index[j.ID] = int32(i)
	}
	return p
}

// newJobIDs numbers n jobs of the run run, a 12-digit hex run id (runID).
func newJobIDs(run string, n int) jobIDs {
	return jobIDs{prefix: run[:8] + "-" + run[8:12] + "-8000-8000-", n: n}
}

func (p jobIDs) id(seq int) string {
	if p.assigned != nil {
		return p.assigned[seq]
	}
	return p.prefix + fmt.Sprintf("%012x", seq)
}

// seq returns the sequence number of id, false when id is not one of the
// run's numbered jobs.
func (p jobIDs) seq(id string) (int, bool) {
	if p.index != nil {
		seq, ok := p.index[id]
		return int(seq), ok
	}
	if len(id) != 36 || !strings.HasPrefix(id, p.prefix) {
		return 0, false
	}
	n, err := strconv.ParseUint(id[24:], 16, 48)
	if err != nil || n >= uint64(p.n) {
		return 0, false
	}
	return int(n), true
}

// bitset is a fixed-size set of small integers.
type bitset []uint64

func newBitset(n int) bitset { return make(bitset, (n+63)/64) }

// set adds i and reports whether it was already there.
func (b bitset) set(i int) (was bool) {
	w, m := i/64, uint64(1)<<(i%64)
	was = b[w]&m != 0
	b[w] |= m
	return was
}

func (b bitset) has(i int) bool { return b[i/64]&(uint64(1)<<(i%64)) != 0 }

// jobSet is the set of jobs a run enqueued: a bit per numbered job and a
// map for the few others (those its schedules fired).
type jobSet struct {
	ids    jobIDs
	seqs   bitset
	others map[string]bool
	count  int
}

func newJobSet(ids jobIDs) *jobSet {
	return &jobSet{ids: ids, seqs: newBitset(ids.n), others: map[string]bool{}}
}

func (s *jobSet) add(id string) {
	if seq, ok := s.ids.seq(id); ok {
		if !s.seqs.set(seq) {
			s.count++
		}
	} else if !s.others[id] {
		s.others[id] = true
		s.count++
	}
}

func (s *jobSet) has(id string) bool {
	if seq, ok := s.ids.seq(id); ok {
		return s.seqs.has(seq)
	}
	return s.others[id]
}

// each calls f with every id of the set, numbered jobs first.
func (s *jobSet) each(f func(id string)) {
	for seq := range s.ids.n {
		if s.seqs.has(seq) {
			f(s.ids.id(seq))
		}
	}
	for id := range s.others {
		f(id)
	}
}

// jobSlots holds one value per job: in a slice for the numbered jobs, in a
// map for the others. The zero value of T means none.
type jobSlots[T any] struct {
	ids    jobIDs
	bySeq  []T
	others map[string]T
}

func newJobSlots[T any](ids jobIDs) *jobSlots[T] {
	return &jobSlots[T]{ids: ids, bySeq: make([]T, ids.n), others: map[string]T{}}
}

func (s *jobSlots[T]) get(id string) T {
	if seq, ok := s.ids.seq(id); ok {
		return s.bySeq[seq]
	}
	return s.others[id]
}

func (s *jobSlots[T]) set(id string, v T) {
	if seq, ok := s.ids.seq(id); ok {
		s.bySeq[seq] = v
	} else {
		s.others[id] = v
	}
}

// ledgerAttempts is how many attempts of a numbered job the dispatch ledger
// keeps in bits; most jobs end within jobMaxRetries+1 attempts, and later
// attempts (a job recovered several times) go to a map.
const ledgerAttempts = 4

// receipts records every (job, attempt) a dispatcher received (J4): a
// second receipt of the same pair means two workers run one attempt.
type receipts struct {
	mu         sync.Mutex
	ids        jobIDs
	bits       bitset              // seq*ledgerAttempts + attempt-1
	others     map[stores.Ref]bool // later attempts and other jobs
	dups       map[stores.Ref]bool // each pair received twice, counted once
	total      int
	duplicates int
	first      string
}

func newReceipts(ids jobIDs) *receipts {
	return &receipts{ids: ids, bits: newBitset(ids.n * ledgerAttempts), others: map[stores.Ref]bool{}, dups: map[stores.Ref]bool{}}
}

func (r *receipts) record(jobs []*stores.Job) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, j := range jobs {
		r.total++
		ref := j.Ref()
		var again bool
		if seq, ok := r.ids.seq(ref.ID); ok && ref.Attempt >= 1 && ref.Attempt <= ledgerAttempts {
			again = r.bits.set(seq*ledgerAttempts + int(ref.Attempt) - 1)
		} else {
			again = r.others[ref]
			r.others[ref] = true
		}
		if again && !r.dups[ref] {
			r.dups[ref] = true
			r.duplicates++
			if r.first == "" {
				r.first = fmt.Sprintf("job %s attempt %d was dispatched twice", j.ID, j.Attempt)
			}
		}
	}
}

func (r *receipts) invariant() Invariant {
	r.mu.Lock()
	defer r.mu.Unlock()
	return Invariant{OK: r.duplicates == 0, Counts: map[string]int{"dispatches": r.total, "duplicates": r.duplicates}, Message: r.first}
}

// terminalCheck is terminal_once, fed one stored job or dead letter at a
// time: every expected job must be there exactly once, either a terminal
// live job or a dead letter, and nothing else may be. With allCompleted
// every live job must be completed and no dead letter may exist (burndown
// fails no job).
type terminalCheck struct {
	expected     *jobSet
	allCompleted bool
	seen         bitset         // numbered jobs seen
	othersSeen   map[string]int // other ids seen: schedule jobs and extras
	dups         map[string]bool
	counts       map[string]int
	first        string
}

func newTerminalCheck(expected *jobSet, allCompleted bool) *terminalCheck {
	return &terminalCheck{expected: expected, allCompleted: allCompleted, seen: newBitset(expected.ids.n),
		othersSeen: map[string]int{}, dups: map[string]bool{},
		counts: map[string]int{"expected": expected.count, "jobs": 0, "dead_letters": 0}}
}

func (t *terminalCheck) note(format string, args ...any) {
	if t.first == "" {
		t.first = fmt.Sprintf(format, args...)
	}
}

// saw counts one more copy of id in the store.
func (t *terminalCheck) saw(id string) {
	var again bool
	if seq, ok := t.expected.ids.seq(id); ok {
		again = t.seen.set(seq)
	} else {
		t.othersSeen[id]++
		again = t.othersSeen[id] > 1
	}
	if again {
		if !t.dups[id] {
			t.dups[id] = true
			t.counts["duplicates"]++
			t.note("job %s is stored more than once (live and/or dead letter)", id)
		}
		return
	}
	if !t.expected.has(id) {
		t.counts["extra"]++
		t.note("job %s was never enqueued by this run", id)
	}
}

func (t *terminalCheck) job(j *stores.Job) {
	t.counts["jobs"]++
	t.saw(j.ID)
	t.counts[string(j.Status)]++
	if !j.Status.Terminal() {
		t.counts["not_terminal"]++
		t.note("job %s is %s", j.ID, j.Status)
	} else if t.allCompleted && j.Status != stores.StatusCompleted {
		t.counts["not_completed"]++
		t.note("job %s is %s, expected completed", j.ID, j.Status)
	}
}

func (t *terminalCheck) deadLetter(d *stores.DeadLetter) {
	t.counts["dead_letters"]++
	t.saw(d.Job.ID)
	if t.allCompleted {
		t.counts["not_completed"]++
		t.note("job %s is a dead letter, expected completed", d.Job.ID)
	}
}

// result counts the expected jobs never seen and returns the invariant.
func (t *terminalCheck) result() Invariant {
	t.expected.each(func(id string) {
		seen := false
		if seq, ok := t.expected.ids.seq(id); ok {
			seen = t.seen.has(seq)
		} else {
			seen = t.othersSeen[id] > 0
		}
		if !seen {
			t.counts["missing"]++
			t.note("job %s was lost: neither a live job nor a dead letter", id)
		}
	})
	c := t.counts
	ok := c["not_terminal"] == 0 && c["not_completed"] == 0 && c["duplicates"] == 0 && c["extra"] == 0 && c["missing"] == 0
	return Invariant{OK: ok, Counts: c, Message: t.first}
}
