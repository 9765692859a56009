package stores

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// fuzzBackend captures what the portable layer hands a driver.
type fuzzBackend struct {
	nopBackend
	jobs    *fuzzJobs
	workers *fuzzWorkers
}

func (b fuzzBackend) Jobs() JobStore       { return b.jobs }
func (b fuzzBackend) Workers() WorkerStore { return b.workers }

type fuzzJobs struct {
	JobStore
	got []*Job
}

func (f *fuzzJobs) Enqueue(_ context.Context, j *Job) error { f.got = append(f.got, j); return nil }

type fuzzWorkers struct {
	WorkerStore
	got []*Worker
}

func (f *fuzzWorkers) Heartbeat(_ context.Context, w *Worker, _ time.Time) (Heartbeat, error) {
	f.got = append(f.got, w)
	return Heartbeat{}, nil
}

// wantFieldError fails unless err is an ErrInvalidArgument *FieldError for
// field.
func wantFieldError(t *testing.T, err error, field string) {
	t.Helper()
	var fe *FieldError
	if !errors.Is(err, ErrInvalidArgument) || !errors.As(err, &fe) || fe.Field != field {
		t.Fatalf("error %v: want ErrInvalidArgument naming %s", err, field)
	}
	if !strings.Contains(err.Error(), field) {
		t.Fatalf("error %q does not name %s", err, field)
	}
	if !utf8.ValidString(err.Error()) {
		t.Fatalf("error %q is not valid UTF-8", err)
	}
}

