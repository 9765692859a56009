package schedule

import (
	"testing"
	"time"
)

// ts parses an RFC 3339 instant; offsets in the literal make DST cases
// unambiguous to the reader.
func ts(tb testing.TB, s string) time.Time {
	tb.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		tb.Fatalf("bad test time %q: %v", s, err)
	}
	return v
}

func mustLoc(tb testing.TB, name string) *time.Location {
	tb.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		tb.Fatalf("load %s: %v", name, err)
	}
	return loc
}

func mustCron(tb testing.TB, expr string, loc *time.Location) Spec {
	tb.Helper()
	s, err := Cron(expr, loc)
	if err != nil {
		tb.Fatalf("Cron(%q): %v", expr, err)
	}
	return s
}

// fmtT shows an instant in UTC and in loc, so a failing DST case reads well.
func fmtT(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return "zero"
	}
	return t.UTC().Format(time.RFC3339Nano) + " (" + t.In(loc).Format("2006-01-02 15:04:05 MST") + ")"
}

// chain returns the ticks of spec in (from, to], following Next.
func chain(tb testing.TB, spec Spec, from, to time.Time) []time.Time {
	tb.Helper()
	var out []time.Time
	for t := from; ; {
		n := spec.Next(t)
		if n.IsZero() || n.After(to) {
			return out
		}
		if !n.After(t) {
			tb.Fatalf("Next(%v) = %v, not after its argument", t, n)
		}
		if n.Location() != time.UTC {
			tb.Fatalf("Next(%v) = %v, not in UTC", t, n)
		}
		out = append(out, n)
		t = n
	}
}
