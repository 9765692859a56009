package inmemory

import (
	"cmp"
	"strings"
	"time"
)

// u128 is a canonical UUID as its 128 bits; they order as its text does
// (idKey).
type u128 struct{ hi, lo uint64 }

func (a u128) cmp(b u128) int {
	if a.hi != b.hi {
		return cmp.Compare(a.hi, b.hi)
	}
	return cmp.Compare(a.lo, b.lo)
}

// String returns the UUID's canonical text.
func (a u128) String() string {
	var b [36]byte
	a.format(&b)
	return string(b[:])
}

const hexDigits = "0123456789abcdef"

// format writes the canonical text of a (lower-case hex, dashes at 8, 13,
// 18 and 23).
func (a u128) format(dst *[36]byte) {
	j := 35
	for i := range 32 {
		if j == 23 || j == 18 || j == 13 || j == 8 {
			dst[j] = '-'
			j--
		}
		w := a.lo
		if i >= 16 {
			w = a.hi
		}
		dst[j] = hexDigits[w>>(4*(i%16))&0xf]
		j--
	}
}

// idEntry files the record at slot under a canonical UUID (sortedIndex).
type idEntry struct {
	u    u128
	slot uint32
}

func (a idEntry) cmp(b idEntry) int { return a.u.cmp(b.u) }
func (a idEntry) val() uint32       { return a.slot }

// timeEntry orders the record at slot by an instant, then by the order
// records were written (seq): the order Purge removes them in.
type timeEntry struct {
	sec  int64
	seq  uint64
	nsec int32
	slot uint32
}

func (a timeEntry) val() uint32 { return a.slot }

func (a timeEntry) cmp(b timeEntry) int {
	switch {
	case a.sec != b.sec:
		if a.sec < b.sec {
			return -1
		}
		return 1
	case a.nsec != b.nsec:
		if a.nsec < b.nsec {
			return -1
		}
		return 1
	}
	return cmp.Compare(a.seq, b.seq)
}

// instant is a time.Time as integers, without its location and monotonic
// reading: the instant every store keeps (the portable layer hands over
// UTC) and returns in UTC. The zero time is the instant of year 1, as
// time.Time.Unix gives it, so instants order as times do.
type instant struct {
	sec  int64
	nsec int32
}

func instantOf(t time.Time) instant { return instant{t.Unix(), int32(t.Nanosecond())} }

// time returns the instant in UTC; the zero time's instant gives the zero
// time back (time.Unix(...).UTC() of it is time.Time{}).
func (i instant) time() time.Time { return time.Unix(i.sec, int64(i.nsec)).UTC() }

var zeroInstant = instantOf(time.Time{})

func (i instant) isZero() bool { return i == zeroInstant }

// before reports whether i is strictly before t.
func (i instant) before(t instant) bool {
	return i.sec < t.sec || i.sec == t.sec && i.nsec < t.nsec
}

// entry is the timeEntry of the record at slot, at i, written as seq.
func (i instant) entry(seq uint64, slot uint32) timeEntry { return timeEntry{i.sec, seq, i.nsec, slot} }

// idIndex maps record IDs to slots: canonical UUIDs by their 128 bits in
// key order, other IDs (the backend used without the portable layer) by
// their text.
type idIndex struct {
	canon sortedIndex[idEntry]
	other map[string]uint32
	names map[uint32]string // the text of the other IDs, by slot
}

func newIDIndex(blocks *spare[idEntry]) idIndex {
	return idIndex{canon: sortedIndex[idEntry]{spare: blocks}, other: map[string]uint32{}, names: map[uint32]string{}}
}

// recordID is a record's ID as a record keeps it: 128 bits when canonical,
// else its text is in the idIndex.
type recordID struct {
	u     u128
	canon bool
}

func recordIDOf(id string) recordID {
	k := idKeyOf(id)
	return recordID{u128{k.hi, k.lo}, k.canon}
}

func (x *idIndex) len() int { return x.canon.len() + len(x.other) }

// get returns the slot of id.
func (x *idIndex) get(id string) (uint32, bool) { return x.find(recordIDOf(id), id) }

// find returns the slot of id, which is r.
func (x *idIndex) find(r recordID, id string) (uint32, bool) {
	if r.canon {
		return x.canon.get(idEntry{u: r.u})
	}
	slot, ok := x.other[id]
	return slot, ok
}

// insert files id, which is r, under slot, or reports false when id is
// filed already.
func (x *idIndex) insert(r recordID, id string, slot uint32) bool {
	if r.canon {
		_, ok := x.canon.insert(idEntry{r.u, slot})
		return ok
	}
	if _, ok := x.other[id]; ok {
		return false
	}
	x.other[id] = slot
	x.names[slot] = strings.Clone(id)
	return true
}

// remove unfiles the record at slot, whose ID is r.
func (x *idIndex) remove(r recordID, slot uint32) {
	if r.canon {
		x.canon.delete(idEntry{u: r.u})
		return
	}
	delete(x.other, x.names[slot])
	delete(x.names, slot)
}

