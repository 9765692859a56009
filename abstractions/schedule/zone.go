package schedule

import (
	"sync/atomic"
	"time"
)

// zoneWindow bounds where resolveWall looks for zone transitions around a
// wall time. UTC offsets stay within about ±16h (historic local mean times
// included), so every instant showing a given wall clock lies within 16h of
// it; 36h leaves a wide margin.
const zoneWindow = 36 * 60 * 60

// noEnd stands for a zone that lasts forever; small enough that adding an
// offset cannot overflow.
const noEnd = int64(1) << 60

// zone is one stretch [start, end) of constant UTC offset, in Unix seconds.
type zone struct{ start, end, off int64 }

// zoneCache remembers the last zone a spec looked up: Location.lookup is
// costly for instants governed by a zone's rule string (the years after the
// last listed transition), and consecutive calls almost always hit the same
// zone. Atomic, as a Spec is shared by goroutines (E4).
type zoneCache struct{ last atomic.Pointer[zone] }

func (c *cronSpec) zoneAt(x int64) zone {
	if z := c.zones.last.Load(); z != nil && z.start <= x && x < z.end {
		return *z
	}
	z := zoneAt(x, c.loc)
	c.zones.last.Store(&z)
	return z
}

func zoneAt(x int64, loc *time.Location) zone {
	t := time.Unix(x, 0).In(loc)
	_, off := t.Zone()
	z := zone{start: -noEnd, end: noEnd, off: int64(off)}
	s, e := t.ZoneBounds()
	if !s.IsZero() {
		z.start = s.Unix()
	}
	if !e.IsZero() {
		z.end = e.Unix()
	}
	return z
}

// resolveWall maps the wall time w (seconds since 1970-01-01 00:00 on a
// clock showing c.loc's local time) to the instant it fires at (S5): the
// instant itself when the wall time occurs once, the first occurrence when
// a fall-back repeats it, and the transition instant (the next valid one)
// when a spring-forward skips it. It also returns the
// end and offset of the zone holding that instant, so that Next can step
// over a repeated hour in one move.
//
// time.Date is not used: its choice in gaps and folds is explicitly
// unspecified.
func (c *cronSpec) resolveWall(w int64) (x, zoneEnd, zoneOff int64) {
	loc := c.loc
	// Fast path: the offset in force around w is the only one for ±36h.
	guess := c.zoneAt(w)
	x = w - guess.off
	z := c.zoneAt(x)
	if z.off == guess.off && z.start <= x-zoneWindow && z.end > x+zoneWindow {
		return x, z.end, z.off
	}
	// Slow path, near a transition: list the zones around w and test each.
	var zones [16]zone
	n := 0
	for at := w - zoneWindow; n < len(zones); {
		zones[n] = zoneAt(at, loc)
		n++
		if zones[n-1].end > w+zoneWindow || zones[n-1].end <= at {
			break
		}
		at = zones[n-1].end
	}
	found := false
	for _, z := range zones[:n] {
		if c := w - z.off; c >= z.start && c < z.end && (!found || c < x) {
			x, zoneEnd, zoneOff, found = c, z.end, z.off, true
		}
	}
	if found {
		return x, zoneEnd, zoneOff
	}
	// A gap: fire at the transition where the clock jumps over w.
	for i := 1; i < n; i++ {
		t := zones[i].start
		if t-1+zones[i-1].off < w && t+zones[i].off > w {
			return t, zones[i].end, zones[i].off
		}
	}
	// Unreachable with real zone data; fall back to the standard library.
	t := time.Unix(w, 0).UTC()
	x = time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), 0, loc).Unix()
	z = zoneAt(x, loc)
	return x, z.end, z.off
}
