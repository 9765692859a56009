package schedule

import (
	"strings"
	"testing"
	"time"
)

func TestS4_CronRejectsInvalidExpressions(t *testing.T) {
	cases := []struct {
		name, expr, want string // want: a fragment of the error
	}{
		{"empty", "", "empty"},
		{"blank", "   ", "empty"},
		{"minute above 59", "61 * * * *", "above maximum"},
		{"hour above 23", "0 24 * * *", "above maximum"},
		{"day-of-month zero", "0 0 0 * *", "below minimum"},
		{"day-of-month 32", "0 0 32 * *", "above maximum"},
		{"month 13", "0 0 1 13 *", "above maximum"},
		{"day-of-week 7", "0 0 * * 7", "above maximum"},
		{"seconds 60", "60 * * * * *", "above maximum"},
		{"too few fields", "* * * *", "expected 5 to 6 fields"},
		{"too many fields", "* * * * * * *", "expected 5 to 6 fields"},
		{"not a number", "a * * * *", "failed to parse int"},
		{"unknown month name", "0 0 1 JANUARY *", "failed to parse int"},
		{"negative", "-1 * * * *", "failed to parse int"},
		{"zero step", "*/0 * * * *", "step"},
		{"reversed range", "5-1 * * * *", "beyond end of range"},
		{"too many hyphens", "1-2-3 * * * *", "too many hyphens"},
		{"too many slashes", "*/2/3 * * * *", "too many slashes"},
		{"empty list", ", * * * *", "matches no value"},
		{"every", "@every 5m", "@every is an interval"},
		{"every without duration", "@every", "@every is an interval"},
		{"every upper case", "@EVERY 1h", "@every is an interval"},
		{"unknown descriptor", "@fortnightly", "unrecognized descriptor"},
		{"TZ prefix", "TZ=UTC 0 * * * *", "time zone prefixes"},
		{"TZ prefix without space", "TZ=UTC", "time zone prefixes"},
		{"CRON_TZ prefix", "CRON_TZ=Europe/Berlin 0 * * * *", "time zone prefixes"},
		{"lower-case cron_tz prefix", "cron_tz=Europe/Berlin 0 * * * *", "time zone prefixes"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			spec, err := Cron(tc.expr, time.UTC)
			if err == nil {
				t.Fatalf("Cron(%q) = %v, want an error", tc.expr, spec)
			}
			prefix := `invalid cron expression "` + tc.expr + `": `
			msg := err.Error()
			if !strings.HasPrefix(msg, prefix) || len(msg) == len(prefix) {
				t.Errorf("error %q does not start with %q and say why", msg, prefix)
			}
			if !strings.Contains(msg, tc.want) {
				t.Errorf("error %q does not mention %q", msg, tc.want)
			}
		})
	}
}

func TestS4_IntervalRejectsNonPositive(t *testing.T) {
	for _, d := range []time.Duration{0, -time.Second, time.Nanosecond, time.Millisecond - 1} {
		spec, err := Interval(d)
		if err == nil {
			t.Errorf("Interval(%s) = %v, want an error", d, spec)
			continue
		}
		if !strings.Contains(err.Error(), "interval must be positive") {
			t.Errorf("Interval(%s) error %q does not say the interval must be positive", d, err)
		}
	}
}

func TestS5_IntervalNext(t *testing.T) {
	for _, d := range []time.Duration{time.Millisecond, 90 * time.Second, 24 * time.Hour} {
		spec, err := Interval(d)
		if err != nil {
			t.Fatalf("Interval(%s): %v", d, err)
		}
		after := ts(t, "2024-03-10T01:59:59.5-05:00") // across a DST change: intervals ignore it
		got := spec.Next(after)
		if want := after.Add(d); !got.Equal(want) || got.Location() != time.UTC {
			t.Errorf("Interval(%s).Next(%v) = %v, want %v in UTC", d, after, got, want)
		}
	}
}

// cronCase is one Next call: in zone loc, expr after after gives want ("" = zero).
type cronCase struct {
	expr, after, want string
}

func runCronCases(t *testing.T, loc *time.Location, cases []cronCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.expr+"/after="+tc.after, func(t *testing.T) {
			spec := mustCron(t, tc.expr, loc)
			after := ts(t, tc.after)
			got := spec.Next(after)
			if tc.want == "" {
				if !got.IsZero() {
					t.Fatalf("Next(%s) = %s, want zero", tc.after, fmtT(got, loc))
				}
				return
			}
			want := ts(t, tc.want)
			if !got.Equal(want) || got.Location() != time.UTC {
				t.Fatalf("Next(%s) = %s, want %s in UTC", tc.after, fmtT(got, loc), fmtT(want, loc))
			}
		})
	}
}

