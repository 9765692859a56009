package inmemory

// Log lines and history rows are stored without Go pointers: a record is a
// fixed-size struct of integers in a slab, its text is bytes in a text
// arena, and every index over them maps integer keys to slot numbers
// (sortedIndex). The garbage collector therefore neither scans nor marks
// anything per record: the live heap it walks is the jobs' (which hold
// pointers anyway), however many log lines and attempts the store keeps.

// slabChunk is the number of records in a chunk of a slab.
const slabChunk = 1024

// slab holds records of type R (which must hold no pointers) in chunks,
// addressed by slot number. Slot 0 is never handed out, so 0 means "none"
// in the links between records. Freed slots are reused, newest first; the
// chunks are kept (a slab holds the most records it ever held at once).
type slab[R any] struct {
	chunks [][]R
	free   []uint32
	next   uint32    // the first slot never handed out
	spare  *spare[R] // where new chunks come from (nil: made here)
}

func (s *slab[R]) at(slot uint32) *R { return &s.chunks[slot/slabChunk][slot%slabChunk] }

// alloc returns a free slot, holding a zero R.
func (s *slab[R]) alloc() uint32 {
	if n := len(s.free); n > 0 {
		slot := s.free[n-1]
		s.free = s.free[:n-1]
		return slot
	}
	if s.next == 0 {
		s.next = 1
	}
	if int(s.next/slabChunk) == len(s.chunks) {
		c := s.spare.take()
		if c == nil {
			c = make([]R, slabChunk)
		}
		s.chunks = append(s.chunks, c)
	}
	s.next++
	return s.next - 1
}

// release zeroes slot and makes it free.
func (s *slab[R]) release(slot uint32) {
	var zero R
	*s.at(slot) = zero
	s.free = append(s.free, slot)
}

// live is the number of slots in use.
func (s *slab[R]) live() int { return max(int(s.next)-1, 0) - len(s.free) }

// textRef is where a record's text starts in a textArena. Its length is
// the sum of the field lengths the record keeps.
type textRef struct{ chunk, off uint32 }

// textArenaChunk is the size of an arena chunk; a text longer than a
// quarter of it gets a chunk of its own.
const textArenaChunk = 256 << 10

// textArena holds the text of records as bytes in chunks, each record's
// text contiguous in one chunk. A chunk goes back to the garbage collector
// once none of its text is live; when the chunks held come to more than
// twice the live text (text freed out of order leaves chunks partly used),
// compact copies the live text into new chunks.
type textArena struct {
	chunks [][]byte     // nil once released
	live   []int        // live bytes per chunk
	cur    int          // the chunk being filled; -1 before the first
	spare  []uint32     // released chunk numbers, for reuse
	held   int          // bytes of the chunks held
	total  int          // live bytes
	from   *spare[byte] // where chunks of textArenaChunk bytes come from (nil: made here)
}

func newTextArena(from *spare[byte]) textArena { return textArena{cur: -1, from: from} }

// put reserves n bytes and returns where they are and the bytes, to be
// filled by the caller.
func (a *textArena) put(n int) (textRef, []byte) {
	if n == 0 {
		return textRef{}, nil
	}
	var c int
	switch {
	case n > textArenaChunk/4:
		c = a.newChunk(n)
	case a.cur >= 0 && len(a.chunks[a.cur])+n <= cap(a.chunks[a.cur]):
		c = a.cur
	default:
		c = a.newChunk(textArenaChunk)
		a.cur = c
	}
	b := a.chunks[c]
	off := len(b)
	a.chunks[c] = b[:off+n]
	a.live[c] += n
	a.total += n
	return textRef{uint32(c), uint32(off)}, a.chunks[c][off : off+n : off+n]
}

// adopt makes b a chunk of its own, all of it live, and returns where it
// starts.
func (a *textArena) adopt(b []byte) textRef {
	c := a.addChunk(b)
	a.live[c] += len(b)
	a.total += len(b)
	return textRef{uint32(c), 0}
}

func (a *textArena) newChunk(size int) int {
	var b []byte
	if size == textArenaChunk {
		b = a.from.take()[:0]
	}
	if b == nil {
		b = make([]byte, 0, size)
	}
	return a.addChunk(b)
}

// addChunk files b as a chunk with nothing live yet.
func (a *textArena) addChunk(b []byte) int {
	a.held += cap(b)
	if n := len(a.spare); n > 0 {
		c := a.spare[n-1]
		a.spare = a.spare[:n-1]
		a.chunks[c], a.live[c] = b, 0
		return int(c)
	}
	a.chunks = append(a.chunks, b)
	a.live = append(a.live, 0)
	return len(a.chunks) - 1
}

// bytes returns the n bytes at r.
func (a *textArena) bytes(r textRef, n int) []byte {
	if n == 0 {
		return nil
	}
	return a.chunks[r.chunk][r.off : int(r.off)+n]
}

// free gives back the n bytes at r, and reports whether the arena should
// be compacted.
func (a *textArena) free(r textRef, n int) (compact bool) {
	if n == 0 {
		return false
	}
	c := int(r.chunk)
	a.live[c] -= n
	a.total -= n
	if a.live[c] == 0 {
		a.held -= cap(a.chunks[c])
		a.chunks[c] = nil
		a.spare = append(a.spare, uint32(c))
		if c == a.cur {
			a.cur = -1
		}
	}
	return a.held > 2*a.total+4*textArenaChunk
}

// compact copies the live text into new chunks: each(move) must call move
// once for every live record's text, and store the textRef it returns.
func (a *textArena) compact(each func(move func(r textRef, n int) textRef)) {
	old := *a
	*a = newTextArena(old.from)
	each(func(r textRef, n int) textRef {
		nr, b := a.put(n)
		copy(b, old.bytes(r, n))
		return nr
	})
}