// name returns the text of the ID r of the record at slot.
func (x *idIndex) name(r recordID, slot uint32) string {
	if r.canon {
		return r.u.String()
	}
	return x.names[slot]
}

// nameLen is the length of the text of the ID r of the record at slot.
func (x *idIndex) nameLen(r recordID, slot uint32) int {
	if r.canon {
		return 36
	}
	return len(x.names[slot])
}

// appendName appends the text of the ID r of the record at slot to b.
func (x *idIndex) appendName(b []byte, r recordID, slot uint32) []byte {
	if r.canon {
		var t [36]byte
		r.u.format(&t)
		return append(b, t[:]...)
	}
	return append(b, x.names[slot]...)
}

// compareNames orders two record IDs as their texts.
func (x *idIndex) compareNames(a recordID, aslot uint32, b recordID, bslot uint32) int {
	if a.canon && b.canon {
		return a.u.cmp(b.u)
	}
	return strings.Compare(x.name(a, aslot), x.name(b, bslot))
}

// jobRecords holds, per job ID, the log lines and history rows of that job
// as two lists of record slots: log lines in written order, attempts in
// (Attempt, StartedAt, ID) order. The log and history tables share it, so
// a job's log line and attempt row written together cost one entry. An
// entry with neither is dropped.
type jobRecords struct {
	ids  idIndex
	recs slab[jobRec]
}

// jobRec is the entry of one job: the first and last slot of each list in
// the log and history slabs (0: none).
type jobRec struct {
	id                 recordID
	logHead, logTail   uint32
	histHead, histTail uint32
}

func newJobRecords(res *reserve) *jobRecords {
	return &jobRecords{ids: newIDIndex(res.idBlocks), recs: slab[jobRec]{spare: res.jobRecs}}
}

// lookup returns the slot of jobID's entry, 0 for none.
func (m *jobRecords) lookup(jobID string) uint32 {
	slot, _ := m.ids.get(jobID)
	return slot
}

// addParsed returns the slot of the entry of jobID, which is r, adding an
// empty one when there is none.
func (m *jobRecords) addParsed(r recordID, jobID string) uint32 {
	if slot, ok := m.ids.find(r, jobID); ok {
		return slot
	}
	slot := m.recs.alloc()
	m.ids.insert(r, jobID, slot)
	m.recs.at(slot).id = r
	return slot
}

func (m *jobRecords) at(slot uint32) *jobRec { return m.recs.at(slot) }

// dropIfEmpty deletes the entry at slot once it holds nothing.
func (m *jobRecords) dropIfEmpty(slot uint32) {
	r := m.recs.at(slot)
	if r.logHead == 0 && r.histHead == 0 {
		m.ids.remove(r.id, slot)
		m.recs.release(slot)
	}
}

// links are a record's neighbours in its job's list.
type links struct{ prev, next uint32 }

// list is a doubly linked list of records through the links of their
// heads, whose first and last slots live in a jobRec.
type list[R any, P recordPtr[R]] struct {
	s          *slab[R]
	head, tail *uint32
}

func (l list[R, P]) links(slot uint32) *links { return &P(l.s.at(slot)).head().links }

// insertAfter links slot after at (0: at the front).
func (l list[R, P]) insertAfter(at, slot uint32) {
	n := l.links(slot)
	if at == 0 {
		n.prev, n.next = 0, *l.head
		*l.head = slot
	} else {
		a := l.links(at)
		n.prev, n.next = at, a.next
		a.next = slot
	}
	if n.next == 0 {
		*l.tail = slot
	} else {
		l.links(n.next).prev = slot
	}
}

// unlink takes slot out of the list.
func (l list[R, P]) unlink(slot uint32) {
	n := l.links(slot)
	if n.prev == 0 {
		*l.head = n.next
	} else {
		l.links(n.prev).next = n.next
	}
	if n.next == 0 {
		*l.tail = n.prev
	} else {
		l.links(n.next).prev = n.prev
	}
	n.prev, n.next = 0, 0
}

// textLens are the lengths of a record's three text fields, stored back
// to back in a textArena.
type textLens [3]uint32

func (l *textLens) total() int { return int(l[0]) + int(l[1]) + int(l[2]) }

// recordText is the ID and the text fields of a log or history record;
// the ID is kept as idIndex keeps it (recordID), its flag last so that the
// struct packs.
type recordText struct {
	u     u128
	text  textRef
	lens  textLens
	canon bool
}

func (r *recordText) id() recordID      { return recordID{r.u, r.canon} }
func (r *recordText) setID(id recordID) { r.u, r.canon = id.u, id.canon }

// textReader hands out consecutive slices of a string.
type textReader struct {
	text string
	off  int
}

func (r *textReader) take(n int) string {
	s := r.text[r.off : r.off+n]
	r.off += n
	return s
}

// fields takes the ID of the record at slot and its three text fields.
func (r *textReader) fields(ids *idIndex, rt *recordText, slot uint32) (id, f0, f1, f2 string) {
	id = r.take(ids.nameLen(rt.id(), slot))
	return id, r.take(int(rt.lens[0])), r.take(int(rt.lens[1])), r.take(int(rt.lens[2]))
}
