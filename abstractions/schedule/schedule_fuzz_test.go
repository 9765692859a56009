package schedule

import (
	"fmt"
	"testing"
	"time"
)

// fuzzZones are the time zones the cron fuzz target picks from: UTC, zones
// with DST in either hemisphere, half-hour and 45-minute offsets, and zones
// that skipped or repeated whole days.
var fuzzZones = []string{"UTC", "America/New_York", "Europe/London", "Australia/Lord_Howe",
	"Asia/Kathmandu", "Pacific/Apia", "Pacific/Kiritimati", "America/Santiago", "Asia/Tehran"}

// fuzzInstant maps any int64 to an instant between 1970 and year 9999, the
// range stores accept.
func fuzzInstant(n int64) time.Time {
	const span = 253402300799 // 9999-12-31T23:59:59Z in Unix seconds
	s := n % span
	if s < 0 {
		s = -s
	}
	return time.Unix(s, 0).UTC()
}

// FuzzCron (S4, S5): any expression parses or is rejected without a panic;
// a parsed expression's ticks are UTC, strictly after the instant asked
// about, and strictly increasing from one call to the next.
func FuzzCron(f *testing.F) {
	for _, s := range []string{"* * * * *", "0 0 * * *", "*/15 * * * * *", "30 2 * * *", "0 0 29 2 *",
		"0 0 31 4 *", "@yearly", "@every 1m", "TZ=UTC * * * * *", ",", "1-", "*/0 * * * *", "59 23 31 12 6",
		"0 0 1,15 * MON-FRI", "\x00", "L * * * *", "? * * * *", "0 0 * * 7"} {
		f.Add(s, uint8(0), int64(1_700_000_000))
		f.Add(s, uint8(1), int64(1_710_054_000)) // around the US spring-forward of 2024
	}
	f.Fuzz(func(t *testing.T, expr string, zone uint8, after int64) {
		defer watchdog(fmt.Sprintf("Cron(%q) zone %d after %d", expr, zone, after))()
		loc, err := time.LoadLocation(fuzzZones[int(zone)%len(fuzzZones)])
		if err != nil {
			t.Skipf("zone data missing: %v", err)
		}
		spec, err := Cron(expr, loc)
		if err != nil {
			if spec != nil {
				t.Fatalf("Cron(%q) returned a spec and the error %v", expr, err)
			}
			return
		}
		prev := fuzzInstant(after)
		for i := range 4 {
			next := spec.Next(prev)
			if next.IsZero() {
				return // no tick within the horizon
			}
			if next.Location() != time.UTC {
				t.Fatalf("Cron(%q).Next(%s) = %s, not in UTC", expr, prev, next)
			}
			if !next.After(prev) {
				t.Fatalf("Cron(%q) in %s: call %d: Next(%s) = %s, not strictly after", expr, loc, i, prev, next)
			}
			prev = next
		}
	})
}

// FuzzPlanFiring (S5): however late a schedule is found and whatever the
// policy, the plan fires at most its bound of ticks, all at or before now,
// in order, and the next run is after now (or zero: no more ticks).
func FuzzPlanFiring(f *testing.F) {
	f.Add(false, "* * * * *", int64(1000), int64(1_700_000_000), int64(3600), uint8(2), 5)
	f.Add(true, "", int64(250), int64(1_700_000_000), int64(86400*400), uint8(1), 0)
	f.Add(false, "0 0 29 2 *", int64(0), int64(1_600_000_000), int64(86400*3000), uint8(2), 1000)
	f.Add(false, "*/10 * * * * *", int64(0), int64(1_700_000_000), int64(0), uint8(0), -1)
	f.Fuzz(func(t *testing.T, interval bool, expr string, every int64, seenAt, late int64, policy uint8, limit int) {
		defer watchdog(fmt.Sprintf("PlanFiring(%v, %q, %d, %d, %d, %d, %d)", interval, expr, every, seenAt, late, policy, limit))()
		var spec Spec
		var err error
		if interval {
			spec, err = Interval(time.Duration(every) * time.Millisecond)
		} else {
			spec, err = Cron(expr, time.UTC)
		}
		if err != nil {
			return
		}
		seen := fuzzInstant(seenAt)
		if late < 0 {
			late = -late
		}
		now := seen.Add(time.Duration(late%(86400*365*20)) * time.Second)
		pol := []Policy{FireOnce, Skip, FireAll, "bogus"}[int(policy)%4]
		bound := 1
		switch {
		case pol == Skip:
			bound = 1 // on time, the one due tick still fires
		case pol == FireAll && limit > 0:
			bound = limit
		case pol == FireAll:
			bound = defaultFireAllLimit
		}
		start := time.Now()
		p := PlanFiring(spec, seen, now, pol, limit)
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("PlanFiring took %s (seen %s, now %s, %s)", d, seen, now, pol)
		}
		if len(p.Ticks) > bound {
			t.Fatalf("%d ticks, the bound of %s/%d is %d", len(p.Ticks), pol, limit, bound)
		}
		for i, tick := range p.Ticks {
			if tick.After(now) || tick.Before(seen) {
				t.Fatalf("tick %s outside [seen %s, now %s]", tick, seen, now)
			}
			if i > 0 && !tick.After(p.Ticks[i-1]) {
				t.Fatalf("ticks out of order: %v", p.Ticks)
			}
		}
		if !p.Next.IsZero() && !p.Next.After(now) {
			t.Fatalf("next run %s is not after now %s", p.Next, now)
		}
	})
}

// watchdog crashes the fuzz worker when one input runs longer than ten
// seconds: the fuzzer then records the input as a crasher, instead of the
// run stalling without a word. Call the returned function when done.
func watchdog(input string) func() {
	t := time.AfterFunc(10*time.Second, func() { panic("no answer within 10s for " + input) })
	return func() { t.Stop() }
}