// FuzzJSONFields (E3): job arguments and worker metadata reach the driver
// byte for byte when they are valid JSON (or empty), and are rejected with
// ErrInvalidArgument naming the field, before any driver call, when not.
func FuzzJSONFields(f *testing.F) {
	for _, s := range []string{``, `{}`, `[]`, `null`, `0`, `"x"`, `{"a":1}`, ` {"a" : [1, 2.5e10, true, null]} `,
		`{"a":"\u0000"}`, `{"k":"\ud800"}`, `{"dup":1,"dup":2}`, `{`, `{"a":}`, `'single'`, "{\"a\":\"\xff\"}",
		`{"a":1}garbage`, "\x00", `NaN`, `1e999`, `{"deep":[[[[[[[[[[]]]]]]]]]]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		jobs, workers := &fuzzJobs{}, &fuzzWorkers{}
		s := Wrap("fuzz", fuzzBackend{jobs: jobs, workers: workers})
		ctx := context.Background()
		valid := len(b) == 0 || json.Valid(b)
		in := append([]byte(nil), b...)

		err := s.Jobs().Enqueue(ctx, &Job{Type: "t", Queue: "q", Args: in})
		wk := &Worker{ID: "w", MaxConcurrency: 1, Metadata: append([]byte(nil), b...)}
		_, werr := s.Workers().Heartbeat(ctx, wk, time.Unix(1_700_000_000, 0))
		if !valid {
			wantFieldError(t, err, "job.Args")
			wantFieldError(t, werr, "worker.Metadata")
			if len(jobs.got)+len(workers.got) != 0 {
				t.Fatalf("invalid JSON %q reached the driver", b)
			}
			return
		}
		if err != nil || werr != nil {
			t.Fatalf("valid JSON %q rejected: %v / %v", b, err, werr)
		}
		if len(jobs.got) != 1 || !bytes.Equal(jobs.got[0].Args, b) {
			t.Fatalf("job Args reached the driver changed: %q, want %q", jobs.got[0].Args, b)
		}
		if len(workers.got) != 1 || !bytes.Equal(workers.got[0].Metadata, b) {
			t.Fatalf("worker Metadata reached the driver changed: %q, want %q", workers.got[0].Metadata, b)
		}
	})
}

// FuzzSpecOf (S4): any cron expression, time zone name or interval is
// accepted or rejected without a panic; a rejection is ErrInvalidArgument
// naming Expression, TimeZone or Interval.
func FuzzSpecOf(f *testing.F) {
	for _, c := range []struct{ expr, zone string }{
		{"* * * * *", "UTC"}, {"0 9 * * MON-FRI", "Europe/Berlin"}, {"", ""}, {"bad", "UTC"},
		{"* * * * *", "Local"}, {"* * * * *", "Mars/Olympus"}, {"* * * * *", "../../etc/passwd"},
		{"* * * * *", "/etc/localtime"}, {"* * * * *", "America/New_York\x00"}, {"@every 5s", "UTC"},
		{"CRON_TZ=UTC * * * * *", ""}, {"* * * * *", "EST5EDT"}, {"* * * * *", "Etc/GMT+14"},
		{"* * * * * * *", "UTC"}, {"60 * * * *", "UTC"}, {"\xff", "\xff"},
	} {
		f.Add(c.expr, c.zone, int64(time.Second))
	}
	f.Add("", "", int64(0))
	f.Add("", "", int64(-1))
	f.Add("", "", int64(999_999))
	f.Fuzz(func(t *testing.T, expr, zone string, interval int64) {
		_, err := SpecOf(&CronSchedule{Expression: expr, TimeZone: zone})
		if err != nil {
			var fe *FieldError
			if !errors.As(err, &fe) || (fe.Field != "Expression" && fe.Field != "TimeZone") {
				t.Fatalf("SpecOf(cron %q in %q): %v, want a FieldError naming Expression or TimeZone", expr, zone, err)
			}
			wantFieldError(t, err, fe.Field)
		}
		_, err = SpecOf(&IntervalSchedule{Interval: time.Duration(interval)})
		switch {
		case time.Duration(interval) < time.Millisecond && err == nil:
			t.Fatalf("SpecOf(interval %s) accepted", time.Duration(interval))
		case time.Duration(interval) >= time.Millisecond && err != nil:
			t.Fatalf("SpecOf(interval %s): %v", time.Duration(interval), err)
		case err != nil:
			wantFieldError(t, err, "Interval")
		}
	})
}

// FuzzRedactDSN (§2): a password in a DSN's user info never survives
// RedactDSN, whatever it holds (spaces, slashes, '?', '#', bad escapes) and
// whatever follows it.
func FuzzRedactDSN(f *testing.F) {
	for _, c := range [][4]string{
		{"postgres", "app", "s3cret", "db:5432/x?sslmode=disable"}, {"redis", "", "pass word", "h:1/0"},
		{"postgres", "u", "p%zz word", "db/x"}, {"redis", "u", "se/cret1", "h/0"}, {"redis", "u", "se?cret1", "h/0"},
		{"redis", "u", "se#cret1", "h/0"}, {"redis+sentinel", "u", "tab\tpass", "s1,s2/m"}, {"postgres", "us er", "secret", "h/x"},
		{"postgres", "u", "ünïcødé", "h/x"}, {"rediss+cluster", "u", "p:a:s:s", "a:1,b:2"},
		{"redis+sentinel", "", "se/cret1", "s1:26379/m"}, {"redis", "", "s3cret", "h?sentinel_password=a@b"},
	} {
		f.Add(c[0], c[1], c[2], c[3])
	}
	f.Fuzz(func(t *testing.T, scheme, user, pw, rest string) {
		if len(pw) < 4 || strings.ContainsAny(pw, "@\r\n") || strings.ContainsAny(user, ":/@\r\n") ||
			strings.ContainsAny(scheme, ":/@\r\n") || strings.ContainsAny(rest, "\r\n") {
			return // not a password the user info can hold, or text split over lines
		}
		dsn := scheme + "://" + user + ":" + pw + "@" + rest
		got := RedactDSN(dsn)
		// The same DSN with "xxxxx" for the password, rewritten the way
		// url.URL.String rewrites a DSN that parses with a password: the
		// password's text found as often there came from the rest of the
		// DSN (a fragment "\x000" becomes "%000", a scheme "A000A" becomes
		// "a000a"), not from the password. Such a DSN's authority holds
		// all of pw, so only pw's characters differ in the substitute.
		want := scheme + "://" + user + ":xxxxx@" + rest
		if u, err := url.Parse(dsn); err == nil && u.User != nil {
			if _, has := u.User.Password(); !has {
				t.Fatalf("%q parses without a password", dsn)
			}
			u, err := url.Parse(want)
			if err != nil {
				t.Fatalf("%q parses but %q does not: %v", dsn, want, err)
			}
			want = u.String()
		}
		if strings.Count(got, pw) > strings.Count(want, pw) {
			t.Fatalf("RedactDSN(%q) = %q shows the password %q", dsn, got, pw)
		}
		// A Redis URL's user info of one token can be the password
		// (redis+sentinel://password@host); it goes whole, so no part of the
		// raw DSN's user info survives.
		if strings.HasPrefix(strings.ToLower(scheme), "redis") {
			lone := scheme + "://" + pw + "@" + rest
			if got := RedactDSN(lone); strings.Count(got, pw) > strings.Count(scheme+"://xxxxx@"+rest, pw) {
				t.Fatalf("RedactDSN(%q) = %q shows the password %q", lone, got, pw)
			}
		}
	})
}
