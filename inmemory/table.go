package inmemory

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/orchestrix/persistence/abstractions/stores"
)

// recordHead is what a log line and a history row have in common: their
// place in the table's insertion order, ID, text, job entry and links in
// that job's list.
type recordHead struct {
	seq uint64 // insertion order, from 1; 0: a free slot
	recordText
	// at is the record's instant in its table's time order (a log line's
	// Timestamp, an attempt's CompletedAt), as the fields of an instant so
	// that the struct packs.
	atSec  int64
	atNsec int32
	job    uint32 // its jobRecords entry
	links  links  // the job's previous and next records
}

func (h *recordHead) at() instant     { return instant{h.atSec, h.atNsec} }
func (h *recordHead) setAt(i instant) { h.atSec, h.atNsec = i.sec, i.nsec }

// recordPtr is *R for a record type R that embeds a recordHead.
type recordPtr[R any] interface {
	*R
	head() *recordHead
}

// recordTable holds the records of one kind (L1): a slab of them, their
// IDs, their text, each job's list of them (in byJob, shared by the log
// and history tables) and the time order Purge reads.
type recordTable[R any, P recordPtr[R]] struct {
	kind  string // for errors: "log entry", "history"
	rows  slab[R]
	ids   idIndex
	byJob *jobRecords
	// order holds each record with an instant for Purge, by (instant,
	// seq).
	order sortedIndex[timeEntry]
	text  textArena
	seq   uint64
	// jobEnds are the first and last slot of a job entry's list of these
	// records; orderAt is a record's instant in order, false for none.
	jobEnds func(*jobRec) (head, tail *uint32)
	orderAt func(*R) (instant, bool)
}

func newRecordTable[R any, P recordPtr[R]](kind string, byJob *jobRecords, res *reserve, rows *spare[R], jobEnds func(*jobRec) (head, tail *uint32), orderAt func(*R) (instant, bool)) recordTable[R, P] {
	return recordTable[R, P]{kind: kind, rows: slab[R]{spare: rows}, ids: newIDIndex(res.idBlocks), byJob: byJob,
		order: sortedIndex[timeEntry]{spare: res.timeBlocks}, text: newTextArena(res.text), jobEnds: jobEnds, orderAt: orderAt}
}

func (t *recordTable[R, P]) at(slot uint32) P { return P(t.rows.at(slot)) }

// jobList is the list of the job entry at slot.
func (t *recordTable[R, P]) jobList(slot uint32) list[R, P] {
	head, tail := t.jobEnds(t.byJob.at(slot))
	return list[R, P]{&t.rows, head, tail}
}

// batchStage is a batch of records made ready outside the lock
// (stageRecords): each record with its own fields, its ID and text lengths
// set and its text's offset in text; the job IDs parsed; the text back to
// back. Under the lock, appendStaged only files them.
type batchStage[R any] struct {
	recs []R
	jobs []recordID
	text []byte
}

// stagePool keeps the batchStages of one record type for reuse.
type stagePool[R any] struct{ p sync.Pool }

func (sp *stagePool[R]) get(n int) *batchStage[R] {
	st, _ := sp.p.Get().(*batchStage[R])
	if st == nil {
		st = &batchStage[R]{}
	}
	st.recs = slices.Grow(st.recs[:0], n)[:n]
	clear(st.recs)
	st.jobs = slices.Grow(st.jobs[:0], n)[:n]
	st.text = st.text[:0]
	return st
}

func (sp *stagePool[R]) put(st *batchStage[R]) { sp.p.Put(st) }

// stageRecords makes the records of batch ready outside the lock: fill
// sets a record's own fields from batch[i] and appends its three text
// fields to text (stageText).
func stageRecords[T any, R any, P recordPtr[R]](st *batchStage[R], batch []*T, id, jobID func(*T) string, fill func(x *T, r P, text []byte) []byte) {
	for i, x := range batch {
		if x == nil { // left for the lock's checks (a closed store) to refuse
			continue
		}
		r := P(&st.recs[i])
		h := r.head()
		h.setID(recordIDOf(id(x)))
		st.jobs[i] = recordIDOf(jobID(x))
		h.text.off = uint32(len(st.text))
		st.text = fill(x, r, st.text)
	}
}

// stageText sets the record's text lengths and appends the three fields to
// text.
func (r *recordText) stageText(text []byte, f0, f1, f2 string) []byte {
	r.lens = textLens{uint32(len(f0)), uint32(len(f1)), uint32(len(f2))}
	return append(append(append(text, f0...), f1...), f2...)
}

// appendRecords is the Append of a record table (d.logs or d.history, as
// table returns it): it stages the batch's records outside the lock
// (stageRecords, with fill), makes the spares the tables grow from
// (spare.go), and files the records under the lock (appendStaged, with
// place).
func appendRecords[T any, R any, P recordPtr[R]](ctx context.Context, d *db, stages *stagePool[R], table func(*db) *recordTable[R, P],
	batch []*T, id, jobID func(*T) string, fill func(x *T, r P, text []byte) []byte, place func(t *recordTable[R, P], l list[R, P], slot uint32)) error {
	if err := ctx.Err(); err != nil { // before any work (E2)
		return err
	}
	st := stages.get(len(batch))
	defer stages.put(st)
	stageRecords(st, batch, id, jobID, fill)
	d.reserve.refill()
	defer d.reserve.refill()
	if err := d.lockRecords(ctx); err != nil {
		return err
	}
	defer d.recMu.Unlock()
	return appendStaged(table(d), st, batch, id, jobID, place)
}

