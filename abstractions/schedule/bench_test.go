package schedule

import (
	"testing"
	"time"
)

// Next runs once per schedule per coordinator tick; it must stay cheap.
func BenchmarkNext(b *testing.B) {
	cases := []struct{ name, zone, expr string }{
		{"every5min/UTC", "UTC", "*/5 * * * *"},
		{"weekdays/NewYork", "America/New_York", "30 9 * * 1-5"},
		{"skippedHour/NewYork", "America/New_York", "30 2 * * *"},
		{"seconds/LordHowe", "Australia/Lord_Howe", "*/10 * * * * *"},
		{"leapDay/UTC", "UTC", "0 0 29 2 *"},
		{"never/UTC", "UTC", "0 0 30 2 *"},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			spec := mustCron(b, c.expr, mustLoc(b, c.zone))
			t := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
			b.ReportAllocs()
			for b.Loop() {
				n := spec.Next(t)
				if n.IsZero() {
					continue // the never case, or past the horizon
				}
				t = n
			}
		})
	}
}

func BenchmarkPlanFiring(b *testing.B) {
	spec := mustCron(b, "* * * * *", time.UTC)
	seen := time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC)
	now := time.Date(2024, 1, 1, 12, 34, 56, 0, time.UTC)
	for _, c := range []struct {
		name   string
		policy Policy
		seen   time.Time
	}{
		{"onTime", FireOnce, now.Truncate(time.Minute)},
		{"3yearsLate/fire_once", FireOnce, seen},
		{"3yearsLate/fire_all100", FireAll, seen},
		{"3yearsLate/skip", Skip, seen},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				PlanFiring(spec, c.seen, now, c.policy, 0)
			}
		})
	}
}
