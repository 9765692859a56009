package schedule

import (
	"fmt"
	"testing"
	"time"
)

// listSpec is a Spec of unknown kind with a finite list of ticks.
type listSpec []time.Time

func (l listSpec) Next(after time.Time) time.Time {
	for _, t := range l {
		if t.After(after) {
			return t.UTC()
		}
	}
	return time.Time{}
}

// stepSpec is a Spec of unknown kind ticking every d, so PlanFiring must
// walk it tick by tick.
type stepSpec time.Duration

func (s stepSpec) Next(after time.Time) time.Time { return after.Add(time.Duration(s)).UTC() }

// countingSpec counts the Next calls of an absolute spec, to show that
// PlanFiring's work is bounded however late a schedule is found.
type countingSpec struct {
	Spec
	calls *int
}

func (c countingSpec) Next(after time.Time) time.Time {
	*c.calls++
	return c.Spec.Next(after)
}

func (countingSpec) absoluteTicks() {}

func mustInterval(tb testing.TB, d time.Duration) Spec {
	tb.Helper()
	s, err := Interval(d)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func checkPlan(t *testing.T, got Plan, wantTicks []string, wantNext string) {
	t.Helper()
	bad := len(got.Ticks) != len(wantTicks)
	for i := 0; !bad && i < len(wantTicks); i++ {
		bad = !got.Ticks[i].Equal(ts(t, wantTicks[i])) || got.Ticks[i].Location() != time.UTC
	}
	if wantNext == "" {
		bad = bad || !got.Next.IsZero()
	} else {
		bad = bad || !got.Next.Equal(ts(t, wantNext)) || got.Next.Location() != time.UTC
	}
	if bad {
		t.Fatalf("plan = ticks %v next %v; want ticks %v next %q (all UTC)", got.Ticks, got.Next, wantTicks, wantNext)
	}
}

func TestS5_PlanFiring(t *testing.T) {
	every5 := mustCron(t, "*/5 * * * *", time.UTC)
	minute := mustInterval(t, time.Minute)
	list := listSpec{ts(t, "2024-01-15T10:00:00Z"), ts(t, "2024-01-15T10:10:00Z"), ts(t, "2024-01-15T10:20:00Z")}
	ny := mustLoc(t, "America/New_York")
	halfHourNY := mustCron(t, "*/30 * * * *", ny)
	const (
		d10    = "2024-01-15T10:00:00Z"
		d1005  = "2024-01-15T10:05:00Z"
		d1010  = "2024-01-15T10:10:00Z"
		d1015  = "2024-01-15T10:15:00Z"
		d1020  = "2024-01-15T10:20:00Z"
		d10min = "2024-01-15T10:01:00Z"
	)
	cases := []struct {
		name      string
		spec      Spec
		seen, now string
		policy    Policy
		limit     int
		ticks     []string
		next      string
	}{
		// Not due yet: nothing fires, the next run stays.
		{"not due/cron", every5, d1005, "2024-01-15T10:02:00Z", FireOnce, 0, nil, d1005},
		{"not due/interval", minute, d10min, "2024-01-15T10:00:30Z", FireAll, 0, nil, d10min},

		// On time (one tick at or before now): fires under every policy.
		{"on time/cron/fire_once", every5, d10, "2024-01-15T10:02:00Z", FireOnce, 0, []string{d10}, d1005},
		{"on time/cron/skip", every5, d10, "2024-01-15T10:02:00Z", Skip, 0, []string{d10}, d1005},
		{"on time/cron/fire_all", every5, d10, "2024-01-15T10:02:00Z", FireAll, 0, []string{d10}, d1005},
		{"on time/cron/now is seen", every5, d10, d10, FireOnce, 0, []string{d10}, d1005},
		{"on time/cron/seen off the grid", every5, "2024-01-15T10:03:00Z", "2024-01-15T10:04:59Z", FireOnce, 0, []string{"2024-01-15T10:03:00Z"}, d1005},
		{"on time/interval", minute, d10, "2024-01-15T10:00:30Z", Skip, 0, []string{d10}, d10min},
		{"on time/interval/now is seen", minute, d10, d10, FireOnce, 0, []string{d10}, d10min},

		// Late by more than one period: the misfire policy decides.
		{"misfire/cron/fire_once", every5, d10, "2024-01-15T10:17:00Z", FireOnce, 0, []string{d1015}, d1020},
		{"misfire/cron/default", every5, d10, "2024-01-15T10:17:00Z", "", 0, []string{d1015}, d1020},
		{"misfire/cron/unknown policy", every5, d10, "2024-01-15T10:17:00Z", "bogus", 0, []string{d1015}, d1020},
		{"misfire/cron/skip", every5, d10, "2024-01-15T10:17:00Z", Skip, 0, nil, d1020},
		{"misfire/cron/fire_all", every5, d10, "2024-01-15T10:17:00Z", FireAll, 0, []string{d10, d1005, d1010, d1015}, d1020},
		{"misfire/cron/fire_all limited", every5, d10, "2024-01-15T10:17:00Z", FireAll, 2, []string{d1010, d1015}, d1020},
		{"misfire/cron/fire_all now on a tick", every5, d10, d1015, FireAll, -1, []string{d10, d1005, d1010, d1015}, d1020},
		{"misfire/cron/exactly two ticks", every5, d10, d1005, FireOnce, 0, []string{d1005}, d1010},
		{"misfire/cron/exactly two ticks skip", every5, d10, d1005, Skip, 0, nil, d1010},
		{"misfire/interval/fire_once", minute, d10, "2024-01-15T10:05:30Z", FireOnce, 0, []string{"2024-01-15T10:05:00Z"}, "2024-01-15T10:06:00Z"},
		{"misfire/interval/default", minute, d10, "2024-01-15T10:05:30Z", "", 0, []string{"2024-01-15T10:05:00Z"}, "2024-01-15T10:06:00Z"},
		{"misfire/interval/skip", minute, d10, "2024-01-15T10:05:30Z", Skip, 0, nil, "2024-01-15T10:06:00Z"},
		{"misfire/interval/fire_all limited", minute, d10, "2024-01-15T10:05:30Z", FireAll, 3,
			[]string{"2024-01-15T10:03:00Z", "2024-01-15T10:04:00Z", "2024-01-15T10:05:00Z"}, "2024-01-15T10:06:00Z"},
		{"misfire/interval/fire_all", minute, d10, "2024-01-15T10:02:00Z", FireAll, 0,
			[]string{d10, d10min, "2024-01-15T10:02:00Z"}, "2024-01-15T10:03:00Z"},
		{"misfire/interval/exactly two ticks", minute, d10, d10min, FireOnce, 0, []string{d10min}, "2024-01-15T10:02:00Z"},

		// Across a fall-back: the repeated hour's second pass has no ticks.
		{"misfire/cron/fire_all over a fall-back", halfHourNY, "2024-11-03T00:30:00-04:00", "2024-11-03T02:10:00-05:00", FireAll, 0,
			[]string{"2024-11-03T00:30:00-04:00", "2024-11-03T01:00:00-04:00", "2024-11-03T01:30:00-04:00", "2024-11-03T02:00:00-05:00"},
			"2024-11-03T02:30:00-05:00"},

		// A schedule with no more ticks: Next is zero.
		{"no more ticks/on time", list, d1020, "2024-01-15T11:00:00Z", FireOnce, 0, []string{d1020}, ""},
		{"no more ticks/fire_all", list, d10, "2024-01-15T11:00:00Z", FireAll, 0, []string{d10, d1010, d1020}, ""},
		{"no more ticks/fire_once", list, d10, "2024-01-15T11:00:00Z", FireOnce, 0, []string{d1020}, ""},
		{"no more ticks/skip", list, d10, "2024-01-15T11:00:00Z", Skip, 0, nil, ""},
		{"unknown spec/misfire", list, d10, "2024-01-15T10:15:00Z", FireAll, 0, []string{d10, d1010}, d1020},
		{"cron/no tick within the horizon", mustCron(t, "0 0 30 2 *", time.UTC), d10, d1005, FireOnce, 0, []string{d10}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := PlanFiring(tc.spec, ts(t, tc.seen), ts(t, tc.now), tc.policy, tc.limit)
			checkPlan(t, got, tc.ticks, tc.next)
		})
	}
}

