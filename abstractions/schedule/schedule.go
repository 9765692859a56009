// Package schedule is the one next-run computation of Orchestrix (S5): cron
// expressions evaluated in a time zone, fixed intervals, and the misfire
// policies. Every caller and every backend uses it, so all agree on when a
// schedule fires.
package schedule

import (
	"time"
)

// Spec yields the ticks of a schedule.
type Spec interface {
	// Next returns the first tick strictly after the given instant, in UTC,
	// or the zero time when there is none within the search horizon.
	Next(after time.Time) time.Time
}

// Cron parses a cron expression evaluated in loc (nil means UTC).
func Cron(expr string, loc *time.Location) (Spec, error) {
	panic("TODO")
}

// Interval returns the spec that ticks every d after its previous tick.
func Interval(d time.Duration) (Spec, error) {
	panic("TODO")
}

// Plan is what one firing of a due schedule does.
type Plan struct {
	Ticks []time.Time // the ticks to fire now, oldest first; may be empty
	Next  time.Time   // the schedule's next run after this firing
}

// Policy names a misfire policy; the values match stores.MisfirePolicy.
type Policy string

// Misfire policies.
const (
	FireOnce Policy = "fire_once"
	Skip     Policy = "skip"
	FireAll  Policy = "fire_all"
)

// PlanFiring plans the firing at now of a schedule whose stored next run is
// seen (at or before now).
func PlanFiring(spec Spec, seen, now time.Time, policy Policy, limit int) Plan {
	panic("TODO")
}
