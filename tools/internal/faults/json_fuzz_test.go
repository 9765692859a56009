package faults

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/orchestrix/persistence/abstractions/stores"
	_ "github.com/orchestrix/persistence/inmemory"
)

// roundTripStores are opened once per fuzz worker process: inmemory and ent
// on an in-memory SQLite database.
var roundTripStores = sync.OnceValues(func() ([]*stores.Store, error) {
	var out []*stores.Store
	for _, d := range [][2]string{{"inmemory", ""}, {"ent", "sqlite://:memory:"}} {
		s, err := stores.Open(d[0], d[1])
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
})

// FuzzJSONRoundTrip (E3): job arguments, schedule arguments and worker
// metadata that are valid JSON come back byte for byte from inmemory and
// from ent on SQLite (no re-encoding, no key reordering, no whitespace
// change); anything else is ErrInvalidArgument naming the field and stores
// nothing.
func FuzzJSONRoundTrip(f *testing.F) {
	for _, s := range []string{`{}`, `[]`, `null`, `0`, `-0.0e+00`, `"x"`, ` {"b":1, "a":2} `, `{"a":"\u0000"}`,
		`{"a":"\ud800"}`, `{"dup":1,"dup":2}`, "{\"nl\":\"\n\"}", `{"x":1e999}`, `123456789012345678901234567890`,
		"\t[\r\n1 ]\n", `{`, `{"a":}`, "{\"a\":\"\xff\"}", `{"a":1}x`, "\x00", `NaN`, `'x'`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		all, err := roundTripStores()
		if err != nil {
			t.Fatalf("open stores: %v", err)
		}
		if len(b) == 0 {
			return // empty means no arguments
		}
		valid := json.Valid(b)
		ctx := context.Background()
		for _, s := range all {
			j := &stores.Job{Type: "fuzz", Queue: "fuzz", Args: append([]byte(nil), b...)}
			err := s.Jobs().Enqueue(ctx, j)
			w := &stores.Worker{ID: "fuzz-" + stores.NewID(), MaxConcurrency: 1, Metadata: append([]byte(nil), b...)}
			_, werr := s.Workers().Heartbeat(ctx, w, time.Now())
			sch := &stores.CronSchedule{ScheduleFields: stores.ScheduleFields{Name: "fuzz-" + stores.NewID(), JobType: "fuzz",
				Queue: "fuzz", Args: append([]byte(nil), b...), Enabled: true}, Expression: "* * * * *"}
			_, serr := s.Cron().Register(ctx, sch)
			if !valid {
				for field, e := range map[string]error{"job.Args": err, "worker.Metadata": werr, "Args": serr} {
					var fe *stores.FieldError
					if !errors.As(e, &fe) || !strings.HasSuffix(fe.Field, field) {
						t.Fatalf("%s: invalid JSON %q in %s: %v, want ErrInvalidArgument naming it", s.DriverName(), b, field, e)
					}
				}
				if _, err := s.Workers().Get(ctx, w.ID); !errors.Is(err, stores.ErrNotFound) {
					t.Fatalf("%s: worker with invalid metadata stored (%v)", s.DriverName(), err)
				}
				continue
			}
			if err != nil || werr != nil || serr != nil {
				t.Fatalf("%s: valid JSON %q rejected: %v / %v / %v", s.DriverName(), b, err, werr, serr)
			}
			got, err := s.Jobs().Get(ctx, j.ID)
			if err != nil || !bytes.Equal(got.Args, b) {
				t.Fatalf("%s: job args %q came back as %q (%v)", s.DriverName(), b, got.Args, err)
			}
			gw, err := s.Workers().Get(ctx, w.ID)
			if err != nil || !bytes.Equal(gw.Metadata, b) {
				t.Fatalf("%s: worker metadata %q came back as %q (%v)", s.DriverName(), b, gw.Metadata, err)
			}
			gs, err := s.Cron().GetByName(ctx, sch.Name)
			if err != nil || !bytes.Equal(gs.Args, b) {
				t.Fatalf("%s: schedule args %q came back as %q (%v)", s.DriverName(), b, gs.Args, err)
			}
			// Keep the stores small across a long fuzz run.
			_ = s.Workers().Remove(ctx, w.ID)
			_ = s.Cron().Remove(ctx, gs.ID)
			_ = s.Jobs().Cancel(ctx, j.ID, time.Now())
		}
	})
}
