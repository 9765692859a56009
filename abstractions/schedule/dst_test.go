package schedule

import (
	"sort"
	"testing"
	"time"

	"github.com/robfig/cron/v3"
)

// New York 2024: spring forward 10 March 02:00 EST -> 03:00 EDT (07:00Z),
// fall back 3 November 02:00 EDT -> 01:00 EST (06:00Z).
func TestS5_DSTNewYorkSkippedHourFiresOnceAtTransition(t *testing.T) {
	runCronCases(t, mustLoc(t, "America/New_York"), []cronCase{
		{"30 2 * * *", "2024-03-10T01:00:00-05:00", "2024-03-10T03:00:00-04:00"},
		{"30 2 * * *", "2024-03-10T03:00:00-04:00", "2024-03-11T02:30:00-04:00"},
		{"0 2 * * *", "2024-03-10T01:00:00-05:00", "2024-03-10T03:00:00-04:00"},
		{"30 30 2 * * *", "2024-03-10T01:00:00-05:00", "2024-03-10T03:00:00-04:00"},
		// A schedule for the whole skipped hour fires exactly once.
		{"*/15 2 * * *", "2024-03-10T01:59:00-05:00", "2024-03-10T03:00:00-04:00"},
		{"*/15 2 * * *", "2024-03-10T03:00:00-04:00", "2024-03-11T02:00:00-04:00"},
		// Skipped 02:xx and real 03:00 land on the same instant: once.
		{"0 2,3 * * *", "2024-03-10T01:00:00-05:00", "2024-03-10T03:00:00-04:00"},
		{"0 2,3 * * *", "2024-03-10T03:00:00-04:00", "2024-03-11T02:00:00-04:00"},
		// Wildcard schedules: the gap collapses to one firing at 03:00 EDT.
		{"*/15 * * * *", "2024-03-10T01:45:00-05:00", "2024-03-10T03:00:00-04:00"},
		{"*/15 * * * *", "2024-03-10T03:00:00-04:00", "2024-03-10T03:15:00-04:00"},
		{"0 * * * *", "2024-03-10T01:00:00-05:00", "2024-03-10T03:00:00-04:00"},
		{"0 * * * *", "2024-03-10T03:00:00-04:00", "2024-03-10T04:00:00-04:00"},
		{"* * * * * *", "2024-03-10T01:59:59-05:00", "2024-03-10T03:00:00-04:00"},
		{"* * * * * *", "2024-03-10T03:00:00-04:00", "2024-03-10T03:00:01-04:00"},
		// Unaffected times on the same day.
		{"30 1 * * *", "2024-03-10T00:00:00-05:00", "2024-03-10T01:30:00-05:00"},
		{"30 3 * * *", "2024-03-10T00:00:00-05:00", "2024-03-10T03:30:00-04:00"},
	})
}

func TestS5_DSTNewYorkRepeatedHourFiresOnce(t *testing.T) {
	runCronCases(t, mustLoc(t, "America/New_York"), []cronCase{
		// Fixed time in the repeated hour: first occurrence only.
		{"30 1 * * *", "2024-11-03T00:00:00-04:00", "2024-11-03T01:30:00-04:00"},
		{"30 1 * * *", "2024-11-03T01:30:00-04:00", "2024-11-04T01:30:00-05:00"},
		{"0 1 * * *", "2024-11-03T01:00:00-04:00", "2024-11-04T01:00:00-05:00"},
		// Wildcard minutes do not fire again during the repeated hour.
		{"*/15 * * * *", "2024-11-03T01:30:00-04:00", "2024-11-03T01:45:00-04:00"},
		{"*/15 * * * *", "2024-11-03T01:45:00-04:00", "2024-11-03T02:00:00-05:00"},
		{"0 * * * *", "2024-11-03T00:00:00-04:00", "2024-11-03T01:00:00-04:00"},
		{"0 * * * *", "2024-11-03T01:00:00-04:00", "2024-11-03T02:00:00-05:00"},
		{"* * * * * *", "2024-11-03T01:59:59-04:00", "2024-11-03T02:00:00-05:00"},
		// Asked from inside the second pass, the next tick is after it.
		{"*/15 * * * *", "2024-11-03T01:00:00-05:00", "2024-11-03T02:00:00-05:00"},
		{"*/15 * * * *", "2024-11-03T01:50:00-05:00", "2024-11-03T02:00:00-05:00"},
		{"* * * * * *", "2024-11-03T01:30:00.25-05:00", "2024-11-03T02:00:00-05:00"},
		{"30 1 * * *", "2024-11-03T01:10:00-05:00", "2024-11-04T01:30:00-05:00"},
		{"0 2 * * *", "2024-11-03T01:10:00-05:00", "2024-11-03T02:00:00-05:00"},
		{"0 2 * * *", "2024-11-03T01:10:00-04:00", "2024-11-03T02:00:00-05:00"},
	})
}

