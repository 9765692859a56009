package schedule

import (
	"fmt"
	"math/bits"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// cronParser accepts the standard five fields, an optional leading seconds
// field and the descriptors. robfig/cron only parses; Next is ours because
// robfig's walks local time with AddDate and mishandles daylight saving.
var cronParser = cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour |
	cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// starBit is robfig's marker for a field written as "*" or "?"; it changes
// how day-of-month and day-of-week combine (see dayMatches).
const starBit = 1 << 63

// horizonYears bounds the search of Next. Eight rather than five years so
// that "0 0 29 2 *" still finds 29 February across 2100, which is not a leap
// year (2096 to 2104).
const horizonYears = 8

// cronSpec is a parsed cron expression bound to a time zone.
type cronSpec struct {
	expr string
	loc  *time.Location

	second, minute, hour, dom, month, dow uint64

	zones zoneCache
}

// String returns the expression and zone, for logs and error messages.
func (c *cronSpec) String() string { return fmt.Sprintf("cron %q in %s", c.expr, c.loc) }

func parseCron(expr string, loc *time.Location) (spec *cronSpec, err error) {
	fail := func(format string, args ...any) error {
		// The parser's messages quote raw input: keep errors valid UTF-8.
		return fmt.Errorf("invalid cron expression %q: %s", expr, strings.ToValidUTF8(fmt.Sprintf(format, args...), "\uFFFD"))
	}
	s := strings.TrimSpace(expr)
	upper := strings.ToUpper(s)
	switch {
	case s == "":
		return nil, fail("empty expression")
	case strings.HasPrefix(upper, "TZ=") || strings.HasPrefix(upper, "CRON_TZ="):
		return nil, fail("time zone prefixes are not accepted; set the schedule's time zone instead")
	case strings.HasPrefix(upper, "@EVERY"):
		return nil, fail("@every is an interval, not a cron expression; use an interval schedule")
	}
	// The parser is third-party code fed user input: never let it panic a
	// coordinator.
	defer func() {
		if r := recover(); r != nil {
			spec, err = nil, fail("%v", r)
		}
	}()
	parsed, perr := cronParser.Parse(s)
	if perr != nil {
		return nil, fail("%v", perr)
	}
	ss, ok := parsed.(*cron.SpecSchedule)
	if !ok {
		return nil, fail("unsupported schedule kind %T", parsed)
	}
	// robfig accepts an empty list such as "," and yields a field that
	// matches nothing; say so instead of never firing.
	for _, f := range []struct {
		name string
		bits uint64
	}{
		{"second", ss.Second}, {"minute", ss.Minute}, {"hour", ss.Hour},
		{"day-of-month", ss.Dom}, {"month", ss.Month}, {"day-of-week", ss.Dow},
	} {
		if f.bits&^starBit == 0 {
			return nil, fail("%s field matches no value", f.name)
		}
	}
	return &cronSpec{
		expr: expr, loc: loc,
		second: ss.Second, minute: ss.Minute, hour: ss.Hour,
		dom: ss.Dom, month: ss.Month, dow: ss.Dow,
	}, nil
}

// Next returns the first tick strictly after after, in UTC (S5).
//
// Matching is done on wall-clock fields in c.loc (nextWall); each matching
// wall time then maps to one instant (resolveWall): itself when it exists
// once, its first occurrence when a fall-back repeats it, the transition
// instant when a spring-forward skips it. That mapping never decreases as
// the wall time grows, so the first matching wall time whose instant is
// after after is the answer, and successive calls never repeat an instant.
func (c *cronSpec) Next(after time.Time) time.Time {
	base := after.Truncate(time.Second)
	w := base.Unix() + c.zoneAt(base.Unix()).off
	y, _, _ := civil(floorDiv(w, 86400))
	maxYear := y + horizonYears
	// No wall time at or before the wall time of after maps past after.
	w++
	for range 64 {
		W, ok := c.nextWall(w, maxYear)
		if !ok {
			return time.Time{}
		}
		x, zoneEnd, zoneOff := c.resolveWall(W)
		if t := time.Unix(x, 0).UTC(); t.After(after) {
			return t
		}
		// after is in the second pass of a repeated hour and W's first
		// occurrence is behind it. Within W's zone the instant is W-zoneOff,
		// so jump to the first wall time past after, but not beyond the end
		// of that zone, where the mapping changes.
		w = min(W+(base.Unix()-x)+1, zoneEnd+zoneOff)
	}
	return time.Time{}
}

// nextWall returns the first wall time at or after w whose fields match,
// skipping whole months, days, hours and minutes that do not, or false past
// the end of maxYear. It works on plain integers: wall times
// have no zone, so there is no daylight saving to get wrong here.
func (c *cronSpec) nextWall(w int64, maxYear int) (int64, bool) {
	days := floorDiv(w, 86400)
	y, mo, d := civil(days)
	sod := int(w - days*86400)
	h, mi, s := sod/3600, sod/60%60, sod%60
	for y <= maxYear {
		m, ok := nextBit(c.month, mo, 12)
		if !ok {
			y, mo, d, h, mi, s = y+1, 1, 1, 0, 0, 0
			continue
		}
		if m != mo {
			mo, d, h, mi, s = m, 1, 0, 0, 0
		}
		dd, ok := c.nextDay(y, mo, d)
		if !ok {
			mo, d, h, mi, s = mo+1, 1, 0, 0, 0
			continue
		}
		if dd != d {
			d, h, mi, s = dd, 0, 0, 0
		}
		hh, ok := nextBit(c.hour, h, 23)
		if !ok {
			d, h, mi, s = d+1, 0, 0, 0
			continue
		}
		if hh != h {
			h, mi, s = hh, 0, 0
		}
		mm, ok := nextBit(c.minute, mi, 59)
		if !ok {
			h, mi, s = h+1, 0, 0
			continue
		}
		if mm != mi {
			mi, s = mm, 0
		}
		sec, ok := nextBit(c.second, s, 59)
		if !ok {
			mi, s = mi+1, 0
			continue
		}
		return daysFromCivil(y, mo, d)*86400 + int64(h*3600+mi*60+sec), true
	}
	return 0, false
}

// nextDay returns the first day at or after d in month mo of year y that
// dayMatches, or false when the rest of the month has none.
func (c *cronSpec) nextDay(y, mo, d int) (int, bool) {
	last := daysIn(y, mo)
	if d > last {
		return 0, false
	}
	wd := int(floorMod(daysFromCivil(y, mo, d)+4, 7)) // 1970-01-01 was a Thursday
	for ; d <= last; d++ {
		if c.dayMatches(d, wd) {
			return d, true
		}
		wd = (wd + 1) % 7
	}
	return 0, false
}

// dayMatches is robfig/cron's rule, kept exactly so that expressions mean
// what they mean there: when either day field is "*" or "?" both must
// match, otherwise either may (classic cron's OR of day-of-month and
// day-of-week).
func (c *cronSpec) dayMatches(dom, dow int) bool {
	domMatch := c.dom&(1<<uint(dom)) != 0
	dowMatch := c.dow&(1<<uint(dow)) != 0
	if c.dom&starBit != 0 || c.dow&starBit != 0 {
		return domMatch && dowMatch
	}
	return domMatch || dowMatch
}

// nextBit returns the lowest set bit of field at or above from and at or
// below max.
func nextBit(field uint64, from, max int) (int, bool) {
	if from > max {
		return 0, false
	}
	b := (field &^ starBit) >> uint(from)
	if b == 0 {
		return 0, false
	}
	n := from + bits.TrailingZeros64(b)
	return n, n <= max
}

func daysIn(y, mo int) int {
	switch mo {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysFromCivil returns the days from 1970-01-01 to y-mo-d in the
// proleptic Gregorian calendar (Howard Hinnant's algorithm).
func daysFromCivil(y, mo, d int) int64 {
	if mo <= 2 {
		y--
	}
	era := floorDiv(int64(y), 400)
	yoe := int64(y) - era*400
	doy := int64((153*((mo+9)%12)+2)/5 + d - 1)
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// civil is the inverse of daysFromCivil.
func civil(days int64) (y, mo, d int) {
	z := days + 719468
	era := floorDiv(z, 146097)
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = int(doy - (153*mp+2)/5 + 1)
	mo = int(mp + 3)
	if mo > 12 {
		mo -= 12
	}
	y = int(yoe + era*400)
	if mo <= 2 {
		y++
	}
	return y, mo, d
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func floorMod(a, b int64) int64 { return a - floorDiv(a, b)*b }