// appendStaged stores the staged records of batch, every one or none;
// place links a record into its job's list. Records are stored as they
// come; an ID already stored (before or earlier in the batch) takes the
// batch's records back out and fails it, leaving the insertion counter
// where it was. The batch's text goes into the arena in one piece: copied
// into a chunk, or, when long, the staged text itself becomes a chunk
// (then st.text is nil, and not reused).
func appendStaged[T any, R any, P recordPtr[R]](t *recordTable[R, P], st *batchStage[R], batch []*T, id, jobID func(*T) string, place func(t *recordTable[R, P], l list[R, P], slot uint32)) error {
	var base textRef
	if len(st.text) > textArenaChunk/4 {
		base = t.text.adopt(st.text)
		st.text = nil
	} else {
		var b []byte
		base, b = t.text.put(len(st.text))
		copy(b, st.text)
	}
	seq0 := t.seq
	for i := range st.recs {
		staged := P(&st.recs[i]).head()
		slot := t.rows.alloc()
		if !t.ids.insert(staged.id(), id(batch[i]), slot) {
			t.rows.release(slot)
			unappend(t, batch[:i], id, seq0)
			left := 0
			for j := i; j < len(st.recs); j++ {
				left += P(&st.recs[j]).head().lens.total()
			}
			if t.text.free(base, left) {
				t.compactText()
			}
			return fmt.Errorf("%s %s: %w", t.kind, id(batch[i]), stores.ErrAlreadyExists)
		}
		r := t.at(slot)
		*r = st.recs[i]
		h := r.head()
		t.seq++
		h.seq = t.seq
		if h.lens.total() == 0 {
			h.text = textRef{}
		} else {
			h.text = textRef{base.chunk, base.off + h.text.off}
		}
		h.job = t.byJob.addParsed(st.jobs[i], jobID(batch[i]))
		place(t, t.jobList(h.job), slot)
		if at, ok := t.orderAt((*R)(r)); ok {
			t.order.insert(at.entry(h.seq, slot))
		}
	}
	return nil
}

// unappend takes the records of batch, all stored by the last
// appendStaged, back out and sets the insertion counter back to seq0,
// where it was before that batch.
func unappend[T any, R any, P recordPtr[R]](t *recordTable[R, P], batch []*T, id func(*T) string, seq0 uint64) {
	for _, x := range batch {
		s, _ := t.ids.get(id(x))
		t.remove(s)
	}
	t.seq = seq0
}

// remove deletes the record at slot from the table and every index.
func (t *recordTable[R, P]) remove(slot uint32) {
	r := t.at(slot)
	h := r.head()
	t.jobList(h.job).unlink(slot)
	t.byJob.dropIfEmpty(h.job)
	t.ids.remove(h.id(), slot)
	if at, ok := t.orderAt((*R)(r)); ok {
		t.order.delete(at.entry(h.seq, slot))
	}
	text := h.recordText
	t.rows.release(slot)
	if t.text.free(text.text, text.lens.total()) {
		t.compactText()
	}
}

// compactText moves the text of every record into new arena chunks.
func (t *recordTable[R, P]) compactText() {
	t.text.compact(func(move func(textRef, int) textRef) {
		for s := uint32(1); s < t.rows.next; s++ {
			// A free slot is zero: no text, and moving none is a no-op.
			rt := &t.at(s).head().recordText
			rt.text = move(rt.text, rt.lens.total())
		}
	})
}

// removeJob deletes every record of a job (J9 Purge).
func (t *recordTable[R, P]) removeJob(jobID string) {
	js := t.byJob.lookup(jobID)
	if js == 0 {
		return
	}
	// The job's entry is dropped (zeroed) with its last record.
	for {
		head, _ := t.jobEnds(t.byJob.at(js))
		if *head == 0 {
			return
		}
		t.remove(*head)
	}
}

// jobSlots returns the slots of a job's records in list order, from the
// first after start (0: from the first) and at most limit (<0: all).
func (t *recordTable[R, P]) jobSlots(start uint32, limit int) []uint32 {
	var slots []uint32
	for s := start; s != 0 && (limit < 0 || len(slots) < limit); s = t.at(s).head().links.next {
		slots = append(slots, s)
	}
	return slots
}

// purge removes the first records of order, at most limit, whose instant
// is before the cut-off, and returns how many.
func (t *recordTable[R, P]) purge(before time.Time, limit int) int {
	cut := instantOf(before)
	var old []uint32
	t.order.ascend(func(e timeEntry) bool {
		if !(instant{e.sec, e.nsec}).before(cut) {
			return false
		}
		old = append(old, e.slot)
		return len(old) < limit
	})
	for _, slot := range old {
		t.remove(slot)
	}
	return len(old)
}

// pageText copies the IDs and text fields of the records at slots into one
// string, in order, so the strings of a page returned are slices of one
// allocation; read them back with fields, in the same order.
func (t *recordTable[R, P]) pageText(slots []uint32) textReader {
	size := 0
	for _, slot := range slots {
		r := &t.at(slot).head().recordText
		size += t.ids.nameLen(r.id(), slot) + r.lens.total()
	}
	buf := make([]byte, 0, size)
	for _, slot := range slots {
		r := &t.at(slot).head().recordText
		buf = t.ids.appendName(buf, r.id(), slot)
		buf = append(buf, t.text.bytes(r.text, r.lens.total())...)
	}
	return textReader{text: string(buf)}
}

// fields takes the ID and text fields of the record at slot from text.
func (t *recordTable[R, P]) fields(text *textReader, slot uint32) (id, f0, f1, f2 string) {
	return text.fields(&t.ids, &t.at(slot).head().recordText, slot)
}