func TestS5_PlanFiringFoundYearsLateIsBoundedAndFast(t *testing.T) {
	everyMinute := mustCron(t, "* * * * *", time.UTC)
	seen := ts(t, "2021-01-01T00:00:00Z")
	now := ts(t, "2024-01-01T12:34:56Z") // about 1.6 million missed ticks
	lastMinutes := func(n int) []string {
		out := make([]string, n)
		last := ts(t, "2024-01-01T12:34:00Z")
		for i := range out {
			out[i] = last.Add(-time.Duration(n-1-i) * time.Minute).Format(time.RFC3339)
		}
		return out
	}
	const next = "2024-01-01T12:35:00Z"
	cases := []struct {
		name     string
		policy   Policy
		limit    int
		ticks    []string
		maxCalls int // Next calls allowed, against ~1.6 million for a full walk
	}{
		{"fire_all default limit", FireAll, 0, lastMinutes(defaultFireAllLimit), 10_000},
		{"fire_all limit 5000", FireAll, 5000, lastMinutes(5000), 200_000},
		{"fire_once", FireOnce, 0, lastMinutes(1), 1000},
		{"skip", Skip, 0, nil, 10},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			calls := 0
			got := PlanFiring(countingSpec{everyMinute, &calls}, seen, now, tc.policy, tc.limit)
			checkPlan(t, got, tc.ticks, next)
			if calls > tc.maxCalls {
				t.Errorf("PlanFiring called Next %d times, want at most %d", calls, tc.maxCalls)
			}
			t.Logf("%d Next calls", calls)
		})
	}
	t.Run("interval of 1ms, 3 years late", func(t *testing.T) {
		got := PlanFiring(mustInterval(t, time.Millisecond), seen, now, FireAll, 2)
		checkPlan(t, got, []string{"2024-01-01T12:34:55.999Z", "2024-01-01T12:34:56Z"}, "2024-01-01T12:34:56.001Z")
	})
	t.Run("interval, thousands of years late", func(t *testing.T) {
		// Beyond what a time.Duration can hold (~292 years).
		seen := time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
		now := time.Date(9000, 1, 1, 0, 30, 0, 0, time.UTC)
		got := PlanFiring(mustInterval(t, time.Hour), seen, now, FireOnce, 0)
		checkPlan(t, got, []string{"9000-01-01T00:00:00Z"}, "9000-01-01T01:00:00Z")
	})
	t.Run("fewer missed ticks than the limit", func(t *testing.T) {
		// More than the forward walk takes, fewer than the limit: all fire,
		// seen included.
		seen := ts(t, "2024-01-01T00:00:00Z")
		const missed = forwardMax + 4000
		now := seen.Add(missed * time.Second)
		got := PlanFiring(mustCron(t, "* * * * * *", time.UTC), seen, now, FireAll, 2*missed)
		if len(got.Ticks) != missed+1 || !got.Ticks[0].Equal(seen) || !got.Ticks[missed].Equal(now) {
			t.Fatalf("got %d ticks from %v to %v", len(got.Ticks), got.Ticks[0], got.Ticks[len(got.Ticks)-1])
		}
		for i := 1; i < len(got.Ticks); i++ {
			if got.Ticks[i].Sub(got.Ticks[i-1]) != time.Second {
				t.Fatalf("ticks %d and %d are %s apart", i-1, i, got.Ticks[i].Sub(got.Ticks[i-1]))
			}
		}
		if want := now.Add(time.Second); !got.Next.Equal(want) {
			t.Fatalf("Next = %v, want %v", got.Next, want)
		}
	})
}

