package inmemory

import (
	"sync/atomic"
	"unsafe"
)

// pageSize is the size of the pages refill maps: 4 KiB, the smallest any
// platform Go runs on uses (a write per 4 KiB maps larger pages too).
const pageSize = 4096

// The log and history tables grow by whole pieces of memory: slab chunks,
// sorted index blocks, text arena chunks. New memory costs a page fault per
// 4 KiB page on first touch, and page faults are dear (about 25 µs each on
// the 2-core VM of docs/PERFORMANCE.md, measured by touching fresh pages:
// more than the rest of a log line's cost). Taken under the store's lock,
// they would stop every other caller while the kernel maps pages. So the
// pieces come from spares that callers make and touch outside the lock
// (refill, after their call), and a structure that grows under the lock
// takes one ready-made (take).

// spare holds one allocation of n Ts, made and touched outside the lock.
// take and refill may run at once in different goroutines. A spare is made
// only once a structure has taken one, so a small store makes none.
type spare[T any] struct {
	n      int
	p      atomic.Pointer[[]T]
	wanted atomic.Bool
}

func newSpare[T any](n int) *spare[T] { return &spare[T]{n: n} }

// take returns the spare allocation, or a new one when there is none.
func (s *spare[T]) take() []T {
	if s == nil {
		return nil
	}
	if p := s.p.Swap(nil); p != nil {
		return *p
	}
	s.wanted.Store(true)
	return make([]T, s.n)
}

// refill makes the spare allocation if there is none, writing all of it
// so that its pages are mapped before a structure takes it.
func (s *spare[T]) refill() {
	if !s.wanted.Load() || s.p.Load() != nil {
		return
	}
	c := make([]T, s.n)
	// Fresh memory reads as zero but is not mapped until written: a write
	// per page maps it (the values stay zero).
	var zero T
	for i := 0; i < len(c); i += max(1, pageSize/int(unsafe.Sizeof(zero))) {
		c[i] = zero
	}
	s.p.CompareAndSwap(nil, &c)
}

// spareBlocks is how many sorted index blocks one spare holds: a batch of
// 1000 records fills about four per index.
const spareBlocks = 8

// reserve is the spares of one backend, one per kind of piece; the
// structures of the log and history tables take from it. It is set up once
// and never changes, so callers refill it without holding the lock.
type reserve struct {
	logRows    *spare[logRec]
	histRows   *spare[histRec]
	jobRecs    *spare[jobRec]
	idBlocks   *spare[idEntry]
	timeBlocks *spare[timeEntry]
	text       *spare[byte]
	// The batches of records appends stage outside the lock, for reuse.
	logStages  stagePool[logRec]
	histStages stagePool[histRec]
}

func newReserve() *reserve {
	return &reserve{
		logRows:    newSpare[logRec](slabChunk),
		histRows:   newSpare[histRec](slabChunk),
		jobRecs:    newSpare[jobRec](slabChunk),
		idBlocks:   newSpare[idEntry](spareBlocks * sortedBlock),
		timeBlocks: newSpare[timeEntry](spareBlocks * sortedBlock),
		text:       newSpare[byte](textArenaChunk),
	}
}

// refill makes every spare that was taken. A call that appended records
// runs it after it let go of the lock, and before it takes the lock.
func (r *reserve) refill() {
	r.logRows.refill()
	r.histRows.refill()
	r.jobRecs.refill()
	r.idBlocks.refill()
	r.timeBlocks.refill()
	r.text.refill()
}
