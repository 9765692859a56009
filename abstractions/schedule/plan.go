package schedule

import "time"

const (
	// defaultFireAllLimit is FireAll's bound when the caller gives none.
	defaultFireAllLimit = 100
	// A backward search costs some tens of Next calls per tick it finds,
	// so PlanFiring walks up to forwardPerKept missed cron ticks per tick
	// to fire (plus forwardBase) before switching to it, and never more
	// than forwardMax: a schedule found years late then costs
	// milliseconds, not seconds.
	forwardBase    = 64
	forwardPerKept = 16
	forwardMax     = 1 << 16
	// preallocMax caps what is allocated up front for a large FireAll limit.
	preallocMax = 1024
)

// maxEnumerate bounds the walk for a Spec of unknown kind, which has no
// backward search: past it, the latest tick reached fires once. A variable
// so that tests can lower it.
var maxEnumerate = 10_000_000

func planFiring(spec Spec, seen, now time.Time, policy Policy, limit int) Plan {
	seen, now = seen.UTC(), now.UTC()
	if seen.After(now) {
		return Plan{Next: seen}
	}
	keep := 1
	switch policy {
	case Skip:
	case FireAll:
		keep = limit
		if keep <= 0 {
			keep = defaultFireAllLimit
		}
	default:
		policy = FireOnce
	}
	if iv, ok := spec.(intervalSpec); ok {
		return planInterval(iv.d, seen, now, policy, keep)
	}

	first := nextTick(spec, seen)
	if first.IsZero() || first.After(now) {
		// On time: exactly one tick is due.
		return Plan{Ticks: []time.Time{seen}, Next: first}
	}
	// Misfire: at least seen and first are due.
	_, absolute := spec.(absoluteSpec)
	if absolute && policy == Skip {
		// A cron tick does not depend on the previous one.
		return Plan{Next: nextTick(spec, now)}
	}
	// Walk forward, remembering the latest keep ticks in a ring.
	budget := maxEnumerate
	if absolute {
		budget = min(forwardBase+forwardPerKept*keep, forwardMax)
	}
	ring := make([]time.Time, 0, min(keep, budget, preallocMax))
	count := 0
	push := func(t time.Time) {
		if len(ring) < keep {
			ring = append(ring, t)
		} else {
			ring[count%keep] = t
		}
		count++
	}
	push(seen)
	for t := first; ; {
		push(t)
		n := nextTick(spec, t)
		if n.IsZero() || n.After(now) {
			return finish(policy, ordered(ring, count, keep), n)
		}
		t = n
		if count >= budget {
			break
		}
	}
	// Too many missed ticks to walk.
	next := nextTick(spec, now)
	if !absolute {
		// Unknown kind: fire the latest tick reached, once.
		latest := ordered(ring, count, keep)
		return finish(policy, latest[len(latest)-1:], next)
	}
	// A cron tick does not depend on the previous one, so the first tick
	// after now is Next(now) and the latest missed ones are found by
	// searching backwards from now.
	ticks := make([]time.Time, 0, min(keep, preallocMax))
	for t := now.Add(time.Nanosecond); len(ticks) < keep; {
		p := prevTick(spec, seen, t)
		if p.IsZero() {
			ticks = append(ticks, seen)
			break
		}
		ticks = append(ticks, p)
		t = p
	}
	for i, j := 0, len(ticks)-1; i < j; i, j = i+1, j-1 {
		ticks[i], ticks[j] = ticks[j], ticks[i]
	}
	return finish(policy, ticks, next)
}

// absoluteSpec marks a Spec whose ticks do not depend on the previous tick
// (cron): the first tick after now is Next(now), and missed ticks can be
// found by searching backwards from now.
type absoluteSpec interface {
	Spec
	absoluteTicks()
}

func (*cronSpec) absoluteTicks() {}

// finish applies the misfire policy to the latest missed ticks (oldest
// first, at least one).
func finish(policy Policy, missed []time.Time, next time.Time) Plan {
	switch policy {
	case Skip:
		return Plan{Next: next}
	case FireAll:
		return Plan{Ticks: missed, Next: next}
	default:
		return Plan{Ticks: []time.Time{missed[len(missed)-1]}, Next: next}
	}
}

// ordered returns the ring's ticks oldest first.
func ordered(ring []time.Time, count, keep int) []time.Time {
	if count <= keep {
		return ring
	}
	out := make([]time.Time, 0, keep)
	i := count % keep
	out = append(out, ring[i:]...)
	return append(out, ring[:i]...)
}

// nextTick is spec.Next in UTC, treating a tick that does not move forward
// as the end of the schedule so that a faulty Spec cannot loop forever.
func nextTick(spec Spec, t time.Time) time.Time {
	n := spec.Next(t)
	if n.IsZero() || !n.After(t) {
		return time.Time{}
	}
	return n.UTC()
}

// prevTick returns the latest tick of an absoluteSpec in (floor, t), or
// zero when there is none. Next is non-decreasing in its argument, so the latest
// tick p is where "Next(x) < t" turns false: gallop back from t to bracket
// it, then bisect. Its ticks fall on whole seconds, so a bracket of one
// second pins p down and Next of its lower end is p.
func prevTick(spec Spec, floor, t time.Time) time.Time {
	before := func(x time.Time) bool {
		n := nextTick(spec, x)
		return !n.IsZero() && n.Before(t)
	}
	if !before(floor) {
		return time.Time{}
	}
	lo, hi := floor, t // invariant: before(lo), !before(hi)
	for d := time.Second; d < 1<<61; d *= 2 {
		x := t.Add(-d)
		if !x.After(lo) {
			break
		}
		if before(x) {
			lo = x
			break
		}
		hi = x
	}
	for hi.Sub(lo) > time.Second {
		mid := lo.Add(hi.Sub(lo) / 2)
		if before(mid) {
			lo = mid
		} else {
			hi = mid
		}
	}
	return nextTick(spec, lo)
}

// planInterval is PlanFiring for a fixed interval: ticks are seen + k*d,
// computed arithmetically however many were missed.
func planInterval(d time.Duration, seen, now time.Time, policy Policy, keep int) Plan {
	last, missed := seen, int64(0) // latest tick <= now; ticks after seen
	for {
		// Sub saturates for gaps beyond ~292 years, hence the loop.
		k := int64(now.Sub(last) / d)
		if k == 0 {
			break
		}
		last = last.Add(time.Duration(k) * d)
		if missed += k; missed < 0 {
			missed = 1 << 62
		}
	}
	next := last.Add(d)
	if missed == 0 {
		return Plan{Ticks: []time.Time{seen}, Next: next}
	}
	switch policy {
	case Skip:
		return Plan{Next: next}
	case FireAll:
		n := int64(keep)
		if missed+1 < n {
			n = missed + 1
		}
		ticks := make([]time.Time, n)
		for i := range ticks {
			ticks[i] = last.Add(-time.Duration(n-1-int64(i)) * d)
		}
		return Plan{Ticks: ticks, Next: next}
	default:
		return Plan{Ticks: []time.Time{last}, Next: next}
	}
}