// The backward search used for cron schedules found very late must return
// exactly the ticks a plain walk of Next would, DST changes included.
func TestS5_PlanFiringFireAllMatchesWalk(t *testing.T) {
	cases := []struct {
		zone, expr, now string
	}{
		{"UTC", "*/7 * * * *", "2024-05-05T05:05:05Z"},
		{"UTC", "*/10 * * * * *", "2024-05-05T05:05:05.5Z"},
		{"UTC", "0 9-17 * * 1-5", "2024-05-06T09:00:00Z"},
		{"America/New_York", "*/5 * * * *", "2024-11-03T02:10:00-05:00"},
		{"America/New_York", "*/5 * * * *", "2024-11-03T01:20:00-05:00"},
		{"America/New_York", "* * * * *", "2024-03-10T03:30:00-04:00"},
		{"Australia/Lord_Howe", "*/10 * * * *", "2024-04-07T02:30:00+10:30"},
		{"Pacific/Apia", "*/30 * * * *", "2011-12-31T03:00:00+14:00"},
	}
	for _, tc := range cases {
		t.Run(tc.zone+"/"+tc.expr+"/"+tc.now, func(t *testing.T) {
			loc := mustLoc(t, tc.zone)
			spec := mustCron(t, tc.expr, loc)
			now := ts(t, tc.now)
			seen := spec.Next(now.AddDate(-10, 0, 0)) // far enough back for the backward search
			const limit = 300
			got := PlanFiring(spec, seen, now, FireAll, limit)
			var walk []time.Time
			for back := time.Hour; len(walk) < limit; back *= 2 {
				walk = chain(t, spec, now.Add(-back), now)
			}
			want := walk[len(walk)-limit:]
			compareTicks(t, loc, got.Ticks, want)
			if n := spec.Next(now); !got.Next.Equal(n) {
				t.Fatalf("Next = %s, want %s", fmtT(got.Next, loc), fmtT(n, loc))
			}
		})
	}
}

