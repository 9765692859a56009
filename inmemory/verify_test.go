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

// verify checks the log indexes against byID.
func (t *logTable) verify() error {
	if t.byTime.Len() != len(t.byID) {
		return fmt.Errorf("logs byTime has %d rows, byID %d", t.byTime.Len(), len(t.byID))
	}
	n := 0
	for job, rec := range t.byJob {
		if len(rec.logs) == 0 && len(rec.hist) == 0 {
			return fmt.Errorf("records of job %s: empty entry kept", job)
		}
		rows := rec.logs
		n += len(rows)
		for i, r := range rows {
			if r.e.JobID != job || t.byID[r.e.ID] != r {
				return fmt.Errorf("log row %s misfiled under job %s", r.e.ID, job)
			}
			if i > 0 && rows[i-1].seq >= r.seq {
				return fmt.Errorf("logs of job %s out of written order at %d", job, i)
			}
			if g, _ := t.byTime.Get(r); g != r {
				return fmt.Errorf("log row %s missing from byTime", r.e.ID)
			}
		}
	}
	if n != len(t.byID) {
		return fmt.Errorf("logs byJob holds %d rows, byID %d", n, len(t.byID))
	}
	return nil
}

// verify checks the history indexes against byID.
func (t *historyTable) verify() error {
	n, finished := 0, 0
	for job, rec := range t.byJob {
		if len(rec.logs) == 0 && len(rec.hist) == 0 {
			return fmt.Errorf("records of job %s: empty entry kept", job)
		}
		rows := rec.hist
		for i, h := range rows {
			if h.JobID != job || t.byID[h.ID] != h {
				return fmt.Errorf("history row %s misfiled under job %s", h.ID, job)
			}
			if i > 0 && attemptCmp(rows[i-1], h) >= 0 {
				return fmt.Errorf("history of job %s out of order at %d", job, i)
			}
			if !h.CompletedAt.IsZero() {
				finished++
			}
		}
		n += len(rows)
	}
	if n != len(t.byID) || finished != t.finished.Len() {
		return fmt.Errorf("history: byJob %d rows, byID %d, finished %d of %d", n, len(t.byID), t.finished.Len(), finished)
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
