package inmemory

import (
	"fmt"

	"github.com/google/btree"
)

// verify recomputes every job index from byID and reports the first
// difference: the invariant index/unindex maintain.
func (t *jobTable) verify() error {
	want := newJobTable()
	want.watermark = t.watermark
	for _, j := range t.byID {
		want.insertRow(j)
	}
	if len(t.byID) != t.byCreated.Len() {
		return fmt.Errorf("byCreated has %d jobs, byID %d", t.byCreated.Len(), len(t.byID))
	}
	if err := sameTree("byCreated", t.byCreated, want.byCreated); err != nil {
		return err
	}
	if err := sameTree("ready", t.ready, want.ready); err != nil {
		return err
	}
	if err := sameTree("scheduled", t.scheduled, want.scheduled); err != nil {
		return err
	}
	if err := sameTree("dispatched", t.dispatched, want.dispatched); err != nil {
		return err
	}
	if err := sameTree("runningDeadlines", t.runningDeadlines, want.runningDeadlines); err != nil {
		return err
	}
	if err := sameTree("uncleaned", t.uncleaned, want.uncleaned); err != nil {
		return err
	}
	if err := sameTree("finished", t.finished, want.finished); err != nil {
		return err
	}
	if err := sameTrees("readyByQueue", t.readyByQueue, want.readyByQueue); err != nil {
		return err
	}
	if err := sameTrees("byStatus", t.byStatus, want.byStatus); err != nil {
		return err
	}
	if err := sameTrees("byFollower", t.byFollower, want.byFollower); err != nil {
		return err
	}
	if len(t.uniqueKeys) != len(want.uniqueKeys) {
		return fmt.Errorf("uniqueKeys has %d keys, want %d", len(t.uniqueKeys), len(want.uniqueKeys))
	}
	for k, j := range want.uniqueKeys {
		if t.uniqueKeys[k] != j {
			return fmt.Errorf("uniqueKeys[%q] is not job %s", k, j.ID)
		}
	}
	if len(t.ticks) != len(want.ticks) {
		return fmt.Errorf("ticks has %d entries, want %d", len(t.ticks), len(want.ticks))
	}
	if len(t.inFlightByWorker) != len(want.inFlightByWorker) {
		return fmt.Errorf("inFlightByWorker has %d workers, want %d", len(t.inFlightByWorker), len(want.inFlightByWorker))
	}
	for w, m := range want.inFlightByWorker {
		if len(t.inFlightByWorker[w]) != len(m) {
			return fmt.Errorf("inFlightByWorker[%q] has %d jobs, want %d", w, len(t.inFlightByWorker[w]), len(m))
		}
	}
	return nil
}

func sameTree(name string, got, want *btree.BTreeG[*jobRow]) error {
	var g, w []*jobRow
	got.Ascend(func(j *jobRow) bool { g = append(g, j); return true })
	want.Ascend(func(j *jobRow) bool { w = append(w, j); return true })
	if len(g) != len(w) {
		return fmt.Errorf("%s has %d jobs, want %d", name, len(g), len(w))
	}
	for i := range g {
		if g[i] != w[i] {
			return fmt.Errorf("%s[%d] is job %s, want %s", name, i, g[i].ID, w[i].ID)
		}
	}
	return nil
}

func sameTrees[K comparable](name string, got, want map[K]*btree.BTreeG[*jobRow]) error {
	if len(got) != len(want) {
		return fmt.Errorf("%s has %d subtrees, want %d (empty ones must be dropped)", name, len(got), len(want))
	}
	for k, w := range want {
		g := got[k]
		if g == nil {
			return fmt.Errorf("%s[%v] is missing", name, k)
		}
		if err := sameTree(fmt.Sprintf("%s[%v]", name, k), g, w); err != nil {
			return err
		}
	}
	return nil
}

// verifyRows checks the slab, ID index and text arena of a record
// table against each other: every live slot is filed under its ID and only
// those, and the arena's live text is the records' text.
func (t *recordTable[R, P]) verifyRows() (live []uint32, err error) {
	name, rows, ids, arena := t.kind, &t.rows, &t.ids, &t.text
	textBytes := 0
	for s := uint32(1); s < rows.next; s++ {
		h := t.at(s).head()
		if h.seq == 0 {
			continue
		}
		live = append(live, s)
		rt := &h.recordText
		if got, ok := ids.get(ids.name(rt.id(), s)); !ok || got != s {
			return nil, fmt.Errorf("%s row %d: its ID %s is not filed under it", name, s, ids.name(rt.id(), s))
		}
		textBytes += rt.lens.total()
	}
	if len(live) != rows.live() || len(live) != ids.len() {
		return nil, fmt.Errorf("%s: %d live rows, slab counts %d, ID index %d", name, len(live), rows.live(), ids.len())
	}
	if len(ids.other) != len(ids.names) {
		return nil, fmt.Errorf("%s: %d other IDs, %d names", name, len(ids.other), len(ids.names))
	}
	held := 0
	for c, b := range arena.chunks {
		held += cap(b)
		if b == nil && arena.live[c] != 0 {
			return nil, fmt.Errorf("%s text: released chunk %d has %d live bytes", name, c, arena.live[c])
		}
	}
	if textBytes != arena.total || held != arena.held {
		return nil, fmt.Errorf("%s text: rows hold %d bytes, arena counts %d live; chunks hold %d, arena counts %d", name, textBytes, arena.total, held, arena.held)
	}
	return live, nil
}

