// Package schedule is the one next-run computation of Orchestrix (S5): cron
// expressions evaluated in a time zone, fixed intervals, and the misfire
// policies. Every caller and every backend uses it, so all agree on when a
// schedule fires.
package schedule

import (
	"fmt"
	"time"
)

// Spec yields the ticks of a schedule.
type Spec interface {
	// Next returns the first tick strictly after the given instant, in UTC,
	// or the zero time when there is none within the search horizon.
	Next(after time.Time) time.Time
}

// Cron parses a cron expression evaluated in loc (nil means UTC).
//
// The expression has five fields (minute hour day-of-month month
// day-of-week), an optional leading seconds field, or is one of the
// descriptors @yearly, @annually, @monthly, @weekly, @daily, @midnight and
// @hourly. "@every" and "TZ=" / "CRON_TZ=" prefixes are rejected: intervals
// and time zones are separate fields of a schedule (S4). Ticks follow local
// wall-clock time in loc; a wall time skipped by a daylight-saving change
// fires once at the transition, and a repeated one fires once, at its first
// occurrence (S5).
func Cron(expr string, loc *time.Location) (Spec, error) {
	if loc == nil {
		loc = time.UTC
	}
	spec, err := parseCron(expr, loc)
	if err != nil {
		// A nil *cronSpec in a Spec would be a non-nil interface.
		return nil, err
	}
	return spec, nil
}

// minInterval is the smallest interval accepted: durations are kept with
// millisecond precision (DESIGN section 3), so anything shorter would not survive a
// round trip through a store.
const minInterval = time.Millisecond

// Interval returns the spec that ticks every d after its previous tick.
// d must be at least one millisecond (S4).
func Interval(d time.Duration) (Spec, error) {
	if d < minInterval {
		return nil, fmt.Errorf("the interval must be positive (at least %s), got %s", minInterval, d)
	}
	return intervalSpec{d: d}, nil
}

// intervalSpec ticks every d; PlanFiring recognises it to catch up
// arithmetically instead of tick by tick.
type intervalSpec struct{ d time.Duration }

// Next returns after + d, in UTC.
func (s intervalSpec) Next(after time.Time) time.Time { return after.Add(s.d).UTC() }

// String describes the interval, for logs and error messages.
func (s intervalSpec) String() string { return "every " + s.d.String() }

// Plan is what one firing of a due schedule does.
type Plan struct {
	Ticks []time.Time // the ticks to fire now, oldest first; may be empty
	Next  time.Time   // the schedule's next run after this firing
}

// Policy names a misfire policy; the values match stores.MisfirePolicy.
type Policy string

// Misfire policies. They apply when a schedule is found late by more than
// one period (two or more ticks at or before now); "" and unknown values
// mean FireOnce.
const (
	FireOnce Policy = "fire_once" // fire the latest missed tick only
	Skip     Policy = "skip"      // fire nothing, move to the next future tick
	FireAll  Policy = "fire_all"  // fire the most recent missed ticks, up to a limit
)

// PlanFiring plans the firing at now of a schedule whose stored next run is
// seen (at or before now).
//
// The ticks are seen, spec.Next(seen), spec.Next(spec.Next(seen)), ... If
// seen is after now nothing is due and Plan.Next is seen. If exactly one tick
// is at or before now it fires. Otherwise policy decides; FireAll fires the
// most recent limit missed ticks, oldest first (limit <= 0 means 100). In
// every case Plan.Next is the first tick after now, or zero when the
// schedule has no more ticks. The work is bounded however late the schedule
// is found.
func PlanFiring(spec Spec, seen, now time.Time, policy Policy, limit int) Plan {
	return planFiring(spec, seen, now, policy, limit)
}
