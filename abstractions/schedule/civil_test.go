package schedule

import (
	"testing"
	"time"
)

// The integer calendar used by nextWall must agree with package time.
func TestS5_CivilCalendarMatchesTime(t *testing.T) {
	start := time.Date(-800, 1, 1, 0, 0, 0, 0, time.UTC)
	for day := int64(0); day < 1_200_000; day += 13 {
		tm := start.AddDate(0, 0, int(day))
		days := floorDiv(tm.Unix(), 86400)
		y, mo, d := civil(days)
		if y != tm.Year() || mo != int(tm.Month()) || d != tm.Day() {
			t.Fatalf("civil(%d) = %d-%d-%d, want %s", days, y, mo, d, tm.Format("2006-01-02"))
		}
		if got := daysFromCivil(y, mo, d); got != days {
			t.Fatalf("daysFromCivil(%d-%d-%d) = %d, want %d", y, mo, d, got, days)
		}
		if wd := floorMod(days+4, 7); wd != int64(tm.Weekday()) {
			t.Fatalf("weekday of %s = %d, want %d", tm.Format("2006-01-02"), wd, tm.Weekday())
		}
		if dim := daysIn(y, mo); dim != time.Date(y, time.Month(mo)+1, 0, 0, 0, 0, 0, time.UTC).Day() {
			t.Fatalf("daysIn(%d, %d) = %d", y, mo, dim)
		}
	}
}