// London 2024: 31 March 01:00 GMT -> 02:00 BST, 27 October 02:00 BST -> 01:00 GMT.
func TestS5_DSTLondon(t *testing.T) {
	runCronCases(t, mustLoc(t, "Europe/London"), []cronCase{
		{"30 1 * * *", "2024-03-31T00:00:00Z", "2024-03-31T02:00:00+01:00"},
		{"30 1 * * *", "2024-03-31T02:00:00+01:00", "2024-04-01T01:30:00+01:00"},
		{"*/20 * * * *", "2024-03-31T00:40:00Z", "2024-03-31T02:00:00+01:00"},
		{"30 1 * * *", "2024-10-27T00:00:00+01:00", "2024-10-27T01:30:00+01:00"},
		{"30 1 * * *", "2024-10-27T01:30:00+01:00", "2024-10-28T01:30:00Z"},
		{"*/20 * * * *", "2024-10-27T01:40:00+01:00", "2024-10-27T02:00:00Z"},
	})
}

// Lord Howe shifts by 30 minutes: 6 October 2024 02:00 +10:30 -> 02:30 +11,
// 7 April 2024 02:00 +11 -> 01:30 +10:30.
func TestS5_DSTLordHoweHalfHourShift(t *testing.T) {
	runCronCases(t, mustLoc(t, "Australia/Lord_Howe"), []cronCase{
		{"15 2 * * *", "2024-10-06T01:00:00+10:30", "2024-10-06T02:30:00+11:00"},
		{"15 2 * * *", "2024-10-06T02:30:00+11:00", "2024-10-07T02:15:00+11:00"},
		{"*/10 * * * *", "2024-10-06T01:50:00+10:30", "2024-10-06T02:30:00+11:00"},
		{"*/10 * * * *", "2024-10-06T02:30:00+11:00", "2024-10-06T02:40:00+11:00"},
		{"45 1 * * *", "2024-04-07T01:00:00+11:00", "2024-04-07T01:45:00+11:00"},
		{"45 1 * * *", "2024-04-07T01:45:00+11:00", "2024-04-08T01:45:00+10:30"},
		{"*/10 * * * *", "2024-04-07T01:50:00+11:00", "2024-04-07T02:00:00+10:30"},
		{"*/10 * * * *", "2024-04-07T01:40:00+10:30", "2024-04-07T02:00:00+10:30"},
	})
}