func TestS5_PlanFiringUnknownSpecIsBounded(t *testing.T) {
	saved := maxEnumerate
	maxEnumerate = 1000
	t.Cleanup(func() { maxEnumerate = saved })
	seen := ts(t, "2024-01-15T10:00:00Z")
	now := seen.Add(time.Minute) // 60,000 ticks of 1ms
	for _, p := range []Policy{FireOnce, FireAll} {
		t.Run(string(p), func(t *testing.T) {
			got := PlanFiring(stepSpec(time.Millisecond), seen, now, p, 10)
			want := seen.Add(time.Duration(maxEnumerate-1) * time.Millisecond)
			if len(got.Ticks) != 1 || !got.Ticks[0].Equal(want) {
				t.Fatalf("ticks = %v, want the latest tick reached, %v", got.Ticks, want)
			}
			if !got.Next.After(now) {
				t.Fatalf("Next = %v, not after now %v", got.Next, now)
			}
		})
	}
	t.Run("within the bound", func(t *testing.T) {
		got := PlanFiring(stepSpec(time.Millisecond), seen, seen.Add(500*time.Millisecond), FireAll, 3)
		checkPlan(t, got, []string{"2024-01-15T10:00:00.498Z", "2024-01-15T10:00:00.499Z", "2024-01-15T10:00:00.5Z"}, "2024-01-15T10:00:00.501Z")
	})
}

func ExamplePlanFiring() {
	spec, _ := Cron("*/15 * * * *", time.UTC)
	seen := time.Date(2024, 1, 15, 10, 0, 0, 0, time.UTC)
	now := time.Date(2024, 1, 15, 10, 50, 0, 0, time.UTC) // four ticks missed
	for _, p := range []Policy{FireOnce, Skip, FireAll} {
		plan := PlanFiring(spec, seen, now, p, 0)
		fmt.Println(p, plan.Ticks, plan.Next.Format("15:04"))
	}
	// Output:
	// fire_once [2024-01-15 10:45:00 +0000 UTC] 11:00
	// skip [] 11:00
	// fire_all [2024-01-15 10:00:00 +0000 UTC 2024-01-15 10:15:00 +0000 UTC 2024-01-15 10:30:00 +0000 UTC 2024-01-15 10:45:00 +0000 UTC] 11:00
}

// A Spec is shared by every goroutine of a coordinator (E4).
func TestE4_ConcurrentNextAndPlanFiring(t *testing.T) {
	loc := mustLoc(t, "America/New_York")
	spec := mustCron(t, "*/15 * * * *", loc)
	from := ts(t, "2024-01-01T00:00:00Z")
	end := from.AddDate(1, 0, 0)
	want := chain(t, spec, from, end)
	done := make(chan []time.Time)
	for g := range 4 {
		go func() {
			// Each goroutine starts in a different season, so the zone cache churns.
			start := from.AddDate(0, 3*g, 0)
			var got []time.Time
			for x := start; x.Before(start.AddDate(0, 0, 10)); {
				x = spec.Next(x)
				got = append(got, x)
				PlanFiring(spec, x, x.Add(time.Hour), FireAll, 3)
			}
			done <- got
		}()
	}
	for range 4 {
		got := <-done
		i := 0
		for i < len(want) && want[i].Before(got[0]) {
			i++
		}
		for _, g := range got {
			if i >= len(want) {
				break
			}
			if !g.Equal(want[i]) {
				t.Fatalf("concurrent Next gave %s, want %s", fmtT(g, loc), fmtT(want[i], loc))
			}
			i++
		}
	}
}