// verifyList checks one job's list: linked both ways, in order, every
// record filed under the job; it returns the list's slots.
func verifyList[R any, P recordPtr[R]](name string, l list[R, P], job uint32, less func(a, b uint32) bool) ([]uint32, error) {
	var slots []uint32
	prev := uint32(0)
	for s := *l.head; s != 0; s = l.links(s).next {
		if P(l.s.at(s)).head().job != job || l.links(s).prev != prev {
			return nil, fmt.Errorf("%s of job entry %d: row %d misfiled or mislinked", name, job, s)
		}
		if prev != 0 && !less(prev, s) {
			return nil, fmt.Errorf("%s of job entry %d out of order at row %d", name, job, s)
		}
		slots = append(slots, s)
		prev = s
	}
	if *l.tail != prev {
		return nil, fmt.Errorf("%s of job entry %d: tail %d, last row %d", name, job, *l.tail, prev)
	}
	return slots, nil
}

// verify checks the job records map: every entry is filed under its job ID
// and holds something.
func (m *jobRecords) verify() error {
	n := 0
	for s := uint32(1); s < m.recs.next; s++ {
		r := m.recs.at(s)
		if *r == (jobRec{}) {
			continue
		}
		n++
		if r.logHead == 0 && r.histHead == 0 {
			return fmt.Errorf("records of job %s: empty entry kept", m.ids.name(r.id, s))
		}
		if got, _ := m.ids.get(m.ids.name(r.id, s)); got != s {
			return fmt.Errorf("records of job %s not filed under slot %d", m.ids.name(r.id, s), s)
		}
	}
	if n != m.recs.live() || n != m.ids.len() {
		return fmt.Errorf("job records: %d entries, slab counts %d, ID index %d", n, m.recs.live(), m.ids.len())
	}
	return nil
}

// verify checks a record table's indexes against its rows: the slab, ID
// index and arena agree (verifyRows), each job's list is linked and in
// order (less), and order holds exactly the records with an instant.
func (t *recordTable[R, P]) verify(less func(a, b uint32) bool) error {
	live, err := t.verifyRows()
	if err != nil {
		return err
	}
	if err := t.byJob.verify(); err != nil {
		return err
	}
	listed, ordered := 0, 0
	for js := uint32(1); js < t.byJob.recs.next; js++ {
		slots, err := verifyList(t.kind, t.jobList(js), js, less)
		if err != nil {
			return err
		}
		listed += len(slots)
	}
	for _, s := range live {
		at, ok := t.orderAt(t.rows.at(s))
		if !ok {
			continue
		}
		ordered++
		if got, found := t.order.get(at.entry(t.at(s).head().seq, s)); !found || got != s {
			return fmt.Errorf("%s row %d missing from the time order", t.kind, s)
		}
	}
	if listed != len(live) || ordered != t.order.len() {
		return fmt.Errorf("%s: %d rows, %d in job lists, time order holds %d of %d", t.kind, len(live), listed, t.order.len(), ordered)
	}
	return verifySorted(t.kind+" time order", &t.order)
}

func verifyLogs(t *logTable) error {
	return t.verify(func(a, b uint32) bool { return t.at(a).seq < t.at(b).seq })
}

func verifyHistory(t *historyTable) error {
	return t.verify(func(a, b uint32) bool { return attemptCmp(t, a, b) < 0 })
}

// verifySorted checks a sortedIndex's blocks: keys strictly ascending,
// firsts in step, no empty block, the count right.
func verifySorted[E sortEntry[E]](name string, x *sortedIndex[E]) error {
	if len(x.firsts) != len(x.blocks) {
		return fmt.Errorf("%s: %d firsts for %d blocks", name, len(x.firsts), len(x.blocks))
	}
	n := 0
	var prev E
	for i, b := range x.blocks {
		if len(b) == 0 || len(b) > sortedBlock || x.firsts[i].cmp(b[0]) != 0 {
			return fmt.Errorf("%s: block %d has %d entries, first key in step: %v", name, i, len(b), len(b) > 0 && x.firsts[i].cmp(b[0]) == 0)
		}
		for j, e := range b {
			if (i > 0 || j > 0) && prev.cmp(e) >= 0 {
				return fmt.Errorf("%s: block %d entry %d out of order", name, i, j)
			}
			prev = e
		}
		n += len(b)
	}
	if n != x.n {
		return fmt.Errorf("%s: %d entries, counted %d", name, n, x.n)
	}
	return nil
}

// verify checks the dead letter order index against byID.
func (t *deadLetterTable) verify() error {
	if t.newest.Len() != len(t.byID) {
		return fmt.Errorf("dead letters: newest has %d, byID %d", t.newest.Len(), len(t.byID))
	}
	return nil
}