// Samoa skipped 30 December 2011: 29 December 23:59:59 -10 was followed by
// 31 December 00:00 +14 (2011-12-30T10:00Z).
func TestS5_DSTApiaSkippedDay(t *testing.T) {
	runCronCases(t, mustLoc(t, "Pacific/Apia"), []cronCase{
		{"0 12 * * *", "2011-12-29T12:00:00-10:00", "2011-12-31T00:00:00+14:00"},
		{"0 12 * * *", "2011-12-31T00:00:00+14:00", "2011-12-31T12:00:00+14:00"},
		{"0 0 * * *", "2011-12-29T00:00:00-10:00", "2011-12-31T00:00:00+14:00"},
		{"0 0 * * *", "2011-12-31T00:00:00+14:00", "2012-01-01T00:00:00+14:00"},
		{"0 * * * *", "2011-12-29T23:00:00-10:00", "2011-12-31T00:00:00+14:00"},
		{"0 * * * *", "2011-12-31T00:00:00+14:00", "2011-12-31T01:00:00+14:00"},
		{"0 9 30 12 *", "2011-12-01T00:00:00-10:00", "2011-12-31T00:00:00+14:00"},
		{"0 9 30 12 *", "2011-12-31T00:00:00+14:00", "2012-12-30T09:00:00+14:00"},
		{"0 9 * * 5", "2011-12-25T00:00:00-10:00", "2011-12-31T00:00:00+14:00"}, // Friday the 30th
	})
	// A whole day of hourly ticks collapses into one firing.
	loc := mustLoc(t, "Pacific/Apia")
	got := chain(t, mustCron(t, "0 * * * *", loc), ts(t, "2011-12-29T22:30:00-10:00"), ts(t, "2011-12-31T02:00:00+14:00"))
	want := []string{"2011-12-29T23:00:00-10:00", "2011-12-31T00:00:00+14:00", "2011-12-31T01:00:00+14:00", "2011-12-31T02:00:00+14:00"}
	if len(got) != len(want) {
		t.Fatalf("ticks = %v, want %v", got, want)
	}
	for i := range want {
		if !got[i].Equal(ts(t, want[i])) {
			t.Fatalf("tick %d = %s, want %s", i, fmtT(got[i], loc), want[i])
		}
	}
}

func TestS5_SuccessiveNextStrictlyIncreasesAcrossAYear(t *testing.T) {
	cases := []struct{ zone, expr string }{
		{"America/New_York", "* * * * *"},
		{"America/New_York", "*/15 1-3 * * *"},
		{"America/New_York", "30 2 * * *"},
		{"Australia/Lord_Howe", "*/10 * * * *"},
		{"Europe/London", "30 1 * * *"},
		{"Pacific/Apia", "0 * * * *"},
	}
	for _, tc := range cases {
		t.Run(tc.zone+"/"+tc.expr, func(t *testing.T) {
			t.Parallel()
			loc := mustLoc(t, tc.zone)
			spec := mustCron(t, tc.expr, loc)
			from := time.Date(2024, 1, 1, 0, 0, 0, 0, loc)
			if tc.zone == "Pacific/Apia" {
				from = time.Date(2011, 6, 1, 0, 0, 0, 0, loc)
			}
			// chain fails on any tick that does not move forward.
			ticks := chain(t, spec, from, from.AddDate(1, 0, 0))
			seen := make(map[time.Time]bool, len(ticks))
			for _, tk := range ticks {
				if seen[tk] {
					t.Fatalf("tick %s returned twice", fmtT(tk, loc))
				}
				seen[tk] = true
			}
			if len(ticks) == 0 {
				t.Fatal("no ticks in a year")
			}
		})
	}
}

// referenceTicks is a brute-force model of S5, independent of Next: it
// walks every minute of real time in (from, to] keeping the latest wall
// clock shown so far; a minute fires when the clock moved forward past at
// least one matching wall time (the one it shows, or one a spring-forward
// skipped). A repeated hour never moves the clock past its high-water mark,
// so it never fires again. Matching wall times come from robfig/cron in UTC,
// where it has no DST to get wrong. Minute-granular expressions only.
func referenceTicks(t *testing.T, expr string, loc *time.Location, from, to time.Time) []time.Time {
	t.Helper()
	sched, err := cronParser.Parse(expr)
	if err != nil {
		t.Fatal(err)
	}
	ss := sched.(*cron.SpecSchedule)
	ss.Location = time.UTC
	// wallOf is the clock shown at x, as seconds of a UTC clock.
	wallOf := func(x time.Time) int64 {
		_, off := x.In(loc).Zone()
		return x.Unix() + int64(off)
	}
	var walls []int64 // matching wall times, ascending
	lo, hi := time.Unix(wallOf(from), 0).UTC().Add(-48*time.Hour), time.Unix(wallOf(to), 0).UTC().Add(48*time.Hour)
	for w := ss.Next(lo); !w.IsZero() && w.Before(hi); w = ss.Next(w) {
		walls = append(walls, w.Unix())
	}
	var out []time.Time
	high := wallOf(from)
	i := sort.Search(len(walls), func(i int) bool { return walls[i] > high })
	for x := from.Truncate(time.Minute).Add(time.Minute); !x.After(to); x = x.Add(time.Minute) {
		w := wallOf(x)
		if w <= high {
			continue // a repeated wall time
		}
		// Any matching wall time in (high, w]? walls[i] is the first > high.
		if i < len(walls) && walls[i] <= w {
			out = append(out, x.UTC())
		}
		high = w
		for i < len(walls) && walls[i] <= high {
			i++
		}
	}
	return out
}

