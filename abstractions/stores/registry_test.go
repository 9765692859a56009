package stores

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
)

// nopDriver opens a backend whose stores are nil: enough for registry tests,
// which never reach a store.
type nopDriver struct{ opened *string }

func (d nopDriver) Open(_ context.Context, dsn string) (Backend, error) {
	if d.opened != nil {
		*d.opened = dsn
	}
	return nopBackend{}, nil
}

type nopBackend struct{}

func (nopBackend) Jobs() JobStore                              { return nil }
func (nopBackend) History() HistoryStore                       { return nil }
func (nopBackend) Cron() ScheduleStore[*CronSchedule]          { return nil }
func (nopBackend) Intervals() ScheduleStore[*IntervalSchedule] { return nil }
func (nopBackend) Workers() WorkerStore                        { return nil }
func (nopBackend) Nodes() NodeStore                            { return nil }
func (nopBackend) Logs() LogStore                              { return nil }
func (nopBackend) DeadLetters() DeadLetterStore                { return nil }
func (nopBackend) Close() error                                { return nil }

func mustPanic(t *testing.T, want string, f func()) {
	t.Helper()
	defer func() {
		r := recover()
		if r == nil {
			t.Fatalf("no panic, want one containing %q", want)
		}
		if !strings.Contains(r.(string), want) {
			t.Fatalf("panic %q, want it to contain %q", r, want)
		}
	}()
	f()
}

func TestRegisterRejectsBadCalls(t *testing.T) {
	mustPanic(t, "empty driver name", func() { Register("", nopDriver{}) })
	mustPanic(t, "is nil", func() { Register("reg-nil", nil) })
	Register("reg-twice", nopDriver{})
	mustPanic(t, "twice", func() { Register("reg-twice", nopDriver{}) })
}

func TestDriversSorted(t *testing.T) {
	Register("sort-c", nopDriver{})
	Register("sort-a", nopDriver{})
	Register("sort-b", nopDriver{})
	got := Drivers()
	if !slices.IsSorted(got) {
		t.Fatalf("Drivers() = %v, not sorted", got)
	}
	for _, n := range []string{"sort-a", "sort-b", "sort-c"} {
		if !slices.Contains(got, n) {
			t.Fatalf("Drivers() = %v, missing %q", got, n)
		}
	}
}

func TestOpenUnknownDriverNamesItHintsAndLists(t *testing.T) {
	Register("known-one", nopDriver{})
	_, err := Open("nope", "")
	if err == nil {
		t.Fatal("Open(nope) succeeded")
	}
	msg := err.Error()
	for _, want := range []string{`"nope"`, "forgotten import", "known-one"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not contain %q", msg, want)
		}
	}
}

func TestOpenPassesDSNAndCloseIsIdempotent(t *testing.T) {
	var got string
	Register("open-dsn", nopDriver{opened: &got})
	s, err := Open("open-dsn", "x://y")
	if err != nil {
		t.Fatal(err)
	}
	if got != "x://y" || s.DriverName() != "open-dsn" {
		t.Fatalf("driver saw %q, name %q", got, s.DriverName())
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := s.Jobs().Get(context.Background(), NewID()); !errors.Is(err, ErrClosed) {
		t.Fatalf("Get after Close = %v, want ErrClosed", err)
	}
	if err := s.Ping(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("Ping after Close = %v, want ErrClosed", err)
	}
}

func TestRedactDSN(t *testing.T) {
	cases := map[string]string{
		"postgres://app:s3cret@db:5432/x?sslmode=disable": "postgres://app:xxxxx@db:5432/x?sslmode=disable",
		"redis://:s3cret@cache:6379/0":                    "redis://xxxxx@cache:6379/0",
		"redis+sentinel://s3cret@s1:26379,s2/m/2":         "redis+sentinel://xxxxx@s1:26379,s2/m/2",
		"REDISS+SENTINEL://s3/cret@s1/m":                  "REDISS+SENTINEL://xxxxx@s1/m",
		"redis://h?sentinel_password=x@s3cret&db=2":       "redis://h?sentinel_password=xxxxx&db=2",
		"host=db user=app password=s3cret dbname=x":       "host=db user=app password=xxxxx dbname=x",
		"redis://h:1?password=s3cret&db=2":                "redis://h:1?password=xxxxx&db=2",
		"postgres://app:s3%zz@db/x":                       "postgres://app:xxxxx@db/x",
		"sqlite:///var/lib/o.db":                          "sqlite:///var/lib/o.db",
	}
	for in, want := range cases {
		got := RedactDSN(in)
		if got != want {
			t.Errorf("RedactDSN(%q) = %q, want %q", in, got, want)
		}
		if strings.Contains(got, "s3") {
			t.Errorf("RedactDSN(%q) leaks the password: %q", in, got)
		}
	}
}

func TestCursorRoundTripAndRejectsGarbage(t *testing.T) {
	c := Cursor{Time: NormalizeTime(mustTime(t, "2030-01-02T03:04:05.123456Z")), ID: NewID()}
	got, err := DecodeCursor(c.Encode())
	if err != nil || !got.Time.Equal(c.Time) || got.ID != c.ID {
		t.Fatalf("round trip = %+v, %v; want %+v", got, err, c)
	}
	for _, bad := range []string{"!!", "bm9waXBl", "MTIzfA"} {
		if _, err := DecodeCursor(bad); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("DecodeCursor(%q) = %v, want ErrInvalidArgument", bad, err)
		}
	}
}