func TestS5_CronStandardExpressions(t *testing.T) {
	const mon = "2024-01-15T10:20:30Z" // a Monday
	runCronCases(t, time.UTC, []cronCase{
		{"* * * * *", mon, "2024-01-15T10:21:00Z"},
		{"0 * * * *", mon, "2024-01-15T11:00:00Z"},
		{"*/5 * * * *", mon, "2024-01-15T10:25:00Z"},
		{"5-10/2 * * * *", mon, "2024-01-15T11:05:00Z"},
		{"20 10 * * *", mon, "2024-01-16T10:20:00Z"},
		{"21 10 * * *", mon, "2024-01-15T10:21:00Z"},
		{"0 22 * * 1-5", mon, "2024-01-15T22:00:00Z"},
		{"30 9 * * 1-5", mon, "2024-01-16T09:30:00Z"},
		{"30 9 * * 1-5", "2024-01-19T09:30:00Z", "2024-01-22T09:30:00Z"}, // Friday to Monday
		{"0 0 1 * *", mon, "2024-02-01T00:00:00Z"},
		{"15 14 1 * *", mon, "2024-02-01T14:15:00Z"},
		{"0 0 * * 0", mon, "2024-01-21T00:00:00Z"},
		{"0 0 * * SUN", mon, "2024-01-21T00:00:00Z"},
		{"0 0 * * mon", mon, "2024-01-22T00:00:00Z"},
		{"0 12 * JAN,FEB SUN", mon, "2024-01-21T12:00:00Z"},
		{"0 0 * * ?", mon, "2024-01-16T00:00:00Z"},
		{"0 0 1 1 *", mon, "2025-01-01T00:00:00Z"},
		{"59 23 31 12 *", "2024-12-31T23:59:00Z", "2025-12-31T23:59:00Z"},
		{"0 0 31 * *", mon, "2024-01-31T00:00:00Z"},
		{"0 0 31 * *", "2024-01-31T00:00:00Z", "2024-03-31T00:00:00Z"},
		// Day-of-month and day-of-week both restricted: either matches.
		{"0 0 1,15 * 1", mon, "2024-01-22T00:00:00Z"},
		{"0 0 13 * 5", "2024-01-01T00:00:00Z", "2024-01-05T00:00:00Z"},
		{"0 0 13 * 5", "2024-01-12T00:00:00Z", "2024-01-13T00:00:00Z"},
		// One of them is a star: both must match.
		{"0 0 * 2 1", mon, "2024-02-05T00:00:00Z"},
		{"0 0 29 2 *", mon, "2024-02-29T00:00:00Z"},
		{"0 0 29 2 *", "2024-03-01T00:00:00Z", "2028-02-29T00:00:00Z"},
		{"0 0 29 2 *", "2096-03-01T00:00:00Z", "2104-02-29T00:00:00Z"}, // 2100 is not a leap year
		// Never within the horizon.
		{"0 0 30 2 *", mon, ""},
		{"0 0 31 4 *", mon, ""},
		// Sub-second and exact arguments: strictly after.
		{"* * * * *", "2024-01-15T10:20:59.999Z", "2024-01-15T10:21:00Z"},
		{"* * * * *", "2024-01-15T10:21:00Z", "2024-01-15T10:22:00Z"},
		{"  */5 * * * *  ", mon, "2024-01-15T10:25:00Z"}, // surrounding blanks are ignored
	})
}

func TestS5_CronSecondsField(t *testing.T) {
	const at = "2024-01-15T10:20:30Z"
	runCronCases(t, time.UTC, []cronCase{
		{"30 * * * * *", at, "2024-01-15T10:21:30Z"},
		{"*/10 * * * * *", at, "2024-01-15T10:20:40Z"},
		{"* * * * * *", "2024-01-15T10:20:30.5Z", "2024-01-15T10:20:31Z"},
		{"0 0 0 1 1 *", at, "2025-01-01T00:00:00Z"},
		{"15,45 30 10 * * *", at, "2024-01-15T10:30:15Z"},
		{"0 */5 * * * *", at, "2024-01-15T10:25:00Z"},
	})
}

func TestS5_CronDescriptors(t *testing.T) {
	const mon = "2024-01-15T10:20:30Z"
	runCronCases(t, time.UTC, []cronCase{
		{"@yearly", mon, "2025-01-01T00:00:00Z"},
		{"@annually", mon, "2025-01-01T00:00:00Z"},
		{"@monthly", mon, "2024-02-01T00:00:00Z"},
		{"@weekly", mon, "2024-01-21T00:00:00Z"},
		{"@daily", mon, "2024-01-16T00:00:00Z"},
		{"@midnight", mon, "2024-01-16T00:00:00Z"},
		{"@hourly", mon, "2024-01-15T11:00:00Z"},
	})
	// Descriptors follow the zone too.
	runCronCases(t, mustLoc(t, "Asia/Tokyo"), []cronCase{
		{"@daily", mon, "2024-01-16T00:00:00+09:00"},
	})
}

func TestS5_CronNilLocationIsUTC(t *testing.T) {
	spec := mustCron(t, "0 12 * * *", nil)
	if got, want := spec.Next(ts(t, "2024-01-15T10:00:00Z")), ts(t, "2024-01-15T12:00:00Z"); !got.Equal(want) {
		t.Fatalf("Next = %v, want %v", got, want)
	}
}

func TestS5_CronInTimeZone(t *testing.T) {
	// 09:30 in the schedule's zone, whatever zone the argument is in.
	runCronCases(t, mustLoc(t, "Europe/Berlin"), []cronCase{
		{"30 9 * * *", "2024-01-15T00:00:00Z", "2024-01-15T09:30:00+01:00"},
		{"30 9 * * *", "2024-07-15T00:00:00-07:00", "2024-07-15T09:30:00+02:00"},
		{"30 9 * * *", "2024-07-15T00:30:00-07:00", "2024-07-16T09:30:00+02:00"},
	})
	runCronCases(t, mustLoc(t, "Asia/Kolkata"), []cronCase{
		{"0 0 * * *", "2024-01-15T00:00:00Z", "2024-01-16T00:00:00+05:30"},
	})
}