func TestS5_CronMatchesBruteForceReferenceOverAYear(t *testing.T) {
	exprs := []string{
		"*/15 * * * *",
		"30 2 * * *",
		"0 1 * * *",
		"0 0 * * 0",
		"5 */3 1,15 * 1-5",
		"0 9-17 * * 1-5",
		"* 1-3 * * 0", // every minute of the small hours of every Sunday, DST days included
		"@daily",
		"0 0 29 2 *",
	}
	zones := []string{"UTC", "America/New_York", "Europe/London", "Australia/Lord_Howe"}
	for _, zone := range zones {
		loc := mustLoc(t, zone)
		from := time.Date(2024, 1, 1, 0, 0, 0, 0, loc)
		to := from.AddDate(1, 0, 0)
		for _, expr := range exprs {
			t.Run(zone+"/"+expr, func(t *testing.T) {
				t.Parallel()
				got := chain(t, mustCron(t, expr, loc), from, to)
				want := referenceTicks(t, expr, loc, from, to)
				compareTicks(t, loc, got, want)
			})
		}
	}
	t.Run("Pacific/Apia/0 */2 * * *", func(t *testing.T) {
		loc := mustLoc(t, "Pacific/Apia")
		from := time.Date(2011, 3, 1, 0, 0, 0, 0, loc)
		to := from.AddDate(1, 0, 0)
		for _, expr := range []string{"0 */2 * * *", "30 3 * * *"} {
			compareTicks(t, loc, chain(t, mustCron(t, expr, loc), from, to), referenceTicks(t, expr, loc, from, to))
		}
	})
}

// Where no daylight-saving ambiguity applies, robfig/cron's own Next is
// right, and ours must agree with it.
func TestS5_CronMatchesRobfigWithoutDSTAmbiguity(t *testing.T) {
	cases := []struct {
		zone  string
		exprs []string
	}{
		{"UTC", []string{"*/7 * * * *", "0 0 1,15 * 1", "30 4 * 2-11 1-5", "0 0 29 2 *", "15,45 */20 * * * *", "@weekly", "0 0 31 * *"}},
		{"America/New_York", []string{"0 12 * * *", "30 9 * * 1-5", "0 0 1 * *", "15 4,16 * * *", "0 6 * * 0", "@monthly"}},
		{"Europe/London", []string{"0 12 * * *", "45 23 * * 5"}},
	}
	for _, tc := range cases {
		loc := mustLoc(t, tc.zone)
		from := time.Date(2024, 1, 1, 0, 0, 0, 0, loc)
		to := from.AddDate(1, 0, 0)
		for _, expr := range tc.exprs {
			t.Run(tc.zone+"/"+expr, func(t *testing.T) {
				t.Parallel()
				sched, err := cronParser.Parse(expr)
				if err != nil {
					t.Fatal(err)
				}
				rs := sched.(*cron.SpecSchedule)
				rs.Location = loc
				var want []time.Time
				for x := rs.Next(from); !x.IsZero() && !x.After(to); x = rs.Next(x) {
					want = append(want, x.UTC())
				}
				compareTicks(t, loc, chain(t, mustCron(t, expr, loc), from, to), want)
			})
		}
	}
}

func compareTicks(t *testing.T, loc *time.Location, got, want []time.Time) {
	t.Helper()
	for i := 0; i < len(got) || i < len(want); i++ {
		var g, w time.Time
		if i < len(got) {
			g = got[i]
		}
		if i < len(want) {
			w = want[i]
		}
		if !g.Equal(w) {
			t.Fatalf("tick %d: got %s, want %s (got %d ticks, want %d)", i, fmtT(g, loc), fmtT(w, loc), len(got), len(want))
		}
	}
	if len(want) == 0 && len(got) == 0 {
		t.Log("no ticks (as expected by both)")
	}
}
